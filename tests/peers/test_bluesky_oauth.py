"""Signing in with Bluesky (AT Protocol OAuth) against the real PDS (``@atproto/pds``, whose
OAuth provider is on when no entryway is configured), with the spec's loopback client
(``http://localhost?redirect_uri=http://127.0.0.1:...``, no hosted metadata): the networks page
pushes the authorization request (PAR, PKCE S256, DPoP with the server's nonce), a real browser
(Debian's chromium, driven by Playwright) signs in on the PDS's own pages and authorises, and the
PDS's redirect to Podium's callback is caught and handed to Podium; then Podium posts with the
DPoP-bound token and the refresh token rotates.

Wire facts pinned down (PDS 0.5.35): the protected-resource document names the PDS's public
URL (``http://localhost:<port>``) as issuer; the callback carries ``iss``; the sign-in page
fills in the ``login_hint`` and makes the username read-only."""

from __future__ import annotations

import html
import secrets

import pytest

from crossposting import credentials
from crossposting.clients import Account, Result
from crossposting.clients.bluesky import BlueskyClient
from tests.crossposting.connect_support import accounts_of, continue_url
from tests.peers.servers import BlueskyPeers

pytestmark = pytest.mark.peers

PODIUM = "http://127.0.0.1:8765"  # never served: the browser's visit to it is caught
CHROMIUM = "/usr/bin/chromium"


def _browser_consents(url: str, password: str) -> str:
    """Sign in on the PDS's page and press Authorize; the callback address the PDS sent the
    browser to (path and query)."""
    playwright = pytest.importorskip("playwright.sync_api")
    caught: list[str] = []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.route(
                f"{PODIUM}/**",
                lambda route: (caught.append(route.request.url), route.fulfill(body="caught")),
            )
            page.goto(url)
            page.get_by_title("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("button", name="Authorize").click()
            for _tick in range(150):  # up to 15 s for the redirect to be caught
                if caught:
                    break
                page.wait_for_timeout(100)
        finally:
            browser.close()
    assert caught, "the PDS did not send the browser back"
    return caught[0][len(PODIUM) :]


def test_a_member_signs_in_with_bluesky_on_the_real_pds_and_podium_posts(
    cast, client, settings, pds: BlueskyPeers
):
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    settings.PODIUM_BASE_URL = PODIUM
    settings.PODIUM_CONNECT_ALLOW_LOOPBACK = True
    settings.PODIUM_BLUESKY_PDS_URL = pds.base_url
    owner = pds.create_account("olivia-" + secrets.token_hex(3))
    author = cast.a.author
    client.force_login(author.user)
    response = client.post(
        f"/{cast.a.institution.slug}/networks/connect/",
        {"network": "bluesky", "server": pds.base_url, "identifier": owner.handle},
    )
    url = continue_url(response)
    assert "/oauth/authorize?" in url and "request_uri=" in url
    path = _browser_consents(url, owner.password)
    assert path.startswith("/accounts/networks/bluesky/callback/?") and "iss=" in path
    body = html.unescape(client.get(path, follow=True).content.decode())
    assert f"Bluesky account {owner.handle} connected." in body
    [account] = accounts_of(cast.a.institution)
    # Stored under the PDS's own public address (its DPoP proofs must name it).
    assert account.remote_user_id == owner.did and account.base_url == pds.base_url.replace(
        "127.0.0.1", "localhost"
    )
    stored = credentials.unseal(account.institution_id, account.id, account.credentials)
    assert stored["auth"] == "oauth" and "password" not in stored

    bluesky = BlueskyClient(
        Account(
            id=account.id,
            institution_id=account.institution_id,
            network="bluesky",
            handle=account.handle,
            base_url=account.base_url,
            remote_user_id=account.remote_user_id,
            credentials=stored,
        ),
        timeout=10.0,
    )
    payload = {"text": "Signed in with OAuth", "created_at": "2026-12-07T20:00:00.000Z"}
    outcome = bluesky.create(
        payload | {"rkey": "3laoauth22222"},
        key="k1",
        reply_to=None,
        progress={},
        remember=lambda d: None,
    )
    assert outcome.result == Result.SENT, outcome
    record = pds.get_record(owner.did, "3laoauth22222").json()
    assert record["value"]["text"] == "Signed in with OAuth"

    # The refresh token rotates: the new pair posts, the old refresh token is refused.
    fresh = bluesky.refresh()
    assert fresh and fresh["refresh_token"] != stored["refresh_token"]
    assert fresh["access_token"] != stored["access_token"]
    bluesky.account.credentials = fresh
    outcome = bluesky.create(
        payload | {"rkey": "3laoauth22223"},
        key="k2",
        reply_to=None,
        progress={},
        remember=lambda d: None,
    )
    assert outcome.result == Result.SENT, outcome
    assert pds.get_record(owner.did, "3laoauth22223").status_code == 200
    bluesky.account.credentials = stored
    assert bluesky.refresh() is None
