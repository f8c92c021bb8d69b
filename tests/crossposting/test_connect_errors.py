"""Bad input while connecting: a server that is not there, a server that is no Mastodon, an
authorisation that comes back with a wrong, missing, expired or reused state, a reused code, a
revoked app. Each ends with a message the member can act on, nothing stored and the audit log
untouched."""

# The fixtures come from connect_support (imported below); using them as parameters is not a
# redefinition.
# ruff: noqa: F811

from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest
from django.core import signing

from accounts.tenancy import tenant_context
from crossposting.connect import services
from crossposting.models import MastodonApp
from tests.crossposting.connect_support import (  # noqa: F401 (fixtures)
    accounts_of,
    audit_verbs,
    consent,
    continue_url,
    oauth,
    oauth_servers,
    state_of,
)
from tests.crossposting.fakes.server import free_port


def _start(client, member, network="mastodon", **form):
    client.force_login(member.user)
    return client.post(
        f"/{member.institution.slug}/networks/connect/", {"network": network, **form}
    )


def _text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def untouched(cast):
    """Asserts, after the test, that nothing was stored and nothing audited."""
    before = audit_verbs(cast.a.institution)
    yield
    assert accounts_of(cast.a.institution) == []
    assert audit_verbs(cast.a.institution) == before


@pytest.mark.parametrize(
    ("instance", "message"),
    [
        ("", "Enter the server's address"),
        ("https://mastodon.example/some/path", "without a path"),
        ("http://mastodon.example", "must be reached over https"),
        ("https://10.0.0.5", "not on the public internet"),
        ("https://user:pw@mastodon.example", "This is not a server address"),
    ],
)
def test_an_address_that_is_no_server_address_is_refused_before_any_request(
    cast, client, oauth, untouched, instance, message
):
    response = _start(client, cast.a.author, instance=instance)
    page = _text(client.get(response["Location"]))
    assert message in page


def test_an_unknown_instance_says_it_could_not_be_reached(cast, client, oauth, untouched):
    port = free_port()
    response = _start(client, cast.a.author, instance=f"http://127.0.0.1:{port}")
    assert f"Could not reach 127.0.0.1:{port}. Check the address." in _text(
        client.get(response["Location"])
    )
    with tenant_context(cast.a.institution.id):
        assert MastodonApp.objects.count() == 0


def test_loopback_is_refused_unless_the_setting_allows_it(cast, client, oauth, settings, untouched):
    settings.PODIUM_CONNECT_ALLOW_LOOPBACK = False
    response = _start(client, cast.a.author, instance=oauth["mastodon"].base_url)
    assert "not on the public internet" in _text(client.get(response["Location"]))
    assert oauth["mastodon"].apps == {} or all(
        app["name"] != cast.a.institution.name for app in oauth["mastodon"].apps.values()
    )


def test_an_instance_that_answers_html_is_not_taken_for_mastodon(cast, client, oauth, untouched):
    site = oauth["html"]
    response = _start(client, cast.a.author, instance=site.base_url)
    host = site.base_url.removeprefix("http://")
    assert f"{host} does not answer like a Mastodon server" in _text(
        client.get(response["Location"])
    )
    with tenant_context(cast.a.institution.id):
        assert MastodonApp.objects.count() == 0


@pytest.fixture
def callback(cast, client, oauth):
    """A consented authorisation: the callback's path, not yet followed."""
    oauth["mastodon"].signed_in = "errors"
    response = _start(client, cast.a.author, instance=oauth["mastodon"].base_url)
    return consent(continue_url(response))


def _follow(client, path):
    response = client.get(path, follow=True)
    assert response.status_code == 200
    return _text(response)


def _with_state(path: str, state: str) -> str:
    base, query = path.split("?", 1)
    kept = [part for part in query.split("&") if not part.startswith("state=")]
    return f"{base}?{'&'.join(kept)}&{urlencode({'state': state})}"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda state: state[:-3] + ("abc" if not state.endswith("abc") else "xyz"),
        lambda state: "not-a-state",
        lambda state: signing.dumps({"i": 1, "a": 1, "n": "guess"}, salt="other.salt"),
    ],
    ids=["wrong-signature", "garbage", "signed-for-something-else"],
)
def test_a_callback_with_a_wrong_state_connects_nothing(cast, client, callback, untouched, tamper):
    path = _with_state(callback, tamper(state_of(callback)))
    response = client.get(path)
    assert response.status_code == 400
    assert "This authorisation link is not valid" in _text(response)


def test_a_callback_without_a_state_connects_nothing(cast, client, callback, untouched):
    path = callback.split("?", 1)[0] + "?code=abc"
    response = client.get(path)
    assert response.status_code == 400
    assert "This authorisation link is not valid" in _text(response)


def test_an_expired_state_connects_nothing(cast, client, callback, untouched, monkeypatch):
    monkeypatch.setattr(services, "STATE_SECONDS", -1)
    assert "took too long and has expired" in _follow(client, callback)


def test_a_state_is_used_once(cast, client, callback, oauth):
    assert "connected" in _follow(client, callback)
    before = audit_verbs(cast.a.institution)
    assert "This authorisation link is not valid" in _follow(client, callback)
    assert len(accounts_of(cast.a.institution)) == 1
    assert audit_verbs(cast.a.institution) == before


def test_a_state_belongs_to_the_member_who_started(cast, client, callback, untouched):
    client.force_login(cast.a.author2.user)
    assert "This authorisation link is not valid" in _follow(client, callback)


def test_a_reused_code_is_refused_by_the_network(cast, client, oauth, callback):
    assert "connected" in _follow(client, callback)
    before, accounts = audit_verbs(cast.a.institution), accounts_of(cast.a.institution)
    fresh = consent(
        continue_url(_start(client, cast.a.author, instance=oauth["mastodon"].base_url))
    )
    old_code = callback.split("code=", 1)[1].split("&", 1)[0]
    new_code = fresh.split("code=", 1)[1].split("&", 1)[0]
    page = _follow(client, fresh.replace(new_code, old_code))
    assert "the authorisation code was already used or has expired" in page
    assert accounts_of(cast.a.institution) == accounts
    assert audit_verbs(cast.a.institution) == before


def test_a_revoked_app_is_refused_and_registered_again_next_time(
    cast, client, oauth, callback, untouched
):
    mastodon = oauth["mastodon"]
    with tenant_context(cast.a.institution.id):
        app = MastodonApp.objects.get()
    mastodon.revoke_app(app.client_id)
    page = _follow(client, callback)
    assert "no longer accepts Podium's app" in page
    with tenant_context(cast.a.institution.id):
        assert MastodonApp.objects.count() == 0
    _start(client, cast.a.author, instance=mastodon.base_url)
    with tenant_context(cast.a.institution.id):
        assert MastodonApp.objects.get().client_id != app.client_id
