"""Shapes of the accounts API.

Input serializers check the shape of a request and reject fields they do not know (a typo or a
read-only field is an error, never a silent no-op); the rules themselves live in
``accounts.services``. Output serializers say what a client sees.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import images
from accounts.api.validation import DateTimeField, RejectUnknownFields
from accounts.forms import AccountSettingsForm
from accounts.models import (
    ApiToken,
    Institution,
    Invitation,
    Language,
    Membership,
    Role,
    Scope,
    User,
    color_validator,
    validate_timezone,
)

# Who is calling -----------------------------------------------------------------------------


class MeInstitutionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Institution
        fields = ["slug", "name"]


class MeMembershipSerializer(serializers.ModelSerializer):
    institution = MeInstitutionSerializer()

    class Meta:
        model = Membership
        fields = ["id", "institution", "role", "handle", "display_name"]


class MeTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "expires_at"]


class MeSerializer(serializers.Serializer):
    """The caller: the user, their memberships and, when a token is used, the token."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    language = serializers.ChoiceField(choices=Language.choices, allow_blank=True)
    memberships = MeMembershipSerializer(
        many=True,
        help_text=_(
            "With a session: every active membership. With a token: only the token's membership."
        ),
    )
    token = MeTokenSerializer(allow_null=True, help_text=_("The token in use, or null."))

    @staticmethod
    def describe(user: User, memberships: list[Membership], token: ApiToken | None) -> dict:
        return {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "language": user.language,
            "memberships": memberships,
            "token": token,
        }


class AccountSettingsSerializer(RejectUnknownFields, serializers.Serializer):
    """The caller's own account settings, as on the web's settings page (the same form's
    limits: a name of up to 150 characters, English, German or "" to follow the browser)."""

    name = serializers.CharField(
        max_length=AccountSettingsForm.base_fields["name"].max_length,
        allow_blank=True,
        trim_whitespace=False,  # the service strips it, as for the web form
    )
    language = serializers.ChoiceField(
        choices=AccountSettingsForm.base_fields["language"].choices,
        allow_blank=True,
        help_text=_('Language of pages and e-mail: "en", "de", or "" to follow the browser.'),
    )


# Institution --------------------------------------------------------------------------------


class ContactSerializer(RejectUnknownFields, serializers.Serializer):
    email = serializers.EmailField(source="contact_email", allow_blank=True, max_length=254)
    phone = serializers.CharField(source="contact_phone", allow_blank=True, max_length=40)
    website = serializers.URLField(allow_blank=True, max_length=200)
    address = serializers.CharField(allow_blank=True, max_length=500)


class BrandingSerializer(RejectUnknownFields, serializers.Serializer):
    accent_color = serializers.CharField(max_length=7, validators=[color_validator])
    logo = serializers.ImageField(read_only=True, allow_null=True)


class InstitutionSerializer(RejectUnknownFields, serializers.Serializer):
    """An institution's settings; ``slug`` and ``publishing_paused`` cannot be changed here."""

    # Where each API field's errors from the service should point (model field -> API path).
    FIELD_PATHS = {
        "contact_email": "contact.email",
        "contact_phone": "contact.phone",
        "website": "contact.website",
        "address": "contact.address",
        "accent_color": "branding.accent_color",
        "logo": "branding.logo",
    }

    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Institution.Kind.choices)
    locale = serializers.ChoiceField(choices=Language.choices)
    timezone = serializers.CharField(max_length=64, validators=[validate_timezone])
    description = serializers.CharField(allow_blank=True, max_length=2000)
    contact = ContactSerializer(source="*")
    branding = BrandingSerializer(source="*")
    review_required = serializers.BooleanField()
    search_indexing = serializers.BooleanField()
    publishing_paused = serializers.BooleanField(
        read_only=True, help_text=_("The emergency stop; it has its own audited action.")
    )


class WebsiteCheckSerializer(serializers.Serializer):
    """Where the check of the institution's website stands (output only)."""

    state = serializers.ChoiceField(
        choices=[(state, state) for state in ("queued", "verified", "failed", "unchecked")],
        help_text=_(
            "queued: a check was just asked for and runs in the background (read this again "
            "later); verified: the website links back; failed: the last check did not find the "
            "link (see website_check_error); unchecked: not checked since the address was set."
        ),
    )
    website = serializers.CharField(allow_blank=True)
    website_verified_at = serializers.DateTimeField(
        allow_null=True,
        help_text=_('When the website was found to link back with rel="me"; null if not yet.'),
    )
    website_checked_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the last check finished, or null.")
    )
    website_check_error = serializers.CharField(
        allow_blank=True, help_text=_("Why the last check failed, or empty.")
    )

    @staticmethod
    def describe(institution, state: str | None = None) -> dict:
        if state is None:
            if institution.website_verified_at is not None:
                state = "verified"
            elif institution.website_check_error:
                state = "failed"
            else:
                state = "unchecked"
        return {
            "state": state,
            "website": institution.website,
            "website_verified_at": institution.website_verified_at,
            "website_checked_at": institution.website_checked_at,
            "website_check_error": institution.website_check_error,
        }


# Members ------------------------------------------------------------------------------------


class LinkSerializer(RejectUnknownFields, serializers.Serializer):
    label = serializers.CharField(max_length=50, allow_blank=True, required=False)
    url = serializers.CharField(max_length=300, help_text=_("An https:// address."))


class MemberSerializer(serializers.ModelSerializer):
    """A member's public profile with role and status (output only)."""

    links = LinkSerializer(many=True, read_only=True)
    email = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = [
            "id", "handle", "display_name", "job_title", "bio", "avatar", "links",
            "role", "status", "joined_at", "left_at", "email",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(
        serializers.EmailField(
            allow_null=True, help_text=_("Shown to members who manage members; null otherwise.")
        )
    )
    def get_email(self, membership: Membership) -> str | None:
        return membership.user.email if self.context.get("show_email") else None


class MemberRoleSerializer(RejectUnknownFields, serializers.Serializer):
    """A member's new role; PATCH takes it whole (``role`` is required)."""

    patch_is_whole = True
    role = serializers.ChoiceField(choices=Role.choices)


class ProfileSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """The caller's own public profile in the institution."""

    links = LinkSerializer(many=True, max_length=5, required=False)
    avatar = serializers.FileField(
        allow_null=True,
        required=False,
        help_text=format_lazy(
            _(
                "A photo: JPEG, PNG, WebP or GIF, {limits}, sent as multipart/form-data. "
                "Location and camera data are removed. null removes the photo."
            ),
            limits=lazy(images.limits_text, str)(images.MAX_UPLOAD_BYTES),
        ),
    )

    class Meta:
        model = Membership
        fields = ["id", "handle", "display_name", "job_title", "bio", "avatar", "links", "role"]
        read_only_fields = ["id", "role"]
        # The service lowercases and checks the handle; the pattern alone would refuse capitals.
        extra_kwargs = {"handle": {"validators": []}}

    def validate_avatar(self, upload):
        if upload is None:
            return None
        try:
            # The same check and clean copy as the web form: only the pixels go public.
            return images.reencode_image(upload, max_side=images.AVATAR_MAX_SIDE)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


# Invitations --------------------------------------------------------------------------------


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.IntegerField(
        source="invited_by_id", allow_null=True, help_text=_("The inviting member's id.")
    )

    class Meta:
        model = Invitation
        fields = [
            "id", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at",
            "revoked_at",
        ]  # fmt: skip
        read_only_fields = fields


class InvitationCreateSerializer(RejectUnknownFields, serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AUTHOR)


# API tokens ---------------------------------------------------------------------------------


class TokenSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(source="membership_id", help_text=_("The owner's id."))
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
    is_usable = serializers.BooleanField(help_text=_("Neither revoked nor expired."))

    class Meta:
        model = ApiToken
        fields = [
            "id", "name", "prefix", "member", "scopes", "created_at", "expires_at", "revoked_at",
            "last_used_at", "is_usable",
        ]  # fmt: skip
        read_only_fields = fields


class TokenCreatedSerializer(TokenSerializer):
    """A new token with its secret (give the secret as ``context["secret"]``)."""

    token = serializers.SerializerMethodField(
        help_text=_("The secret. It is shown this once and stored only as a digest.")
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_token(self, token: ApiToken) -> str:
        return self.context["secret"]


class TokenCreateSerializer(RejectUnknownFields, serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices),
        allow_empty=False,
        min_length=1,
        max_length=len(Scope.choices),
        help_text=_("read, write, review, admin; never more than your role allows."),
    )
    expires_at = DateTimeField(
        required=False,
        allow_null=True,
        help_text=_("At most a year ahead; 90 days when left out."),
    )
