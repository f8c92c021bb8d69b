"""The networks page: what each member sees, the administrators' count of accounts to
re-authorise in the navigation, and disconnecting from the web with the delivery history kept."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from crossposting import services as crossposting
from crossposting.connect import services
from crossposting.models import Delivery, NetworkAccount
from feeds import services as feeds
from feeds.services import PostContent


def _connect(cast, handle, member=None, **extra):
    return crossposting.connect_account(
        cast.a.institution, network="mastodon", handle=handle,
        base_url="https://social.example", secrets={"access_token": "t"},
        remote_user_id=handle, member=member, **extra,
    )  # fmt: skip


def _page(client, member) -> str:
    client.force_login(member.user)
    response = client.get(f"/{member.institution.slug}/networks/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.fixture
def accounts(cast):
    return {
        "school": _connect(cast, "@school"),
        "mine": _connect(
            cast, "@ada", member=cast.a.author, token_expires_at=timezone.now() + timedelta(days=3)
        ),
        "theirs": _connect(cast, "@bea", member=cast.a.author2),
    }


def test_an_author_sees_the_institutions_accounts_and_their_own(cast, client, accounts):
    body = _page(client, cast.a.author)
    assert "@school" in body and "@ada" in body and "@bea" not in body
    assert "in 2 days: re-authorise" in body or "in 3 days: re-authorise" in body
    assert "Members' accounts" not in body


def test_an_administrator_sees_every_account_and_the_count_to_reauthorise(cast, client, accounts):
    services.mark_needs_reauthorisation(accounts["theirs"], "Mastodon refused the token.")
    body = _page(client, cast.a.admin)
    assert "@school" in body and "@ada" in body and "@bea" in body
    assert "Mastodon refused the token." in body
    assert 'id="nav-networks-count">1<' in body
    assert 'id="nav-networks-count"' not in _page(client, cast.a.author2)


def test_disconnecting_from_the_web_keeps_the_delivery_history(cast, client, accounts):
    account = accounts["mine"]
    post = feeds.create_post(cast.a.author, PostContent("Sports day", "en"))
    crossposting.choose_targets(post, [account], by=cast.a.author)
    post = feeds.submit_post(post, cast.a.author)
    feeds.approve_post(post, by=cast.a.reviewer)
    with tenant_context(cast.a.institution.id):
        assert Delivery.objects.filter(account=account).count() == 1
    client.force_login(cast.a.author.user)
    response = client.post(
        f"/{cast.a.institution.slug}/networks/{account.id}/disconnect/", follow=True
    )
    body = html.unescape(response.content.decode())
    assert "@ada is disconnected and its credentials are deleted" in body
    with tenant_context(cast.a.institution.id):
        account = NetworkAccount.objects.get(id=account.id)
        assert account.status == "revoked" and bytes(account.credentials) == b""
        assert Delivery.objects.filter(account=account).count() == 1


def test_an_author_cannot_disconnect_the_institutions_account(cast, client, accounts):
    client.force_login(cast.a.author.user)
    response = client.post(
        f"/{cast.a.institution.slug}/networks/{accounts['school'].id}/disconnect/", follow=True
    )
    assert "You cannot change this account." in html.unescape(response.content.decode())
    with tenant_context(cast.a.institution.id):
        assert NetworkAccount.objects.get(id=accounts["school"].id).status == "active"


def test_the_owner_switches_use_for_new_posts(cast, client, accounts):
    client.force_login(cast.a.author.user)
    url = f"/{cast.a.institution.slug}/networks/{accounts['mine'].id}/default/"
    body = html.unescape(client.post(url, {"use": "on"}, follow=True).content.decode())
    assert "New posts will be copied to @ada." in body
    with tenant_context(cast.a.institution.id):
        assert NetworkAccount.objects.get(id=accounts["mine"].id).default_for_new_posts
