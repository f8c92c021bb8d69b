"""Bad requests get a 4xx in the one error shape, never a 500: content types, broken JSON,
unknown fields, CSRF."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Institution
from tests.accounts.api_client import assert_error, call, institution_url, token_for

pytestmark = pytest.mark.django_db

# (path tail, method, a valid body) of the endpoints that take a body
WRITES = [
    ("institution", "patch", {"name": "Renamed"}),
    ("profile", "patch", {"job_title": "Head of maths"}),
    ("invitations/", "post", {"email": "x@example.org"}),
    ("tokens/", "post", {"name": "x", "scopes": ["read"]}),
]


@pytest.mark.parametrize(("tail", "method", "_body"), WRITES)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "image/png"],
)
def test_an_unsupported_content_type_is_415_naming_it(
    client, cast, tail, method, _body, content_type
):
    response = call(
        client, method, institution_url(cast.a.institution, tail), member=cast.a.admin,
        raw="name=Renamed", content_type=content_type,
    )  # fmt: skip
    error = assert_error(response, 415, "unsupported_media_type")
    assert content_type in error["message"]


def test_multipart_is_refused_where_only_json_is_taken(client, cast):
    response = call(
        client, "patch", institution_url(cast.a.institution, "institution"), member=cast.a.admin,
        raw="--x\r\n", content_type="multipart/form-data; boundary=x",
    )  # fmt: skip
    assert_error(response, 415)


@pytest.mark.parametrize(("tail", "method", "_body"), WRITES)
@pytest.mark.parametrize(
    "raw", ['{"name": ', "{'name': 'x'}", "nul", '{"name": "x"} trailing', b"\xff\xfe{}"]
)
def test_malformed_json_is_400(client, cast, tail, method, _body, raw):
    response = call(
        client, method, institution_url(cast.a.institution, tail), member=cast.a.admin, raw=raw
    )
    assert_error(response, 400, "parse_error")
    assert Institution.objects.get(id=cast.a.institution.id).name == cast.a.institution.name


@pytest.mark.parametrize(("tail", "method", "_body"), WRITES)
@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_400(client, cast, tail, method, _body, raw):
    response = call(
        client, method, institution_url(cast.a.institution, tail), member=cast.a.admin, raw=raw
    )
    assert_error(response, 400)


@pytest.mark.parametrize(("tail", "method", "body"), WRITES)
def test_unknown_fields_are_rejected_everywhere(client, cast, tail, method, body):
    response = call(
        client, method, institution_url(cast.a.institution, tail), {**body, "surprise": 1},
        member=cast.a.admin,
    )  # fmt: skip
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"surprise": [error["message"]]}


@pytest.mark.parametrize(("tail", "method", "body"), WRITES)
def test_json_with_a_charset_is_accepted(client, cast, tail, method, body):
    response = call(
        client, method, institution_url(cast.a.institution, tail), body, member=cast.a.admin,
        content_type="application/json; charset=utf-8",
    )  # fmt: skip
    assert response.status_code in (200, 201), response.content


def test_a_session_write_without_the_csrf_token_is_403(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.a.admin.user)
    response = client.patch(
        institution_url(cast.a.institution, "institution"),
        data='{"name": "Renamed"}',
        content_type="application/json",
    )
    assert "CSRF" in assert_error(response, 403)["message"]
    assert Institution.objects.get(id=cast.a.institution.id).name == cast.a.institution.name


def test_a_token_write_needs_no_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    secret = token_for(cast.a.admin, ["read", "admin"])
    response = call(
        client, "patch", institution_url(cast.a.institution, "institution"), {"name": "Renamed"},
        token=secret,
    )  # fmt: skip
    assert response.status_code == 200


def test_a_non_member_learns_nothing_from_a_malformed_body(client, cast):
    """Membership is checked before the body is read: a stranger gets 404, not 400 or 415."""
    response = call(
        client, "patch", institution_url(cast.a.institution, "institution"), member=cast.b.admin,
        raw="{broken", content_type="text/plain",
    )  # fmt: skip
    assert_error(response, 404)


@pytest.mark.parametrize(
    ("method", "path", "hint"),
    [
        ("GET", "/api/v1/no-such-endpoint", "/api/v1/docs/"),
        ("POST", "/api/v1/me/", "/api/v1/me"),
        ("POST", "/api/v1/institutions/a-northside/members", "/members/"),
    ],
)
def test_unknown_api_addresses_answer_json_404_with_a_hint(cast, client, method, path, hint):
    response = client.generic(method, path, data="{}", content_type="application/json")
    assert response.status_code == 404
    error = assert_error(response, 404)
    assert error["code"] == "not_found" and hint in error["message"]
