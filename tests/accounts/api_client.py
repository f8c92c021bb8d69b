"""Calling the API in tests: as a member (session), with a bearer token, or anonymously."""

from __future__ import annotations

import json

from django.test import Client

from accounts import services
from accounts.models import Institution, Membership
from accounts.tenancy import tenant_context

API = "/api/v1"
ALL_SCOPES = ("read", "write", "review", "admin")


def institution_url(institution: Institution, tail: str = "") -> str:
    return f"{API}/institutions/{institution.slug}/{tail}"


def token_for(membership: Membership, scopes=ALL_SCOPES, **options) -> str:
    """A new token's secret for a member (the scopes their role allows out of ``scopes``)."""
    allowed = services.ROLE_SCOPES[membership.role]
    _token, secret = services.create_token(
        membership, name="test", scopes=[s for s in scopes if s in allowed], **options
    )
    return secret


def call(
    client: Client,
    method: str,
    path: str,
    body=None,
    *,
    member: Membership | None = None,
    token: str | None = None,
    authorization: str | None = None,
    content_type: str = "application/json",
    raw: bytes | str | None = None,
):
    """One request. ``body`` is sent as JSON, ``raw`` as it is with ``content_type``."""
    client.logout()
    if member is not None:
        client.force_login(member.user)
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if authorization is not None:
        headers["Authorization"] = authorization
    if raw is not None:
        data = raw
    elif body is not None:
        data = json.dumps(body)
    else:
        data = ""
    return client.generic(
        method.upper(), path, data=data, content_type=content_type, headers=headers
    )


PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code", "fields", "error"}


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is an error in the API's one shape (problem details, RFC 9457, with the
    deprecated v1 ``error`` member); returns its ``error`` object."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) == PROBLEM_MEMBERS
    assert body["status"] == status
    assert body["type"].endswith(f"/api/v1/problems/{body['code']}")
    assert body["title"] and body["detail"]
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"] == {
        "code": body["code"], "message": body["detail"], "fields": body["fields"]
    }  # fmt: skip
    if code is not None:
        assert body["code"] == code, body
    return body["error"]


def in_tenant(institution: Institution):
    """Shortcut for reading an institution's rows in a test."""
    return tenant_context(institution.id)
