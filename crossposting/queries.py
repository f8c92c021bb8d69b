"""Reads of deliveries that the web pages and the API share (no side effects)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from crossposting.models import Delivery, DeliveryAttempt, DeliveryState, NetworkAccount
from feeds.models import Post

S = DeliveryState
# What the dashboard lists: deliveries a person should look at.
ATTENTION_STATES = (S.FAILED, S.HELD, S.NEEDS_REAUTHORISATION)


def deliveries_of_post(post: Post) -> QuerySet[Delivery]:
    """Every delivery of one post, with its account and its attempts (newest first)."""
    return (
        Delivery.objects.filter(post=post)
        .select_related("account", "revision")
        .prefetch_related(
            Prefetch("attempt_rows", queryset=DeliveryAttempt.objects.order_by("-started_at"))
        )
        .order_by("account__network", "account_id", "revision__number", "kind", "part")
    )


def deliveries(state: str | None = None) -> QuerySet[Delivery]:
    """The institution's deliveries, newest first, optionally in one state."""
    rows = Delivery.objects.select_related("account", "post", "revision").order_by(
        "-updated_at", "-id"
    )
    return rows.filter(state=state) if state else rows


def state_counts() -> dict[str, int]:
    """How many deliveries are in each state."""
    counts = dict.fromkeys(S.values, 0)
    for row in Delivery.objects.values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return counts


def accounts_needing_reauthorisation() -> QuerySet[NetworkAccount]:
    return NetworkAccount.objects.filter(
        status=NetworkAccount.Status.NEEDS_REAUTHORISATION
    ).order_by("network", "handle")
