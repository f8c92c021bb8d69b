"""Sending deliveries: claim with a lease, call the network with no transaction open, record.

``deliver`` is three steps, each safe to repeat and to interrupt at any point:

1. ``claim``: one conditional UPDATE moves the delivery to ``sending`` with a lease in our name
   (0 rows: another worker has it, or it is not due: do nothing). In the same transaction it
   settles what needs no network: a held institution, a retracted post, a copy not yet sent that
   this delivery needs, an account without access, a rate budget spent.
2. ``perform``: the network call(s), outside any transaction. A delivery that may already have
   reached the network (``unconfirmed``) is looked up first and resent only when the network
   proves it has no copy, or when a resend cannot duplicate (Mastodon's key, Bluesky's rkey).
3. ``record``: a second transaction writes the attempt, the outcome and the audit event, if the
   lease is still ours; otherwise only the attempt (the sweeper has already made it ``unknown``).

The sweeper (``sweep_institution``, every minute) turns expired leases into ``unknown``, holds
deliveries of paused institutions, and enqueues whatever is due; lost messages, a Redis restart
and long back-offs all end there.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from accounts.tenancy import tenant_context
from crossposting import credentials, lifecycle
from crossposting.clients import Account, Copy, Outcome, Result, client_for
from crossposting.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryState,
    NetworkAccount,
)

log = logging.getLogger(__name__)
S = DeliveryState
K = DeliveryKind
# Retries sooner than this go back to the broker with a countdown; later ones wait for the sweeper.
SHORT_DELAY = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=30)
AUDIT_VERBS = {
    K.CREATE: "delivery.send",
    K.CORRECTION_REPLY: "delivery.send",
    K.EDIT: "delivery.edit",
    K.DELETE: "delivery.delete",
}
# Test seam: an httpx transport for every client (None: real sockets).
TRANSPORT = None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# Rate budgets (Redis through the cache; the database keeps the visible copy) --------------------


def _budget_key(account_id: int) -> str:
    return f"crossposting:budget:{account_id}"


def budget_blocked_until(account_id: int) -> datetime | None:
    """When the account may call its network again, if its budget is spent (Redis down: never)."""
    try:
        value = cache.get(_budget_key(account_id))
    except Exception:
        return None
    if not value:
        return None
    until = datetime.fromtimestamp(float(value), tz=UTC)
    return until if until > timezone.now() else None


def block_budget(account_id: int, until: datetime) -> None:
    seconds = (until - timezone.now()).total_seconds()
    if seconds <= 0:
        return
    try:
        cache.set(_budget_key(account_id), until.timestamp(), timeout=int(seconds) + 1)
    except Exception:
        log.warning("rate budget of account %s not stored", account_id)


def _backoff(attempts: int) -> timedelta:
    """Exponential back-off with full jitter."""
    base = settings.PODIUM_DELIVERY_BACKOFF_SECONDS
    ceiling = min(MAX_BACKOFF.total_seconds(), base * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 (jitter)


# Step 1: claim ----------------------------------------------------------------------------------


@dataclass
class Claim:
    delivery_id: int
    institution_id: int
    owner: str
    kind: str
    payload: dict
    key: str
    progress: dict
    unconfirmed: bool
    account: Account
    credentials_version: int
    copy: Copy | None
    first_try_at: datetime | None
    # Only look the copy up; never send (the post was retracted or the institution paused).
    lookup_only: bool = False
    attempts: int = 0
    started_at: datetime = field(default_factory=timezone.now)


def _settle(
    delivery: Delivery,
    verb: str,
    *,
    kind: str,
    message: str,
    at: datetime,
    until: datetime | None = None,
) -> None:
    """Move a claimed delivery on without a network call."""
    lifecycle.transition(delivery, verb)
    delivery.lease_until, delivery.lease_owner = None, ""
    delivery.last_error_kind, delivery.last_error = kind, message
    delivery.updated_at = at
    if until is not None:
        delivery.next_attempt_at = until
    delivery.save()
    if verb in ("cancel", "reauthorise", "hold"):
        audit.record(
            delivery.institution_id,
            f"delivery.{verb}",
            target=delivery,
            after={"state": delivery.state, "reason": message},
        )
    if verb == "defer" and until is not None and until - at <= SHORT_DELAY:
        _enqueue_later(delivery, until - at)


def claim(
    delivery_id: int, institution_id: int, owner: str, now: datetime | None = None
) -> Claim | None:
    """Take the delivery for one try, or settle it without the network; None: nothing to send."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.PODIUM_DELIVERY_LEASE_SECONDS)
    with tenant_context(institution_id):
        taken = Delivery.objects.filter(
            id=delivery_id, state__in=lifecycle.sources("claim"), next_attempt_at__lte=now
        ).update(
            state=lifecycle.target("claim"),
            lease_until=now + lease,
            lease_owner=owner,
            updated_at=now,
        )
        if not taken:
            return None
        delivery = Delivery.objects.select_related(
            "account", "post", "post__institution", "depends_on"
        ).get(id=delivery_id)
        post, account = delivery.post, delivery.account
        sends_text = delivery.kind != K.DELETE
        lookup_only = False
        if sends_text and post.retracted_at is not None:
            if not delivery.unconfirmed:
                _settle(
                    delivery,
                    "cancel",
                    kind="retracted",
                    at=now,
                    message=_("The post was retracted before this was sent."),
                )
                return None
            lookup_only = True
        if post.institution.publishing_paused and delivery.kind != K.DELETE:
            if not delivery.unconfirmed:
                _settle(
                    delivery,
                    "hold",
                    kind="paused",
                    at=now,
                    message=_("Publishing is paused for the institution."),
                )
                return None
            lookup_only = True
        if account.status != NetworkAccount.Status.ACTIVE:
            _settle(
                delivery,
                "reauthorise",
                kind="account",
                at=now,
                message=account.status_reason or _("The account must be connected again."),
            )
            return None
        copy = None
        needed = delivery.depends_on
        if needed is not None:
            if needed.state in (S.FAILED, S.CANCELLED):
                _settle(
                    delivery,
                    "cancel",
                    kind="no_copy",
                    at=now,
                    message=_("There is no copy to act on: it was never posted."),
                )
                return None
            if needed.state != S.SENT:
                _settle(
                    delivery,
                    "defer",
                    kind="waiting",
                    at=now,
                    until=now + timedelta(seconds=2),
                    message=_("Waiting for the copy it acts on."),
                )
                return None
            copy = Copy(needed.remote_id, needed.remote_url, dict(needed.remote))
        blocked = budget_blocked_until(account.id)
        if account.rate_limited_until and account.rate_limited_until > now:
            blocked = max(blocked or now, account.rate_limited_until)
        if blocked and not lookup_only:
            _settle(
                delivery,
                "defer",
                kind="rate_limited",
                at=now,
                until=blocked,
                message=_("Waiting for the network's rate limit to reset."),
            )
            return None
        first = None
        if delivery.unconfirmed:  # a lookup searches from shortly before the first try
            first = (
                DeliveryAttempt.objects.filter(delivery=delivery)
                .order_by("started_at")
                .values_list("started_at", flat=True)
                .first()
            ) or delivery.created_at
        return Claim(
            delivery_id=delivery.id,
            institution_id=institution_id,
            owner=owner,
            kind=delivery.kind,
            payload=delivery.payload,
            key=delivery.idempotency_key,
            progress=dict(delivery.progress),
            unconfirmed=delivery.unconfirmed,
            account=Account(
                id=account.id,
                institution_id=institution_id,
                network=account.network,
                handle=account.handle,
                base_url=account.base_url,
                remote_user_id=account.remote_user_id,
                credentials=credentials.unseal(institution_id, account.id, account.credentials),
            ),
            credentials_version=account.credentials_version,
            copy=copy,
            first_try_at=first,
            lookup_only=lookup_only,
            attempts=delivery.attempts,
            started_at=now,
        )


# Step 2: perform (no transaction open) ----------------------------------------------------------


def _remember(claim: Claim):
    def remember(progress: dict) -> None:
        """Keep what a multi-step send has done (a Threads container) before the next step."""
        claim.progress.update(progress)
        with tenant_context(claim.institution_id):
            Delivery.objects.filter(
                id=claim.delivery_id, state=S.SENDING, lease_owner=claim.owner
            ).update(progress=claim.progress)

    return remember


def _store_credentials(claim: Claim, fresh: dict) -> dict:
    """Compare-and-swap the refreshed credentials; if another worker refreshed first, use theirs."""
    with tenant_context(claim.institution_id):
        sealed = credentials.seal(claim.institution_id, claim.account.id, fresh)
        stored = NetworkAccount.objects.filter(
            id=claim.account.id, credentials_version=claim.credentials_version
        ).update(
            credentials=sealed,
            credentials_version=claim.credentials_version + 1,
            updated_at=timezone.now(),
        )
        if stored:
            claim.credentials_version += 1
            return fresh
        account = NetworkAccount.objects.get(id=claim.account.id)
        claim.credentials_version = account.credentials_version
        return credentials.unseal(claim.institution_id, account.id, account.credentials)


def _call(claim: Claim, client) -> Outcome:
    if claim.kind == K.DELETE:
        return client.delete(copy=claim.copy)
    if claim.kind == K.EDIT:
        return client.edit(claim.payload, copy=claim.copy, key=claim.key)
    return client.create(
        claim.payload,
        key=claim.key,
        reply_to=claim.copy,
        progress=claim.progress,
        remember=_remember(claim),
    )


def perform(claim: Claim) -> Outcome:
    """Reconcile if needed, then call the network; refresh the token once if it was refused."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("A network call must not run inside a database transaction")
    original = dict(claim.account.credentials)
    with client_for(
        claim.account, timeout=settings.PODIUM_NETWORK_TIMEOUT, transport=TRANSPORT
    ) as client:
        refreshed = False
        while True:
            outcome = _attempt(claim, client)
            if outcome.result != Result.AUTH or refreshed:
                break
            refreshed = True
            fresh = client.refresh()
            if fresh is None:
                break
            client.account.credentials = _store_credentials(claim, fresh)
            original = dict(client.account.credentials)
        if client.account.credentials != original:  # a session opened on the way (Bluesky)
            client.account.credentials = _store_credentials(claim, client.account.credentials)
    return outcome


def _attempt(claim: Claim, client) -> Outcome:
    if claim.unconfirmed and claim.kind in (K.CREATE, K.CORRECTION_REPLY):
        found = client.find(
            claim.payload,
            key=claim.key,
            progress=claim.progress,
            since=claim.first_try_at,
            may_resend=not claim.lookup_only,
        )
        if found.result == Result.SENT:
            found.summary = f"found on the network: {found.summary}"
            return found
        if claim.lookup_only:
            if found.result == Result.ABSENT:
                return found
            if found.result == Result.SAFE_TO_RESEND:
                return Outcome(
                    Result.UNKNOWN,
                    summary=found.summary,
                    message=_("The network cannot say whether it holds a copy."),
                )
        if found.result not in (Result.ABSENT, Result.SAFE_TO_RESEND):
            return found
        if found.result == Result.ABSENT:
            claim.progress.pop("container_id", None)
    return _call(claim, client)


# Step 3: record ---------------------------------------------------------------------------------


def record(claim: Claim, outcome: Outcome, ended_at: datetime | None = None) -> str:
    """Write the attempt and move the delivery on, if the lease is still ours. Returns the state."""
    ended_at = ended_at or timezone.now()
    with tenant_context(claim.institution_id):
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(id=claim.delivery_id)
        )
        DeliveryAttempt.objects.create(
            institution_id=claim.institution_id,
            delivery=delivery,
            started_at=claim.started_at,
            ended_at=ended_at,
            outcome=str(outcome.result),
            status_code=outcome.status_code,
            response_summary=outcome.summary[:2000],
            error=outcome.message[:2000],
            worker=claim.owner[:100],
        )
        if delivery.state != S.SENDING or delivery.lease_owner != claim.owner:
            # The lease ran out and the sweeper took the delivery back: the next try looks up
            # whatever this one did.
            return delivery.state
        _apply(delivery, claim, outcome, ended_at)
        return delivery.state


def _apply(delivery: Delivery, claim: Claim, outcome: Outcome, now: datetime) -> None:
    account = delivery.account
    before = {"state": S.SENDING, "attempts": delivery.attempts}
    delivery.attempts += 1
    delivery.lease_until, delivery.lease_owner = None, ""
    delivery.updated_at = now
    delivery.progress = claim.progress
    if outcome.remaining == 0 and outcome.reset_at:
        block_budget(account.id, outcome.reset_at)
    result = outcome.result
    max_attempts = settings.PODIUM_DELIVERY_MAX_ATTEMPTS
    verb = {
        Result.SENT: "sent",
        Result.FAILED: "fail",
        Result.AUTH: "reauthorise",
        Result.RATE_LIMITED: "defer",
        Result.RETRY: "defer",
        Result.UNKNOWN: "unknown",
        Result.ABSENT: "cancel",
        Result.SAFE_TO_RESEND: "unknown",
    }[result]
    message = outcome.message
    if result == Result.ABSENT:  # a lookup for a retracted post or paused institution
        verb = "cancel" if delivery.post.retracted_at is not None else "hold"
        delivery.unconfirmed = False
        message = _("The network holds no copy.")
    if verb in ("defer", "unknown") and delivery.attempts >= max_attempts:
        verb = "fail"
        message = _("Gave up after %(count)s tries. Last error: %(error)s") % {
            "count": delivery.attempts,
            "error": outcome.message or outcome.summary,
        }
    lifecycle.transition(delivery, verb)
    if verb == "sent":
        delivery.remote_id = outcome.remote_id or delivery.remote_id
        delivery.remote_url = outcome.remote_url or delivery.remote_url
        delivery.remote = outcome.remote or delivery.remote
        delivery.sent_at = now
        delivery.unconfirmed = False
        delivery.last_error_kind = delivery.last_error = ""
    else:
        delivery.last_error_kind = str(result)
        delivery.last_error = message or outcome.summary
    if verb == "defer":
        until = outcome.until if result == Result.RATE_LIMITED else None
        delivery.next_attempt_at = until or now + _backoff(delivery.attempts)
        if result == Result.RATE_LIMITED and until:
            account.rate_limited_until = until
            account.save(update_fields=["rate_limited_until"])
            block_budget(account.id, until)
        elif result == Result.RETRY:  # the server is unreachable: spare its other deliveries
            block_budget(account.id, delivery.next_attempt_at)
    if verb == "unknown":
        delivery.unconfirmed = True
        delivery.next_attempt_at = now + timedelta(seconds=random.uniform(0.5, 2.0))  # noqa: S311
    if verb == "reauthorise":
        NetworkAccount.objects.filter(id=account.id, status=NetworkAccount.Status.ACTIVE).update(
            status=NetworkAccount.Status.NEEDS_REAUTHORISATION,
            status_reason=message[:1000],
            updated_at=now,
        )
        audit.record(
            delivery.institution_id,
            "network_account.needs_reauthorisation",
            target=account,
            after={"reason": message[:500]},
        )
    delivery.save()
    audit.record(
        delivery.institution_id,
        AUDIT_VERBS[delivery.kind] if verb == "sent" else f"delivery.{verb}",
        target=delivery,
        before=before,
        after={
            "state": delivery.state,
            "outcome": str(result),
            "remote_id": delivery.remote_id,
            "error": delivery.last_error[:500],
        },
    )
    if delivery.state in (S.PENDING, S.UNKNOWN):
        wait = delivery.next_attempt_at - now
        if wait <= SHORT_DELAY:
            _enqueue_later(delivery, wait)
    if verb == "sent":
        _enqueue_dependants(delivery)


def _enqueue_later(delivery: Delivery, wait: timedelta) -> None:
    """Hand the delivery to the broker after the commit; the sweeper leaves it alone meanwhile."""
    from crossposting.tasks import deliver

    delivery_id, institution_id = delivery.id, delivery.institution_id
    seconds = max(wait.total_seconds(), 0.0)
    Delivery.objects.filter(id=delivery_id).update(enqueued_at=timezone.now() + wait)

    def send() -> None:
        try:
            deliver.apply_async(
                args=[delivery_id], kwargs={"institution_id": institution_id}, countdown=seconds
            )
        except Exception:
            log.warning("delivery %s not enqueued; the sweeper will", delivery_id)

    transaction.on_commit(send)


def _enqueue_dependants(delivery: Delivery) -> None:
    """The next part of a thread, or an edit or delete waiting for this copy, may go now."""
    waiting = list(
        Delivery.objects.filter(depends_on=delivery, state=S.PENDING).values_list("id", flat=True)
    )
    if waiting:
        Delivery.objects.filter(id__in=waiting).update(next_attempt_at=timezone.now())
        for dependant in Delivery.objects.filter(id__in=waiting):
            _enqueue_later(dependant, timedelta(0))


# The whole try, as the task runs it -------------------------------------------------------------


def deliver(delivery_id: int, institution_id: int, owner: str | None = None) -> str:
    """Claim, send and record one delivery; returns what happened (for logs and tests)."""
    owner = owner or worker_name()
    taken = claim(delivery_id, institution_id, owner)
    if taken is None:
        return "not claimed"
    try:
        outcome = perform(taken)
    except Exception as error:
        log.exception("delivery %s: unexpected error", delivery_id)
        outcome = Outcome(
            Result.UNKNOWN,
            summary=repr(error)[:500],
            message=_("An unexpected error occurred while sending."),
        )
    return record(taken, outcome)


# The sweeper ------------------------------------------------------------------------------------


def sweep_institution(
    institution_id: int, now: datetime | None = None, *, enqueue: bool = True
) -> dict[str, int]:
    """Reclaim expired leases, hold or release for the pause, and enqueue what is due."""
    from accounts.models import Institution
    from crossposting.tasks import deliver

    now = now or timezone.now()
    counts = {}
    with tenant_context(institution_id):
        institution = Institution.objects.get(id=institution_id)
        counts["expired"] = Delivery.objects.filter(
            state__in=lifecycle.sources("expire"), lease_until__lt=now
        ).update(
            state=lifecycle.target("expire"),
            unconfirmed=True,
            lease_until=None,
            lease_owner="",
            last_error_kind="lease_expired",
            enqueued_at=None,  # its message died with the worker: send another now
            next_attempt_at=now,
            last_error=_("The worker stopped before recording the answer; checking."),
            updated_at=now,
        )
        if institution.publishing_paused:
            counts["held"] = (
                Delivery.objects.filter(state__in=(S.PENDING,), unconfirmed=False)
                .exclude(kind=K.DELETE)
                .update(
                    state=lifecycle.target("hold"),
                    updated_at=now,
                    last_error_kind="paused",
                    last_error=_("Publishing is paused for the institution."),
                )
            )
        else:
            counts["released"] = Delivery.objects.filter(
                state__in=lifecycle.sources("release")
            ).update(
                state=lifecycle.target("release"),
                next_attempt_at=now,
                updated_at=now,
                last_error_kind="",
                last_error="",
            )
        counts["cancelled"] = (
            Delivery.objects.filter(
                state__in=(S.PENDING, S.HELD), post__retracted_at__isnull=False, unconfirmed=False
            )
            .exclude(kind=K.DELETE)
            .update(
                state=lifecycle.target("cancel"),
                updated_at=now,
                last_error_kind="retracted",
                last_error=_("The post was retracted before this was sent."),
            )
        )
        # A message sent this recently may still wait in the broker behind a backlog; older ones
        # are presumed lost (a Redis restart, a purge). Too short a wait floods the queue with
        # duplicates, which the claim turns into no-ops but which still cost a worker's time.
        stale = now - timedelta(seconds=settings.PODIUM_DELIVERY_REENQUEUE_SECONDS)
        # While the broker still holds messages they are not lost, only waiting: resend only
        # what never had one (or whose worker died with it).
        lost = Q(enqueued_at__isnull=True)
        if enqueue and not broker_backlog():
            lost |= Q(enqueued_at__lt=stale)
        due = list(
            Delivery.objects.filter(state__in=(S.PENDING, S.UNKNOWN), next_attempt_at__lte=now)
            .filter(lost)
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:5000]
        )
        if enqueue:
            Delivery.objects.filter(id__in=due).update(enqueued_at=now)
        counts["enqueued"] = len(due) if enqueue else 0

        def send() -> None:
            for delivery_id in due:
                try:
                    deliver.apply_async(
                        args=[delivery_id], kwargs={"institution_id": institution_id}
                    )
                except Exception:
                    log.warning("sweep of institution %s could not enqueue", institution_id)
                    return

        if enqueue:
            transaction.on_commit(send)
    return counts


def broker_backlog() -> int:
    """Messages waiting in the deliveries' queue (0 when the broker cannot say)."""
    from podium.celery import app

    try:
        with app.connection_for_write() as connection:
            declared = connection.default_channel.queue_declare(queue="default", passive=True)
            return int(declared.message_count)
    except Exception:  # no broker, or one that cannot count: presume the messages lost
        return 0
