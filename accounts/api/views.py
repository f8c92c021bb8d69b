"""Endpoints of the accounts API: the caller, the institution, members, the caller's profile,
invitations and API tokens.

Thin by design: each handler parses the request with an input serializer, calls one service or
query, and renders an output serializer. Access is decided by ``permission_map`` (deny by
default, see ``accounts.api.access``).

Tokens: a member lists, creates and revokes their own. A member who may manage members (an
administrator) also sees every member's tokens with ``?member=<id>`` and may revoke any of them,
so a leaked token can be stopped without waiting for its owner.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import errors, queries, second_factor, services
from accounts.api import serializers as shapes
from accounts.api.access import (
    ApiView,
    InstitutionAPIView,
    InstitutionViewSet,
    schema_generation,
)
from accounts.api.parsers import JSONParser, MultiPartParser
from accounts.api.schema import error_response
from accounts.api.validation import IdFilter, NoInput, validated
from accounts.models import ApiToken, Invitation, Membership, Role
from accounts.permissions import Permission

# Who is calling -----------------------------------------------------------------------------


@extend_schema(tags=["me"])
class MeView(ApiView):
    """The caller: user, memberships, and the token in use (outside any institution)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_retrieve",
        summary=gettext_lazy("Who is calling"),
        description=gettext_lazy(
            "With a session: the user and every active membership. With a token: the user, "
            "the token's membership only, and the token's scopes and expiry."
        ),
        responses=shapes.MeSerializer,
    )
    def get(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        memberships = [token.membership] if token else queries.memberships_of(request.user)
        me = shapes.MeSerializer.describe(request.user, memberships, token)
        return Response(shapes.MeSerializer(me).data)


@extend_schema(tags=["me"])
class AccountSettingsView(InstitutionAPIView):
    """The caller's own account settings: name and language (the web's settings page and its
    language switch).

    The settings belong to the person, not to the institution, but the operation lives under the
    institution of the token (a token belongs to one institution): there the request has the
    tenant that keeps its Idempotency-Key record, and the ETag / If-Match of every editable
    resource.
    """

    permission_map = {"get": Permission.VIEW_MEMBERS, "patch": Permission.EDIT_OWN_PROFILE}
    parser_classes = [JSONParser]

    def _render(self, user) -> dict:
        return shapes.AccountSettingsSerializer({"name": user.name, "language": user.language}).data

    def _lock(self) -> None:
        # The settings are the user's row: lock it and read it again, so two updates with the
        # same ETag (from tokens of two institutions, say) cannot both pass.
        super()._lock()
        user = self.request.user
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            list(type(user).objects.select_for_update().filter(id=user.id).values("id"))
        user.refresh_from_db(fields=["name", "language"])

    @extend_schema(
        operation_id="me_settings_retrieve",
        summary=gettext_lazy("Read your account settings"),
        responses=shapes.AccountSettingsSerializer,
    )
    def get(self, request, institution_slug: str):
        return Response(self._render(request.user))

    @extend_schema(
        operation_id="me_settings_update",
        summary=gettext_lazy("Change your account settings"),
        description=gettext_lazy(
            "Your name and the language of pages and e-mail, in every institution you belong "
            "to (the settings are yours, not the institution's). Send only what changes."
        ),
        request=shapes.AccountSettingsSerializer,
        responses=shapes.AccountSettingsSerializer,
    )
    def patch(self, request, institution_slug: str):
        changes = validated(shapes.AccountSettingsSerializer, request.data, partial=True)
        user = services.update_account(request.user, **changes)
        return Response(self._render(user))


# Institution --------------------------------------------------------------------------------


@extend_schema(tags=["institution"])
class InstitutionView(InstitutionAPIView):
    """The institution's settings: every member reads them, administrators change them."""

    permission_map = {"get": Permission.VIEW_MEMBERS, "patch": Permission.EDIT_INSTITUTION}
    parser_classes = [JSONParser]

    def _render(self, institution) -> dict:
        return shapes.InstitutionSerializer(institution, context={"request": self.request}).data

    @extend_schema(
        operation_id="institution_retrieve",
        summary=gettext_lazy("Read the institution's settings"),
        responses=shapes.InstitutionSerializer,
    )
    def get(self, request, institution_slug: str):
        return Response(self._render(self.institution))

    @extend_schema(
        operation_id="institution_update",
        summary=gettext_lazy("Change the institution's settings"),
        request=shapes.InstitutionSerializer,
        responses=shapes.InstitutionSerializer,
    )
    def patch(self, request, institution_slug: str):
        changes = validated(shapes.InstitutionSerializer, request.data, partial=True)
        try:
            institution = services.update_institution(self.institution, **changes)
        except errors.DomainError as error:
            error.field = shapes.InstitutionSerializer.FIELD_PATHS.get(error.field, error.field)
            raise
        return Response(self._render(institution))


@extend_schema(tags=["institution"])
class WebsiteCheckView(InstitutionAPIView):
    """Asking for the check of the institution's website (the rel="me" link back to Podium)."""

    permission_map = {"get": Permission.EDIT_INSTITUTION, "post": Permission.EDIT_INSTITUTION}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="institution_website_check_retrieve",
        summary=gettext_lazy("Where the website check stands"),
        responses=shapes.WebsiteCheckSerializer,
    )
    def get(self, request, institution_slug: str):
        return Response(shapes.WebsiteCheckSerializer(self.describe_check()).data)

    def describe_check(self, state: str | None = None) -> dict:
        return shapes.WebsiteCheckSerializer.describe(self.institution, state)

    @extend_schema(
        operation_id="institution_website_check",
        summary=gettext_lazy("Have the website checked"),
        description=gettext_lazy(
            "Checks in the background that the institution's website links back to its Podium "
            'page with rel="me", as the settings page\'s button does; the public page then marks '
            "the website as verified. Takes no body. GET on the same address tells the "
            "outcome once the check ran."
        ),
        request=None,
        responses={
            202: shapes.WebsiteCheckSerializer,
            400: error_response(gettext_lazy("The institution has no website address yet.")),
        },
    )
    def post(self, request, institution_slug: str):
        validated(NoInput, request.data)
        institution = self.institution
        try:
            services.request_website_check(institution, by=self.actor.membership)
        except errors.DomainError as error:
            error.field = shapes.InstitutionSerializer.FIELD_PATHS.get(error.field, error.field)
            raise
        body = shapes.WebsiteCheckSerializer(self.describe_check("queued")).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


# Members ------------------------------------------------------------------------------------


class MemberFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices)
    status = filters.ChoiceFilter(choices=Membership.Status.choices)

    class Meta:
        model = Membership
        fields = ["role", "status"]


@extend_schema(tags=["members"])
class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, InstitutionViewSet):
    """Members with their public profiles; administrators change roles and retire members."""

    permission_map = {
        "list": Permission.VIEW_MEMBERS,
        "retrieve": Permission.VIEW_MEMBERS,
        "partial_update": Permission.MANAGE_MEMBERS,
        "retire": Permission.MANAGE_MEMBERS,
    }
    serializer_class = shapes.MemberSerializer
    filterset_class = MemberFilter
    parser_classes = [JSONParser]
    lookup_field = "id"

    def get_queryset(self):
        if schema_generation(self):
            # The schema generator runs outside any institution and only needs the model.
            return Membership.unscoped.none()
        return Membership.objects.select_related("user")

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if not schema_generation(self):
            context["show_email"] = self.actor.can(Permission.MANAGE_MEMBERS)
        return context

    @extend_schema(summary=gettext_lazy("List members"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary=gettext_lazy("Read a member"))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Change a member's role"),
        request=shapes.MemberRoleSerializer,
        responses={
            200: shapes.MemberSerializer,
            409: error_response(
                gettext_lazy(
                    "The last active administrator keeps the role; former staff have none."
                )
            ),
        },
    )
    def partial_update(self, request, institution_slug: str, id: int):
        member = self.get_object()
        role = validated(shapes.MemberRoleSerializer, request.data)["role"]
        member = services.change_role(member, role)
        return Response(self.get_serializer(member).data)

    @extend_schema(
        summary=gettext_lazy("Retire a member (former staff)"),
        description=gettext_lazy(
            "The profile stays as a public record; access ends and the member's API tokens are "
            "revoked. Takes no body."
        ),
        request=None,
        responses={
            200: shapes.MemberSerializer,
            409: error_response(
                gettext_lazy("Already former staff, or the last active administrator.")
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def retire(self, request, institution_slug: str, id: int):
        member = self.get_object()
        validated(NoInput, request.data)
        member = services.retire_member(member)
        return Response(self.get_serializer(member).data)


# The caller's profile -----------------------------------------------------------------------


@extend_schema(tags=["profile"])
class ProfileView(InstitutionAPIView):
    """The caller's own public profile in the institution."""

    permission_map = {"get": Permission.VIEW_MEMBERS, "patch": Permission.EDIT_OWN_PROFILE}
    parser_classes = [JSONParser, MultiPartParser]

    def _render(self, membership: Membership) -> dict:
        return shapes.ProfileSerializer(membership, context={"request": self.request}).data

    @extend_schema(
        operation_id="profile_retrieve",
        summary=gettext_lazy("Read your profile"),
        responses=shapes.ProfileSerializer,
    )
    def get(self, request, institution_slug: str):
        return Response(self._render(self.actor.membership))

    @extend_schema(
        operation_id="profile_update",
        summary=gettext_lazy("Change your profile"),
        description=gettext_lazy(
            "JSON, or multipart/form-data to upload a photo (links then as links[0]label, "
            "links[0]url)."
        ),
        request=shapes.ProfileSerializer,
        responses={
            200: shapes.ProfileSerializer,
            409: error_response(gettext_lazy("The handle is taken in this institution.")),
        },
    )
    def patch(self, request, institution_slug: str):
        changes = validated(shapes.ProfileSerializer, request.data, partial=True)
        if "avatar" in changes and changes["avatar"] is None:
            changes["avatar"] = ""  # the column holds "" for no photo
        if "links" in changes:
            changes["links"] = [dict(link) for link in changes["links"]]
        membership = services.update_profile(self.actor.membership, **changes)
        return Response(self._render(membership))


# Invitations --------------------------------------------------------------------------------


@extend_schema(tags=["invitations"])
class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, InstitutionViewSet):
    """Invitations to join the institution; the secret link goes only to the invitee by e-mail."""

    permission_map = {
        "list": Permission.MANAGE_MEMBERS,
        "retrieve": Permission.MANAGE_MEMBERS,
        "create": Permission.MANAGE_MEMBERS,
        "destroy": Permission.MANAGE_MEMBERS,
    }
    serializer_class = shapes.InvitationSerializer
    filter_backends: list = []
    parser_classes = [JSONParser]
    lookup_field = "id"

    def get_queryset(self):
        if schema_generation(self):
            # The schema generator runs outside any institution and only needs the model.
            return Invitation.unscoped.none()
        invitations = Invitation.objects.all()
        if self.action == "list":
            return invitations.filter(
                accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
            )
        return invitations

    @extend_schema(summary=gettext_lazy("List pending invitations"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary=gettext_lazy("Read an invitation"))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Invite someone"),
        description=gettext_lazy(
            "Sends the invitation by e-mail. A new invitation replaces a pending one for the "
            "same address. The secret link is never part of the response."
        ),
        request=shapes.InvitationCreateSerializer,
        responses={
            201: shapes.InvitationSerializer,
            409: error_response(gettext_lazy("This person is already an active member.")),
        },
    )
    def create(self, request, institution_slug: str):
        data = validated(shapes.InvitationCreateSerializer, request.data)
        invitation, _secret = services.invite_member(
            self.institution,
            email=data["email"],
            role=data["role"],
            invited_by=self.actor.membership,
        )
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Revoke an invitation"),
        responses={
            204: None,
            410: error_response(gettext_lazy("Already accepted, revoked or expired.")),
        },
    )
    def destroy(self, request, institution_slug: str, id: int):
        services.revoke_invitation(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# API tokens ---------------------------------------------------------------------------------


class TokenFilter(filters.FilterSet):
    member = IdFilter(
        field_name="membership_id",
        label=gettext_lazy(
            "Another member's id (administrators only); without it, your own tokens."
        ),
    )

    class Meta:
        model = ApiToken
        fields = ["member"]


def _bounded_by_acting_token(
    acting: ApiToken | None, scopes: list[str], expires_at: datetime | None
) -> datetime | None:
    """A token creates only tokens narrower than itself: no scope it lacks, no later expiry."""
    if acting is None:
        return expires_at
    missing = sorted(set(scopes) - set(acting.scopes))
    if missing:
        raise errors.PermissionDenied(
            _("A token cannot grant scopes it does not hold itself: %s") % ", ".join(missing),
            field="scopes",
        )
    if acting.expires_at is not None:
        if expires_at is None:
            return min(acting.expires_at, timezone.now() + services.TOKEN_DEFAULT_LIFETIME)
        if expires_at > acting.expires_at:
            raise errors.DomainError(
                _("A token cannot create a token that expires after it does."),
                field="expires_at",
            )
    return expires_at


@extend_schema(tags=["tokens"])
class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, InstitutionViewSet):
    """API tokens: your own; administrators also see and revoke every member's."""

    permission_map = {
        "list": Permission.MANAGE_OWN_TOKENS,
        "retrieve": Permission.MANAGE_OWN_TOKENS,
        "create": Permission.MANAGE_OWN_TOKENS,
        "destroy": Permission.MANAGE_OWN_TOKENS,
    }
    serializer_class = shapes.TokenSerializer
    filterset_class = TokenFilter
    parser_classes = [JSONParser]
    lookup_field = "id"

    def get_queryset(self):
        if schema_generation(self):
            # The schema generator runs outside any institution and only needs the model.
            return ApiToken.unscoped.none()
        tokens = ApiToken.objects.all()
        own = tokens.filter(membership=self.actor.membership)
        if not self.actor.can(Permission.MANAGE_MEMBERS):
            return own
        if self.action == "list" and "member" not in self.request.query_params:
            return own
        return tokens

    @extend_schema(summary=gettext_lazy("List API tokens"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary=gettext_lazy("Read an API token"))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Create an API token"),
        description=gettext_lazy(
            "The response carries the secret in `token`, this once; only its digest is stored. "
            "A token used to create another can grant only its own scopes and expiry.\n\n"
            "A token with the `review` or `admin` scope can decide on posts, so making one asks "
            "for a fresh second-factor check when you have a second factor: a browser session "
            "must have entered a code recently, a token must send the current code of your "
            "authenticator app (or an unused recovery code) in the `X-Podium-OTP` header "
            "(403 `second_factor_code_required`; a wrong code is 403 "
            "`second_factor_code_invalid`). Where the institution requires a second factor "
            "of reviewers and administrators, members without one get 403 "
            "`second_factor_required`."
        ),
        parameters=[
            OpenApiParameter(
                second_factor.OTP_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description=gettext_lazy(
                    "A current second-factor code (authenticator app or unused recovery code); "
                    "needed to make a token with the review or admin scope through a token."
                ),
            )
        ],
        request=shapes.TokenCreateSerializer,
        responses={201: shapes.TokenCreatedSerializer},
    )
    def create(self, request, institution_slug: str):
        data = validated(shapes.TokenCreateSerializer, request.data)
        expires_at = _bounded_by_acting_token(
            self.actor.token, data["scopes"], data.get("expires_at")
        )
        second_factor.require_for_deciding_token(request, self.actor.membership, data["scopes"])
        token, secret = services.create_token(
            self.actor.membership, name=data["name"], scopes=data["scopes"], expires_at=expires_at
        )
        body = shapes.TokenCreatedSerializer(token, context={"secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(summary=gettext_lazy("Revoke an API token"), responses={204: None})
    def destroy(self, request, institution_slug: str, id: int):
        services.revoke_token(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
