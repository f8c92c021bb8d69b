"""Tokens that can decide (review, admin scopes) are made only after a fresh second-factor check,
and never for a member the institution requires to have a second factor and who has none."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import second_factor, services
from accounts.models import ApiToken, Institution
from accounts.tenancy import tenant_context
from tests.accounts.api_client import assert_error, call, institution_url, token_for

pytestmark = pytest.mark.django_db


def with_app(user):
    device = second_factor.start_totp(user)
    assert second_factor.confirm_totp(user, device, second_factor.current_code(device))
    device.refresh_from_db()
    return device


def next_code(device) -> str:
    """The code the app shows one period from now (the current one was used to confirm it)."""
    return second_factor.current_code(device, at=time.time() + device.step)


def tokens_of(membership) -> list[ApiToken]:
    with tenant_context(membership.institution_id):
        return list(ApiToken.objects.filter(membership=membership).order_by("id"))


def require_second_factor(institution) -> None:
    Institution.objects.filter(id=institution.id).update(require_second_factor=True)


def web_form(scopes) -> dict:
    expires = (timezone.localdate() + timedelta(days=30)).isoformat()
    return {"name": "Integration", "scopes": scopes, "expires_on": expires}


def tokens_url(cast) -> str:
    return reverse("accounts:tokens", args=[cast.a.institution.slug])


def mark_recent(client) -> None:
    session = client.session
    session[second_factor.VERIFIED_AT_SESSION_KEY] = int(time.time())
    session.save()


# On the web -----------------------------------------------------------------------------------


def test_a_review_token_on_the_web_asks_a_member_with_a_second_factor_for_a_fresh_code(
    client, cast
):
    with_app(cast.a.reviewer.user)
    client.force_login(cast.a.reviewer.user)
    response = client.post(tokens_url(cast), web_form(["read", "review"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor-verify"))
    assert tokens_of(cast.a.reviewer) == []
    mark_recent(client)
    response = client.post(tokens_url(cast), web_form(["read", "review"]))
    assert response.status_code == 200
    [token] = tokens_of(cast.a.reviewer)
    assert sorted(token.scopes) == ["read", "review"]


@pytest.mark.parametrize("scopes", [["read"], ["read", "write"]])
def test_a_token_that_cannot_decide_needs_no_fresh_code(client, cast, scopes):
    with_app(cast.a.reviewer.user)
    client.force_login(cast.a.reviewer.user)
    assert client.post(tokens_url(cast), web_form(scopes)).status_code == 200
    assert [sorted(t.scopes) for t in tokens_of(cast.a.reviewer)] == [scopes]


def test_an_admin_token_after_a_stale_check_asks_again(client, cast, settings):
    with_app(cast.a.admin.user)
    client.force_login(cast.a.admin.user)
    session = client.session
    session[second_factor.VERIFIED_AT_SESSION_KEY] = int(time.time()) - 3600
    session.save()
    settings.PODIUM_SECOND_FACTOR_MAX_AGE = 900
    response = client.post(tokens_url(cast), web_form(["admin"]))
    assert response.status_code == 302
    assert tokens_of(cast.a.admin) == []


def test_a_member_without_a_second_factor_where_none_is_required_makes_review_tokens(client, cast):
    client.force_login(cast.a.reviewer.user)
    assert client.post(tokens_url(cast), web_form(["review"])).status_code == 200
    assert len(tokens_of(cast.a.reviewer)) == 1


def test_where_a_second_factor_is_required_a_member_without_one_gets_no_deciding_token(cast):
    require_second_factor(cast.a.institution)
    reviewer = cast.a.reviewer
    reviewer.institution.refresh_from_db()
    with pytest.raises(second_factor.SecondFactorRequired) as refused:
        services.create_token(reviewer, name="Bot", scopes=["read", "review"])
    assert "second factor" in refused.value.message
    assert tokens_of(cast.a.reviewer) == []
    # A token that cannot decide is still possible.
    services.create_token(reviewer, name="Reader", scopes=["read"])
    assert len(tokens_of(cast.a.reviewer)) == 1


def test_on_the_web_such_a_member_is_sent_to_set_a_second_factor_up_first(client, cast):
    require_second_factor(cast.a.institution)
    client.force_login(cast.a.reviewer.user)
    response = client.post(tokens_url(cast), web_form(["review"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor"))
    assert tokens_of(cast.a.reviewer) == []


# Through the API ------------------------------------------------------------------------------


def api_tokens(cast) -> str:
    return institution_url(cast.a.institution, "tokens/")


def test_a_token_makes_a_review_token_only_with_a_code_in_the_header(client, cast):
    device = with_app(cast.a.reviewer.user)
    acting = token_for(cast.a.reviewer)
    body = {"name": "Second bot", "scopes": ["review"]}
    refused = call(client, "post", api_tokens(cast), body, token=acting)
    error = assert_error(refused, 403, "second_factor_code_required")
    assert "X-Podium-OTP" in error["message"]
    assert len(tokens_of(cast.a.reviewer)) == 1  # only the acting token
    wrong = call_with_code(client, api_tokens(cast), body, acting, wrong_code(device))
    assert_error(wrong, 403, "second_factor_code_invalid")
    made = call_with_code(client, api_tokens(cast), body, acting, next_code(device))
    assert made.status_code == 201, made.content
    assert made.json()["scopes"] == ["review"]
    assert len(tokens_of(cast.a.reviewer)) == 2


def test_a_token_makes_a_read_token_without_a_code(client, cast):
    with_app(cast.a.reviewer.user)
    acting = token_for(cast.a.reviewer)
    made = call(client, "post", api_tokens(cast), {"name": "r", "scopes": ["read"]}, token=acting)
    assert made.status_code == 201, made.content


def test_a_session_makes_a_review_token_through_the_api_only_after_a_recent_check(client, cast):
    with_app(cast.a.reviewer.user)
    body = {"name": "From the browser", "scopes": ["review"]}
    refused = call(client, "post", api_tokens(cast), body, member=cast.a.reviewer)
    assert_error(refused, 403, "second_factor_code_required")
    mark_recent(client)
    made = client.post(api_tokens(cast), body, content_type="application/json")
    assert made.status_code == 201, made.content


def test_through_the_api_a_member_the_institution_requires_a_second_factor_of_is_refused(
    client, cast
):
    acting = token_for(cast.a.reviewer)  # made before the requirement
    require_second_factor(cast.a.institution)
    body = {"name": "Bot", "scopes": ["review"]}
    refused = call(client, "post", api_tokens(cast), body, token=acting)
    error = assert_error(refused, 403, "second_factor_required")
    assert "second factor" in error["message"]
    assert len(tokens_of(cast.a.reviewer)) == 1


def call_with_code(client, path, body, token, code):
    return client.post(
        path,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", second_factor.OTP_HEADER: code},
    )


def wrong_code(device) -> str:
    """A code the app shows at no moment near now (so it cannot be accepted)."""
    near = {
        second_factor.current_code(device, at=time.time() + k * device.step) for k in range(-3, 4)
    }
    return next(f"{n:06d}" for n in range(123456, 999999, 7919) if f"{n:06d}" not in near)
