"""Bad input classes of issue 11 answered with 400 (never 500) at every API entry point: list
bounds, tampered cursors and page sizes, deep JSON, text that cannot be echoed, times out of
range, incomplete list items in partial updates; and private caching of every API response."""

from __future__ import annotations

import base64
import json

import pytest
from rest_framework import serializers

import accounts.api.serializers
import feeds.api
from accounts.api.parsers import MAX_JSON_DEPTH
from accounts.api.validation import RejectUnknownFields
from tests.accounts.api_client import assert_error, call, institution_url, token_for
from tests.feeds.api_support import image_bytes, write

pytestmark = pytest.mark.django_db

# (method, address under the institution, a body that is valid in shape)
JSON_WRITES = [
    ("patch", "institution", {"name": "Renamed"}),
    ("patch", "profile", {"job_title": "Head of maths"}),
    ("post", "invitations/", {"email": "x@example.org"}),
    ("post", "tokens/", {"name": "x", "scopes": ["read"]}),
    ("post", "posts/", {"body": "Hello", "language": "en"}),
]
LISTS = ["posts/", "members/", "tokens/", "invitations/"]


def _request(client, cast, method, tail, body=None, raw=None):
    secret = token_for(cast.a.admin)
    return call(
        client, method, institution_url(cast.a.institution, tail), body, token=secret, raw=raw
    )


def _input_serializers() -> list[type[serializers.Serializer]]:
    assert accounts.api.serializers and feeds.api  # every input serializer is defined by now
    found, todo = [], [RejectUnknownFields]
    while todo:
        for subclass in todo.pop().__subclasses__():
            found.append(subclass)
            todo.append(subclass)
    return [cls for cls in found if issubclass(cls, serializers.Serializer)]


# One list bound -----------------------------------------------------------------------------


def test_every_list_an_input_serializer_takes_has_a_maximum_length():
    unbounded = []
    for serializer_class in _input_serializers():
        for name, field in serializer_class().fields.items():
            is_list = isinstance(field, serializers.ListSerializer | serializers.ListField)
            if is_list and not field.read_only and field.max_length is None:
                unbounded.append(f"{serializer_class.__name__}.{name}")
    assert unbounded == []


@pytest.mark.parametrize(
    ("method", "tail", "body", "field"),
    [
        ("post", "posts/", {"body": "x", "language": "en", "attachments": [{}] * 5}, "attachments"),
        ("post", "tokens/", {"name": "x", "scopes": ["read"] * 5}, "scopes"),
        ("patch", "profile", {"links": [{"url": "https://a.example"}] * 6}, "links"),
    ],
)
def test_a_list_longer_than_its_limit_is_refused_before_its_items_are_read(
    client, cast, method, tail, body, field
):
    error = assert_error(_request(client, cast, method, tail, body), 400, "invalid")
    assert list(error["fields"]) == [field]


def test_a_list_sent_as_multipart_is_bounded_too(client, cast):
    secret = token_for(cast.a.author)
    form = {f"links[{index}]url": "https://a.example" for index in range(8)}
    response = client.patch(
        institution_url(cast.a.institution, "profile"),
        data=_multipart(form),
        content_type="multipart/form-data; boundary=b",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert "links" in assert_error(response, 400, "invalid")["fields"]


def _multipart(form: dict[str, str]) -> bytes:
    parts = "".join(
        f"--b\r\nContent-Disposition: form-data; name={name}\r\n\r\n{value}\r\n"
        for name, value in form.items()
    )
    return (parts + "--b--\r\n").encode()


def test_an_error_with_thousands_of_fields_stays_small(client, cast):
    body = {f"unknown{index}": 1 for index in range(5000)}
    response = _request(client, cast, "patch", "institution", body)
    error = assert_error(response, 400, "invalid")
    assert len(error["fields"]) <= 50 and len(response.content) < 20_000


# Tampered cursors and page sizes ------------------------------------------------------------


def _cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize("tail", LISTS)
@pytest.mark.parametrize("position", ["abc", "1e5", "1.5", "-1", "²", "0x10", " 7"])
def test_a_tampered_cursor_is_a_400_naming_the_cursor(client, cast, tail, position):
    response = _request(client, cast, "get", f"{tail}?cursor={_cursor(f'p={position}')}")
    error = assert_error(response, 400, "invalid")
    assert "cursor" in error["fields"]


@pytest.mark.parametrize("tail", LISTS)
@pytest.mark.parametrize("cursor", ["%%%", "bm90IGEgY3Vyc29y", _cursor("o=-1"), _cursor("r=x")])
def test_a_cursor_that_does_not_decode_is_a_400(client, cast, tail, cursor):
    assert_error(_request(client, cast, "get", f"{tail}?cursor={cursor}"), 400, "invalid")


@pytest.mark.parametrize("tail", LISTS)
@pytest.mark.parametrize("size", ["null", "0", "201", "-1", "abc", "²", "1.5", ""])
def test_a_page_size_that_is_not_1_to_200_is_a_400(client, cast, tail, size):
    error = assert_error(_request(client, cast, "get", f"{tail}?page_size={size}"), 400)
    assert "page_size" in error["fields"]


def test_a_cursor_given_by_the_server_still_works(client, cast):
    for _ in range(3):
        write(cast.a.author)
    first = _request(client, cast, "get", "posts/?page_size=2").json()
    tail = first["next"].split(f"/{cast.a.institution.slug}/", 1)[1]
    second = _request(client, cast, "get", tail).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1


# Deep JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "tail", "_body"), JSON_WRITES)
@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_json_nested_too_deep_is_a_400_on_every_json_endpoint(
    client, cast, method, tail, _body, levels
):
    raw = '{"name": ' + "[" * levels + "]" * levels + "}"
    error = assert_error(_request(client, cast, method, tail, raw=raw), 400, "parse_error")
    assert "nests deeper" in error["message"] or "objects and arrays" in error["message"]


def test_json_nested_up_to_the_limit_is_parsed(client, cast):
    levels = MAX_JSON_DEPTH - 1
    raw = '{"name": ' + "[" * levels + "]" * levels + "}"
    error = assert_error(_request(client, cast, "patch", "institution", raw=raw), 400, "invalid")
    assert "name" in error["fields"]


def test_brackets_inside_strings_do_not_count_as_nesting(client, cast):
    body = {"body": "[" * 3000 + "{" * 1000, "language": "en"}
    assert _request(client, cast, "post", "posts/", body).status_code == 201


# Text that cannot be echoed -----------------------------------------------------------------

UNECHOABLE = [
    ("post", "posts/", '{"body": "x", "language": "\\ud800"}', "language"),
    ("post", "posts/", '{"body": "x", "language": "en", "body_format": "\\udfff\\u0000"}', None),
    ("patch", "institution", '{"locale": "\\ud800"}', "locale"),
    ("patch", "institution", '{"kind": "\\ud800\\u001b[31m"}', "kind"),
    ("patch", "institution", '{"timezone": "Europe/\\ud800"}', "timezone"),
    ("patch", "institution", '{"\\ud800": 1}', None),
    ("post", "tokens/", '{"name": "x", "scopes": ["\\ud800"]}', None),
    ("post", "invitations/", '{"email": "x@example.org", "role": "\\ud800"}', "role"),
    ("get", "posts/?state=%ED%A0%80", None, None),
    ("get", "members/?role=%ED%A0%80", None, None),
]


@pytest.mark.parametrize(("method", "tail", "raw", "field"), UNECHOABLE)
def test_unencodable_text_is_echoed_safely_in_a_400(client, cast, method, tail, raw, field):
    response = _request(client, cast, method, tail, raw=raw)
    error = assert_error(response, 400)
    response.content.decode("utf-8")  # the body is valid UTF-8
    text = json.dumps(error, ensure_ascii=False)
    assert "\ud800" not in text and "\x00" not in text and "\x1b" not in text
    if field is not None:
        assert field in error["fields"]


def test_a_member_role_with_a_lone_surrogate_is_a_400(client, cast):
    secret = token_for(cast.a.admin)
    response = call(
        client, "patch", institution_url(cast.a.institution, f"members/{cast.a.author.id}/"),
        raw='{"role": "\\ud800"}', token=secret,
    )  # fmt: skip
    assert "role" in assert_error(response, 400)["fields"]


# Times out of range -------------------------------------------------------------------------

FAR_TIMES = [
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59-12:00",
]


@pytest.mark.parametrize("when", FAR_TIMES)
def test_a_publish_time_far_out_of_range_is_a_400_on_create_and_edit(client, cast, when):
    created = _request(client, cast, "post", "posts/", {"body": "x", "language": "en"}).json()
    body = {"body": "x", "language": "en", "publish_at": when}
    secret = token_for(cast.a.author)
    for method, tail in (("post", "posts/"), ("patch", f"posts/{created['id']}/")):
        author_post = write(cast.a.author)
        tail = tail if method == "post" else f"posts/{author_post.id}/"
        response = call(
            client, method, institution_url(cast.a.institution, tail), body, token=secret
        )
        assert "publish_at" in assert_error(response, 400)["fields"]


@pytest.mark.parametrize("when", FAR_TIMES)
def test_a_token_expiry_far_out_of_range_is_a_400(client, cast, when):
    body = {"name": "x", "scopes": ["read"], "expires_at": when}
    assert (
        "expires_at" in assert_error(_request(client, cast, "post", "tokens/", body), 400)["fields"]
    )


@pytest.mark.parametrize("when", ["0001-01-01", "9999-12-31", *FAR_TIMES])
@pytest.mark.parametrize("parameter", ["created_after", "updated_before", "published_after"])
def test_a_time_filter_far_out_of_range_is_a_400(client, cast, when, parameter):
    response = _request(client, cast, "get", f"posts/?{parameter}={when.replace('+', '%2B')}")
    assert parameter in assert_error(response, 400)["fields"]


@pytest.mark.parametrize("author", ["²", "①", "١٢", "7\n", "+7", "007"])
def test_an_author_filter_that_is_not_an_ascii_number_is_read_as_a_handle(client, cast, author):
    response = _request(client, cast, "get", f"posts/?author={author}")
    assert response.status_code == 200 and response.json()["results"] == []


# Partial updates with incomplete list items -------------------------------------------------


@pytest.mark.parametrize(
    ("attachments", "field"),
    [([{}], "attachments.0.media_id"), ([{"alt_text": "A dog"}], "attachments.0.media_id")],
)
def test_an_edit_with_an_incomplete_attachment_is_a_400(client, cast, attachments, field):
    post = write(cast.a.author)
    secret = token_for(cast.a.author)
    response = call(
        client, "patch", institution_url(cast.a.institution, f"posts/{post.id}/"),
        {"attachments": attachments}, token=secret,
    )  # fmt: skip
    assert field in assert_error(response, 400, "invalid")["fields"]


def test_an_edit_with_an_attachment_without_alt_text_gets_the_default_and_is_judged(client, cast):
    from feeds.services import upload_media

    media = upload_media(cast.a.author, image_bytes())
    post = write(cast.a.author)
    secret = token_for(cast.a.author)
    response = call(
        client, "patch", institution_url(cast.a.institution, f"posts/{post.id}/"),
        {"attachments": [{"media_id": media.id}]}, token=secret,
    )  # fmt: skip
    assert response.status_code == 400  # the service asks for the alt text
    assert_error(response, 400)


@pytest.mark.parametrize("links", [[{}], [{"label": "Home"}]])
def test_a_profile_edit_with_an_incomplete_link_is_a_400(client, cast, links):
    secret = token_for(cast.a.author)
    response = call(
        client, "patch", institution_url(cast.a.institution, "profile"), {"links": links},
        token=secret,
    )  # fmt: skip
    assert "links.0.url" in assert_error(response, 400, "invalid")["fields"]


def test_a_retraction_without_a_reason_is_a_400(client, cast):
    post = write(cast.a.author)
    response = _request(client, cast, "post", f"posts/{post.id}/retract/", {})
    assert "reason" in assert_error(response, 400, "invalid")["fields"]


@pytest.mark.parametrize(
    ("method", "tail", "body", "field"),
    [
        ("post", "tokens/", {"name": "x", "scopes": []}, "scopes"),
        ("post", "posts/", {"body": "", "language": "en"}, "body"),
    ],
)
def test_empty_scopes_and_bodies_are_refused_by_the_serializer(
    client, cast, method, tail, body, field
):
    assert field in assert_error(_request(client, cast, method, tail, body), 400)["fields"]


# Private caching ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail", ["members/", "posts/", "tokens/", "institution", "profile", "members/0/"]
)
def test_token_authenticated_responses_are_private_and_vary_on_authorization(client, cast, tail):
    response = _request(client, cast, "get", tail)
    assert response["Cache-Control"] == "private, no-store"
    assert "Authorization" in response["Vary"]


def test_the_caller_endpoint_is_private_too(client, cast):
    response = call(client, "get", "/api/v1/me", token=token_for(cast.a.author))
    assert response["Cache-Control"] == "private, no-store"
    assert "Authorization" in response["Vary"]


@pytest.mark.parametrize(
    "query",
    ["members/?status=", "members/?role=%20", "posts/?state=", "posts/?author=", "tokens/?member="],
)
def test_a_filter_sent_empty_is_a_400_not_an_unfiltered_list(client, cast, query):
    name = query.split("?", 1)[1].split("=", 1)[0]
    assert name in assert_error(_request(client, cast, "get", query), 400, "invalid")["fields"]


# One id parser for query strings --------------------------------------------------------------

ID_FILTERS = ["audit/events/?actor_membership_id=", "webhooks/events/?endpoint=", "tokens/?member="]


@pytest.mark.parametrize("tail", ID_FILTERS)
@pytest.mark.parametrize("value", ["0.5", "1e3", "%C2%B2", "-1", "0", "%2B1", "01", "1%0A"])
def test_an_id_filter_that_is_not_a_whole_number_from_1_is_a_400(client, cast, tail, value):
    # Found by schemathesis: ?actor_membership_id=0.5 was read as a decimal, an empty 200.
    response = _request(client, cast, "get", f"{tail}{value}")
    assert response.status_code == 400, response.content
    assert "whole number from 1" in response.content.decode()


@pytest.mark.parametrize("tail", ID_FILTERS)
def test_an_id_filter_with_an_id_still_filters(client, cast, tail):
    response = _request(client, cast, "get", f"{tail}{cast.a.admin.id}")
    assert response.status_code == 200, response.content


def test_no_filter_reads_an_id_as_a_decimal():
    from django_filters import NumberFilter
    from django_filters.filterset import BaseFilterSet

    import accounts.api.audit
    import accounts.api.views
    import accounts.api.webhooks
    import crossposting.api
    import moderation.api

    assert accounts.api.audit and accounts.api.views and accounts.api.webhooks
    assert crossposting.api and moderation.api
    found, todo = [], [BaseFilterSet]
    while todo:
        for subclass in todo.pop().__subclasses__():
            todo.append(subclass)
            found += [
                f"{subclass.__name__}.{name}"
                for name, declared in subclass.declared_filters.items()
                if isinstance(declared, NumberFilter)
            ]
    assert found == []
