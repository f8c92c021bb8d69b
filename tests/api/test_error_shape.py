"""Every error under /api/ is JSON in the one shape, whatever answers it: URL resolution, DRF,
Django's request-size guards, the throttle, or an unexpected exception."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from accounts.api import errors
from accounts.api.errors import error_body
from accounts.api.parsers import MAX_JSON_BYTES, MAX_MULTIPART_BYTES
from tests.accounts.api_client import assert_error, call, institution_url, token_for

pytestmark = pytest.mark.django_db


def test_an_unknown_api_address_is_a_json_404(client):
    assert_error(client.get("/api/v1/nothing/here"), 404, "not_found")


def test_an_unknown_institution_is_a_json_404(client, cast):
    secret = token_for(cast.a.admin)
    response = call(client, "get", "/api/v1/institutions/no-such/members/", token=secret)
    assert_error(response, 404, "not_found")


def test_a_method_the_endpoint_lacks_is_a_json_405(client, cast):
    secret = token_for(cast.a.admin)
    response = call(
        client, "put", institution_url(cast.a.institution, "institution"), {}, token=secret
    )
    assert_error(response, 405, "method_not_allowed")


def test_an_unsupported_content_type_is_a_json_415(client, cast):
    secret = token_for(cast.a.admin)
    response = call(
        client, "patch", institution_url(cast.a.institution, "institution"), token=secret,
        raw="<name/>", content_type="application/xml",
    )  # fmt: skip
    assert_error(response, 415, "unsupported_media_type")


def test_a_json_body_over_the_limit_is_a_json_413(client, cast):
    secret = token_for(cast.a.admin)
    raw = json.dumps({"name": "x" * MAX_JSON_BYTES})
    response = call(
        client, "patch", institution_url(cast.a.institution, "institution"), token=secret, raw=raw
    )
    assert_error(response, 413, "too_large")


def test_a_json_body_just_under_the_limit_is_read(client, cast):
    secret = token_for(cast.a.admin)
    raw = json.dumps({"name": "x" * (MAX_JSON_BYTES - 100)})
    response = call(
        client, "patch", institution_url(cast.a.institution, "institution"), token=secret, raw=raw
    )
    assert "name" in assert_error(response, 400, "invalid")["fields"]  # too long a name


def test_a_multipart_body_over_the_limit_is_a_json_413_and_is_not_read(client, cast):
    secret = token_for(cast.a.author)
    boundary = "b"
    raw = f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=a.png\r\n\r\n"
    response = client.generic(
        "POST",
        institution_url(cast.a.institution, "media/"),
        data=raw.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {secret}"},
        CONTENT_LENGTH=str(MAX_MULTIPART_BYTES + 1),
    )
    assert_error(response, 413, "too_large")


def test_too_many_form_fields_is_a_json_413(client, cast):
    secret = token_for(cast.a.admin)
    boundary = "b"
    parts = "".join(
        f"--{boundary}\r\nContent-Disposition: form-data; name=f{index}\r\n\r\nx\r\n"
        for index in range(1100)
    )
    response = client.generic(
        "PATCH",
        institution_url(cast.a.institution, "profile"),
        data=(parts + f"--{boundary}--\r\n").encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert_error(response, 413, "too_many_fields")


def test_too_many_query_parameters_is_a_json_413(client, cast):
    secret = token_for(cast.a.admin)
    query = "&".join(f"p{index}=1" for index in range(1100))
    response = call(
        client, "get", institution_url(cast.a.institution, f"members/?{query}"), token=secret
    )
    assert_error(response, 413, "too_many_fields")


def test_the_throttle_answers_a_json_429(client, cast, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1/hour", "anon": "1/hour"})
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"user": "1/hour", "anon": "1/hour"})
    secret = token_for(cast.a.admin)
    url = institution_url(cast.a.institution, "members/")
    assert call(client, "get", url, token=secret).status_code == 200
    assert_error(call(client, "get", url, token=secret), 429, "throttled")


def test_an_unexpected_exception_is_a_json_500_that_tells_nothing(cast, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("accounts.api.views.MemberViewSet.list", explode)
    client = Client(raise_request_exception=False)
    secret = token_for(cast.a.admin)
    response = call(client, "get", institution_url(cast.a.institution, "members/"), token=secret)
    error = assert_error(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert error["fields"] == {}


def test_outside_the_api_django_keeps_its_own_pages(client):
    response = client.get("/no-such-page-anywhere/at/all")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_the_error_body_is_bounded_and_always_encodable():
    fields = {f"field{index}\ud800": ["x" * 10_000, "\x00\ud800"] * 10 for index in range(500)}
    body = error_body("invalid", "\udfff" * 10_000, fields, status=400)
    text = json.dumps(body, ensure_ascii=False).encode("utf-8")
    assert len(text) < 200_000
    assert len(body["fields"]) == errors.MAX_ERROR_FIELDS
    assert all(
        len(messages) <= errors.MAX_MESSAGES_PER_FIELD for messages in body["fields"].values()
    )
    assert body["error"]["fields"] == body["fields"]


def test_errors_are_written_by_one_function_only():
    """The error body's shape is spelt out in exactly one module of the code base."""
    root = Path(__file__).resolve().parents[2]
    shape = re.compile(r"""["']error["']\s*:\s*\{""")
    writers = [
        str(path.relative_to(root))
        for folder in ("accounts", "feeds", "podium", "crossposting", "moderation")
        for path in (root / folder).rglob("*.py")
        if shape.search(path.read_text()) and "fields" in path.read_text()
    ]
    assert writers == ["accounts/api/errors.py"]


@pytest.mark.parametrize("method", ["trace", "put", "patch"])
def test_a_stranger_gets_404_whatever_the_method(client, cast, method):
    """Deny by default: a non-member learns nothing, not even which methods a route takes."""
    secret = token_for(cast.b.admin)
    url = institution_url(cast.a.institution, "media/")
    assert_error(call(client, method, url, token=secret), 404, "not_found")
