"""Decisions through the API and the second factor: a token of a member without one cannot decide
where the institution requires it; a code in X-Podium-OTP is checked and used up; a browser
session calling the API needs a recent check, as the web pages do."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from accounts import second_factor
from accounts.models import Institution
from accounts.tenancy import tenant_context
from feeds.models import Post, PostState
from moderation import services
from moderation.models import Decision
from tests.accounts.api_client import assert_error, call, institution_url, token_for
from tests.moderation.conftest import submitted

# verb, the member who decides, the body; every one is refused before anything happens.
DECISIONS = [
    ("approve", "reviewer", {}),
    ("reject", "reviewer", {"reason": "Names a pupil."}),
    ("request-changes", "reviewer", {"comment": "Leave the name out."}),
    ("override", "admin", {"reason": "Agreed with the parents."}),
    ("retract", "reviewer", {"reason": "Published by mistake."}),
]


def with_app(user):
    device = second_factor.start_totp(user)
    assert second_factor.confirm_totp(user, device, second_factor.current_code(device))
    device.refresh_from_db()
    return device


def next_code(device) -> str:
    """The code the app shows one period from now (the current one confirmed the app)."""
    return second_factor.current_code(device, at=time.time() + device.step)


def state(post) -> str:
    with tenant_context(post.institution_id):
        return Post.objects.get(id=post.id).state


def decisions_on(post) -> int:
    with tenant_context(post.institution_id):
        return Decision.objects.filter(post_id=post.id).count()


def decide(client, cast, post, verb, body, *, token=None, code=None, member=None):
    path = institution_url(cast.a.institution, f"review/{post.id}/{verb}/")
    if member is not None:
        return call(client, "POST", path, body, member=member)
    headers = {"Authorization": f"Bearer {token}"}
    if code is not None:
        headers[second_factor.OTP_HEADER] = code
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def require_second_factor(institution) -> None:
    Institution.objects.filter(id=institution.id).update(require_second_factor=True)


@pytest.mark.parametrize(("verb", "role", "body"), DECISIONS)
def test_where_a_second_factor_is_required_a_token_of_a_member_without_one_cannot_decide(
    cast, client, verb, role, body
):
    member = getattr(cast.a, role)
    token = token_for(member)  # made before the institution turned the requirement on
    post = submitted(cast.a.author)
    require_second_factor(cast.a.institution)
    response = decide(client, cast, post, verb, body, token=token)
    error = assert_error(response, 403, "second_factor_required")
    assert "second factor" in error["message"]
    assert state(post) == PostState.SUBMITTED
    assert decisions_on(post) == 0


def test_resuming_publishing_with_such_a_token_is_refused_too(cast, client):
    token = token_for(cast.a.reviewer)
    services.pause_publishing(cast.a.institution, cast.a.admin, "Checking a leak.")
    require_second_factor(cast.a.institution)
    path = institution_url(cast.a.institution, "publishing/resume")
    response = call(client, "POST", path, {}, token=token)
    assert_error(response, 403, "second_factor_required")
    assert Institution.objects.get(id=cast.a.institution.id).publishing_paused


def test_once_the_member_has_a_second_factor_the_same_token_decides(cast, client):
    token = token_for(cast.a.reviewer)
    require_second_factor(cast.a.institution)
    with_app(cast.a.reviewer.user)
    post = submitted(cast.a.author)
    response = decide(client, cast, post, "approve", {}, token=token)
    assert response.status_code == 200, response.content
    assert state(post) == PostState.PUBLISHED  # approved, no publish time: out at once


def test_without_the_requirement_a_token_decides_without_a_code(cast, client):
    token = token_for(cast.a.reviewer)
    post = submitted(cast.a.author)
    response = decide(client, cast, post, "reject", {"reason": "Not now."}, token=token)
    assert response.status_code == 200, response.content
    assert state(post) == PostState.REJECTED


def test_a_code_in_the_header_is_checked_and_used_only_once(cast, client):
    device = with_app(cast.a.reviewer.user)
    token = token_for(cast.a.reviewer)
    first, second = submitted(cast.a.author), submitted(cast.a.author2)
    wrong = decide(client, cast, first, "approve", {}, token=token, code=wrong_code(device))
    error = assert_error(wrong, 403, "second_factor_code_invalid")
    assert "X-Podium-OTP" in error["message"]
    assert state(first) == PostState.SUBMITTED
    code = next_code(device)
    assert decide(client, cast, first, "approve", {}, token=token, code=code).status_code == 200
    replayed = decide(client, cast, second, "approve", {}, token=token, code=code)
    assert_error(replayed, 403, "second_factor_code_invalid")
    assert state(second) == PostState.SUBMITTED


def test_a_recovery_code_in_the_header_works_once(cast, client):
    with_app(cast.a.reviewer.user)
    [recovery, *_rest] = second_factor.new_recovery_codes(cast.a.reviewer.user)
    token = token_for(cast.a.reviewer)
    first, second = submitted(cast.a.author), submitted(cast.a.author2)
    ok = decide(client, cast, first, "reject", {"reason": "No."}, token=token, code=recovery)
    assert ok.status_code == 200, ok.content
    again = decide(client, cast, second, "reject", {"reason": "No."}, token=token, code=recovery)
    assert_error(again, 403, "second_factor_code_invalid")


def test_a_browser_session_deciding_through_the_api_needs_a_recent_check(cast, client):
    with_app(cast.a.reviewer.user)
    post = submitted(cast.a.author)
    stale = decide(client, cast, post, "approve", {}, member=cast.a.reviewer)
    error = assert_error(stale, 403, "second_factor_code_required")
    assert "second-factor code" in error["message"]
    assert state(post) == PostState.SUBMITTED
    session = client.session
    session[second_factor.VERIFIED_AT_SESSION_KEY] = int(time.time())
    session.save()
    path = institution_url(cast.a.institution, f"review/{post.id}/approve/")
    fresh = client.post(path, "{}", content_type="application/json")
    assert fresh.status_code == 200, fresh.content
    assert state(post) == PostState.PUBLISHED


# The policy's "API decisions need a fresh code" ------------------------------------------------


def need_codes(cast, client) -> None:
    path = institution_url(cast.a.institution, "policy")
    response = call(client, "PATCH", path, {"api_decisions_need_code": True}, member=cast.a.admin)
    assert response.status_code == 200, response.content
    assert response.json()["api_decisions_need_code"] is True
    client.logout()


def test_with_the_policy_a_token_decides_only_with_a_code(cast, client):
    device = with_app(cast.a.reviewer.user)
    token = token_for(cast.a.reviewer)
    need_codes(cast, client)
    post = submitted(cast.a.author)
    bare = decide(client, cast, post, "approve", {}, token=token)
    error = assert_error(bare, 403, "second_factor_code_required")
    assert "X-Podium-OTP" in error["message"]
    assert state(post) == PostState.SUBMITTED and decisions_on(post) == 0
    coded = decide(client, cast, post, "approve", {}, token=token, code=next_code(device))
    assert coded.status_code == 200, coded.content
    assert decisions_on(post) == 1


def test_with_the_policy_a_member_without_an_app_cannot_decide_through_the_api(cast, client):
    token = token_for(cast.a.reviewer)
    need_codes(cast, client)
    post = submitted(cast.a.author)
    response = decide(client, cast, post, "reject", {"reason": "No."}, token=token)
    error = assert_error(response, 403, "second_factor_required")
    assert "API decisions" in error["message"]
    assert state(post) == PostState.SUBMITTED


def test_without_the_policy_a_token_of_a_member_with_an_app_needs_no_code(cast, client):
    with_app(cast.a.reviewer.user)
    token = token_for(cast.a.reviewer)
    post = submitted(cast.a.author)
    response = decide(client, cast, post, "reject", {"reason": "No."}, token=token)
    assert response.status_code == 200, response.content


def test_the_policy_setting_takes_only_true_or_false_and_shows_on_the_policy_page(cast, client):
    path = institution_url(cast.a.institution, "policy")
    bad = call(client, "PATCH", path, {"api_decisions_need_code": "maybe"}, member=cast.a.admin)
    assert bad.status_code == 400
    assert call(client, "GET", path, member=cast.a.admin).json()["api_decisions_need_code"] is False
    page = client.get(reverse("moderation:policy", args=[cast.a.institution.slug]))
    assert 'name="api_decisions_need_code"' in page.content.decode()
    data = {
        "review_mode": "all",
        "approvals_required": "1",
        "approval_deadline_hours": "2",
        "minimum_lead_minutes": "0",
        "allowed_domains": "",
        "denied_domains": "",
        "own_contacts": "",
        "api_decisions_need_code": "on",
    }
    saved = client.post(reverse("moderation:policy", args=[cast.a.institution.slug]), data)
    assert saved.status_code == 302
    assert call(client, "GET", path, member=cast.a.admin).json()["api_decisions_need_code"] is True


def test_the_decisions_document_the_second_factor_in_the_openapi_schema(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    operations = [
        schema["paths"][path]["post"]
        for path in schema["paths"]
        if path.endswith(("/approve/", "/reject/", "/request-changes/", "/publishing/resume"))
    ]
    assert len(operations) == 4
    for operation in operations:
        assert "second_factor_required" in operation["description"]
        assert any(p["name"] == "X-Podium-OTP" for p in operation["parameters"])
    tokens = next(
        schema["paths"][path]["post"] for path in schema["paths"] if path.endswith("/tokens/")
    )
    assert "X-Podium-OTP" in tokens["description"]


def wrong_code(device) -> str:
    """A code the app shows at no moment near now (so it cannot be accepted)."""
    near = {
        second_factor.current_code(device, at=time.time() + k * device.step) for k in range(-3, 4)
    }
    return next(f"{n:06d}" for n in range(123456, 999999, 7919) if f"{n:06d}" not in near)
