"""A second factor for the people who decide: TOTP with recovery codes, asked at sign-in, required
by the institution for reviewers and admins, and asked again before a role change when stale."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor
from accounts.models import Role
from accounts.tenancy import tenant_context

PASSWORD = "a-long-test-password"


def _with_app(user) -> TOTPDevice:
    device = second_factor.start_totp(user)
    codes = second_factor.confirm_totp(user, device, second_factor.current_code(device))
    assert codes is not None and len(codes) == second_factor.RECOVERY_CODE_COUNT
    device.refresh_from_db()
    device.recovery_codes = codes
    return device


def _sign_in(client, user, next_path="/accounts/"):
    user.set_password(PASSWORD)
    user.save()
    return client.post(
        f"{reverse('accounts:login')}?next={next_path}",
        {"username": user.email, "password": PASSWORD, "next": next_path},
    )


def _code_later(device, steps: int) -> str:
    """The code the app shows ``steps`` periods from now (a TOTP clock moved on)."""
    return second_factor.current_code(device, at=time.time() + steps * device.step)


@pytest.mark.django_db
def test_the_password_alone_does_not_sign_in_a_person_with_a_second_factor(client, cast):
    user = cast.a.reviewer.user
    _with_app(user)
    response = _sign_in(client, user)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor-verify"))
    home = client.get(reverse("accounts:home"))
    assert home.status_code == 302 and reverse("accounts:login") in home["Location"]


@pytest.mark.django_db
def test_the_current_code_finishes_signing_in(client, cast):
    user = cast.a.reviewer.user
    device = _with_app(user)
    _sign_in(client, user)
    response = client.post(
        reverse("accounts:second-factor-verify"),
        {"code": _code_later(device, 1), "next": "/accounts/"},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert client.get(reverse("accounts:home")).status_code == 200


@pytest.mark.django_db
def test_a_wrong_or_old_code_is_refused_and_signs_nobody_in(client, cast):
    user = cast.a.reviewer.user
    device = _with_app(user)
    _sign_in(client, user)
    for code in ("000000", _code_later(device, -4), "not a code"):
        response = client.post(reverse("accounts:second-factor-verify"), {"code": code})
        assert response.status_code == 400
        assert "not right" in response.content.decode()
    assert client.get(reverse("accounts:home")).status_code == 302


@pytest.mark.django_db
def test_a_recovery_code_works_once(client, cast):
    user = cast.a.reviewer.user
    device = _with_app(user)
    code = device.recovery_codes[0]
    _sign_in(client, user)
    ok = client.post(reverse("accounts:second-factor-verify"), {"code": code, "next": "/accounts/"})
    assert ok.status_code == 302
    client.logout()
    _sign_in(client, user)
    again = client.post(reverse("accounts:second-factor-verify"), {"code": code})
    assert again.status_code == 400


@pytest.mark.django_db
def test_setting_up_an_app_shows_a_qr_code_then_recovery_codes_once(client, cast):
    user = cast.a.admin.user
    client.force_login(user)
    page = client.post(reverse("accounts:second-factor"), {"action": "start"})
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = second_factor.pending_totp(user)
    wrong = client.post(reverse("accounts:second-factor"), {"action": "confirm", "code": "123"})
    assert wrong.status_code == 400 and not second_factor.has_second_factor(user)
    time.sleep(1.1)  # django-otp's throttle: one second after the first wrong code
    confirmed = client.post(
        reverse("accounts:second-factor"),
        {"action": "confirm", "code": second_factor.current_code(device)},
    )
    body = confirmed.content.decode()
    assert confirmed.status_code == 200 and second_factor.has_second_factor(user)
    assert body.count("<li><code>") == second_factor.RECOVERY_CODE_COUNT
    assert "<li><code>" not in client.get(reverse("accounts:second-factor")).content.decode()


def _require_it(institution):
    institution.require_second_factor = True
    institution.save()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_an_institution_that_requires_it_sends_deciders_to_set_it_up(client, cast, role):
    _require_it(cast.a.institution)
    member = getattr(cast.a, role)
    client.force_login(member.user)
    response = client.get(reverse("accounts:profile", args=[cast.a.institution.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor"))


@pytest.mark.django_db
def test_a_required_factor_that_exists_is_asked_for_on_member_pages(client, cast):
    _require_it(cast.a.institution)
    _with_app(cast.a.admin.user)
    client.force_login(cast.a.admin.user)  # a session from before the requirement
    response = client.get(reverse("accounts:profile", args=[cast.a.institution.slug]))
    assert response["Location"].startswith(reverse("accounts:second-factor-verify"))


@pytest.mark.django_db
def test_authors_are_not_asked_when_only_deciders_must_have_it(client, cast):
    _require_it(cast.a.institution)
    client.force_login(cast.a.author.user)
    response = client.get(reverse("accounts:profile", args=[cast.a.institution.slug]))
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_role_change_asks_again_for_a_code_when_the_last_one_is_stale(client, cast, settings):
    settings.PODIUM_SECOND_FACTOR_MAX_AGE = 60
    device = _with_app(cast.a.admin.user)
    _sign_in(client, cast.a.admin.user)
    client.post(reverse("accounts:second-factor-verify"), {"code": _code_later(device, 1)})
    url = reverse("accounts:change-role", args=[cast.a.institution.slug, cast.a.author.id])
    fresh = client.post(url, {"role": Role.REVIEWER})
    assert fresh.status_code == 302 and "second-factor" not in fresh["Location"]
    session = client.session
    session[second_factor.VERIFIED_AT_SESSION_KEY] = int(time.time()) - 120
    session.save()
    stale = client.post(url, {"role": Role.AUTHOR})
    assert stale["Location"].startswith(reverse("accounts:second-factor-verify"))
    with tenant_context(cast.a.institution.id):
        cast.a.author.refresh_from_db()
    assert cast.a.author.role == Role.REVIEWER  # the stale request changed nothing


@pytest.mark.django_db
def test_guessing_is_slowed_down_after_a_wrong_code(client, cast):
    user = cast.a.reviewer.user
    device = _with_app(user)
    _sign_in(client, user)
    client.post(reverse("accounts:second-factor-verify"), {"code": "000000"})
    # The code of the next period: this period's was used to set the app up (no replays).
    right_but_too_soon = client.post(
        reverse("accounts:second-factor-verify"), {"code": _code_later(device, 1)}
    )
    assert right_but_too_soon.status_code == 400
    time.sleep(1.1)
    right = client.post(reverse("accounts:second-factor-verify"), {"code": _code_later(device, 1)})
    assert right.status_code == 302


@pytest.mark.django_db
def test_a_code_once_used_cannot_be_replayed(client, cast):
    user = cast.a.reviewer.user
    device = _with_app(user)
    code = _code_later(device, 1)
    _sign_in(client, user)
    assert client.post(reverse("accounts:second-factor-verify"), {"code": code}).status_code == 302
    client.logout()
    _sign_in(client, user)
    assert client.post(reverse("accounts:second-factor-verify"), {"code": code}).status_code == 400
