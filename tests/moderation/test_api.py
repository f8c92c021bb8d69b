"""The review API: queue, review detail, decisions, policy, lexicon, the stop; and who may call
what (a role table per endpoint)."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_context
from feeds.models import Post, PostState
from moderation import services
from moderation.models import Decision, Policy
from tests.accounts.api_client import call, institution_url
from tests.moderation.conftest import submitted


def state(post):
    with tenant_context(post.institution_id):
        return Post.objects.get(id=post.id).state


def test_queue_lists_posts_with_flags_and_filters(cast, client):
    services.add_lexicon_term(cast.a.institution, cast.a.admin, term="expelled", kind="blocked")
    submitted(cast.a.author, "Tom was expelled.")
    other = submitted(cast.a.author2, "Sports day.")
    response = call(
        client, "GET", institution_url(cast.a.institution, "review/"), member=cast.a.reviewer
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 2
    assert any(item["blocked"] for item in results)
    filtered = call(
        client,
        "GET",
        institution_url(cast.a.institution, f"review/?author={cast.a.author2.id}"),
        member=cast.a.reviewer,
    )
    assert [item["id"] for item in filtered.json()["results"]] == [other.id]
    bad = call(
        client,
        "GET",
        institution_url(cast.a.institution, "review/?age=forever"),
        member=cast.a.reviewer,
    )
    assert bad.status_code == 400


def test_review_detail_has_flags_renderings_and_decisions(cast, client):
    services.add_lexicon_term(cast.a.institution, cast.a.admin, term="expelled", kind="flagged")
    post = submitted(cast.a.author, "Tom was expelled.")
    body = call(
        client,
        "GET",
        institution_url(cast.a.institution, f"review/{post.id}/"),
        member=cast.a.reviewer,
    ).json()
    assert body["state"] == "submitted"
    assert body["flags"] and body["flags"][0]["matched"] == "expelled"
    assert body["renderings"] == [] and body["decisions"] == []


def test_decisions_through_the_api(cast, client):
    post = submitted(cast.a.author)
    path = institution_url(cast.a.institution, f"review/{post.id}/")
    no_reason = call(client, "POST", path + "reject/", {"reason": ""}, member=cast.a.reviewer)
    assert no_reason.status_code == 400 and state(post) == PostState.SUBMITTED
    unknown = call(client, "POST", path + "approve/", {"when": "now"}, member=cast.a.reviewer)
    assert unknown.status_code == 400
    ok = call(client, "POST", path + "approve/", {}, member=cast.a.reviewer)
    assert ok.status_code == 200 and ok.json()["completed"] is True
    again = call(client, "POST", path + "approve/", {}, member=cast.a.admin)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_decided"
    retract = call(client, "POST", path + "retract/", {"reason": "Mistake."}, member=cast.a.admin)
    assert retract.status_code == 200 and retract.json()["state"] == "retracted"
    gone = call(client, "POST", path + "retract/", {"reason": "Again."}, member=cast.a.admin)
    assert gone.status_code == 409


def test_author_gets_403_and_other_institution_404(cast, client):
    own = submitted(cast.a.reviewer)
    path = institution_url(cast.a.institution, f"review/{own.id}/approve/")
    assert call(client, "POST", path, {}, member=cast.a.reviewer).status_code == 403
    other = institution_url(cast.b.institution, f"review/{own.id}/approve/")
    assert call(client, "POST", other, {}, member=cast.b.reviewer).status_code == 404
    assert state(own) == PostState.SUBMITTED
    with tenant_context(cast.a.institution.id):
        assert not Decision.objects.exists()


def test_policy_read_and_update(cast, client):
    path = institution_url(cast.a.institution, "policy")
    body = call(client, "GET", path, member=cast.a.reviewer).json()
    assert body["approvals_required"] == 1 and body["version"] == 0
    changed = call(client, "PATCH", path, {"approvals_required": 2}, member=cast.a.admin)
    assert changed.status_code == 200 and changed.json()["version"] == 2
    for bad in ({"approvals_required": 3}, {"colour": "red"}, {"denied_domains": ["no domain"]}):
        response = call(client, "PATCH", path, bad, member=cast.a.admin)
        assert response.status_code == 400, bad
    assert (
        call(client, "PATCH", path, {"approvals_required": 1}, member=cast.a.reviewer).status_code
        == 403
    )
    with tenant_context(cast.a.institution.id):
        assert Policy.objects.get().version == 2


def test_lexicon_management(cast, client):
    path = institution_url(cast.a.institution, "lexicon/")
    created = call(
        client, "POST", path, {"term": "secret*", "kind": "blocked"}, member=cast.a.admin
    )
    assert created.status_code == 201
    term_id = created.json()["id"]
    assert (
        call(client, "POST", path, {"term": "", "kind": "blocked"}, member=cast.a.admin).status_code
        == 400
    )
    assert (
        call(client, "POST", path, {"term": "x", "kind": "maybe"}, member=cast.a.admin).status_code
        == 400
    )
    assert (
        call(
            client, "POST", path, {"term": "y", "kind": "blocked"}, member=cast.a.reviewer
        ).status_code
        == 403
    )
    listed = call(client, "GET", path, member=cast.a.reviewer).json()
    assert any(item["term"] == "secret*" for item in listed)
    assert call(client, "DELETE", f"{path}{term_id}/", member=cast.a.admin).status_code == 204


def test_pause_and_resume_take_two_people(cast, client):
    pause = institution_url(cast.a.institution, "publishing/pause")
    resume = institution_url(cast.a.institution, "publishing/resume")
    assert call(client, "POST", pause, {}, member=cast.a.reviewer).status_code == 403
    assert call(client, "POST", pause, {"reason": "x"}, member=cast.a.admin).status_code == 200
    assert call(client, "POST", pause, {}, member=cast.a.admin).status_code == 409
    second = call(client, "POST", resume, {}, member=cast.a.admin)
    assert second.status_code == 403 and second.json()["error"]["code"] == "second_person_required"
    assert call(client, "POST", resume, {}, member=cast.a.reviewer).status_code == 200


# Who may call what: (method, path, body) -> status for author, reviewer, admin.
ROLE_TABLE = [
    ("GET", "review/", None, (403, 200, 200)),
    ("GET", "policy", None, (403, 200, 200)),
    ("PATCH", "policy", {"approval_deadline_hours": 5}, (403, 403, 200)),
    ("GET", "lexicon/", None, (403, 200, 200)),
    ("POST", "lexicon/", {"term": "z", "kind": "flagged"}, (403, 403, 201)),
]


@pytest.mark.parametrize(("method", "tail", "body", "expected"), ROLE_TABLE)
def test_review_api_role_table(cast, client, method, tail, body, expected):
    path = institution_url(cast.a.institution, tail)
    for role, status in zip(("author", "reviewer", "admin"), expected, strict=True):
        response = call(client, method, path, body, member=getattr(cast.a, role))
        assert response.status_code == status, (role, response.content)


def test_review_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/review/{id}/approve/", "/policy", "/lexicon/", "/publishing/pause"):
        assert path in schema


def test_the_review_endpoints_generate_without_warnings():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("moderation.api_urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS, "drf-spectacular emitted warnings; run manage.py spectacular"
    validate_schema(schema)
