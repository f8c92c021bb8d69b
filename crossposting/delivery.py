"""Sending deliveries: claim with a lease, call the network with no transaction open, record.

``deliver`` is three steps, each safe to repeat and to interrupt at any point:

1. ``claim``: one conditional UPDATE moves the delivery to ``sending`` with a lease in our name
   and returns what the try needs (0 rows: another worker has it, or it is not due: do
   nothing), in one round trip (``_execute_for``). A second transaction, under the same lease,
   settles what needs no network: a held institution, a retracted post, a copy not yet sent
   that this delivery needs, an account without access, a rate budget spent, a network that
   stalled (one delivery of the account probes it).
2. ``perform``: the network call(s), outside any transaction. A delivery that may already have
   reached the network (``unconfirmed``) is looked up first and resent only when the network
   proves it has no copy, or when a resend cannot duplicate (Mastodon's key, Bluesky's rkey).
3. ``record``: a second transaction writes the attempt and the outcome (one statement on
   PostgreSQL), if the lease is still ours, and the audit event last, so that the institution's
   chain lock is held only until the commit; if the lease is gone, only the attempt (the
   sweeper has already made it ``unknown``).

The sweeper (``sweep_institution``, every minute) turns expired leases into ``unknown``, holds
deliveries of paused institutions, and enqueues whatever is due; lost messages, a Redis restart
and long back-offs all end there.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Institution
from accounts.tenancy import INSTITUTION_SETTING, tenant_context
from crossposting import credentials, lifecycle, queues, token_refresh
from crossposting.clients import Account, Copy, Outcome, Result, client_for
from crossposting.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryState,
    NetworkAccount,
)
from feeds.models import Post

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
DELIVERY_TYPE = Delivery._meta.label_lower
# Test seam: an httpx transport for every client (None: real sockets).
TRANSPORT = None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# Rate budgets and stalls (Redis through the cache; the database keeps the visible copy) --------
#
# A network that stops answering holds a worker slot for the whole network timeout on every try.
# After such a try its account is held back (``_note_stall``), twice as long after each stall in
# a row, and when the time is up one delivery probes the network while the account's others
# wait: a stalled network costs one slot now and then, never the slots of the other networks.


def _budget_key(account_id: int) -> str:
    return f"crossposting:budget:{account_id}"


def _stalls_key(account_id: int) -> str:
    return f"crossposting:stalls:{account_id}"


def _probe_key(account_id: int) -> str:
    return f"crossposting:probe:{account_id}"


@dataclass
class Budget:
    """What Redis says about an account before a try."""

    blocked_until: datetime | None = None
    # Tries in a row that the network left unanswered until the timeout.
    stalls: int = 0


def budget_of(account_id: int) -> Budget:
    """The account's rate budget and stalls, in one round trip (Redis down: no limits)."""
    try:
        values = cache.get_many([_budget_key(account_id), _stalls_key(account_id)])
    except Exception:
        return Budget()
    budget = Budget(stalls=int(values.get(_stalls_key(account_id)) or 0))
    value = values.get(_budget_key(account_id))
    if value:
        until = datetime.fromtimestamp(float(value), tz=UTC)
        budget.blocked_until = until if until > timezone.now() else None
    return budget


def block_budget(account_id: int, until: datetime) -> None:
    seconds = (until - timezone.now()).total_seconds()
    if seconds <= 0:
        return
    try:
        cache.set(_budget_key(account_id), until.timestamp(), timeout=int(seconds) + 1)
    except Exception:
        log.warning("rate budget of account %s not stored", account_id)


def _take_probe(account_id: int) -> bool:
    """After a stall, only one delivery of the account tries the network at a time."""
    try:
        return cache.add(_probe_key(account_id), 1, timeout=int(_network_timeout()) + 5)
    except Exception:
        return True


def _note_stall(account_id: int, stalls: int, now: datetime) -> None:
    """Hold the account back after a try the network left unanswered until the timeout."""
    stalls += 1
    hold = min(MAX_BACKOFF.total_seconds(), _network_timeout() * 2**stalls)
    try:
        cache.set(_stalls_key(account_id), stalls, timeout=int(MAX_BACKOFF.total_seconds()))
        cache.delete(_probe_key(account_id))
    except Exception:
        log.warning("stall of account %s not stored", account_id)
    block_budget(account_id, now + timedelta(seconds=hold))


def _clear_stalls(account_id: int) -> None:
    try:
        cache.delete_many([_stalls_key(account_id), _probe_key(account_id)])
    except Exception:
        log.warning("stalls of account %s not cleared", account_id)


def _network_timeout() -> float:
    return float(settings.PODIUM_NETWORK_TIMEOUT)


def _backoff(attempts: int) -> timedelta:
    """Exponential back-off with full jitter."""
    base = settings.PODIUM_DELIVERY_BACKOFF_SECONDS
    ceiling = min(MAX_BACKOFF.total_seconds(), base * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 (jitter)


# One statement for the institution ------------------------------------------------------------


def _execute_for(institution_id: int, sql: str, params: list) -> tuple | None:
    """Run one statement for the institution (row-level security applies) and return its first
    row, or None.

    Outside a transaction, on PostgreSQL with client-side binding (Django's default), the
    tenant setting and the statement go as one query string, which the server runs as one
    implicit transaction: one round trip where ``tenant_context`` needs four (BEGIN,
    ``set_config``, the statement, COMMIT). Inside a transaction (a service, a test), the
    statement joins it as usual.
    """
    if (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connection.get_autocommit()
        and not connection.settings_dict["OPTIONS"].get("server_side_binding")
    ):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT set_config('{INSTITUTION_SETTING}', %s, true); {sql}",
                [str(institution_id), *params],
            )
            cursor.nextset()
            return cursor.fetchone()
    with tenant_context(institution_id), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


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
    # Where a lookup starts: the delivery's creation, before which no copy can exist. Not the
    # first try's start, which a worker's clock may have put after the network's time of the copy
    # (found by the state test: a lookup from then missed the copy of a retracted post).
    lookup_since: datetime | None
    # Only look the copy up; never send (the post was retracted or the institution paused).
    lookup_only: bool = False
    attempts: int = 0
    started_at: datetime = field(default_factory=timezone.now)
    # The post was retracted when the delivery was claimed: a lookup that finds no copy cancels.
    retracted: bool = False
    # Tries of the account in a row that the network left unanswered (see ``_note_stall``).
    stalls: int = 0


# What a claim reads in the statement that takes the lease, named as ``values()`` names them.
_CLAIMED = (
    "kind",
    "payload",
    "idempotency_key",
    "progress",
    "unconfirmed",
    "attempts",
    "created_at",
    "account_id",
    "account__network",
    "account__handle",
    "account__base_url",
    "account__remote_user_id",
    "account__status",
    "account__status_reason",
    "account__credentials",
    "account__credentials_version",
    "account__rate_limited_until",
    "post__retracted_at",
    "post__institution__publishing_paused",
    "post__institution__slug",
    "depends_on_id",
)
_NEEDED = ("state", "remote_id", "remote_url", "remote")


def _take(delivery_id: int, institution_id: int, owner: str, now: datetime) -> dict | None:
    """Take the lease by a conditional UPDATE and read what the try needs: one statement on
    PostgreSQL (``UPDATE ... FROM ... RETURNING``), an UPDATE and a SELECT elsewhere."""
    lease_until = now + timedelta(seconds=settings.PODIUM_DELIVERY_LEASE_SECONDS)
    if connection.vendor == "postgresql":
        return _take_in_one_statement(delivery_id, institution_id, owner, now, lease_until)
    with tenant_context(institution_id):
        taken = Delivery.objects.filter(
            id=delivery_id, state__in=lifecycle.sources("claim"), next_attempt_at__lte=now
        ).update(
            state=lifecycle.target("claim"),
            lease_until=lease_until,
            lease_owner=owner,
            updated_at=now,
        )
        if not taken:
            return None
        row = (
            Delivery.objects.filter(id=delivery_id)
            .values(*_CLAIMED, *(f"depends_on__{name}" for name in _NEEDED))
            .get()
        )
    needed = [row.pop(f"depends_on__{name}") for name in _NEEDED]
    row["depends_on"] = needed if row["depends_on_id"] is not None else None
    return row


def _take_in_one_statement(
    delivery_id: int, institution_id: int, owner: str, now: datetime, lease_until: datetime
) -> dict | None:
    d, a = Delivery._meta.db_table, NetworkAccount._meta.db_table
    p, i = Post._meta.db_table, Institution._meta.db_table
    sources = lifecycle.sources("claim")
    # Row-level security applies to every table named here, as to the ORM's queries.
    sql = f"""
        UPDATE {d} AS d
        SET state = %s, lease_until = %s, lease_owner = %s, updated_at = %s
        FROM {a} AS a, {p} AS p, {i} AS i
        WHERE d.id = %s AND d.institution_id = %s
          AND d.state IN ({", ".join(["%s"] * len(sources))}) AND d.next_attempt_at <= %s
          AND a.id = d.account_id AND p.id = d.post_id AND i.id = d.institution_id
        RETURNING d.kind, d.payload, d.idempotency_key, d.progress, d.unconfirmed, d.attempts,
          d.created_at, d.account_id, a.network, a.handle, a.base_url, a.remote_user_id,
          a.status, a.status_reason, a.credentials, a.credentials_version,
          a.rate_limited_until, p.retracted_at, i.publishing_paused, i.slug, d.depends_on_id,
          (SELECT jsonb_build_array(n.state, n.remote_id, n.remote_url, n.remote)
             FROM {d} AS n WHERE n.id = d.depends_on_id)
    """  # noqa: S608 (table names from the models; every value is a parameter)
    params = [lifecycle.target("claim"), lease_until, owner, now, delivery_id, institution_id]
    found = _execute_for(institution_id, sql, [*params, *sources, now])
    if found is None:
        return None
    row = dict(zip((*_CLAIMED, "depends_on"), found, strict=True))
    # Django reads jsonb as text and decodes it in the field; a raw cursor must do the same.
    for name in ("payload", "progress", "depends_on"):
        if isinstance(row[name], str):
            row[name] = json.loads(row[name])
    if row["depends_on"] is not None and isinstance(row["depends_on"][3], str):
        row["depends_on"][3] = json.loads(row["depends_on"][3])
    return row


def _settle(
    claim: Claim, verb: str, *, kind: str, message: str, at: datetime, until: datetime | None = None
) -> None:
    """Move a claimed delivery on without a network call."""
    state = lifecycle.move(S.SENDING, verb)
    fields = {
        "state": state,
        "lease_until": None,
        "lease_owner": "",
        "last_error_kind": kind,
        "last_error": message,
        "updated_at": at,
    }
    if until is not None:
        fields["next_attempt_at"] = until
    with tenant_context(claim.institution_id):
        moved = Delivery.objects.filter(
            id=claim.delivery_id, state=S.SENDING, lease_owner=claim.owner
        ).update(**fields)
        if not moved:
            return
        if verb in ("cancel", "reauthorise", "hold"):
            audit.record(
                claim.institution_id,
                f"delivery.{verb}",
                object_type=DELIVERY_TYPE,
                object_id=claim.delivery_id,
                after={"state": state, "reason": message},
            )
        if verb == "defer" and until is not None and until - at <= SHORT_DELAY:
            _enqueue_later(claim, until - at)


def claim(
    delivery_id: int, institution_id: int, owner: str, now: datetime | None = None
) -> Claim | None:
    """Take the delivery for one try, or settle it without the network; None: nothing to send."""
    now = now or timezone.now()
    row = _take(delivery_id, institution_id, owner, now)
    if row is None:
        return None
    unconfirmed, kind = row["unconfirmed"], row["kind"]
    needed = row["depends_on"]
    taken = Claim(
        delivery_id=delivery_id,
        institution_id=institution_id,
        owner=owner,
        kind=kind,
        payload=row["payload"],
        key=row["idempotency_key"],
        progress=dict(row["progress"]),
        unconfirmed=unconfirmed,
        account=Account(
            id=row["account_id"],
            institution_id=institution_id,
            network=row["account__network"],
            handle=row["account__handle"],
            base_url=row["account__base_url"],
            remote_user_id=row["account__remote_user_id"],
            credentials={},
            institution_slug=row["post__institution__slug"],
        ),
        credentials_version=row["account__credentials_version"],
        copy=None,
        lookup_since=row["created_at"] if unconfirmed else None,
        attempts=row["attempts"],
        started_at=now,
        retracted=row["post__retracted_at"] is not None,
    )
    sends_text = kind != K.DELETE
    if sends_text and taken.retracted:
        if not unconfirmed:
            _settle(
                taken,
                "cancel",
                kind="retracted",
                at=now,
                message=_("The post was retracted before this was sent."),
            )
            return None
        taken.lookup_only = True
    if row["post__institution__publishing_paused"] and sends_text:
        if not unconfirmed:
            _settle(
                taken,
                "hold",
                kind="paused",
                at=now,
                message=_("Publishing is paused for the institution."),
            )
            return None
        taken.lookup_only = True
    if row["account__status"] != NetworkAccount.Status.ACTIVE:
        _settle(
            taken,
            "reauthorise",
            kind="account",
            at=now,
            message=row["account__status_reason"] or _("The account must be connected again."),
        )
        return None
    if needed is not None:
        needed_state, remote_id, remote_url, remote = needed
        if needed_state in (S.FAILED, S.CANCELLED):
            _settle(
                taken,
                "cancel",
                kind="no_copy",
                at=now,
                message=_("There is no copy to act on: it was never posted."),
            )
            return None
        if needed_state != S.SENT:
            _settle(
                taken,
                "defer",
                kind="waiting",
                at=now,
                until=now + timedelta(seconds=2),
                message=_("Waiting for the copy it acts on."),
            )
            return None
        taken.copy = Copy(remote_id, remote_url, dict(remote or {}))
    budget = budget_of(taken.account.id)
    blocked, taken.stalls = budget.blocked_until, budget.stalls
    limited = row["account__rate_limited_until"]
    if limited and limited > now:
        blocked = max(blocked or now, limited)
    if not blocked and taken.stalls and not _take_probe(taken.account.id):
        # Another delivery of the account is finding out whether the network answers again.
        blocked = now + timedelta(seconds=_network_timeout())
    if blocked and not taken.lookup_only:
        _settle(
            taken,
            "defer",
            kind="rate_limited",
            at=now,
            until=blocked,
            message=_("Waiting for the network's rate limit to reset."),
        )
        return None
    taken.account.credentials = credentials.unseal(
        institution_id, taken.account.id, row["account__credentials"]
    )
    return taken


# Step 2: perform (no transaction open) ----------------------------------------------------------


def _remember(claim: Claim):
    def remember(progress: dict) -> None:
        """Keep what a multi-step send has done (a Threads container) before the next step."""
        claim.progress.update(progress)
        if connection.vendor != "postgresql":
            with tenant_context(claim.institution_id):
                Delivery.objects.filter(
                    id=claim.delivery_id, state=S.SENDING, lease_owner=claim.owner
                ).update(progress=claim.progress)
            return
        _execute_for(
            claim.institution_id,
            f"UPDATE {Delivery._meta.db_table} SET progress = %s::jsonb"  # noqa: S608 (model name)
            " WHERE id = %s AND institution_id = %s AND state = %s AND lease_owner = %s"
            " RETURNING id",
            [
                json.dumps(claim.progress),
                claim.delivery_id,
                claim.institution_id,
                S.SENDING,
                claim.owner,
            ],
        )

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
            # One refresh per account at a time (rotating refresh tokens): token_refresh.
            fresh, claim.credentials_version = token_refresh.refresh_credentials(
                client, refused_version=claim.credentials_version
            )
            if fresh is None:
                break
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
            since=claim.lookup_since,
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


_VERBS = {
    Result.SENT: "sent",
    Result.FAILED: "fail",
    Result.AUTH: "reauthorise",
    Result.RATE_LIMITED: "defer",
    Result.RETRY: "defer",
    Result.UNKNOWN: "unknown",
    Result.ABSENT: "cancel",
    Result.SAFE_TO_RESEND: "unknown",
}


def _outcome_fields(claim: Claim, outcome: Outcome, now: datetime) -> tuple[str, dict]:
    """The verb the outcome means for the delivery and the fields it writes (no database)."""
    result = outcome.result
    attempts = claim.attempts + 1
    verb, message = _VERBS[result], outcome.message
    fields: dict = {
        "attempts": attempts,
        "lease_until": None,
        "lease_owner": "",
        "updated_at": now,
        "progress": claim.progress,
    }
    if result == Result.ABSENT:  # a lookup for a retracted post or a paused institution
        verb = "cancel" if claim.retracted else "hold"
        fields["unconfirmed"] = False
        message = _("The network holds no copy.")
    if verb in ("defer", "unknown") and attempts >= settings.PODIUM_DELIVERY_MAX_ATTEMPTS:
        verb = "fail"
        message = _("Gave up after %(count)s tries. Last error: %(error)s") % {
            "count": attempts,
            "error": outcome.message or outcome.summary,
        }
    fields["state"] = lifecycle.move(S.SENDING, verb)
    if verb == "sent":
        if outcome.remote_id:
            fields["remote_id"] = outcome.remote_id
        if outcome.remote_url:
            fields["remote_url"] = outcome.remote_url
        if outcome.remote:
            fields["remote"] = outcome.remote
        fields |= {"sent_at": now, "unconfirmed": False, "last_error_kind": "", "last_error": ""}
    else:
        fields["last_error_kind"] = str(result)
        fields["last_error"] = message or outcome.summary
    if verb == "defer":
        until = outcome.until if result == Result.RATE_LIMITED else None
        fields["next_attempt_at"] = until or now + _backoff(attempts)
    if verb == "unknown":
        fields["unconfirmed"] = True
        fields["next_attempt_at"] = now + timedelta(seconds=random.uniform(0.5, 2.0))  # noqa: S311
    return verb, fields


def record(claim: Claim, outcome: Outcome, ended_at: datetime | None = None) -> str:
    """Write the attempt and move the delivery on, if the lease is still ours. Returns the state.

    The audit event is written last, just before the commit: the institution's chain lock is
    held for one insert, not for the whole transaction.
    """
    ended_at = ended_at or timezone.now()
    verb, fields = _outcome_fields(claim, outcome, ended_at)
    attempt = {
        "institution": claim.institution_id,
        "delivery": claim.delivery_id,
        "started_at": claim.started_at,
        "ended_at": ended_at,
        "outcome": str(outcome.result),
        "status_code": outcome.status_code,
        "response_summary": outcome.summary[:2000],
        "error": outcome.message[:2000],
        "worker": claim.owner[:100],
    }
    with tenant_context(claim.institution_id):
        released = None
        if connection.vendor == "postgresql":
            moved, released = _record_in_one_statement(claim, attempt, fields, sent=verb == "sent")
        else:
            DeliveryAttempt.objects.create(
                **{f"{name}_id" if name in _REFERENCES else name: v for name, v in attempt.items()}
            )
            moved = Delivery.objects.filter(
                id=claim.delivery_id, state=S.SENDING, lease_owner=claim.owner
            ).update(**fields)
        if not moved:
            # The lease ran out and the sweeper took the delivery back: the next try looks up
            # whatever this one did.
            return Delivery.objects.values_list("state", flat=True).get(id=claim.delivery_id)
        _after_outcome(claim, outcome, verb, fields, ended_at, released)
        return fields["state"]


# The attempt's references, given as ids.
_REFERENCES = frozenset({"institution", "delivery"})


def _record_in_one_statement(
    claim: Claim, attempt: dict, fields: dict, *, sent: bool
) -> tuple[int, list[tuple[int, str]] | None]:
    """The attempt row and the conditional UPDATE of the delivery in one round trip (a
    data-modifying CTE); returns how many deliveries moved on (0: the lease is gone) and, for a
    copy ``sent``, the deliveries that waited for it, made due in the same statement (what
    ``_enqueue_dependants`` does in two)."""

    def prepared(model, values: dict) -> tuple[list[str], list]:
        columns, params = [], []
        for name, value in values.items():
            field = model._meta.get_field(name)
            columns.append(connection.ops.quote_name(field.column))
            params.append(field.get_db_prep_save(value, connection))
        return columns, params

    set_columns, set_params = prepared(Delivery, fields)
    columns, values = prepared(DeliveryAttempt, attempt)
    table = Delivery._meta.db_table
    released, released_params = "", []
    if sent:
        # Other rows than the one moved (they depend on it): one statement may update both.
        released = f"""
        , released AS (
            UPDATE {table} AS w SET next_attempt_at = %s, enqueued_at = %s
            WHERE w.institution_id = %s AND w.depends_on_id = %s AND w.state = %s
              AND EXISTS (SELECT 1 FROM moved)
            RETURNING w.id, w.network
        )"""  # noqa: S608 (names from the models; every value is a parameter)
        now = timezone.now()
        released_params = [now, now, claim.institution_id, claim.delivery_id, S.PENDING]
    sql = f"""
        WITH moved AS (
            UPDATE {table}
            SET {", ".join(f"{column} = %s" for column in set_columns)}
            WHERE id = %s AND institution_id = %s AND state = %s AND lease_owner = %s
            RETURNING id
        ){released}
        INSERT INTO {DeliveryAttempt._meta.db_table} ({", ".join(columns)})
        VALUES ({", ".join(["%s"] * len(columns))})
        RETURNING (SELECT count(*) FROM moved),
          {"(SELECT json_agg(json_build_array(id, network)) FROM released)" if sent else "NULL"}
    """  # noqa: S608 (names from the models; every value is a parameter)
    where = [claim.delivery_id, claim.institution_id, S.SENDING, claim.owner]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*set_params, *where, *released_params, *values])
        moved, waiting = cursor.fetchone()
    if not sent:
        return moved, None
    if isinstance(waiting, str):
        waiting = json.loads(waiting)
    return moved, [(delivery_id, network) for delivery_id, network in waiting or ()]


def _after_outcome(
    claim: Claim,
    outcome: Outcome,
    verb: str,
    fields: dict,
    now: datetime,
    released: list[tuple[int, str]] | None = None,
) -> None:
    """What an outcome changes beyond its delivery: the account, the broker, the audit log.
    ``released``: the deliveries that waited for this copy, already made due (PostgreSQL)."""
    account_id = claim.account.id
    if outcome.remaining == 0 and outcome.reset_at:
        block_budget(account_id, outcome.reset_at)
    waited = (now - claim.started_at).total_seconds()
    unanswered = outcome.result in (Result.UNKNOWN, Result.RETRY)
    stalled = unanswered and waited >= 0.9 * _network_timeout()
    if stalled:
        _note_stall(account_id, claim.stalls, now)
    elif claim.stalls and outcome.result != Result.UNKNOWN:
        _clear_stalls(account_id)  # the network answers again
    if verb == "defer":
        if outcome.result == Result.RATE_LIMITED and outcome.until:
            NetworkAccount.objects.filter(id=account_id).update(rate_limited_until=outcome.until)
            block_budget(account_id, outcome.until)
        elif outcome.result == Result.RETRY and not stalled:
            # The server is unreachable: spare its other deliveries.
            block_budget(account_id, fields["next_attempt_at"])
    if verb == "reauthorise":
        NetworkAccount.objects.filter(id=account_id, status=NetworkAccount.Status.ACTIVE).update(
            status=NetworkAccount.Status.NEEDS_REAUTHORISATION,
            status_reason=fields["last_error"][:1000],
            updated_at=now,
        )
        audit.record(
            claim.institution_id,
            "network_account.needs_reauthorisation",
            object_type=NetworkAccount._meta.label_lower,
            object_id=account_id,
            after={"reason": fields["last_error"][:500]},
        )
    if fields["state"] in (S.PENDING, S.UNKNOWN):
        wait = fields["next_attempt_at"] - now
        if wait <= SHORT_DELAY:
            _enqueue_later(claim, wait)
    # Always asked, never decided at claim time: a retraction or correction may add a delete or
    # an edit that waits for this copy while the try is on its way (found by the state test).
    if verb == "sent":
        if released is None:
            _enqueue_dependants(claim)
        elif released:
            transaction.on_commit(lambda: _send(released, claim.institution_id))
    audit.record(
        claim.institution_id,
        AUDIT_VERBS[claim.kind] if verb == "sent" else f"delivery.{verb}",
        object_type=DELIVERY_TYPE,
        object_id=claim.delivery_id,
        before={"state": S.SENDING, "attempts": claim.attempts},
        after={
            "state": fields["state"],
            "outcome": str(outcome.result),
            "remote_id": fields.get("remote_id", ""),
            "error": fields["last_error"][:500],
        },
    )


def _enqueue_later(claim: Claim, wait: timedelta) -> None:
    """Hand the delivery to the broker after the commit; the sweeper leaves it alone meanwhile."""
    delivery_id, institution_id = claim.delivery_id, claim.institution_id
    network, seconds = claim.account.network, max(wait.total_seconds(), 0.0)
    Delivery.objects.filter(id=delivery_id).update(enqueued_at=timezone.now() + wait)
    transaction.on_commit(lambda: queues.enqueue(delivery_id, institution_id, network, seconds))


def _enqueue_dependants(claim: Claim) -> None:
    """The next part of a thread, or an edit or delete waiting for this copy, may go now."""
    now = timezone.now()
    waiting = list(
        Delivery.objects.filter(depends_on_id=claim.delivery_id, state=S.PENDING).values_list(
            "id", "network"
        )
    )
    if waiting:
        Delivery.objects.filter(id__in=[i for i, _n in waiting]).update(
            next_attempt_at=now, enqueued_at=now
        )
        transaction.on_commit(lambda: _send(waiting, claim.institution_id))


def _send(deliveries: list[tuple[int, str]], institution_id: int) -> None:
    for delivery_id, network in deliveries:
        if not queues.enqueue(delivery_id, institution_id, network):
            return


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
        # While a network's queue still holds messages they are not lost, only waiting: resend
        # only what never had one (or whose worker died with it).
        lost = Q(enqueued_at__isnull=True)
        if enqueue:
            waiting = queues.backlog()
            idle = [network for network, count in waiting.items() if not count]
            lost |= Q(enqueued_at__lt=stale, network__in=idle)
        due = list(
            Delivery.objects.filter(state__in=(S.PENDING, S.UNKNOWN), next_attempt_at__lte=now)
            .filter(lost)
            .order_by("next_attempt_at")
            .values_list("id", "network")[:5000]
        )
        if enqueue:
            Delivery.objects.filter(id__in=[i for i, _n in due]).update(enqueued_at=now)
            transaction.on_commit(lambda: _send(due, institution_id))
        counts["enqueued"] = len(due) if enqueue else 0
    return counts
