"""Forms of the accounts web pages. They parse and check input; services make the changes."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import SetPasswordMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import images
from accounts.auth import clear_sign_in_failures, record_sign_in_failure, sign_in_blocked
from accounts.errors import DomainError
from accounts.models import (
    Institution,
    Language,
    Membership,
    Role,
    Scope,
    User,
    color_validator,
    handle_validator,
)
from accounts.numbers import time_in_range
from accounts.permissions import ROLE_SCOPES

MAX_PROFILE_LINKS = 5


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's domain error on the field it names, or above the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class PlainLabels:
    """Labels without Django's trailing colon (they sit above their inputs, or beside boxes)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PlainForm(PlainLabels, forms.Form):
    """The base of this module's forms."""


class DayField(forms.DateField):
    """A day between 1970 and 2999 (accounts.numbers, the one range of times), so the start and
    end of the day on any clock can be computed: ``9999-12-31`` plus a day overflowed (issue 11)."""

    default_error_messages = {"out_of_range": _("Give a day between 1970 and 2999.")}

    def to_python(self, value) -> date | None:
        day = super().to_python(value)
        if day is not None and not time_in_range(datetime.combine(day, time.min)):
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return day


# Signing in and the account ------------------------------------------------------------------


class SignInForm(PlainLabels, auth_forms.AuthenticationForm):
    """Django's sign-in form, asking for an e-mail address (accounts.auth.EmailBackend)."""

    username = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": _(
            "This e-mail address and password do not match an account. "
            "Check both; the password is case-sensitive."
        ),
        "too_many_attempts": _(
            "Too many failed attempts to sign in with this address. Wait 15 minutes, or set a "
            "new password with “Forgotten your password?”."
        ),
    }

    def clean(self):
        email = self.cleaned_data.get("username") or ""
        if email and sign_in_blocked(email):
            raise forms.ValidationError(
                self.error_messages["too_many_attempts"], code="too_many_attempts"
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if email:
                record_sign_in_failure(email)
            raise
        clear_sign_in_failures(email)
        return cleaned


class PasswordChangeForm(PlainLabels, auth_forms.PasswordChangeForm):
    pass


class PasswordResetForm(PlainLabels, auth_forms.PasswordResetForm):
    pass


class SetPasswordForm(PlainLabels, auth_forms.SetPasswordForm):
    pass


LANGUAGE_CHOICES = [("", _("Follow my browser")), *Language.choices]


class AccountSettingsForm(PlainForm):
    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=LANGUAGE_CHOICES,
        required=False,
        help_text=_("Language of these pages and of the e-mail Podium sends you."),
    )


class LanguageForm(PlainForm):
    """The quick language switch in the navigation."""

    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)


# Invitations -------------------------------------------------------------------------------


class HandleField(forms.CharField):
    """A profile handle; typed in any case, stored in lower case."""

    def to_python(self, value):
        return super().to_python(value).lower()


def _handle_field() -> forms.CharField:
    return HandleField(
        label=_("Handle"),
        max_length=30,
        help_text=_(
            "Your profile's address, for example /northside-school/@m.meier/. Use 1 to 30 "
            "lowercase letters, digits, dots, hyphens and underscores."
        ),
        validators=[handle_validator],
        widget=forms.TextInput(
            attrs={"autocapitalize": "none", "autocomplete": "off", "spellcheck": "false"}
        ),
    )


class JoinForm(PlainForm):
    """The public profile a person starts with when accepting an invitation."""

    handle = _handle_field()
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=100,
        help_text=_("Your name as readers see it, for example “Dr. Maria Meier”."),
    )
    job_title = forms.CharField(
        label=_("Job title"),
        max_length=100,
        required=False,
        help_text=_("For example “Maths teacher” or “Press officer”."),
    )


class RegisterAndJoinForm(SetPasswordMixin, JoinForm):
    """A new account for the invited e-mail address, together with the profile."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("Shown to the administrators of institutions you belong to."),
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    field_order = ["name", "password1", "password2", "handle", "display_name", "job_title"]

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def account_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("name", "password1", "password2")]

    def profile_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("handle", "display_name", "job_title")]

    def clean(self):
        self.validate_passwords()
        cleaned = super().clean()
        # Checks such as "too similar to your e-mail address" need the person's details.
        self.validate_password_for_user(User(email=self.email, name=cleaned.get("name", "")))
        return cleaned


# Profiles ----------------------------------------------------------------------------------


class ProfileForm(PlainForm):
    """A member's public profile, with up to five rel=me links."""

    handle = _handle_field()
    display_name = JoinForm.base_fields["display_name"]
    job_title = JoinForm.base_fields["job_title"]
    bio = forms.CharField(
        label=_("About"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("A few sentences about your work. Plain text, at most 1000 characters."),
    )
    avatar = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
        help_text=_(
            "JPEG, PNG, WebP or GIF, at most 5 MB. We remove location and camera data from it."
        ),
    )
    remove_avatar = forms.BooleanField(label=_("Remove the current photo"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for index in range(MAX_PROFILE_LINKS):
            number = index + 1
            self.fields[f"link_label_{index}"] = forms.CharField(
                label=_("Label of link %(number)s") % {"number": number},
                max_length=50,
                required=False,
            )
            self.fields[f"link_url_{index}"] = forms.URLField(
                label=_("Address of link %(number)s") % {"number": number},
                max_length=300,
                required=False,
                assume_scheme="https",
                widget=forms.URLInput(attrs={"placeholder": "https://"}),
            )

    def text_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("handle", "display_name", "job_title", "bio")]

    def photo_fields(self) -> list[forms.BoundField]:
        return [self["avatar"], self["remove_avatar"]]

    def link_rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        """(number, label field, address field) for each link row, for the template."""
        return [
            (index + 1, self[f"link_label_{index}"], self[f"link_url_{index}"])
            for index in range(MAX_PROFILE_LINKS)
        ]

    @classmethod
    def initial_for(cls, membership: Membership) -> dict:
        initial = {
            "handle": membership.handle,
            "display_name": membership.display_name,
            "job_title": membership.job_title,
            "bio": membership.bio,
        }
        for index, link in enumerate((membership.links or [])[:MAX_PROFILE_LINKS]):
            initial[f"link_label_{index}"] = link.get("label", "")
            initial[f"link_url_{index}"] = link.get("url", "")
        return initial

    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        if not upload:
            return None
        return images.reencode_image(upload, max_side=images.AVATAR_MAX_SIDE)

    def clean(self):
        cleaned = super().clean()
        links = []
        for index in range(MAX_PROFILE_LINKS):
            label = (cleaned.get(f"link_label_{index}") or "").strip()
            url = (cleaned.get(f"link_url_{index}") or "").strip()
            if not url:
                if label:
                    self.add_error(f"link_url_{index}", _("Give the address for this label."))
                continue
            if not url.startswith("https://"):
                self.add_error(
                    f"link_url_{index}", _("Use a secure address that starts with https://.")
                )
                continue
            links.append({"label": label, "url": url})
        cleaned["links"] = links
        return cleaned

    def profile_changes(self) -> dict:
        """The keyword arguments for services.update_profile."""
        data = self.cleaned_data
        changes = {name: data[name] for name in ("handle", "display_name", "job_title", "bio")}
        changes["links"] = data["links"]
        if data.get("avatar"):
            changes["avatar"] = data["avatar"]
        elif data.get("remove_avatar"):
            changes["avatar"] = ""
        return changes


# Institution administration -----------------------------------------------------------------


class InviteForm(PlainForm):
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.AUTHOR)


class RoleForm(PlainForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


def https_by_default(model_field, **kwargs) -> forms.Field | None:
    """Form fields for model fields, with addresses typed without a scheme taken as https."""
    if isinstance(model_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return model_field.formfield(**kwargs)


def timezone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone, sorted, for a select."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class InstitutionSettingsForm(PlainForm):
    """The settings an institution's administrators may change (services.update_institution)."""

    FIELDS = (
        "name", "kind", "locale", "timezone", "description", "contact_email", "contact_phone",
        "website", "address", "accent_color", "review_required", "search_indexing",
        "require_second_factor",
    )  # fmt: skip

    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
        help_text=_("JPEG, PNG, WebP or GIF, at most 5 MB."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the current logo"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        model_fields = fields_for_model(
            Institution,
            fields=self.FIELDS,
            formfield_callback=https_by_default,
            widgets={
                "accent_color": forms.TextInput(attrs={"type": "color"}),
                "description": forms.Textarea(attrs={"rows": 4}),
                "address": forms.Textarea(attrs={"rows": 3}),
            },
        )
        model_fields["timezone"] = forms.ChoiceField(
            label=model_fields["timezone"].label,
            choices=timezone_choices(),
            help_text=_("Dates and times on your pages and schedules use this time zone."),
        )
        # Checked here as well as in the service, so that every mistake shows in one go.
        model_fields["accent_color"].validators.append(color_validator)
        logo_fields = {name: self.fields.pop(name) for name in ("logo", "remove_logo")}
        self.fields.update(model_fields)
        self.fields.update(logo_fields)

    def _group(self, *names: str) -> list[forms.BoundField]:
        return [self[name] for name in names]

    def identity_fields(self) -> list[forms.BoundField]:
        return self._group("name", "kind", "locale", "timezone", "description")

    def contact_fields(self) -> list[forms.BoundField]:
        return self._group("contact_email", "contact_phone", "website", "address")

    def branding_fields(self) -> list[forms.BoundField]:
        return self._group("accent_color", "logo", "remove_logo")

    def policy_fields(self) -> list[forms.BoundField]:
        return self._group("review_required", "search_indexing", "require_second_factor")

    @classmethod
    def initial_for(cls, institution: Institution) -> dict:
        return {name: getattr(institution, name) for name in cls.FIELDS}

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        return images.reencode_image(upload, max_side=images.LOGO_MAX_SIDE)

    def institution_changes(self) -> dict:
        """The keyword arguments for services.update_institution."""
        data = self.cleaned_data
        changes = {name: data[name] for name in self.FIELDS}
        if data.get("logo"):
            changes["logo"] = data["logo"]
        elif data.get("remove_logo"):
            changes["logo"] = ""
        return changes


# API tokens --------------------------------------------------------------------------------

TOKEN_DEFAULT_DAYS = 90
TOKEN_MAX_DAYS = 365


class TokenForm(PlainForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, for example “School website”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the token may do. It never allows more than your role."),
    )
    expires_on = DayField(
        label=_("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The token stops working at the end of this day; within a year at most."),
    )

    def __init__(self, *args, membership: Membership, zone: zoneinfo.ZoneInfo, **kwargs) -> None:
        kwargs.setdefault("initial", {})
        today = timezone.localdate(timezone=zone)
        kwargs["initial"].setdefault("expires_on", today + timedelta(days=TOKEN_DEFAULT_DAYS))
        kwargs["initial"].setdefault("scopes", [Scope.READ])
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.today = today
        allowed = ROLE_SCOPES[membership.role]
        self.fields["scopes"].choices = [
            (value, label) for value, label in Scope.choices if value in allowed
        ]
        self.fields["expires_on"].widget.attrs.update(
            min=today.isoformat(),
            max=(today + timedelta(days=TOKEN_MAX_DAYS)).isoformat(),
        )

    def clean_expires_on(self) -> date:
        expires_on = self.cleaned_data["expires_on"]
        if expires_on < self.today:
            raise ValidationError(_("Choose today or a later day."))
        if expires_on > self.today + timedelta(days=TOKEN_MAX_DAYS):
            raise ValidationError(_("Tokens expire within a year at most."))
        return expires_on

    def expires_at(self) -> datetime:
        """The end of the chosen day in the institution's time zone."""
        end_of_day = datetime.combine(self.cleaned_data["expires_on"], time.max)
        return timezone.make_aware(end_of_day.replace(microsecond=0), self.zone)


# The audit log ---------------------------------------------------------------------------------


class AuditFilterForm(PlainForm):
    """Filters of the audit log page and its exports (all optional; GET parameters)."""

    verb = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        help_text=_("For example post.approve, or post. for every post action."),
    )
    actor = forms.CharField(label=_("Member handle"), required=False, max_length=31)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=64)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    since = DayField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = DayField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def filters(self, zone: zoneinfo.ZoneInfo) -> dict:
        """Queryset filters for the valid, non-empty fields (dates as days in the zone)."""
        data = self.cleaned_data
        filters: dict = {}
        if data.get("verb"):
            verb = data["verb"].strip()
            filters["verb__startswith" if verb.endswith(".") else "verb"] = verb
        if data.get("actor"):
            filters["actor_label"] = "@" + data["actor"].strip().lstrip("@").lower()
        if data.get("object_type"):
            filters["object_type"] = data["object_type"].strip()
        if data.get("object_id"):
            filters["object_id"] = data["object_id"].strip()
        if data.get("since"):
            filters["created_at__gte"] = datetime.combine(data["since"], time.min, tzinfo=zone)
        if data.get("until"):
            filters["created_at__lt"] = datetime.combine(
                data["until"] + timedelta(days=1), time.min, tzinfo=zone
            )
        return filters


# The second factor ------------------------------------------------------------------------------


class SecondFactorCodeForm(PlainForm):
    """A six-digit code from the authenticator app, or one of the recovery codes."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autofocus": True,
                "spellcheck": "false",
                "autocapitalize": "off",
            }
        ),
        help_text=_("The six digits your authenticator app shows, or one of your recovery codes."),
    )


class WebhookEndpointForm(PlainForm):
    """An endpoint's address, events and state (accounts.webhooks checks the address)."""

    url = forms.URLField(
        label=_("Address"),
        max_length=2000,
        assume_scheme="https",
        help_text=_("Where Podium sends the events, for example https://cms.example.org/podium."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(label=_("Events"), widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs) -> None:
        from accounts.webhooks import EVENT_TYPES

        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = list(EVENT_TYPES.items())
