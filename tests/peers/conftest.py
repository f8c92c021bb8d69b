"""Fixtures of the interoperability tests: the real Bluesky PDS (with its local PLC) and
mastodon-mock, each started once per test session on free loopback ports.

Every test here is marked ``peers``. When the peers are not installed the tests skip with the
install command as the reason; with ``PODIUM_REQUIRE_PEERS=1`` (CI) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.peers.servers import BlueskyPeers, MastodonMock, missing_bluesky, missing_mastodon_mock


def _unavailable(reason: str) -> None:
    if os.environ.get("PODIUM_REQUIRE_PEERS") == "1":
        pytest.fail(f"PODIUM_REQUIRE_PEERS=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _started(peer, missing: Callable[[], str]):
    """The peer, started; a second try on other ports when a port was taken in between."""
    reason = missing()
    if reason:
        _unavailable(reason)
    for _try in range(2):
        try:
            peer.start()
        except RuntimeError as error:
            peer.stop()
            message = str(error)
            if "EADDRINUSE" not in message and "address already in use" not in message:
                break
        else:
            return peer
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def pds() -> Iterator[BlueskyPeers]:
    """A PDS and a PLC directory with fresh data and secrets, for the whole session."""
    peers = BlueskyPeers()
    yield _started(peers, missing_bluesky)
    peers.stop()


@pytest.fixture(scope="session")
def mastodon_mock() -> Iterator[MastodonMock]:
    mock = MastodonMock()
    yield _started(mock, missing_mastodon_mock)
    mock.stop()


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.PODIUM_DELIVERY_BACKOFF_SECONDS = 0.01
    settings.PODIUM_NETWORK_TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    """Deliveries handed to Celery are collected here; the tests run them in-process."""
    from crossposting import tasks

    sent: list[tuple] = []
    monkeypatch.setattr(
        tasks.deliver,
        "apply_async",
        lambda args=(), kwargs=None, **options: sent.append((args, kwargs)),
    )
    return sent
