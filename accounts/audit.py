"""The audit log: one ``record(...)`` that every service calls in the transaction of its change,
the hash chain that makes the log tamper-evident, its verification and its export.

Each institution has its own chain. An event's hash covers its content and its predecessor's
hash; a changed byte breaks that event's hash, a deleted event leaves a gap in the sequence, and
either is named by ``verify``. Writers of one institution serialise on the chain head (a
transaction-level advisory lock on PostgreSQL; SQLite serialises writers anyway) and the unique
``(institution, sequence)`` constraint makes a fork impossible even without the lock.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import AuditEvent, Membership, User
from accounts.tenancy import tenant_context

GENESIS_HASH = "0" * 64
EXPORT_BATCH = 500
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_request_id: ContextVar[str] = ContextVar("podium_request_id", default="")
_request: ContextVar[HttpRequest | None] = ContextVar("podium_audit_request", default=None)


class NotInTransaction(RuntimeError):
    """``record`` was called outside a transaction: the event could outlive a rolled-back change."""


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Give each request an id (the proxy's ``X-Request-ID`` when well-formed) for the audit log
    and echo it in the response, so an event can be matched to a log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token, request_token = _request_id.set(request_id), _request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
            _request.reset(request_token)
        response["X-Request-ID"] = request_id
        return response


def _request_actor(institution_id: int) -> tuple[Membership | None, User | None]:
    """Who is acting in the running request when a service does not say: the member of this
    institution the request acts as, else an operator signed in to /ops/."""
    request = _request.get()
    if request is None:
        return None, None
    membership = getattr(request, "membership", None)
    if membership is not None and membership.institution_id == institution_id:
        return membership, None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return None, user
    return None, None


def _canonical(value: Any) -> Any:
    """JSON-safe form of a summary value (dates as ISO strings, sets sorted, models as ids)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, default=str))


def _event_hash(event: AuditEvent) -> str:
    content = {
        "institution": event.institution_id,
        "sequence": event.sequence,
        "created_at": event.created_at.astimezone(UTC).isoformat(),
        "actor_kind": event.actor_kind,
        "actor_membership_id": event.actor_membership_id,
        "actor_user_id": event.actor_user_id,
        "actor_label": event.actor_label,
        "verb": event.verb,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
        "previous_hash": event.previous_hash,
    }
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _chain_head(
    institution_id: int, *, subscribed: bool
) -> tuple[tuple[int, str], list[tuple[int, list[str]]] | None]:
    """Lock the institution's chain and read its head (sequence, hash); for a verb webhooks
    carry (``subscribed``), also the active webhook endpoints (else None: not read).

    On PostgreSQL the statements go as one query string, one round trip instead of three; the
    server runs them in order, each with a snapshot of its own, so the head is read after the
    lock is held, as with separate statements. (Django's cursors bind on the client, which
    allows several statements in one string.)
    """
    from accounts import webhooks

    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    ):
        _lock_chain_head(institution_id)
        head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        return head or (0, GENESIS_HASH), None
    sql = [
        "SELECT pg_advisory_xact_lock(%s, %s)",
        f"SELECT sequence, hash FROM {AuditEvent._meta.db_table}"  # noqa: S608 (model's table)
        " WHERE institution_id = %s ORDER BY sequence DESC LIMIT 1",
    ]
    params = [_CHAIN_LOCK, institution_id, institution_id]
    if subscribed:
        endpoints_sql, endpoints_params = webhooks.active_endpoints_statement(institution_id)
        sql.append(endpoints_sql)
        params += endpoints_params
    with connection.cursor() as cursor:
        cursor.execute("; ".join(sql), params)
        cursor.nextset()
        head = cursor.fetchone() or (0, GENESIS_HASH)
        if not subscribed:
            return head, None
        cursor.nextset()
        endpoints = [
            (endpoint_id, json.loads(types) if isinstance(types, str) else types)
            for endpoint_id, types in cursor.fetchall()
        ]
    return head, endpoints


# Namespace 0x504f44 ("POD") keeps the chain's advisory lock apart from any other.
_CHAIN_LOCK = 0x504F44


def _lock_chain_head(institution_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHAIN_LOCK, institution_id])


def record(
    institution_id: int,
    verb: str,
    *,
    actor: Membership | None = None,
    operator: User | None = None,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event to the institution's chain, inside the caller's transaction.

    ``actor`` is the member who acted, ``operator`` an installation operator. Given neither, the
    request's acting member (or operator) is named; outside a request, the system (the sweeper,
    a policy). ``target`` names the object (type and id) unless
    ``object_type``/``object_id`` are given. ``before``/``after`` summarise what changed.
    """
    if not connection.in_atomic_block:
        raise NotInTransaction(f"audit.record({verb!r}) must run inside the change's transaction")
    if actor is None and operator is None:
        actor, operator = _request_actor(institution_id)
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
    if actor is not None:
        kind, label = AuditEvent.ActorKind.MEMBER, f"@{actor.handle}"
    elif operator is not None:
        kind, label = AuditEvent.ActorKind.OPERATOR, operator.email
    else:
        kind, label = AuditEvent.ActorKind.SYSTEM, ""
    # The webhook outbox: events for subscribed endpoints, in this same transaction.
    from accounts import webhooks

    with tenant_context(institution_id):
        head, endpoints = _chain_head(institution_id, subscribed=verb in webhooks.AUDIT_VERBS)
        event = AuditEvent(
            institution_id=institution_id,
            sequence=head[0] + 1,
            created_at=timezone.now(),
            actor_kind=kind,
            actor_membership_id=actor.id if actor is not None else None,
            actor_user_id=(actor.user_id if actor is not None else getattr(operator, "id", None)),
            actor_label=label[:200],
            verb=verb,
            object_type=str(object_type)[:64],
            object_id=str(object_id)[:64],
            before=_canonical(before) if before is not None else None,
            after=_canonical(after) if after is not None else None,
            request_id=current_request_id(),
            previous_hash=head[1],
        )
        event.hash = _event_hash(event)
        event.save(force_insert=True)
        webhooks.emit_for_audit_event(event, endpoints)
        return event


def changes(instance: models.Model, fields: list[str], before: dict) -> tuple[dict, dict]:
    """The fields among ``fields`` whose value differs from ``before``: (before, after) dicts."""
    old, new = {}, {}
    for field in fields:
        value = getattr(instance, field)
        if before.get(field) != value:
            old[field], new[field] = before.get(field), value
    return old, new


def snapshot(instance: models.Model, fields: list[str]) -> dict:
    return {field: getattr(instance, field) for field in fields}


# Verification -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """Result of checking a chain: ``ok``, how many events were checked, and the first problem."""

    ok: bool
    checked: int
    first_bad_sequence: int | None = None
    first_bad_event_id: int | None = None
    problem: str = ""

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_sequence": self.first_bad_sequence,
            "first_bad_event_id": self.first_bad_event_id,
            "problem": self.problem,
        }


def _batches(institution_id: int, **filters: Any) -> Iterator[list[AuditEvent]]:
    """Events in chain order, a short tenant transaction per batch (constant memory, and safe to
    run inside a streamed response after the request's own transaction has ended)."""
    after = 0
    while True:
        with tenant_context(institution_id):
            batch = list(
                AuditEvent.objects.filter(sequence__gt=after, **filters).order_by("sequence")[
                    :EXPORT_BATCH
                ]
            )
        if not batch:
            return
        yield batch
        after = batch[-1].sequence


def verify(institution_id: int) -> Verification:
    """Walk the institution's chain and name the first event that does not fit."""
    expected_sequence, previous_hash, checked = 1, GENESIS_HASH, 0
    for batch in _batches(institution_id):
        for event in batch:
            if event.sequence != expected_sequence:
                return Verification(
                    False,
                    checked,
                    expected_sequence,
                    event.id,
                    f"Event {expected_sequence} is missing: the chain jumps from "
                    f"{expected_sequence - 1} to {event.sequence}.",
                )
            if event.previous_hash != previous_hash:
                return Verification(
                    False,
                    checked,
                    event.sequence,
                    event.id,
                    f"Event {event.sequence} does not point at the hash of event "
                    f"{event.sequence - 1}.",
                )
            if _event_hash(event) != event.hash:
                return Verification(
                    False,
                    checked,
                    event.sequence,
                    event.id,
                    f"Event {event.sequence} was changed after it was written: its content no "
                    "longer matches its hash.",
                )
            previous_hash, expected_sequence, checked = event.hash, event.sequence + 1, checked + 1
    return Verification(True, checked)


# Export -----------------------------------------------------------------------------------------

EXPORT_FIELDS = (
    "sequence",
    "created_at",
    "actor_kind",
    "actor_membership_id",
    "actor_user_id",
    "actor_label",
    "verb",
    "object_type",
    "object_id",
    "before",
    "after",
    "request_id",
    "previous_hash",
    "hash",
)


def event_as_dict(event: AuditEvent) -> dict:
    row = {field: getattr(event, field) for field in EXPORT_FIELDS}
    row["created_at"] = event.created_at.astimezone(UTC).isoformat()
    return row


def export_json_lines(institution_id: int, **filters: Any) -> Iterator[str]:
    """The chain as JSON Lines, one event a line, in order (streamed in batches)."""
    for batch in _batches(institution_id, **filters):
        yield "".join(
            json.dumps(event_as_dict(event), ensure_ascii=False, sort_keys=True) + "\n"
            for event in batch
        )


def export_csv(institution_id: int, **filters: Any) -> Iterator[str]:
    """The chain as CSV with a header row; before/after as JSON in their cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    for batch in _batches(institution_id, **filters):
        for event in batch:
            row = event_as_dict(event)
            for field in ("before", "after"):
                row[field] = "" if row[field] is None else json.dumps(row[field], sort_keys=True)
            writer.writerow([_csv_safe(row[field]) for field in EXPORT_FIELDS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas (a cell starting with = + - @) in exported text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def latest_events(institution_id: int) -> models.QuerySet[AuditEvent]:
    """The institution's events, newest first (the caller must be in its tenant context)."""
    return AuditEvent.objects.filter(institution_id=institution_id).order_by("-sequence")
