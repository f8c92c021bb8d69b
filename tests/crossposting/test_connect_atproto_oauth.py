"""Connecting a Bluesky account by AT Protocol OAuth, end to end as a member's browser does it,
against a PDS with its own authorization server on 127.0.0.1 (fakes/atproto_oauth.py: PAR,
PKCE, DPoP proofs with server nonces, single use codes, rotating refresh tokens); then posting
with the DPoP-bound token."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.cache import cache

from crossposting import credentials
from crossposting.clients.base import Account, Result
from crossposting.clients.bluesky import BlueskyClient
from crossposting.connect import atproto_oauth, flows
from crossposting.connect.errors import AuthorisationRefused
from tests.crossposting.connect_support import BASE, accounts_of, consent, continue_url
from tests.crossposting.fakes.atproto_oauth import FakeAtprotoOAuth


@pytest.fixture(scope="module")
def pds_server():
    fake = FakeAtprotoOAuth()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def pds(pds_server, settings):
    settings.PODIUM_BASE_URL = BASE
    settings.PODIUM_CONNECT_ALLOW_LOOPBACK = True
    settings.PODIUM_NETWORK_TIMEOUT = 3.0
    settings.PODIUM_BLUESKY_PDS_URL = pds_server.base_url
    pds_server.reset()
    cache.clear()
    return pds_server


def _start(client, member, **form):
    client.force_login(member.user)
    slug = member.institution.slug
    return client.post(f"/{slug}/networks/connect/", {"network": "bluesky", **form})


def _secrets(account) -> dict:
    return credentials.unseal(account.institution_id, account.id, account.credentials)


def _connected(client, member, pds) -> tuple:
    url = continue_url(_start(client, member, identifier="teacher.test", server=pds.base_url))
    path = consent(url)
    body = html.unescape(client.get(path, follow=True).content.decode())
    [account] = accounts_of(member.institution)
    return account, body, url, path


def test_a_member_signs_in_with_bluesky_and_podium_posts_with_the_dpop_bound_token(
    cast, client, pds
):
    author = cast.a.author
    account, body, url, _path = _connected(client, author, pds)
    query = parse_qs(urlsplit(url).query)
    # Only client_id and request_uri go through the browser: the rest was pushed (PAR), after
    # the server asked once for its DPoP nonce.
    assert url.startswith(f"{pds.base_url}/oauth/authorize?")
    assert set(query) == {"client_id", "request_uri"}
    assert query["client_id"][0].startswith("http://localhost?redirect_uri=")
    assert pds.refused == ["nonce"]
    assert "Bluesky account teacher.test connected." in body
    assert account.remote_user_id == "did:plc:teacher" and account.handle == "teacher.test"
    assert account.base_url == pds.base_url and account.member_id == author.id
    stored = _secrets(account)
    assert stored["auth"] == "oauth" and stored["dpop_key"].startswith("-----BEGIN PRIVATE KEY")
    assert "password" not in stored and stored["access_token"] in pds.access

    # The server changes its nonce: the post is made once more with the new one, and lands.
    pds.rotate_nonce()
    client_ = BlueskyClient(
        Account(
            id=account.id,
            institution_id=account.institution_id,
            network="bluesky",
            handle=account.handle,
            base_url=account.base_url,
            remote_user_id=account.remote_user_id,
            credentials=stored,
        ),
        timeout=3.0,
    )
    payload = {"text": "Hello from Podium", "created_at": "2026-12-07T20:00:00Z", "rkey": "3k1"}
    outcome = client_.create(payload, key="k", reply_to=None, progress={}, remember=lambda d: None)
    assert outcome.result == Result.SENT, outcome
    assert pds.records["at://did:plc:teacher/app.bsky.feed.post/3k1"]["text"] == "Hello from Podium"

    # Refreshing rotates: a new pair comes back, and the old refresh token is dead.
    pds.rotate_nonce()
    fresh = client_.refresh()
    assert fresh and fresh["refresh_token"] != stored["refresh_token"]
    assert fresh["access_token"] in pds.access
    client_.account.credentials = stored
    assert client_.refresh() is None


def test_the_code_and_the_state_are_single_use(cast, client, pds):
    _account, _body, _url, path = _connected(client, cast.a.author, pds)
    again = html.unescape(client.get(path, follow=True).content.decode())
    assert "Bluesky account teacher.test connected." not in again
    assert len(accounts_of(cast.a.institution)) == 1
    code = parse_qs(urlsplit(path).query)["code"][0]
    server = atproto_oauth.discover(pds.base_url)
    with pytest.raises(AuthorisationRefused, match="already used or has expired"):
        atproto_oauth.finish(
            server,
            code=code,
            issuer=pds.base_url,
            pkce=flows.Pkce.new(),
            key=atproto_oauth.new_key(),
            nonce=pds.nonce,
        )


def test_a_forged_state_connects_nothing(cast, client, pds):
    url = continue_url(_start(client, cast.a.author, server=pds.base_url))
    path = consent(url)
    query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
    query["state"] = query["state"][:-2] + "xx"
    response = client.get(urlsplit(path).path + "?" + urlencode(query))
    assert response.status_code == 400
    assert "did:plc:teacher" not in response.content.decode()
    assert accounts_of(cast.a.institution) == []


def test_an_answer_from_another_issuer_is_refused(cast, client, pds):
    url = continue_url(_start(client, cast.a.author, server=pds.base_url))
    path = consent(url).replace("iss=", "iss=http%3A%2F%2F127.0.0.9%3A1")
    body = html.unescape(client.get(path, follow=True).content.decode())
    assert "The answer came from another server than the one asked." in body
    assert accounts_of(cast.a.institution) == []


def test_a_server_without_oauth_falls_back_to_the_app_password(cast, client, pds):
    pds.offers_oauth = False
    response = _start(client, cast.a.author, identifier="teacher.test", server=pds.base_url)
    body = html.unescape(client.get(response["Location"]).content.decode())
    assert "does not offer signing in with Bluesky. Connect the account with an app password" in (
        body
    )
    assert "Sign in with Bluesky" not in body and "App password" in body
    assert accounts_of(cast.a.institution) == []


def test_the_networks_page_offers_sign_in_where_the_server_offers_oauth(cast, client, pds):
    client.force_login(cast.a.author.user)
    body = client.get(f"/{cast.a.institution.slug}/networks/").content.decode()
    assert "Sign in with Bluesky" in body and "App password" in body


def test_the_client_metadata_is_public_json_without_cookies(client, settings):
    settings.PODIUM_BASE_URL = "https://podium.example"
    response = client.get("/accounts/networks/bluesky/client-metadata.json")
    assert response.status_code == 200 and "Set-Cookie" not in response
    document = response.json()
    assert document["client_id"] == (
        "https://podium.example/accounts/networks/bluesky/client-metadata.json"
    )
    assert document["redirect_uris"] == [
        "https://podium.example/accounts/networks/bluesky/callback/"
    ]
    assert document["dpop_bound_access_tokens"] is True
    assert document["token_endpoint_auth_method"] == "none"
    assert "atproto" in document["scope"].split()


def test_an_account_is_re_authorised_by_signing_in_again(cast, client, pds):
    account, _body, _url, _path = _connected(client, cast.a.author, pds)
    old = _secrets(account)
    slug = cast.a.institution.slug
    body = client.get(f"/{slug}/networks/").content.decode()
    assert 'name="oauth" value="1"' in body
    response = client.post(f"/{slug}/networks/{account.id}/reauthorise/", {"oauth": "1"})
    page = html.unescape(client.get(consent(continue_url(response)), follow=True).content.decode())
    assert "Bluesky account teacher.test connected." in page
    [again] = accounts_of(cast.a.institution)
    renewed = _secrets(again)
    assert again.id == account.id and renewed["access_token"] != old["access_token"]
    assert renewed["dpop_key"] != old["dpop_key"]


def test_disconnecting_withdraws_the_refresh_token_at_the_server(cast, client, pds):
    account, _body, _url, _path = _connected(client, cast.a.author, pds)
    refresh = _secrets(account)["refresh_token"]
    assert refresh in pds.refresh
    slug = cast.a.institution.slug
    response = client.post(f"/{slug}/networks/{account.id}/disconnect/", follow=True)
    assert "and Bluesky withdrew Podium's access" in html.unescape(response.content.decode())
    assert refresh not in pds.refresh


def test_the_page_asks_no_server_that_the_address_guard_refuses(cast, client, settings, pds):
    settings.PODIUM_CONNECT_ALLOW_LOOPBACK = False  # the fake PDS is now a refused address
    before = len(pds.requests)
    client.force_login(cast.a.author.user)
    body = client.get(f"/{cast.a.institution.slug}/networks/").content.decode()
    assert "Sign in with Bluesky" not in body and "App password" in body
    assert len(pds.requests) == before
