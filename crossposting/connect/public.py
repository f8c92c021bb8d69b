"""What the public pages show of connected accounts: each account's profile address as a
``rel="me"`` link on its member's profile (the institution's accounts on the institution's page),
so that Mastodon and others can verify the link back. Registered with ``feeds.hooks``; one query
per page rendered (cached pages make none)."""

from __future__ import annotations

from crossposting.models import Network, NetworkAccount


def profile_links(institution_id: int, member_id: int | None) -> list[tuple[str, str]]:
    """(address, text) of the connected accounts of a member (None: the institution's own) that
    have an https profile address. A disconnected account no longer shows; one waiting for
    re-authorisation still does (it is still the member's account)."""
    rows = NetworkAccount.objects.filter(
        institution_id=institution_id, profile_url__startswith="https://"
    ).exclude(status=NetworkAccount.Status.REVOKED)
    if member_id is None:
        rows = rows.filter(member__isnull=True)
    else:
        rows = rows.filter(member_id=member_id)
    return [
        (url, f"{Network(network).label}: {handle}")
        for url, network, handle in rows.order_by("network", "id").values_list(
            "profile_url", "network", "handle"
        )
    ]
