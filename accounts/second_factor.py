"""A second factor for the people who decide: TOTP apps, passkeys and recovery codes (django-otp
and django-otp-webauthn).

- A person who has set up a second factor is asked for a code after the password at every
  sign-in; the password alone signs nobody in.
- An institution can require it of its reviewers and administrators: their member pages send
  them to set it up (or to enter a code) first.
- Decisions, overrides, role changes and lifting a publishing pause ask for a fresh code when the
  last one is older than ``PODIUM_SECOND_FACTOR_MAX_AGE`` seconds (``require_recent``).
- API tokens that can decide (scopes ``review`` and ``admin``) are made only after a fresh check:
  on the web the same step-up, through the API a code in the ``X-Podium-OTP`` header
  (``require_for_deciding_token``). Where the institution requires a second factor, a member
  without one enrolled can neither make such a token nor decide through the API with one
  (``require_for_api_decision``); an API decision may carry a code, and must when the policy
  says so.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.http.request import split_domain_port
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import exceptions as webauthn_exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    CompleteCredentialAuthenticationView,
)

from accounts import errors
from accounts.models import Membership, Role, Scope, User

VERIFIED_AT_SESSION_KEY = "podium_second_factor_at"
PENDING_USER_SESSION_KEY = "podium_second_factor_user"
PENDING_BACKEND_SESSION_KEY = "podium_second_factor_backend"
RECOVERY_CODE_COUNT = 10
DECIDING_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})
# Token scopes that let a token decide on posts or change the institution.
DECIDING_SCOPES = frozenset({Scope.REVIEW, Scope.ADMIN})
# The request header that carries a second-factor code with an API request.
OTP_HEADER = "X-Podium-OTP"


class StepUpRequired(Exception):
    """The action needs a fresh second-factor code; ``response`` sends the person to enter it."""

    def __init__(self, response: HttpResponseRedirect) -> None:
        super().__init__("a fresh second-factor code is needed")
        self.response = response


def confirmed_devices(user: User) -> list:
    """The person's code-based second factors (TOTP apps first, then recovery codes)."""
    return [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]


def has_second_factor(user: User) -> bool:
    """An authenticator app or a passkey (recovery codes alone are no second factor)."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def is_required_for(membership: Membership | None) -> bool:
    """Whether the member's institution requires a second factor of them (reviewers, admins)."""
    return (
        membership is not None
        and membership.role in DECIDING_ROLES
        and membership.institution.require_second_factor
    )


@transaction.atomic
def start_totp(user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator app for the person (replacing one not yet confirmed)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def pending_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def provisioning_uri(device: TOTPDevice) -> str:
    """The ``otpauth://`` address an authenticator app reads (from a QR code or typed in)."""
    return device.config_url


def secret_for_typing(device: TOTPDevice) -> str:
    """The device's key in base32, in groups of four, for typing into an app by hand."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@transaction.atomic
def confirm_totp(user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the app with a code it shows; returns fresh recovery codes, or None if wrong."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(_digits(code)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(user)


@transaction.atomic
def new_recovery_codes(user: User) -> list[str]:
    """Replace the person's recovery codes (each works once); shown once, stored by django-otp."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def remove_second_factor(user: User) -> None:
    """Remove every authenticator app, passkey and recovery code of the person."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    WebAuthnCredential.objects.filter(user=user).delete()


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace())[:32]


def check_code(user: User, code: str):
    """The device that accepts the code (an app's current code or an unused recovery code)."""
    code = _digits(code)
    if not code:
        return None
    for device in confirmed_devices(user):
        with transaction.atomic():
            # verify_token updates throttling and burns recovery codes: lock the row first.
            locked = type(device).objects.select_for_update().get(pk=device.pk)
            if locked.verify_token(code):
                return locked
    return None


def mark_verified(request: HttpRequest, device) -> None:
    """Remember in the session that (and when) the person proved the second factor."""
    django_otp.login(request, device)
    request.session[VERIFIED_AT_SESSION_KEY] = int(time.time())


def is_recent(request: HttpRequest, max_age: int | None = None) -> bool:
    max_age = settings.PODIUM_SECOND_FACTOR_MAX_AGE if max_age is None else max_age
    verified_at = request.session.get(VERIFIED_AT_SESSION_KEY)
    return isinstance(verified_at, int) and time.time() - verified_at <= max_age


def verify_url(next_path: str) -> str:
    return f"{reverse('accounts:second-factor-verify')}?{urlencode({'next': next_path})}"


def require_recent(request: HttpRequest, next_path: str | None = None) -> None:
    """Before a decision, an override, a role change or lifting a pause: a person with a second
    factor (or whom the institution requires to have one) must have entered a code recently.

    Raises ``StepUpRequired`` with the redirect to the code page; API tokens are not asked
    (a token is its own credential, scoped and revocable).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "auth", None) is not None:
        return
    required = is_required_for(getattr(request, "membership", None))
    if not (required or has_second_factor(user)) or is_recent(request):
        return
    target = next_path or request.get_full_path()
    if required and not has_second_factor(user):
        raise StepUpRequired(HttpResponseRedirect(setup_url(target)))
    raise StepUpRequired(HttpResponseRedirect(verify_url(target)))


def setup_url(next_path: str) -> str:
    return f"{reverse('accounts:second-factor')}?{urlencode({'next': next_path})}"


def current_code(device: TOTPDevice, at: float | None = None) -> str:
    """The code an app would show at ``at`` (for tests and the setup page's self-check)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else time.time()
    return f"{totp.token():0{device.digits}d}"


# Passkeys (WebAuthn, through django-otp-webauthn) ----------------------------------------------


class PasskeyHelper(WebAuthnHelper):
    """The relying party is the site the person is on: its host name (checked against
    ALLOWED_HOSTS) as the RP ID and its own origin as the only accepted origin."""

    def get_relying_party_domain(self) -> str:
        return split_domain_port(self.request.get_host())[0]

    def get_relying_party_name(self) -> str:
        return "Podium"

    def get_allowed_origins(self) -> list[str]:
        return [f"{self.request.scheme}://{self.request.get_host()}"]


def has_app(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def passkey_count(user: User) -> int:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).count()


class PasskeyBeginAuthentication(BeginCredentialAuthenticationView):
    """Start a passkey check for the person signing in (after the password) or signed in."""

    def get_user(self):
        return _acting_user(self.request)


class PasskeyCompleteAuthentication(CompleteCredentialAuthenticationView):
    """Finish a passkey check: as the second step of signing in, or as a fresh check before a
    decision. A passkey never signs anyone in without the password here."""

    def get_user(self):
        return _acting_user(self.request)

    def check_device_usable(self, device) -> None:
        super().check_device_usable(device)
        user = _acting_user(self.request)
        if user is None or device.user_id != user.pk:
            raise webauthn_exceptions.NotAuthenticated()

    def complete_auth(self, device) -> None:
        from django.contrib.auth import login

        session = self.request.session
        if not self.request.user.is_authenticated:
            backend = session.pop(PENDING_BACKEND_SESSION_KEY, None)
            session.pop(PENDING_USER_SESSION_KEY, None)
            login(self.request, device.user, backend=backend)
        mark_verified(self.request, device)


def _acting_user(request: HttpRequest) -> User | None:
    if request.user.is_authenticated:
        return request.user
    user_id = request.session.get(PENDING_USER_SESSION_KEY)
    return User.objects.filter(pk=user_id, is_active=True).first() if user_id else None


# API decisions and tokens that can decide -------------------------------------------------------


class SecondFactorRequired(errors.PermissionDenied):
    """The institution requires a second factor of the member, who has none enrolled."""

    code = "second_factor_required"
    default_message = _(
        "Your institution requires reviewers and administrators to use a second factor, and you "
        "have not set one up: add an authenticator app or a passkey under Account, Second "
        "factor, then try again."
    )


class FreshCodeRequired(errors.PermissionDenied):
    """The action needs a second-factor code newer than the last check allows."""

    code = "second_factor_code_required"
    default_message = _(
        "This needs a fresh second-factor code: send the current code of your authenticator app "
        "(or an unused recovery code) in the X-Podium-OTP header."
    )


class WrongCode(errors.PermissionDenied):
    """The code sent in the header is not accepted."""

    code = "second_factor_code_invalid"
    default_message = _(
        "The second-factor code in the X-Podium-OTP header is wrong, expired or already used: "
        "send the code your authenticator app shows now."
    )


def grants_decisions(scopes) -> bool:
    """Whether a token with these scopes could decide on posts or change the institution."""
    return bool(set(scopes or ()) & DECIDING_SCOPES)


def require_enrolled(membership: Membership) -> None:
    """Refuse (``SecondFactorRequired``) when the institution requires a second factor of the
    member and none is enrolled: no token of theirs may decide, and no such token is made."""
    if is_required_for(membership) and not has_second_factor(membership.user):
        raise SecondFactorRequired()


def _fresh_check(request, membership: Membership, *, token_needs_code: bool) -> None:
    """A code in the header (checked, used up), or else for a session a recent check as on the
    web, for a token a code only when ``token_needs_code``."""
    django_request = getattr(request, "_request", request)
    user = membership.user
    code = django_request.headers.get(OTP_HEADER, "")
    if code:
        device = check_code(user, code)
        if device is None:
            raise WrongCode()
        return
    if getattr(request, "auth", None) is not None:  # an API token
        if not token_needs_code:
            return
        if not has_second_factor(user):
            raise SecondFactorRequired(
                _(
                    "This institution's API decisions need a fresh second-factor code, and you "
                    "have no authenticator app set up: add one under Account, Second factor."
                )
            )
        raise FreshCodeRequired()
    # A browser session calling the API: the same rule as the web pages.
    needs = is_required_for(membership) or has_second_factor(user)
    if needs and not is_recent(django_request):
        raise FreshCodeRequired(
            _(
                "This needs a fresh second-factor code: enter one on the web (any page that "
                "asks for it) or send it in the X-Podium-OTP header."
            )
        )


def require_for_api_decision(request, membership: Membership, *, code_required: bool) -> None:
    """Before a decision through the API (approve, reject, request changes, override, retract,
    resume): refused when the institution requires a second factor the member lacks; a code in
    ``X-Podium-OTP`` must be right; with ``code_required`` (the policy's "API decisions need a
    fresh code") a token must bring one."""
    require_enrolled(membership)
    _fresh_check(request, membership, token_needs_code=code_required)


def require_for_deciding_token(request, membership: Membership, scopes) -> None:
    """Before an API token with the review or admin scope is made through the API: a member
    with a second factor proves it afresh (a session's recent check, or a code in the header);
    one the institution requires to have one and who has none is refused."""
    if not grants_decisions(scopes):
        return
    require_enrolled(membership)
    _fresh_check(request, membership, token_needs_code=has_second_factor(membership.user))
