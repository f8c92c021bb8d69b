"""Connecting accounts on each network end to end, as a member's browser does it, against fake
networks on 127.0.0.1: the networks page sends the browser to the network, the network sends it
back with a code, Podium exchanges the code and stores the account (credentials encrypted)."""

# The fixtures come from connect_support (imported below); using them as parameters is not a
# redefinition.
# ruff: noqa: F811

from __future__ import annotations

import html
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from crossposting import credentials
from crossposting.models import MastodonApp
from tests.crossposting.connect_support import (  # noqa: F401 (fixtures)
    accounts_of,
    audit_verbs,
    consent,
    continue_url,
    oauth,
    oauth_servers,
)


def _start(client, member, network: str, **form) -> str:
    client.force_login(member.user)
    slug = member.institution.slug
    response = client.post(f"/{slug}/networks/connect/", {"network": network, **form})
    return continue_url(response)


def _finish(client, path: str) -> str:
    response = client.get(path, follow=True)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _secrets(account) -> dict:
    return credentials.unseal(account.institution_id, account.id, account.credentials)


def test_a_member_connects_a_mastodon_account_with_the_instance_limits(cast, client, oauth):
    mastodon = oauth["mastodon"]
    mastodon.max_characters, mastodon.signed_in = 777, "teacher"
    author = cast.a.author
    url = _start(client, author, "mastodon", instance=mastodon.base_url)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{mastodon.base_url}/oauth/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]
    body = _finish(client, consent(url))
    host = urlsplit(mastodon.base_url).netloc
    assert f"Mastodon account @teacher@{host} connected." in body
    [account] = accounts_of(cast.a.institution)
    assert account.member_id == author.id and account.status == "active"
    assert account.max_characters == 777 and account.characters_reserved_per_url == 23
    assert account.profile_url == f"{mastodon.base_url}/@teacher"
    token = _secrets(account)["access_token"]
    assert (
        httpx.get(
            f"{mastodon.base_url}/api/v1/accounts/verify_credentials",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["username"]
        == "teacher"
    )
    assert "network_account.connect" in audit_verbs(cast.a.institution)
    assert f"@teacher@{host}" in body  # listed on the page
    mastodon.max_characters = 500


def test_the_app_is_registered_once_per_instance_and_reused(cast, client, oauth):
    mastodon = oauth["mastodon"]
    before = len(mastodon.apps)
    for name, member in (("first", cast.a.author), ("second", cast.a.author2)):
        mastodon.signed_in = name
        _finish(client, consent(_start(client, member, "mastodon", instance=mastodon.base_url)))
    assert len(mastodon.apps) == before + 1
    assert len(accounts_of(cast.a.institution)) == 2


def test_an_instance_without_pkce_is_authorised_without_a_challenge(cast, client, oauth):
    mastodon = oauth["mastodon"]
    mastodon.pkce, mastodon.signed_in = False, "older"
    url = _start(client, cast.a.author, "mastodon", instance=mastodon.base_url)
    assert "code_challenge" not in parse_qs(urlsplit(url).query)
    body = _finish(client, consent(url))
    assert "connected" in body
    assert len(accounts_of(cast.a.institution)) == 1


def test_an_administrator_connects_an_institution_account_on_x_with_pkce(cast, client, oauth):
    x = oauth["x"]
    x.signed_in = "northside"
    url = _start(client, cast.a.admin, "x", owner="institution")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert set(query["scope"][0].split()) == {
        "tweet.read", "tweet.write", "users.read", "offline.access", "media.write",
    }  # fmt: skip
    body = _finish(client, consent(url))
    assert "X account @northside connected." in body
    [account] = accounts_of(cast.a.institution)
    assert account.member_id is None and account.profile_url == "https://x.com/northside"
    stored = _secrets(account)
    assert stored["refresh_token"] in x.refresh and x.access[stored["access_token"]]


def test_an_author_cannot_connect_an_institution_account(cast, client, oauth):
    client.force_login(cast.a.author.user)
    slug = cast.a.institution.slug
    response = client.post(
        f"/{slug}/networks/connect/", {"network": "x", "owner": "institution"}, follow=True
    )
    assert "Only administrators can connect the institution" in html.unescape(
        response.content.decode()
    )
    assert accounts_of(cast.a.institution) == []


def test_linkedin_stores_the_sixty_day_end_of_the_permission(cast, client, oauth):
    oauth["linkedin"].signed_in = "Ada Lovelace"
    body = _finish(client, consent(_start(client, cast.a.author, "linkedin")))
    assert "LinkedIn account Ada Lovelace connected." in body
    [account] = accounts_of(cast.a.institution)
    assert account.remote_user_id.startswith("urn:li:person:")
    left = account.token_expires_at - timezone.now()
    assert timedelta(days=59, hours=23) < left <= timedelta(days=60)


def test_threads_exchanges_the_short_token_for_a_long_lived_one(cast, client, oauth):
    threads = oauth["threads"]
    threads.signed_in = "northside"
    body = _finish(client, consent(_start(client, cast.a.author, "threads")))
    assert "Threads account @northside connected." in body
    [account] = accounts_of(cast.a.institution)
    token = _secrets(account)["access_token"]
    assert token in threads.tokens and token not in threads.short
    assert account.token_expires_at - timezone.now() > timedelta(days=59)


def test_bluesky_connects_with_an_app_password(cast, client, oauth):
    bluesky = oauth["bluesky"]
    did = bluesky.add_account("reporter.test", "abcd-efgh-ijkl-mnop")
    client.force_login(cast.a.author.user)
    response = client.post(
        f"/{cast.a.institution.slug}/networks/bluesky/",
        {"identifier": "@reporter.test", "app_password": "abcd-efgh-ijkl-mnop"},
        follow=True,
    )
    assert "Bluesky account reporter.test connected." in html.unescape(response.content.decode())
    [account] = accounts_of(cast.a.institution)
    assert account.remote_user_id == did and account.base_url == bluesky.base_url
    stored = _secrets(account)
    assert bluesky.access[stored["access_jwt"]] == did and stored["refresh_jwt"] in bluesky.refresh


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("my-main-password", "This is not an app password"),
        ("zzzz-zzzz-zzzz-zzzz", "Bluesky refused the handle or app password"),
    ],
)
def test_bluesky_refuses_a_main_password_or_a_wrong_app_password(
    cast, client, oauth, password, message
):
    oauth["bluesky"].add_account("other.test", "abcd-efgh-ijkl-mnop")
    client.force_login(cast.a.author.user)
    before = audit_verbs(cast.a.institution)
    response = client.post(
        f"/{cast.a.institution.slug}/networks/bluesky/",
        {"identifier": "other.test", "app_password": password},
        follow=True,
    )
    assert message in html.unescape(response.content.decode())
    assert accounts_of(cast.a.institution) == []
    assert audit_verbs(cast.a.institution) == before


def test_a_network_the_operator_has_not_set_up_cannot_be_connected(cast, client, oauth, settings):
    settings.PODIUM_THREADS_CLIENT_ID = ""
    client.force_login(cast.a.author.user)
    page = html.unescape(client.get(f"/{cast.a.institution.slug}/networks/").content.decode())
    assert "The operator of this Podium has not set up Threads yet" in page
    response = client.post(
        f"/{cast.a.institution.slug}/networks/connect/", {"network": "threads"}, follow=True
    )
    assert "has not set up Threads yet" in html.unescape(response.content.decode())
    assert accounts_of(cast.a.institution) == []


def test_the_app_registration_is_kept_but_no_account_when_the_member_refuses(cast, client, oauth):
    mastodon = oauth["mastodon"]
    mastodon.deny = True
    body = _finish(
        client, consent(_start(client, cast.a.author, "mastodon", instance=mastodon.base_url))
    )
    assert "Mastodon did not give Podium access" in body
    assert accounts_of(cast.a.institution) == []
    from accounts.tenancy import tenant_context

    with tenant_context(cast.a.institution.id):
        assert MastodonApp.objects.count() == 1


def test_an_account_connected_by_one_member_cannot_be_taken_by_another(cast, client, oauth):
    x = oauth["x"]
    x.signed_in = "shared"
    _finish(client, consent(_start(client, cast.a.author, "x")))
    before = audit_verbs(cast.a.institution)
    body = _finish(client, consent(_start(client, cast.a.author2, "x")))
    assert "This account is already connected by someone else in the institution." in body
    [account] = accounts_of(cast.a.institution)
    assert account.member_id == cast.a.author.id
    assert audit_verbs(cast.a.institution) == before


def test_reauthorising_renews_the_same_account(cast, client, oauth):
    linkedin = oauth["linkedin"]
    linkedin.signed_in = "Grace Hopper"
    _finish(client, consent(_start(client, cast.a.author, "linkedin")))
    [account] = accounts_of(cast.a.institution)
    from crossposting.connect import services

    services.mark_needs_reauthorisation(account, "The LinkedIn permission ended.")
    response = client.post(f"/{cast.a.institution.slug}/networks/{account.id}/reauthorise/")
    body = _finish(client, consent(continue_url(response)))
    assert "LinkedIn account Grace Hopper connected." in body
    [renewed] = accounts_of(cast.a.institution)
    assert renewed.id == account.id and renewed.status == "active"
    assert renewed.credentials_version == account.credentials_version + 1
    assert audit_verbs(cast.a.institution)[-1] == "network_account.reauthorise"
