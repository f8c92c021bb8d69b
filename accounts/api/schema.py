"""What the OpenAPI schema needs beyond the serializers: the bearer scheme and the error body.

``ApiSchema`` adds the error responses an operation can give to every operation, so the schema
states them once instead of on each view. Views under ``InstitutionAccess`` use it already.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Declares ``accounts.api.authentication.BearerTokenAuthentication`` as a bearer scheme."""

    target_class = "accounts.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pdm_…",
            "description": str(
                _(
                    "An API token of one institution, sent as `Authorization: Bearer pdm_…`. "
                    "Create one under tokens/; the secret is shown once."
                )
            ),
        }


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable machine-readable code, e.g. not_found."))
    message = serializers.CharField(help_text=_("What went wrong, for a person to read."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per input field (nested fields as dotted paths); may be empty."),
    )


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API (see accounts.api.errors)."""

    error = ErrorDetailSerializer()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


_UNSAFE_METHODS = {"POST", "PUT", "PATCH"}


class ApiSchema(AutoSchema):
    """AutoSchema that documents the error responses every operation can give."""

    def _error_responses(self) -> dict[str, str]:
        codes: dict[str, str] = {}
        view_permissions = [type(permission) for permission in self.view.get_permissions()]
        if permissions.AllowAny not in view_permissions:
            codes["401"] = _(
                "Not signed in, or the token is malformed, unknown, expired or revoked."
            )
        if getattr(self.view, "permission_map", None) is not None:
            codes["403"] = _("Your role or the token's scopes do not allow this.")
            codes["404"] = _(
                "No such institution or object, or you are not an active member of it."
            )
        if self.method in _UNSAFE_METHODS:
            codes["400"] = _(
                "Malformed JSON, JSON nested deeper than 32 levels or with more than 1000 "
                "objects and arrays, unknown fields, a list longer than its limit, a time "
                "outside 1970 to 2999, or other invalid values."
            )
            codes["415"] = _("Unsupported content type.")
        elif self.method == "GET" and (self._is_list_view() or self.get_override_parameters()):
            codes["400"] = _(
                "Invalid filter value (such as a time outside 1970 to 2999), page size or "
                "cursor (use the next and previous links as given)."
            )
        codes["413"] = _("The body or the number of fields or query parameters is over the limit.")
        if self.view.get_throttles():
            codes["429"] = _("Too many requests; retry after the time in Retry-After.")
        return codes

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # drf-spectacular states max_length and min_length of a ListField but not of a nested
        # serializer with many=True; the list bound (accounts.api.validation) applies to both.
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            if field.max_length is not None:
                schema.setdefault("maxItems", field.max_length)
            if field.min_length is not None:
                schema.setdefault("minItems", field.min_length)
        return schema

    def _get_request_for_media_type(self, serializer, direction="request"):
        # drf-spectacular makes every PATCH body partial; a serializer that the view validates
        # whole (``patch_is_whole``) keeps its required fields in the schema.
        if self.method == "PATCH" and getattr(serializer, "patch_is_whole", False):
            self.method = "POST"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)

    def _get_response_bodies(self, direction="response"):
        # drf-spectacular's own hook for the responses of one operation (private, but stable
        # across its 0.2x releases; the version is pinned). Declared responses take precedence.
        responses = super()._get_response_bodies(direction)
        for code, description in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_response(str(description)), code, direction=direction
                )
        return responses


def reject_unknown_fields(result: dict, generator, request, public) -> dict:
    """Post-processing hook: request bodies take no property they do not list.

    Every input serializer rejects unknown fields (``accounts.api.validation``); the schema
    says so, so clients and fuzzers know it.
    """
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component.setdefault("additionalProperties", False)
    return result
