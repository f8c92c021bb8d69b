"""Webhooks through the API: register (secret once), change, rotate, events with attempts,
send again; administrators only."""

from __future__ import annotations

import json

import pytest

from accounts import services as accounts_services
from accounts import webhooks
from tests.accounts.api_client import token_for


def _call(client, method: str, path: str, token: str, body=None):
    data = "" if body is None else json.dumps(body)
    return client.generic(
        method, path, data=data, content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip


def _base(side) -> str:
    return f"/api/v1/institutions/{side.institution.slug}/webhooks/"


def test_admin_registers_rotates_and_resends_through_the_api(cast, client, allow_private, receiver):
    token = token_for(cast.a.admin)
    created = _call(client, "POST", _base(cast.a) + "endpoints/", token,
                    {"url": receiver.url, "event_types": ["member.retired"]})  # fmt: skip
    assert created.status_code == 201, created.content
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    listed = _call(client, "GET", _base(cast.a) + "endpoints/", token).json()
    assert "secret" not in listed["results"][0]
    rotated = _call(client, "POST", _base(cast.a) + f"endpoints/{endpoint['id']}/rotate-secret",
                    token, {"overlap_hours": 2})  # fmt: skip
    assert rotated.status_code == 200 and rotated.json()["secret"] != endpoint["secret"]
    accounts_services.retire_member(cast.a.author2)
    events = _call(client, "GET", _base(cast.a) + "events/", token).json()["results"]
    assert [event["event_type"] for event in events] == ["member.retired"]
    webhooks.deliver(events[0]["id"], cast.a.institution.id)
    detail = _call(client, "GET", _base(cast.a) + f"events/{events[0]['id']}/", token).json()
    assert detail["state"] == "delivered"
    assert [attempt["status_code"] for attempt in detail["attempt_list"]] == [200]
    again = _call(client, "POST", _base(cast.a) + f"events/{events[0]['id']}/send-again", token)
    assert again.status_code == 200 and again.json()["state"] == "pending"


def test_an_unsafe_address_is_a_400_on_the_url_field(cast, client):
    response = _call(client, "POST", _base(cast.a) + "endpoints/", token_for(cast.a.admin),
                     {"url": "http://10.0.0.1/in", "event_types": ["post.published"]})  # fmt: skip
    assert response.status_code == 400
    assert "url" in json.dumps(response.json())


@pytest.mark.parametrize("role", ["author", "reviewer"])
def test_only_administrators_use_the_webhooks_api(cast, client, role):
    token = token_for(getattr(cast.a, role))
    assert _call(client, "GET", _base(cast.a) + "endpoints/", token).status_code == 403
