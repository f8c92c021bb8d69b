"""A member's own API tokens: created with scopes their role allows, shown once, revocable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken
from accounts.queries import token_for_secret
from accounts.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def tokens_url(side) -> str:
    return reverse("accounts:tokens", args=[side.institution.slug])


def revoke_url(side, token) -> str:
    return reverse("accounts:revoke-token", args=[side.institution.slug, token.id])


def tokens_of(membership) -> list[ApiToken]:
    with tenant_context(membership.institution_id):
        return list(ApiToken.objects.filter(membership=membership))


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_tokens_page_offers_only_the_scopes_of_the_members_role(client, cast):
    client.force_login(cast.a.author.user)
    html = client.get(tokens_url(cast.a)).content.decode()
    assert 'value="read"' in html
    assert 'value="write"' in html
    assert 'value="review"' not in html
    client.force_login(cast.a.reviewer.user)
    assert 'value="review"' in client.get(tokens_url(cast.a)).content.decode()


def test_new_token_secret_is_shown_exactly_once_and_works(client, cast):
    client.force_login(cast.a.author.user)
    response = client.post(
        tokens_url(cast.a),
        {"name": "School website", "scopes": ["read", "write"], "expires_on": in_days(30)},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [token] = tokens_of(cast.a.author)
    html = response.content.decode()
    secret = html.split('id="new-token-secret"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert secret.startswith(ApiToken.PREFIX)
    assert token_for_secret(secret).id == token.id
    assert token.name == "School website"
    assert sorted(token.scopes) == ["read", "write"]
    assert token.expires_at.astimezone(cast.a.institution.zone).date() == date.fromisoformat(
        in_days(30)
    )
    # Afterwards the list shows the token's beginning only, never the secret.
    html = client.get(tokens_url(cast.a)).content.decode()
    assert "School website" in html
    assert token.prefix in html
    assert secret not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scopes": ["read"], "expires_on": in_days(5)}, "required"),
        ({"name": "x", "scopes": [], "expires_on": in_days(5)}, "required"),
        ({"name": "x", "scopes": ["review"], "expires_on": in_days(5)}, "valid choice"),
        ({"name": "x", "scopes": ["admin", "root"], "expires_on": in_days(5)}, "valid choice"),
        ({"name": "x", "scopes": ["read"], "expires_on": in_days(-1)}, "today or a later day"),
        ({"name": "x", "scopes": ["read"], "expires_on": in_days(400)}, "within a year"),
        ({"name": "x", "scopes": ["read"], "expires_on": "soon"}, "valid date"),
    ],
)
def test_bad_token_requests_are_refused_and_create_nothing(client, cast, data, message):
    client.force_login(cast.a.author.user)
    response = client.post(tokens_url(cast.a), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'id="new-token-secret"' not in response.content.decode()
    assert tokens_of(cast.a.author) == []


def test_member_revokes_their_token(client, cast):
    token, secret = services.create_token(cast.a.author, name="CI", scopes=["read"])
    client.force_login(cast.a.author.user)
    response = client.post(revoke_url(cast.a, token))
    assert response.status_code == 302
    [token] = tokens_of(cast.a.author)
    assert token.revoked_at is not None
    assert not token_for_secret(secret).is_usable
    assert "revoked" in client.get(tokens_url(cast.a)).content.decode()


def test_tokens_of_other_members_are_neither_listed_nor_revocable(client, cast):
    token, _secret = services.create_token(cast.a.author2, name="Theirs", scopes=["read"])
    client.force_login(cast.a.author.user)
    assert "Theirs" not in client.get(tokens_url(cast.a)).content.decode()
    assert client.post(revoke_url(cast.a, token)).status_code == 404
    assert tokens_of(cast.a.author2)[0].revoked_at is None


def test_token_of_the_other_institution_is_not_found(client, cast):
    token, _secret = services.create_token(cast.b.admin, name="B's", scopes=["read"])
    client.force_login(cast.a.admin.user)
    assert client.post(revoke_url(cast.a, token)).status_code == 404
    assert tokens_of(cast.b.admin)[0].revoked_at is None


def test_revoking_needs_a_post(client, cast):
    token, _secret = services.create_token(cast.a.author, name="CI", scopes=["read"])
    client.force_login(cast.a.author.user)
    assert client.get(revoke_url(cast.a, token)).status_code == 405
    assert tokens_of(cast.a.author)[0].revoked_at is None


def test_non_member_is_not_found(client, cast):
    client.force_login(cast.b.author.user)
    assert client.get(tokens_url(cast.a)).status_code == 404
