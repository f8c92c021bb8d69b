"""The base of every institution endpoint in the API: deny by default, one permission per action.

A view under ``/api/v1/institutions/<institution>/`` subclasses ``InstitutionViewSet`` (or
``InstitutionAPIView``) and maps each action to a ``Permission``; an action without an entry is
refused. The caller must be an active member of the institution in the URL (a token only works
in its own institution); anyone else gets the same 404 as for an unknown institution.
"""

from __future__ import annotations

from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, viewsets
from rest_framework.views import APIView

from accounts.api.conditional import ConditionalUpdates
from accounts.api.idempotency import IdempotentWrites
from accounts.api.schema import ApiSchema
from accounts.api.throttling import RateLimitHeaders
from accounts.models import ApiToken, Membership
from accounts.permissions import Actor, Permission


def schema_generation(view) -> bool:
    """Whether drf-spectacular is introspecting the view (outside any institution)."""
    return getattr(view, "swagger_fake_view", False)


def actor_for(request) -> Actor | None:
    """The acting member of the request's institution (through session or token), or None."""
    django_request = getattr(request, "_request", request)
    institution = django_request.institution
    if institution is None or not request.user or not request.user.is_authenticated:
        return None
    token = request.auth if isinstance(request.auth, ApiToken) else None
    if token is not None:
        if token.institution_id != institution.id:
            return None
        membership = token.membership
    else:
        membership = Membership.objects.filter(
            user=request.user, status=Membership.Status.ACTIVE
        ).first()
    if membership is None or not membership.is_active:
        return None
    return Actor(membership=membership, token=token)


class IsInstitutionMember(permissions.BasePermission):
    """Active member of the URL's institution, holding the permission the action needs."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        actor = actor_for(request)
        if actor is None:
            raise exceptions.NotFound()
        request.actor = actor
        # The audit log names the acting member of the request (accounts.audit.record).
        request._request.membership = actor.membership
        required = view.required_permission(request)
        if required is None:
            raise exceptions.MethodNotAllowed(request.method)
        if not actor.can(required):
            raise exceptions.PermissionDenied(
                _("Your role or token does not allow this (needs: %(permission)s).")
                % {"permission": required.value}
            )
        return True


class ApiResponses:
    """Mixin for every API view: responses are for the caller alone.

    Whatever a token or session sees may differ from what another caller sees, so no shared
    cache keeps it (``private, no-store``), and ``Vary: Authorization`` says so to caches that
    honour only ``Vary``.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        patch_vary_headers(response, ("Authorization",))
        return response


class ApiView(RateLimitHeaders, ApiResponses, APIView):
    """An API view outside any institution (the caller's own data)."""

    tenant_access = "api"
    # Documents the error responses (401, 429, ...) of every operation in the schema.
    schema = ApiSchema()


class InstitutionAccess(ConditionalUpdates, IdempotentWrites, RateLimitHeaders, ApiResponses):
    """Mixin with the per-action permission map."""

    tenant_access = "api"
    permission_classes = [IsInstitutionMember]
    # Documents the error responses (401, 403, 404, ...) of every operation in the schema.
    schema = ApiSchema()
    # action name (viewsets) or HTTP method in lower case (plain views) -> Permission
    permission_map: dict[str, Permission] = {}

    def required_permission(self, request) -> Permission | None:
        action = getattr(self, "action", None) or request.method.lower()
        return self.permission_map.get(action)

    @property
    def institution(self):
        return self.request._request.institution

    @property
    def actor(self) -> Actor:
        return self.request.actor


class InstitutionViewSet(InstitutionAccess, viewsets.GenericViewSet):
    pass


class InstitutionAPIView(InstitutionAccess, APIView):
    pass
