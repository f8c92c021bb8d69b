"""Who may do what in the posts API: every role of institution A, an administrator of B, and an
anonymous caller, against every endpoint, on a post of A's author. A refused call changes
nothing."""

from __future__ import annotations

import pytest

from accounts.models import Scope
from feeds import services
from tests.feeds.api_support import (
    client_for,
    image_bytes,
    media_url,
    posts_url,
    published,
    stored,
    submitted,
    upload,
    with_correction,
    write,
)

ROLES = ("author", "author2", "reviewer", "admin", "b_admin", "anonymous")


def member(cast, role: str):
    if role == "anonymous":
        return None
    if role == "b_admin":
        return cast.b.admin
    return getattr(cast.a, role)


# Each action prepares what it needs in institution A and returns (method, url, body, format).
def list_posts(cast):
    write(cast.a.author)
    return "get", posts_url(cast.a.institution), None, None


def retrieve(cast):
    return "get", posts_url(cast.a.institution, write(cast.a.author).id), None, None


def create(cast):
    return "post", posts_url(cast.a.institution), {"body": "New term", "language": "en"}, "json"


def edit(cast):
    post = write(cast.a.author)
    return "patch", posts_url(cast.a.institution, post.id), {"body": "Changed"}, "json"


def delete(cast):
    return "delete", posts_url(cast.a.institution, write(cast.a.author).id), None, None


def submit(cast):
    return "post", posts_url(cast.a.institution, write(cast.a.author).id, "submit"), {}, "json"


def withdraw(cast):
    post = submitted(cast.a.author)
    return "post", posts_url(cast.a.institution, post.id, "withdraw"), {}, "json"


def discard_correction(cast):
    post = with_correction(cast.a.author, cast.a.reviewer)
    return "post", posts_url(cast.a.institution, post.id, "discard-correction"), {}, "json"


def retract(cast):
    post = published(cast.a.author, cast.a.reviewer)
    url = posts_url(cast.a.institution, post.id, "retract")
    return "post", url, {"reason": "Wrong date."}, "json"


def upload_media(cast):
    return "post", media_url(cast.a.institution), upload("pic.png", image_bytes()), "multipart"


def retrieve_media(cast):
    media = services.upload_media(cast.a.author, image_bytes())
    return "get", media_url(cast.a.institution, media.id), None, None


#                        author author2 reviewer admin b_admin anonymous
EXPECTED = {
    list_posts:          (200,   200,    200,     200,  404,    401),
    retrieve:            (200,   404,    200,     200,  404,    401),
    create:              (201,   201,    201,     201,  404,    401),
    edit:                (200,   404,    403,     403,  404,    401),
    delete:              (204,   404,    403,     403,  404,    401),
    submit:              (200,   404,    403,     403,  404,    401),
    withdraw:            (200,   404,    403,     403,  404,    401),
    discard_correction:  (200,   404,    403,     403,  404,    401),
    retract:             (403,   403,    200,     200,  404,    401),
    upload_media:        (201,   201,    201,     201,  404,    401),
    retrieve_media:      (200,   404,    404,     404,  404,    401),
}  # fmt: skip

CASES = [
    pytest.param(action, role, statuses[index], id=f"{action.__name__}-{role}")
    for action, statuses in EXPECTED.items()
    for index, role in enumerate(ROLES)
]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize(("action", "role", "expected"), CASES)
def test_each_role_gets_the_status_the_table_says_and_a_refusal_changes_nothing(
    cast, action, role, expected
):
    method, url, body, fmt = action(cast)
    client = client_for(member(cast, role))
    before = stored(cast.a.institution, cast.b.institution)

    response = (
        getattr(client, method)(url, body, format=fmt)
        if body is not None
        else (getattr(client, method)(url))
    )

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert stored(cast.a.institution, cast.b.institution) == before
        assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_authors_list_only_their_own_posts_and_reviewers_list_everyones(cast):
    own, other = write(cast.a.author), write(cast.a.author2)
    write(cast.b.author)

    def ids(member):
        response = client_for(member).get(posts_url(cast.a.institution))
        assert response.status_code == 200
        return {post["id"] for post in response.json()["results"]}

    assert ids(cast.a.author) == {own.id}
    assert ids(cast.a.reviewer) == {own.id, other.id}
    assert ids(cast.a.admin) == {own.id, other.id}


def test_a_read_token_reads_but_cannot_write(cast):
    own = write(cast.a.author)
    write(cast.a.author2)
    author = client_for(cast.a.author, scopes=[Scope.READ])
    reviewer = client_for(cast.a.reviewer, scopes=[Scope.READ])
    before = stored(cast.a.institution)

    listed = author.get(posts_url(cast.a.institution)).json()["results"]
    refused = author.post(
        posts_url(cast.a.institution), {"body": "Hi", "language": "en"}, format="json"
    )

    assert [post["id"] for post in listed] == [own.id]
    assert len(reviewer.get(posts_url(cast.a.institution)).json()["results"]) == 2
    assert refused.status_code == 403
    assert "write_posts" in refused.json()["error"]["message"]
    assert stored(cast.a.institution) == before


def test_a_token_without_the_read_scope_cannot_list(cast):
    client = client_for(cast.a.reviewer, scopes=[Scope.REVIEW])
    assert client.get(posts_url(cast.a.institution)).status_code == 403


def test_a_review_token_retracts_a_post_it_cannot_list(cast):
    post = published(cast.a.author, cast.a.reviewer)
    client = client_for(cast.a.reviewer, scopes=[Scope.REVIEW])
    response = client.post(
        posts_url(cast.a.institution, post.id, "retract"), {"reason": "Wrong date."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["state"] == "retracted"


def test_a_token_of_institution_b_finds_nothing_of_a_even_with_a_posts_ids(cast):
    post = write(cast.a.author)
    client = client_for(cast.b.author)
    before = stored(cast.a.institution, cast.b.institution)

    responses = [
        client.get(posts_url(cast.a.institution, post.id)),
        client.get(posts_url(cast.b.institution, post.id)),
        client.post(posts_url(cast.b.institution, post.id, "submit"), {}, format="json"),
        client.patch(posts_url(cast.b.institution, post.id), {"body": "x"}, format="json"),
        client.delete(posts_url(cast.b.institution, post.id)),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert all("Sports day" not in r.content.decode() for r in responses)
    assert all(cast.a.institution.slug not in r.content.decode() for r in responses)
    assert stored(cast.a.institution, cast.b.institution) == before


def test_a_signed_in_member_uses_the_api_with_the_session(cast, client):
    post = write(cast.a.author)
    client.force_login(cast.a.author.user)
    assert client.get(posts_url(cast.a.institution, post.id)).status_code == 200
    client.force_login(cast.b.admin.user)
    assert client.get(posts_url(cast.a.institution, post.id)).status_code == 404


def test_an_unknown_institution_is_not_found(cast):
    client = client_for(cast.a.author)
    response = client.get("/api/v1/institutions/no-such-place/posts/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
