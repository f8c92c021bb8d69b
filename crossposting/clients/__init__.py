"""One thin httpx client per network, all with the same calls and outcome classes (``base``)."""

from __future__ import annotations

from crossposting.clients.base import Account, Copy, NetworkClient, Outcome, Result
from crossposting.clients.bluesky import BlueskyClient
from crossposting.clients.linkedin import LinkedInClient
from crossposting.clients.mastodon import MastodonClient
from crossposting.clients.threads import ThreadsClient
from crossposting.clients.x import XClient

CLIENTS: dict[str, type[NetworkClient]] = {
    "mastodon": MastodonClient,
    "bluesky": BlueskyClient,
    "x": XClient,
    "linkedin": LinkedInClient,
    "threads": ThreadsClient,
}

__all__ = ["CLIENTS", "Account", "Copy", "NetworkClient", "Outcome", "Result", "client_for"]


def client_for(account: Account, *, timeout: float, transport=None) -> NetworkClient:
    """The client of the account's network."""
    return CLIENTS[account.network](account, timeout=timeout, transport=transport)
