"""Who may call which accounts endpoint: roles of A, an admin of B and anonymous x actions.

A denied call (401, 403, 404) changes nothing, and a 404 for B's admin carries no trace of A.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken, AuditEvent, Invitation, Membership
from tests.accounts.api_client import API, call, in_tenant, institution_url

pytestmark = pytest.mark.django_db

CALLERS = ("author", "reviewer", "admin", "admin_of_b", "anonymous")


@pytest.fixture
def world(cast):
    """The cast plus an invitation and a token of author2 in A, to act on."""
    invitation, _secret = services.invite_member(
        cast.a.institution, email="new@example.org", role="author", invited_by=cast.a.admin
    )
    token, _secret = services.create_token(cast.a.author2, name="ci", scopes=["read"])
    # A website to check (institution/website-check); the check would run after the commit
    # that a test's transaction never reaches.
    type(cast.a.institution).objects.filter(id=cast.a.institution.id).update(
        website="https://northside.example/"
    )
    cast.invitation = invitation
    cast.token = token
    return cast


def _caller(world, name: str) -> Membership | None:
    return {
        "author": world.a.author,
        "reviewer": world.a.reviewer,
        "admin": world.a.admin,
        "admin_of_b": world.b.admin,
        "anonymous": None,
    }[name]


# Each request: (method, path, body) built from the world; the caller decides the rest.
REQUESTS = {
    "me GET": lambda w: ("get", f"{API}/me", None),
    "institution GET": lambda w: ("get", institution_url(w.a.institution, "institution"), None),
    "institution PATCH": lambda w: (
        "patch",
        institution_url(w.a.institution, "institution"),
        {"name": "Renamed"},
    ),
    "website check GET": lambda w: (
        "get",
        institution_url(w.a.institution, "institution/website-check"),
        None,
    ),
    "website check": lambda w: (
        "post",
        institution_url(w.a.institution, "institution/website-check"),
        None,
    ),
    "settings GET": lambda w: ("get", institution_url(w.a.institution, "me/settings"), None),
    "settings PATCH": lambda w: (
        "patch",
        institution_url(w.a.institution, "me/settings"),
        {"name": "Renamed person", "language": "de"},
    ),
    "members GET": lambda w: ("get", institution_url(w.a.institution, "members/"), None),
    "member GET": lambda w: (
        "get",
        institution_url(w.a.institution, f"members/{w.a.author2.id}/"),
        None,
    ),
    "member PATCH": lambda w: (
        "patch",
        institution_url(w.a.institution, f"members/{w.a.author2.id}/"),
        {"role": "reviewer"},
    ),
    "member retire": lambda w: (
        "post",
        institution_url(w.a.institution, f"members/{w.a.author2.id}/retire"),
        None,
    ),
    "profile GET": lambda w: ("get", institution_url(w.a.institution, "profile"), None),
    "profile PATCH": lambda w: (
        "patch",
        institution_url(w.a.institution, "profile"),
        {"job_title": "Head of maths"},
    ),
    "invitations GET": lambda w: ("get", institution_url(w.a.institution, "invitations/"), None),
    "invitations POST": lambda w: (
        "post",
        institution_url(w.a.institution, "invitations/"),
        {"email": "another@example.org", "role": "author"},
    ),
    "invitation GET": lambda w: (
        "get",
        institution_url(w.a.institution, f"invitations/{w.invitation.id}/"),
        None,
    ),
    "invitation DELETE": lambda w: (
        "delete",
        institution_url(w.a.institution, f"invitations/{w.invitation.id}/"),
        None,
    ),
    "tokens GET": lambda w: ("get", institution_url(w.a.institution, "tokens/"), None),
    "tokens POST": lambda w: (
        "post",
        institution_url(w.a.institution, "tokens/"),
        {"name": "script", "scopes": ["read"]},
    ),
    # author2's token: only an administrator sees (and revokes) another member's token.
    "other's token GET": lambda w: (
        "get",
        institution_url(w.a.institution, f"tokens/{w.token.id}/"),
        None,
    ),
    "other's token DELETE": lambda w: (
        "delete",
        institution_url(w.a.institution, f"tokens/{w.token.id}/"),
        None,
    ),
}

# request:                author reviewer admin admin_of_b anonymous
EXPECTED = {
    "me GET":                (200, 200, 200, 200, 401),
    "institution GET":       (200, 200, 200, 404, 401),
    "institution PATCH":     (403, 403, 200, 404, 401),
    "website check GET":     (403, 403, 200, 404, 401),
    "website check":         (403, 403, 202, 404, 401),
    "settings GET":          (200, 200, 200, 404, 401),
    "settings PATCH":        (200, 200, 200, 404, 401),
    "members GET":           (200, 200, 200, 404, 401),
    "member GET":            (200, 200, 200, 404, 401),
    "member PATCH":          (403, 403, 200, 404, 401),
    "member retire":         (403, 403, 200, 404, 401),
    "profile GET":           (200, 200, 200, 404, 401),
    "profile PATCH":         (200, 200, 200, 404, 401),
    "invitations GET":       (403, 403, 200, 404, 401),
    "invitations POST":      (403, 403, 201, 404, 401),
    "invitation GET":        (403, 403, 200, 404, 401),
    "invitation DELETE":     (403, 403, 204, 404, 401),
    "tokens GET":            (200, 200, 200, 404, 401),
    "tokens POST":           (201, 201, 201, 404, 401),
    "other's token GET":     (404, 404, 200, 404, 401),
    "other's token DELETE":  (404, 404, 204, 404, 401),
}  # fmt: skip

CASES = [
    pytest.param(request, caller, status, id=f"{request} as {caller} -> {status}")
    for request, statuses in EXPECTED.items()
    for caller, status in zip(CALLERS, statuses, strict=True)
]


def _state_of_a(world) -> tuple:
    """Everything the requests above could change in A."""
    institution = type(world.a.institution).objects.get(id=world.a.institution.id)
    with in_tenant(world.a.institution):
        members = sorted(Membership.objects.values_list("id", "role", "status", "job_title"))
        invitations = sorted(Invitation.objects.values_list("id", "email", "revoked_at"))
        tokens = sorted(ApiToken.objects.values_list("id", "name", "revoked_at"))
        users = sorted(Membership.objects.values_list("user__name", "user__language"))
        checks = AuditEvent.objects.filter(verb="institution.request_website_check").count()
    return institution.name, members, invitations, tokens, users, checks


def test_every_request_is_in_the_table():
    assert set(REQUESTS) == set(EXPECTED)


@pytest.mark.parametrize(("request_name", "caller", "expected"), CASES)
def test_role_matrix(client, world, request_name, caller, expected):
    method, path, body = REQUESTS[request_name](world)
    before = _state_of_a(world)

    response = call(client, method, path, body, member=_caller(world, caller))

    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()["error"]
        assert error["message"]
        assert _state_of_a(world) == before
        if expected == 401:
            assert response["WWW-Authenticate"].startswith("Bearer")
        if expected == 403:
            assert "needs:" in error["message"]
        if caller == "admin_of_b":
            text = response.content.decode()
            assert world.a.institution.name not in text
            assert world.a.institution.slug not in text


def test_a_former_member_is_treated_like_a_stranger(client, cast):
    services.retire_member(cast.a.author)
    response = call(
        client, "get", institution_url(cast.a.institution, "members/"), member=cast.a.author
    )
    assert response.status_code == 404


def test_an_unknown_institution_and_a_foreign_one_look_the_same(client, cast):
    missing = call(client, "get", f"{API}/institutions/no-such-place/members/", member=cast.b.admin)
    foreign = call(
        client, "get", institution_url(cast.a.institution, "members/"), member=cast.b.admin
    )
    assert missing.status_code == foreign.status_code == 404
    assert missing.json() == foreign.json()


def test_ids_of_another_institution_are_not_found(client, cast):
    """A's admin asking for B's member, invitation or token through A's URLs gets 404."""
    invitation, _secret = services.invite_member(
        cast.b.institution, email="x@example.org", role="author", invited_by=cast.b.admin
    )
    token, _secret = services.create_token(cast.b.author, name="b", scopes=["read"])
    for method, tail in (
        ("get", f"members/{cast.b.author.id}/"),
        ("patch", f"members/{cast.b.author.id}/"),
        ("post", f"members/{cast.b.author.id}/retire"),
        ("get", f"invitations/{invitation.id}/"),
        ("delete", f"invitations/{invitation.id}/"),
        ("get", f"tokens/{token.id}/"),
        ("delete", f"tokens/{token.id}/"),
    ):
        body = {"role": "admin"} if method == "patch" else None
        response = call(
            client, method, institution_url(cast.a.institution, tail), body, member=cast.a.admin
        )
        assert response.status_code == 404, (method, tail)
        assert cast.b.institution.slug not in response.content.decode()
    with in_tenant(cast.b.institution):
        assert Membership.objects.get(id=cast.b.author.id).role == "author"
        assert Invitation.objects.get(id=invitation.id).revoked_at is None
        assert ApiToken.objects.get(id=token.id).revoked_at is None
    assert invitation.expires_at > timezone.now()
