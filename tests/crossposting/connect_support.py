"""What the connect tests share: the fake networks with their authorisation endpoints on
127.0.0.1, the settings that point Podium at them, and a browser's part in an authorisation
(following the network's consent redirect back to Podium's callback)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from accounts.models import AuditEvent
from accounts.tenancy import tenant_context
from crossposting.models import NetworkAccount
from tests.crossposting.fakes.oauth import OAUTH_FAKES

BASE = "http://testserver"


@pytest.fixture(scope="session")
def oauth_servers():
    started = {name: cls() for name, cls in OAUTH_FAKES.items()}
    for fake in started.values():
        fake.start()
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def oauth(oauth_servers, settings):
    """The fakes, and Podium configured for them (loopback allowed, the operator's apps set)."""
    x, linkedin, threads = oauth_servers["x"], oauth_servers["linkedin"], oauth_servers["threads"]
    settings.PODIUM_BASE_URL = BASE
    settings.PODIUM_CONNECT_ALLOW_LOOPBACK = True
    settings.PODIUM_NETWORK_TIMEOUT = 3.0
    settings.PODIUM_X_CLIENT_ID, settings.PODIUM_X_CLIENT_SECRET = x.client_id, x.client_secret
    settings.PODIUM_X_AUTHORIZE_URL = f"{x.base_url}/i/oauth2/authorize"
    settings.PODIUM_X_API_URL = x.base_url
    settings.PODIUM_LINKEDIN_CLIENT_ID = linkedin.client_id
    settings.PODIUM_LINKEDIN_CLIENT_SECRET = linkedin.client_secret
    settings.PODIUM_LINKEDIN_OAUTH_URL = linkedin.base_url
    settings.PODIUM_LINKEDIN_API_URL = linkedin.base_url
    settings.PODIUM_THREADS_CLIENT_ID = threads.client_id
    settings.PODIUM_THREADS_CLIENT_SECRET = threads.client_secret
    settings.PODIUM_THREADS_AUTHORIZE_URL = f"{threads.base_url}/oauth/authorize"
    settings.PODIUM_THREADS_API_URL = threads.base_url
    settings.PODIUM_BLUESKY_PDS_URL = oauth_servers["bluesky"].base_url
    for fake in oauth_servers.values():
        fake.faults.__init__()
    oauth_servers["mastodon"].pkce = True
    oauth_servers["mastodon"].deny = False
    return oauth_servers


def continue_url(response) -> str:
    """The network's authorisation address on the page that sends the browser there."""
    assert response.status_code == 200, response.content
    found = re.search(r'id="continue" href="([^"]+)"', response.content.decode())
    assert found, response.content
    return html.unescape(found.group(1))


def consent(authorisation_url: str) -> str:
    """The browser at the network: it consents at once and redirects; the callback's path and
    query on Podium."""
    answer = httpx.get(authorisation_url, follow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(BASE), location
    return location[len(BASE) :]


def state_of(path: str) -> str:
    return parse_qs(urlsplit(path).query)["state"][0]


def accounts_of(institution) -> list[NetworkAccount]:
    with tenant_context(institution.id):
        return list(NetworkAccount.objects.order_by("id"))


def audit_verbs(institution) -> list[str]:
    with tenant_context(institution.id):
        return list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))


def page_text(response) -> str:
    return response.content.decode()
