"""The schema says what the server enforces (issue 11, item 10): required fields, non-empty
lists and texts, unknown fields rejected, list and page-size bounds, the 400s and 413s."""

from __future__ import annotations

import pytest

API = "/api/v1/institutions/{institution_slug}"


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/v1/schema/?format=json").json()


def _request_body(schema: dict, path: str, method: str) -> dict:
    content = schema["paths"][path][method]["requestBody"]["content"]
    reference = content.get("application/json", next(iter(content.values())))["schema"]["$ref"]
    return schema["components"]["schemas"][reference.rsplit("/", 1)[1]]


def test_a_member_s_role_is_required_when_changing_it(schema):
    body = _request_body(schema, f"{API}/members/{{id}}/", "patch")
    assert body["required"] == ["role"]


def test_a_retraction_requires_a_reason(schema):
    body = _request_body(schema, f"{API}/posts/{{id}}/retract/", "post")
    assert "reason" in body["required"]
    assert body["properties"]["reason"]["minLength"] == 1


def test_scopes_and_post_bodies_may_not_be_empty_and_lists_are_bounded(schema):
    token = _request_body(schema, f"{API}/tokens/", "post")["properties"]["scopes"]
    assert token["minItems"] == 1 and token["maxItems"] == 4
    post = _request_body(schema, f"{API}/posts/", "post")["properties"]
    assert post["body"]["minLength"] == 1 and post["body"]["maxLength"] == 5000
    assert post["attachments"]["maxItems"] == 4


def test_every_request_body_rejects_unknown_fields(schema):
    open_bodies = [
        name
        for name, component in schema["components"]["schemas"].items()
        if name.endswith("Request")
        and component.get("type") == "object"
        and component.get("additionalProperties") is not False
    ]
    assert open_bodies == []


@pytest.mark.parametrize("tail", ["posts/", "members/", "tokens/", "invitations/"])
def test_lists_document_page_size_bounds_and_the_400_for_bad_cursors(schema, tail):
    operation = schema["paths"][f"{API}/{tail}"]["get"]
    page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert "cursor" in operation["responses"]["400"]["description"]


def test_writes_document_400_for_bad_times_and_413_for_large_bodies(schema):
    operation = schema["paths"][f"{API}/posts/"]["post"]
    assert "1970 to 2999" in operation["responses"]["400"]["description"]
    assert "413" in operation["responses"]


def test_no_operation_inherits_a_mixin_s_docstring_as_its_description(schema):
    described = [
        name
        for name, component in schema["components"]["schemas"].items()
        if "Mixin for input" in component.get("description", "")
    ]
    assert described == []
