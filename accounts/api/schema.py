"""What the OpenAPI schema needs beyond the serializers: the bearer scheme and the error body.

``ApiSchema`` adds the error responses an operation can give to every operation, so the schema
states them once instead of on each view. Views under ``InstitutionAccess`` use it already.
``document_problems`` (the last post-processing hook) makes every error response of every
operation one ``Problem`` (RFC 9457) as ``application/problem+json``, whoever declared it.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import get_language, get_supported_language_variant, override
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.views import SpectacularAPIView
from rest_framework import permissions, serializers
from rest_framework.response import Response


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


PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("The same as the problem's code."))
    message = serializers.CharField(help_text=_("The same as the problem's detail."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("The same as the problem's fields."),
    )


class ProblemSerializer(serializers.Serializer):
    """The one error body of the API: problem details (RFC 9457) with Podium's extension
    members code, fields and (deprecated) error. See accounts.api.errors."""

    type = serializers.URLField(
        help_text=_(
            "URI of the problem type, one per code; it leads to a page that describes the code."
        )
    )
    title = serializers.CharField(help_text=_("Short title of the problem type, translated."))
    status = serializers.IntegerField(help_text=_("The HTTP status code of this response."))
    detail = serializers.CharField(help_text=_("What went wrong here, for a person to read."))
    code = serializers.CharField(help_text=_("Stable machine-readable code, e.g. not_found."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per input field (nested fields as dotted paths); may be empty."),
    )
    error = ErrorDetailSerializer(
        help_text=_(
            "Deprecated: the error body of API v1 before problem details, kept for existing "
            "integrations. Read code, detail and fields instead."
        )
    )


def error_response(description: str) -> OpenApiResponse:
    """An error response of an operation (``document_problems`` gives it the problem type)."""
    return OpenApiResponse(ProblemSerializer, description=description)


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


def document_problems(result: dict, generator, request, public) -> dict:
    """Post-processing hook, the last: every 4xx and 5xx response of every operation is a
    ``Problem`` as ``application/problem+json``, the one media type the server sends them in."""
    info = result.setdefault("info", {})
    info["description"] = (
        info.get("description", "")
        + "\n\n"
        + str(
            _(
                "Errors are problem details (RFC 9457) in application/problem+json: type (one URI "
                "per code, leading to the list of codes at /api/v1/problems/), title, status and "
                "detail, with the extension members code (stable, machine-readable) and fields "
                "(messages per input field). The member error repeats code, detail as message, "
                "and fields in the shape of API v1 before problem details; it is deprecated."
            )
        )
    )
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    problem = schemas.get("Problem")
    if problem is not None:
        properties = problem.get("properties", {})
        properties.get("type", {}).update({"format": "uri"})
        properties.get("error", {})["deprecated"] = True
        problem["required"] = ["type", "title", "status", "detail", "code", "fields", "error"]
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for code, response in operation.get("responses", {}).items():
                if str(code)[:1] in ("4", "5"):
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": dict(PROBLEM_REF)}}
    return result


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated once per process and language: it changes only with the
    code, and generating it takes 0.5 to 1.8 s, which anyone could otherwise ask for again and
    again without an account (issue 11). ``?lang=`` chooses among the languages Podium speaks;
    any other value gets the default, so the cache holds at most one schema per language (and
    ``?version=`` is not read: the version is in the path)."""

    _generated: ClassVar[dict[tuple[str, str | None], dict]] = {}

    def _get_schema_response(self, request):
        version = self.api_version or request.version
        try:
            language = get_supported_language_variant(get_language() or settings.LANGUAGE_CODE)
        except LookupError:
            language = settings.LANGUAGE_CODE
        key = (language, version)
        if key not in self._generated:
            with override(language):
                generator = self.generator_class(
                    urlconf=self.urlconf, api_version=version, patterns=self.patterns
                )
                schema = generator.get_schema(request=request, public=self.serve_public)
                self._generated[key] = schema
        filename = self._get_filename(request, version)
        return Response(
            data=self._generated[key],
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )


@receiver(setting_changed)
def _forget_schemas(**kwargs) -> None:
    """Tests that change settings see a schema made under them."""
    SchemaView._generated.clear()
