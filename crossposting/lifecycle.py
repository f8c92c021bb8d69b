"""The delivery lifecycle: one table of allowed transitions, and the one function that applies them.

::

    pending --claim--> sending --sent--> sent
       ^                  |----fail----> failed --retry--> pending
       |                  |--unknown---> unknown --claim--> sending (look the copy up first)
       +-----defer--------|--reauthorise-> needs_reauthorisation --retry--> pending
                          |--expire (lease ran out, sweeper)--> unknown
    pending/needs_reauthorisation/sending --hold--> held --release--> pending
    pending/held/needs_reauthorisation/sending --cancel--> cancelled

``defer`` covers rate limits, transient errors, a previous part not yet sent and a lookup that
proved the network holds no copy: the delivery waits for ``next_attempt_at``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError
from crossposting.models import Delivery, DeliveryState

S = DeliveryState

# verb -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "claim": (frozenset({S.PENDING, S.UNKNOWN}), S.SENDING),
    "sent": (frozenset({S.SENDING}), S.SENT),
    "fail": (frozenset({S.SENDING}), S.FAILED),
    "unknown": (frozenset({S.SENDING}), S.UNKNOWN),
    "expire": (frozenset({S.SENDING}), S.UNKNOWN),
    "defer": (frozenset({S.SENDING}), S.PENDING),
    "reauthorise": (frozenset({S.SENDING}), S.NEEDS_REAUTHORISATION),
    "hold": (frozenset({S.PENDING, S.NEEDS_REAUTHORISATION, S.SENDING}), S.HELD),
    "release": (frozenset({S.HELD}), S.PENDING),
    "cancel": (frozenset({S.PENDING, S.HELD, S.NEEDS_REAUTHORISATION, S.SENDING}), S.CANCELLED),
    "retry": (frozenset({S.FAILED, S.NEEDS_REAUTHORISATION}), S.PENDING),
}

# States in which the network may still get a call for the delivery.
OPEN_STATES = frozenset({S.PENDING, S.SENDING, S.UNKNOWN, S.HELD, S.NEEDS_REAUTHORISATION})
FINAL_STATES = frozenset({S.SENT, S.FAILED, S.CANCELLED})


class IllegalTransition(DomainError):
    status = 409
    code = "illegal_transition"


_MESSAGES = {
    "retry": _("Only failed deliveries and those waiting for re-authorisation can be retried."),
}


def can(delivery: Delivery, verb: str) -> bool:
    """Whether the verb is allowed on the delivery in its present state."""
    return delivery.state in TRANSITIONS[verb][0]


def sources(verb: str) -> list[str]:
    """The states a verb may start from, for conditional updates (``state__in``)."""
    return sorted(TRANSITIONS[verb][0])


def target(verb: str) -> str:
    return TRANSITIONS[verb][1]


def transition(delivery: Delivery, verb: str) -> None:
    """Move the delivery along an allowed edge, or raise IllegalTransition."""
    if not can(delivery, verb):
        raise IllegalTransition(
            _MESSAGES.get(verb) or _("This is not possible for a delivery in its present state.")
        )
    delivery.state = TRANSITIONS[verb][1]


def move(state: str, verb: str) -> str:
    """The state the verb leads to from ``state``, or IllegalTransition (for conditional updates
    that write the new state without loading the row)."""
    if state not in TRANSITIONS[verb][0]:
        raise IllegalTransition(
            _MESSAGES.get(verb) or _("This is not possible for a delivery in its present state.")
        )
    return TRANSITIONS[verb][1]


def _check_table() -> None:
    """Validate the table at import: every state named exists, every state is reachable, and
    every state that is not final has a way out."""
    states = set(DeliveryState.values)
    reached = {S.PENDING}
    leaving: set[str] = set()
    for verb, (starts, end) in TRANSITIONS.items():
        unknown = (set(starts) | {end}) - states
        if unknown:
            raise ValueError(f"Transition {verb} names unknown states {unknown}")
        reached.add(end)
        leaving |= set(starts)
    if reached != states:
        raise ValueError(f"States never reached: {states - reached}")
    stuck = states - leaving - FINAL_STATES
    if stuck:
        raise ValueError(f"States with no way out: {stuck}")
    if states != (OPEN_STATES | FINAL_STATES) or OPEN_STATES & FINAL_STATES:
        raise ValueError("Every state is either open or final")


_check_table()
