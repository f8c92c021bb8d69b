"""ETags and If-Match on every editable resource; per-token throttling with its headers."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from accounts import webhooks
from accounts.api.throttling import TokenRateThrottle
from feeds import services as feeds_services
from feeds.services import PostContent
from tests.accounts.api_client import token_for


def _call(client, method: str, path: str, token: str, body=None, **headers):
    headers["Authorization"] = f"Bearer {token}"
    data = "" if body is None else json.dumps(body)
    return client.generic(method, path, data=data, content_type="application/json", headers=headers)


def _resources(cast) -> list[tuple[str, str, dict, object]]:
    """(path, who, change) for each editable resource of institution A."""
    a = cast.a
    base = f"/api/v1/institutions/{a.institution.slug}/"
    draft = feeds_services.create_post(a.author, PostContent("A draft", "en"))
    endpoint, _secret = webhooks.create_endpoint(
        a.institution, a.admin, url="https://hooks.example.org/in", event_types=["post.published"]
    )
    return [
        (f"{base}posts/{draft.id}/", a.author, {"body": "Changed"}),
        (f"{base}members/{a.author2.id}/", a.admin, {"role": "reviewer"}),
        (f"{base}profile", a.author, {"job_title": "Librarian"}),
        (f"{base}institution", a.admin, {"description": "Changed"}),
        (f"{base}policy", a.admin, {"approval_deadline_hours": 12}),
        (f"{base}webhooks/endpoints/{endpoint.id}/", a.admin, {"description": "CMS"}),
        (f"{base}me/settings", a.author, {"name": "Maria Meier"}),
        (f"{base}notices", a.reviewer, {"on_submission": False}),
    ]


RESOURCE_NAMES = [
    "post", "member", "profile", "institution", "policy", "webhook-endpoint", "settings", "notices"
]  # fmt: skip


@pytest.mark.parametrize("index", range(len(RESOURCE_NAMES)), ids=RESOURCE_NAMES)
def test_stale_if_match_is_refused_and_current_one_updates(cast, client, index):
    path, member, change = _resources(cast)[index]
    token = token_for(member)
    read = _call(client, "GET", path, token)
    assert read.status_code == 200
    tag = read["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    stale = _call(client, "PATCH", path, token, change, **{"If-Match": '"0000"'})
    assert stale.status_code == 412, stale.content
    assert _call(client, "GET", path, token)["ETag"] == tag  # nothing changed
    updated = _call(client, "PATCH", path, token, change, **{"If-Match": tag})
    assert updated.status_code == 200, updated.content
    assert updated["ETag"] != tag
    assert _call(client, "GET", path, token)["ETag"] == updated["ETag"]
    # The tag read before the update is stale now: a second integration cannot overwrite.
    late = _call(client, "PATCH", path, token, change, **{"If-Match": tag})
    assert late.status_code == 412


def test_update_without_if_match_still_works(cast, client):
    path, member, change = _resources(cast)[0]
    assert _call(client, "PATCH", path, token_for(member), change).status_code == 200


def test_if_none_match_with_current_tag_is_304(cast, client):
    path, member, _change = _resources(cast)[0]
    token = token_for(member)
    tag = _call(client, "GET", path, token)["ETag"]
    response = _call(client, "GET", path, token, **{"If-None-Match": tag})
    assert response.status_code == 304
    assert response["ETag"] == tag


def test_if_match_star_needs_the_resource_to_exist(cast, client):
    path, member, change = _resources(cast)[0]
    token = token_for(member)
    assert _call(client, "PATCH", path, token, change, **{"If-Match": "*"}).status_code == 200
    missing = path.rsplit("/", 2)[0] + "/999999/"
    assert _call(client, "PATCH", missing, token, change, **{"If-Match": "*"}).status_code == 404


def test_schema_documents_if_match_and_412(cast):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/institutions/{institution_slug}/posts/{id}/"]["patch"]
    assert "If-Match" in {parameter["name"] for parameter in operation["parameters"]}
    assert "412" in operation["responses"]
    assert "Rate limits" in schema["info"]["description"]


# Throttling ----------------------------------------------------------------------------------


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(
        TokenRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "3/minute"}
    )
    cache.clear()


def test_each_token_has_its_own_budget_with_headers_and_429(cast, client, three_a_minute):
    path = f"/api/v1/institutions/{cast.a.institution.slug}/members/"
    token = token_for(cast.a.author)
    remaining = []
    for _request in range(3):
        response = _call(client, "GET", path, token)
        assert response.status_code == 200
        assert response["RateLimit-Limit"] == "3"
        remaining.append(response["RateLimit-Remaining"])
        assert 0 < int(response["RateLimit-Reset"]) <= 60
    assert remaining == ["2", "1", "0"]
    refused = _call(client, "GET", path, token)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Remaining"] == "0"
    other = _call(client, "GET", path, token_for(cast.a.author))
    assert other.status_code == 200 and other["RateLimit-Remaining"] == "2"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("index", "field"), [(0, "body"), (3, "description")], ids=["post", "institution"]
)
def test_two_updates_with_the_same_etag_at_once_let_exactly_one_through(index, field):
    import threading

    from django.db import connections
    from django.test import Client

    from tests.conftest import Cast

    cast = Cast.create()
    path, member, _change = _resources(cast)[index]
    token = token_for(member)
    tag = _call(Client(), "GET", path, token)["ETag"]
    statuses, barrier = [], threading.Barrier(2)

    def update(text: str) -> None:
        try:
            barrier.wait()
            response = _call(Client(), "PATCH", path, token, {field: text}, **{"If-Match": tag})
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=update, args=(text,)) for text in ("Changed once", "Changed twice")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
