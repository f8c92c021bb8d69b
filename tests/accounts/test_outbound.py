"""Lookups of typed addresses stay on the machine in tests (accounts.outbound)."""

import socket

import pytest

from accounts import outbound
from crossposting.connect.addresses import checked_server_url
from crossposting.connect.errors import ServerUnreachable


def test_a_name_off_loopback_fails_as_unknown_without_a_query(monkeypatch):
    asked = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: asked.append(args) or [])
    with pytest.raises(socket.gaierror):
        outbound.lookup("mastodon.social", 443)
    assert asked == []


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_loopback_names_and_literals_are_looked_up(host):
    addresses = {info[4][0] for info in outbound.lookup(host, 80)}
    assert addresses and all(a in {"127.0.0.1", "::1"} for a in addresses)


def test_a_server_address_off_loopback_is_refused_as_unreachable(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("a query was sent"))
    with pytest.raises(ServerUnreachable, match=r"There is no server at bsky\.social"):
        checked_server_url("https://bsky.social")
