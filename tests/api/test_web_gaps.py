"""The API operations for the last web actions without one (issue 16, item 1): a person's
account settings and language, the website check, marking a member trusted, notice preferences.

Each does what its web page does, through the same service, and refuses bad input with a
problem (RFC 9457) while changing nothing.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.tenancy import tenant_context
from feeds import services as feeds_services
from feeds.models import PostState
from feeds.services import PostContent
from moderation import services as moderation_services
from moderation.models import NotificationPreference, TrustedMember
from tests.accounts.api_client import assert_error, call, institution_url, token_for

pytestmark = pytest.mark.django_db


def _verbs(institution, verb: str) -> list[AuditEvent]:
    with tenant_context(institution.id):
        return list(AuditEvent.objects.filter(verb=verb).order_by("sequence"))


# Account settings and language ---------------------------------------------------------------


def _settings_url(cast) -> str:
    return institution_url(cast.a.institution, "me/settings")


def test_a_person_reads_and_changes_their_name_and_language(client, cast):
    token = token_for(cast.a.author)
    read = call(client, "get", _settings_url(cast), token=token)
    assert read.status_code == 200
    assert read.json() == {"name": cast.a.author.user.name, "language": ""}
    assert read.has_header("ETag")

    changed = call(
        client, "patch", _settings_url(cast), {"name": "  Maria Meier ", "language": "de"},
        token=token,
    )  # fmt: skip

    assert changed.status_code == 200, changed.content
    assert changed.json() == {"name": "Maria Meier", "language": "de"}
    user = User.objects.get(id=cast.a.author.user_id)
    assert (user.name, user.language) == ("Maria Meier", "de")
    assert call(client, "get", _settings_url(cast), token=token).json() == changed.json()


def test_the_language_switch_s_choice_and_following_the_browser(client, cast):
    """The web's language switch saves the same setting: the API reads what it saved."""
    client.force_login(cast.a.author.user)
    client.post("/accounts/language/", {"language": "de"})
    token = token_for(cast.a.author)
    assert call(client, "get", _settings_url(cast), token=token).json()["language"] == "de"
    back = call(client, "patch", _settings_url(cast), {"language": ""}, token=token)
    assert back.json()["language"] == ""
    assert User.objects.get(id=cast.a.author.user_id).language == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "fr"}, "language"),
        ({"language": None}, "language"),
        ({"name": "x" * 151}, "name"),
        ({"name": ["Maria"], "language": "de"}, "name"),
        ({"email": "new@example.org"}, "email"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(client, cast, body, field):
    before = User.objects.values("name", "language", "email").get(id=cast.a.author.user_id)
    response = call(client, "patch", _settings_url(cast), body, token=token_for(cast.a.author))
    error = assert_error(response, 400)
    assert field in error["fields"]
    after = User.objects.values("name", "language", "email").get(id=cast.a.author.user_id)
    assert after == before


def test_a_stale_etag_is_refused_and_the_settings_stay(client, cast):
    token = token_for(cast.a.author)
    tag = call(client, "get", _settings_url(cast), token=token)["ETag"]
    first = call(client, "patch", _settings_url(cast), {"name": "First"}, token=token)
    assert first.status_code == 200
    stale = client.patch(
        _settings_url(cast), data='{"name": "Second"}', content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "If-Match": tag},
    )  # fmt: skip
    assert_error(stale, 412, "precondition_failed")
    assert User.objects.get(id=cast.a.author.user_id).name == "First"
    current = call(client, "get", _settings_url(cast), token=token)["ETag"]
    fresh = client.patch(
        _settings_url(cast), data='{"name": "Second"}', content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "If-Match": current},
    )  # fmt: skip
    assert fresh.status_code == 200
    assert User.objects.get(id=cast.a.author.user_id).name == "Second"


def test_a_read_token_reads_the_settings_but_does_not_change_them(client, cast):
    token = token_for(cast.a.author, scopes=["read"])
    assert call(client, "get", _settings_url(cast), token=token).status_code == 200
    refused = call(client, "patch", _settings_url(cast), {"name": "Nope"}, token=token)
    assert_error(refused, 403, "permission_denied")
    assert User.objects.get(id=cast.a.author.user_id).name != "Nope"


def test_settings_are_not_reached_through_another_institution(client, cast):
    response = call(client, "get", _settings_url(cast), token=token_for(cast.b.author))
    assert_error(response, 404)


# The website check ----------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch) -> list[dict]:
    """The website checks handed to Celery (none runs: the check would fetch the website)."""
    from accounts.tasks import verify_website

    calls: list[dict] = []
    monkeypatch.setattr(verify_website, "apply_async", lambda **options: calls.append(options))
    return calls


def _check_url(cast) -> str:
    return institution_url(cast.a.institution, "institution/website-check")


def test_an_administrator_asks_for_the_website_check(
    client, cast, queued, django_capture_on_commit_callbacks
):
    institution = cast.a.institution
    type(institution).objects.filter(id=institution.id).update(website="https://school.example/")
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", _check_url(cast), token=token_for(cast.a.admin))

    assert response.status_code == 202, response.content
    assert response.json() == {
        "state": "queued",
        "website": "https://school.example/",
        "website_verified_at": None,
        "website_checked_at": None,
        "website_check_error": "",
    }
    assert queued == [{"kwargs": {"institution_id": institution.id}}]
    [event] = _verbs(institution, "institution.request_website_check")
    assert event.actor_membership_id == cast.a.admin.id


def test_the_outcome_of_the_check_is_read_back(client, cast):
    institution = cast.a.institution
    url, token = _check_url(cast), token_for(cast.a.admin)
    type(institution).objects.filter(id=institution.id).update(website="https://school.example/")
    assert call(client, "get", url, token=token).json()["state"] == "unchecked"
    # What accounts.websites.verify_website stores after a check that failed, then one that
    # found the link.
    checked = timezone.now()
    type(institution).objects.filter(id=institution.id).update(
        website_checked_at=checked, website_check_error="No link back."
    )
    failed = call(client, "get", url, token=token).json()
    assert (failed["state"], failed["website_check_error"]) == ("failed", "No link back.")
    type(institution).objects.filter(id=institution.id).update(
        website_verified_at=checked, website_check_error=""
    )
    verified = call(client, "get", url, token=token).json()
    assert verified["state"] == "verified"
    assert verified["website_verified_at"] is not None
    assert_error(call(client, "get", url, token=token_for(cast.a.author)), 403)


def test_no_website_no_check(client, cast, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", _check_url(cast), token=token_for(cast.a.admin))
    error = assert_error(response, 400)
    assert "contact.website" in error["fields"]
    assert queued == []
    assert _verbs(cast.a.institution, "institution.request_website_check") == []


@pytest.mark.parametrize("member", ["author", "reviewer"])
def test_only_administrators_ask_for_the_check(client, cast, queued, member):
    institution = cast.a.institution
    type(institution).objects.filter(id=institution.id).update(website="https://school.example/")
    response = call(client, "post", _check_url(cast), token=token_for(getattr(cast.a, member)))
    assert_error(response, 403, "permission_denied")
    assert queued == []


def test_the_check_takes_no_body(client, cast, queued):
    institution = cast.a.institution
    type(institution).objects.filter(id=institution.id).update(website="https://school.example/")
    response = call(
        client, "post", _check_url(cast), {"website": "https://elsewhere.example/"},
        token=token_for(cast.a.admin),
    )  # fmt: skip
    assert_error(response, 400)
    assert queued == []


# Trusted members ------------------------------------------------------------------------------


def _trusted(institution) -> set[int]:
    with tenant_context(institution.id):
        return set(TrustedMember.objects.values_list("membership_id", flat=True))


def test_an_administrator_marks_a_member_trusted_and_not(client, cast):
    institution, author = cast.a.institution, cast.a.author
    token = token_for(cast.a.admin)
    trust = call(client, "post", institution_url(institution, f"members/{author.id}/trust"),
                 token=token)  # fmt: skip
    assert trust.status_code == 200, trust.content
    assert trust.json()["member"] == author.id and trust.json()["trusted"] is True
    assert _trusted(institution) == {author.id}
    policy = call(client, "get", institution_url(institution, "policy"), token=token).json()
    assert policy["trusted_members"] == [author.id]
    assert policy["version"] == trust.json()["policy_version"]
    [event] = _verbs(institution, "policy.trust")
    assert event.after["membership"] == author.id
    assert event.actor_membership_id == cast.a.admin.id

    untrust = call(client, "post", institution_url(institution, f"members/{author.id}/untrust"),
                   token=token)  # fmt: skip
    assert untrust.json()["trusted"] is False
    assert untrust.json()["policy_version"] == trust.json()["policy_version"] + 1
    assert _trusted(institution) == set()
    assert len(_verbs(institution, "policy.distrust")) == 1


def test_a_trusted_member_s_post_skips_review_where_the_policy_says_so(client, cast):
    institution = cast.a.institution
    moderation_services.update_policy(institution, cast.a.admin, review_mode="untrusted")
    call(client, "post", institution_url(institution, f"members/{cast.a.author.id}/trust"),
         token=token_for(cast.a.admin))  # fmt: skip
    trusted = feeds_services.create_post(cast.a.author, PostContent("Sports day", "en"))
    other = feeds_services.create_post(cast.a.author2, PostContent("Open day", "en"))
    assert feeds_services.submit_post(trusted, cast.a.author).state != PostState.SUBMITTED
    assert feeds_services.submit_post(other, cast.a.author2).state == PostState.SUBMITTED


def test_trusting_twice_changes_nothing_more(client, cast):
    url = institution_url(cast.a.institution, f"members/{cast.a.author.id}/trust")
    token = token_for(cast.a.admin)
    first = call(client, "post", url, token=token).json()
    second = call(client, "post", url, token=token).json()
    assert second == first
    assert len(_verbs(cast.a.institution, "policy.trust")) == 1


def test_trust_refuses_strangers_bodies_and_non_administrators(client, cast):
    institution = cast.a.institution
    admin = token_for(cast.a.admin)
    # B's member through A's address: no such member here.
    foreign_member = institution_url(institution, f"members/{cast.b.author.id}/trust")
    foreign = call(client, "post", foreign_member, token=admin)
    assert_error(foreign, 404)
    body = call(client, "post", institution_url(institution, f"members/{cast.a.author.id}/trust"),
                {"trusted": True}, token=admin)  # fmt: skip
    assert_error(body, 400)
    reviewer = call(client, "post",
                    institution_url(institution, f"members/{cast.a.author.id}/trust"),
                    token=token_for(cast.a.reviewer))  # fmt: skip
    assert_error(reviewer, 403, "permission_denied")
    assert _trusted(institution) == set()
    assert _trusted(cast.b.institution) == set()
    assert _verbs(institution, "policy.trust") == []


# Notice preferences -------------------------------------------------------------------------


def _notices(cast) -> str:
    return institution_url(cast.a.institution, "notices")


def _stored(membership) -> dict | None:
    with tenant_context(membership.institution_id):
        return (
            NotificationPreference.objects.filter(membership=membership)
            .values("on_submission", "on_deadline", "on_decision")
            .first()
        )


def test_a_member_reads_and_changes_their_notices(client, cast):
    token = token_for(cast.a.reviewer)
    everything = {"on_submission": True, "on_deadline": True, "on_decision": True}
    read = call(client, "get", _notices(cast), token=token)
    assert read.json() == everything
    changed = call(client, "patch", _notices(cast), {"on_deadline": False}, token=token)
    assert changed.status_code == 200, changed.content
    assert changed.json() == {**everything, "on_deadline": False}
    assert _stored(cast.a.reviewer) == {**everything, "on_deadline": False}
    assert _stored(cast.a.author) is None  # another member's are their own
    [event] = _verbs(cast.a.institution, "notifications.update")
    assert event.actor_membership_id == cast.a.reviewer.id
    # The web page shows the same choice.
    client.force_login(cast.a.reviewer.user)
    page = client.get(reverse("moderation:notifications", args=[cast.a.institution.slug]))
    assert page.status_code == 200
    assert page.context["form"].initial["on_deadline"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"on_deadline": "maybe"}, "on_deadline"),
        ({"on_decision": None}, "on_decision"),
        ({"on_everything": False}, "on_everything"),
    ],
)
def test_bad_notice_choices_are_refused_and_nothing_is_stored(client, cast, body, field):
    response = call(client, "patch", _notices(cast), body, token=token_for(cast.a.reviewer))
    error = assert_error(response, 400)
    assert field in error["fields"]
    assert _stored(cast.a.reviewer) is None
    assert _verbs(cast.a.institution, "notifications.update") == []


def test_a_stale_etag_keeps_the_notices(client, cast):
    token = token_for(cast.a.reviewer)
    tag = call(client, "get", _notices(cast), token=token)["ETag"]
    call(client, "patch", _notices(cast), {"on_submission": False}, token=token)
    stale = client.patch(
        _notices(cast), data='{"on_submission": true}', content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "If-Match": tag},
    )  # fmt: skip
    assert_error(stale, 412, "precondition_failed")
    assert _stored(cast.a.reviewer)["on_submission"] is False
