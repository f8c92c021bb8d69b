"""The posts API as the OpenAPI schema describes it: every endpoint, with its body and answers."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

PREFIX = "/api/v1/institutions/{institution_slug}"

OPERATIONS = [
    ("/posts/", "get", "posts", None, "200"),
    ("/posts/", "post", "posts", "application/json", "201"),
    ("/posts/{id}/", "get", "posts", None, "200"),
    ("/posts/{id}/", "patch", "posts", "application/json", "200"),
    ("/posts/{id}/", "delete", "posts", None, "204"),
    ("/posts/{id}/submit/", "post", "posts", None, "200"),
    ("/posts/{id}/withdraw/", "post", "posts", None, "200"),
    ("/posts/{id}/discard-correction/", "post", "posts", None, "200"),
    ("/posts/{id}/retract/", "post", "posts", "application/json", "200"),
    ("/media/", "post", "media", "multipart/form-data", "201"),
    ("/media/{id}/", "get", "media", None, "200"),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get(
            "/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
        )
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(("path", "method", "tag", "request_type", "success"), OPERATIONS)
def test_every_posts_endpoint_is_in_the_schema_with_its_body_and_answers(
    schema, path, method, tag, request_type, success
):
    operation = schema["paths"][PREFIX + path][method]
    assert operation["tags"] == [tag]
    assert operation["summary"]
    if request_type is None:
        assert "requestBody" not in operation
    else:
        assert list(operation["requestBody"]["content"]) == [request_type]
    assert success in operation["responses"]
    for status in ("401", "403", "404"):
        assert operation["responses"][status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }


def test_the_list_documents_its_filters_and_cursor(schema):
    parameters = {p["name"]: p for p in schema["paths"][PREFIX + "/posts/"]["get"]["parameters"]}
    assert {
        "state", "author", "mine", "cursor", "page_size", "created_after", "created_before",
        "updated_after", "updated_before", "published_after", "published_before",
    } <= set(parameters)  # fmt: skip
    assert parameters["state"]["schema"]["items"]["enum"] == [
        "draft", "submitted", "changes_requested", "rejected", "approved", "published",
        "retracted",
    ]  # fmt: skip


def test_the_post_shapes_name_their_fields(schema):
    components = schema["components"]["schemas"]
    assert {"revisions", "latest_revision", "public_url", "retraction_reason"} <= set(
        components["PostDetail"]["properties"]
    )
    assert {"media_id", "alt_text", "url", "small_url"} <= set(
        components["Attachment"]["properties"]
    )
    assert set(components["Media"]["properties"]) >= {"id", "url", "small_url", "width"}
    edit = components["PatchedPostInputRequest"]
    assert "required" not in edit  # PATCH merges: every field is optional
    assert components["MediaUploadRequest"]["properties"]["file"]["format"] == "binary"
