"""The second factor in a real browser: signing in with an authenticator app's code, and adding
then using a passkey on Chromium's virtual authenticator."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts import second_factor
from tests.browser.helpers import sign_in
from tests.conftest import Cast

pytestmark = pytest.mark.browser


def _app_for(user):
    device = second_factor.start_totp(user)
    second_factor.confirm_totp(user, device, second_factor.current_code(device))
    device.refresh_from_db()
    return device


def _next_code(device) -> str:
    # This period's code confirmed the app; an app shows the next one half a minute later.
    return second_factor.current_code(device, at=time.time() + device.step)


def _enter_code(page, code: str) -> None:
    page.get_by_label("Code").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()


@pytest.mark.django_db(transaction=True)
def test_a_reviewer_signs_in_with_password_then_the_apps_code(server, page, screenshots_dir):
    cast = Cast.create()
    device = _app_for(cast.a.reviewer.user)
    sign_in(page, server.url, cast.a.reviewer)
    assert reverse("accounts:second-factor-verify") in page.url
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.screenshot(path=screenshots_dir / "second-factor-code-1280.png", full_page=True)
    _enter_code(page, "000000")
    expect(page.get_by_text("This code is not right")).to_be_visible()
    time.sleep(1.1)  # the throttle after a wrong code
    _enter_code(page, _next_code(device))
    assert page.url.rstrip("/").endswith(reverse("accounts:home").rstrip("/"))


@pytest.mark.django_db(transaction=True)
def test_a_passkey_is_added_and_then_signs_in_in_place_of_the_code(
    server, context, page, screenshots_dir
):
    cast = Cast.create()
    member = cast.a.admin
    device = _app_for(member.user)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    sign_in(page, server.url, member)
    _enter_code(page, _next_code(device))
    page.goto(server.url + reverse("accounts:second-factor"))
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkey-register-status-message")).to_contain_text("successful")
    page.screenshot(path=screenshots_dir / "second-factor-passkey-added-1280.png", full_page=True)
    assert second_factor.passkey_count(member.user) == 1

    context.clear_cookies()  # signed out; the passkey stays on the authenticator
    sign_in(page, server.url, member)
    assert reverse("accounts:second-factor-verify") in page.url
    with page.expect_navigation():
        page.get_by_role("button", name="Use a passkey instead").click()
    assert reverse("accounts:second-factor-verify") not in page.url
    page.goto(server.url + reverse("accounts:home"))
    assert reverse("accounts:login") not in page.url
