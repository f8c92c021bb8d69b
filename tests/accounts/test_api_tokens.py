"""Bearer tokens in the API: authentication, scopes, the secret shown once, who revokes what;
and ``/api/v1/me`` through a session and through a token."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken
from tests.accounts.api_client import (
    API,
    assert_error,
    call,
    in_tenant,
    institution_url,
    token_for,
)
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


# Authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("Bearer", "Malformed Authorization header"),
        ("Bearer one two", "Malformed Authorization header"),
        ("Bearer not-a-podium-token", "not a Podium API token"),
        ("Bearer pdm_" + "x" * 200, "not a Podium API token"),
        ("Bearer pdm_doesnotexist0000000000000000000000000", "Unknown token"),
        ("Bearer pdm_caf\u00e9", "invalid characters"),
    ],
)
def test_a_bad_bearer_header_is_401_with_a_clear_message(client, cast, authorization, message):
    response = call(
        client,
        "get",
        institution_url(cast.a.institution, "members/"),
        authorization=authorization.encode().decode("latin-1"),
    )
    error = assert_error(response, 401, "authentication_failed")
    assert message in error["message"]
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_expired_token_is_401(client, cast):
    secret = token_for(cast.a.author, ["read"])
    with in_tenant(cast.a.institution):
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = call(client, "get", f"{API}/me", token=secret)
    assert "expired" in assert_error(response, 401)["message"]


def test_a_revoked_token_is_401(client, cast):
    secret = token_for(cast.a.author, ["read"])
    with in_tenant(cast.a.institution):
        services.revoke_token(ApiToken.objects.get())
    response = call(client, "get", institution_url(cast.a.institution, "members/"), token=secret)
    assert "revoked" in assert_error(response, 401)["message"]


def test_the_token_of_a_retired_member_stops_working(client, cast):
    secret = token_for(cast.a.author, ["read"])
    services.retire_member(cast.a.author)
    response = call(client, "get", f"{API}/me", token=secret)
    assert_error(response, 401)


def test_a_valid_token_works_in_its_own_institution_and_nowhere_else(client, cast):
    secret_b = token_for(cast.b.author, ["read"])
    own = call(client, "get", institution_url(cast.b.institution, "members/"), token=secret_b)
    foreign = call(client, "get", institution_url(cast.a.institution, "members/"), token=secret_b)
    assert own.status_code == 200
    assert_error(foreign, 404, "not_found")
    assert cast.a.institution.name not in foreign.content.decode()


def test_a_token_of_b_held_by_a_member_of_both_still_only_opens_b(client, cast):
    MembershipFactory(institution=cast.b.institution, user=cast.a.admin.user, role="admin")
    with in_tenant(cast.b.institution):
        membership_b = cast.a.admin.user.memberships.get(institution=cast.b.institution)
    secret = token_for(membership_b)
    response = call(client, "get", institution_url(cast.a.institution, "members/"), token=secret)
    assert_error(response, 404)


def test_using_a_token_records_when_it_was_last_used(client, cast):
    secret = token_for(cast.a.author, ["read"])
    call(client, "get", f"{API}/me", token=secret)
    with in_tenant(cast.a.institution):
        assert ApiToken.objects.get().last_used_at is not None


# Scopes narrow the role --------------------------------------------------------------------

# (member, token scopes, method, path tail, body, expected)
SCOPE_CASES = [
    ("author", ["read"], "get", "members/", None, 200),
    ("author", ["read"], "get", "profile", None, 200),
    ("author", ["read"], "patch", "profile", {"job_title": "Teacher of art"}, 403),
    ("author", ["read"], "get", "tokens/", None, 403),
    ("author", ["write"], "get", "members/", None, 403),
    ("author", ["write"], "patch", "profile", {"job_title": "Teacher of art"}, 200),
    ("admin", ["read"], "patch", "institution", {"name": "Renamed"}, 403),
    ("admin", ["read"], "get", "invitations/", None, 403),
    ("admin", ["read", "admin"], "patch", "institution", {"name": "Renamed"}, 200),
    ("admin", ["admin"], "get", "invitations/", None, 200),
    ("admin", ["admin"], "get", "tokens/", None, 200),
]


@pytest.mark.parametrize(
    ("member", "scopes", "method", "tail", "body", "expected"),
    SCOPE_CASES,
    ids=[f"{c[0]} {'+'.join(c[1])} {c[2]} {c[3]} -> {c[5]}" for c in SCOPE_CASES],
)
def test_token_scopes_narrow_what_the_role_allows(
    client, cast, member, scopes, method, tail, body, expected
):
    secret = token_for(getattr(cast.a, member), scopes)
    response = call(client, method, institution_url(cast.a.institution, tail), body, token=secret)
    assert response.status_code == expected, response.content
    if expected == 403:
        assert "needs:" in assert_error(response, 403, "permission_denied")["message"]


def test_a_token_never_grants_more_than_the_role(client, cast):
    """An author's admin-scope token still cannot do what only administrators may."""
    secret = token_for(cast.a.author, ["read", "write", "admin"])
    response = call(
        client, "patch", institution_url(cast.a.institution, "institution"), {"name": "X"},
        token=secret,
    )  # fmt: skip
    assert_error(response, 403)


# Creating tokens: the secret once, only its digest stored ----------------------------------


def test_a_new_token_shows_its_secret_once_and_stores_only_its_digest(client, cast):
    tokens_url = institution_url(cast.a.institution, "tokens/")
    response = call(
        client, "post", tokens_url, {"name": "Timetable sync", "scopes": ["read"]},
        member=cast.a.author,
    )  # fmt: skip

    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    secret = body["token"]
    assert secret.startswith("pdm_")
    assert body["scopes"] == ["read"]
    assert body["member"] == cast.a.author.id
    assert secret.startswith(body["prefix"])
    with in_tenant(cast.a.institution):
        stored = ApiToken.objects.get(id=body["id"])
        row = ApiToken.objects.filter(id=body["id"]).values().get()
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in str(value) for value in row.values())

    listed = call(client, "get", tokens_url, member=cast.a.author)
    detail = call(client, "get", f"{tokens_url}{body['id']}/", member=cast.a.author)
    for later in (listed, detail):
        assert later.status_code == 200
        assert secret not in later.content.decode()
        assert "token" not in (later.json()["results"][0] if later is listed else later.json())

    me = call(client, "get", f"{API}/me", token=secret)
    assert me.status_code == 200
    assert me.json()["token"]["id"] == body["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["superuser"]}, "scopes.0"),
        ({"name": "x", "scopes": ["review"]}, "scopes"),  # an author cannot review
        ({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": ["read"], "expires_at": "in a while"}, "expires_at"),
        ({"name": "x", "scopes": "read"}, "scopes"),
        ({"name": "x", "scopes": ["read"], "secret": "mine"}, "secret"),
    ],
)
def test_creating_a_token_with_bad_input_is_400_naming_the_field(client, cast, body, field):
    response = call(
        client, "post", institution_url(cast.a.institution, "tokens/"), body,
        member=cast.a.author,
    )  # fmt: skip
    error = assert_error(response, 400)
    assert field in error["fields"], error
    with in_tenant(cast.a.institution):
        assert not ApiToken.objects.exists()


def test_a_token_can_create_only_narrower_tokens(client, cast):
    expires = timezone.now() + timedelta(days=10)
    secret = token_for(cast.a.admin, ["read", "admin"], expires_at=expires)
    url = institution_url(cast.a.institution, "tokens/")

    broader = call(client, "post", url, {"name": "x", "scopes": ["write"]}, token=secret)
    later = call(
        client, "post", url,
        {"name": "x", "scopes": ["read"], "expires_at": (expires + timedelta(days=1)).isoformat()},
        token=secret,
    )  # fmt: skip
    narrower = call(client, "post", url, {"name": "x", "scopes": ["read"]}, token=secret)

    assert "scopes" in assert_error(broader, 403)["fields"]
    assert "expires_at" in assert_error(later, 400)["fields"]
    assert narrower.status_code == 201
    assert datetime.fromisoformat(narrower.json()["expires_at"]) <= expires


# Listing and revoking ----------------------------------------------------------------------


def test_members_list_their_own_tokens_and_admins_anyones_on_request(client, cast):
    token_for(cast.a.author, ["read"])
    token_for(cast.a.admin, ["read"])
    url = institution_url(cast.a.institution, "tokens/")

    def owners(response) -> set[int]:
        assert response.status_code == 200, response.content
        return {token["member"] for token in response.json()["results"]}

    assert owners(call(client, "get", url, member=cast.a.author)) == {cast.a.author.id}
    assert owners(call(client, "get", url, member=cast.a.admin)) == {cast.a.admin.id}
    assert owners(call(client, "get", f"{url}?member={cast.a.author.id}", member=cast.a.admin)) == {
        cast.a.author.id
    }
    assert (
        owners(call(client, "get", f"{url}?member={cast.a.admin.id}", member=cast.a.author))
        == set()
    )


def test_a_member_revokes_their_own_token_and_it_stops_working(client, cast):
    secret = token_for(cast.a.author, ["read", "admin"])
    with in_tenant(cast.a.institution):
        token = ApiToken.objects.get()
    url = institution_url(cast.a.institution, f"tokens/{token.id}/")

    assert call(client, "delete", url, member=cast.a.author).status_code == 204
    assert call(client, "delete", url, member=cast.a.author).status_code == 204  # idempotent
    assert_error(call(client, "get", f"{API}/me", token=secret), 401)


def test_an_admin_revokes_a_members_leaked_token(client, cast):
    secret = token_for(cast.a.author, ["read"])
    with in_tenant(cast.a.institution):
        token = ApiToken.objects.get()
    url = institution_url(cast.a.institution, f"tokens/{token.id}/")

    assert_error(call(client, "delete", url, member=cast.a.reviewer), 404)
    assert call(client, "delete", url, member=cast.a.admin).status_code == 204
    assert "revoked" in assert_error(call(client, "get", f"{API}/me", token=secret), 401)["message"]


# /api/v1/me --------------------------------------------------------------------------------


def test_me_with_a_session_lists_every_active_membership(client, cast):
    user = cast.a.author.user
    MembershipFactory(institution=cast.b.institution, user=user, role="reviewer")

    response = call(client, "get", f"{API}/me", member=cast.a.author)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user.id
    assert body["email"] == user.email
    assert {"name", "language"} <= set(body)
    assert body["token"] is None
    assert {(m["institution"]["slug"], m["role"]) for m in body["memberships"]} == {
        (cast.a.institution.slug, "author"),
        (cast.b.institution.slug, "reviewer"),
    }


def test_me_with_a_token_shows_only_the_tokens_membership_scopes_and_expiry(client, cast):
    user = cast.a.author.user
    MembershipFactory(institution=cast.b.institution, user=user, role="reviewer")
    expires = timezone.now() + timedelta(days=7)
    secret = token_for(cast.a.author, ["read", "write"], expires_at=expires)

    body = call(client, "get", f"{API}/me", token=secret).json()

    assert [m["institution"]["slug"] for m in body["memberships"]] == [cast.a.institution.slug]
    assert body["token"]["scopes"] == ["read", "write"]
    assert body["token"]["expires_at"].startswith(expires.strftime("%Y-%m-%dT%H:%M"))
    assert cast.b.institution.slug not in str(body)


def test_me_for_anonymous_is_401_asking_for_a_bearer_token(client):
    response = call(client, "get", f"{API}/me")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
