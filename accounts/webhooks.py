"""Webhooks: endpoints and their secrets, the outbox of events, signed delivery, the SSRF guard.

An institution's administrators register endpoints and choose event types. ``audit.record``
calls ``emit_for_audit_event`` in the transaction of every change, which writes one outbox row
(``WebhookEvent``) per subscribed endpoint: a committed change always has its events, a rolled
back one never. Delivery follows the Standard Webhooks scheme (``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``)
in three steps, like cross-posting's deliveries: claim the row with a lease, POST with no
transaction open, record the attempt and the outcome. Failures back off exponentially; the
sweeper picks up what is due and what a lost message left behind. An endpoint that keeps
failing is disabled and the administrators are told by e-mail.

Addresses are checked after DNS resolution and the request goes to the address that was
checked (Host header and TLS name stay the endpoint's). Redirects are never followed: a 3xx
answer is a failed attempt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random
import secrets as secrets_module
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import audit, outbound
from accounts.addresses import absolute_url
from accounts.errors import Conflict, DomainError
from accounts.models import (
    AuditEvent,
    Institution,
    Membership,
    Role,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)
from accounts.tenancy import tenant_context

log = logging.getLogger(__name__)

# Event types an endpoint can choose, and their labels.
EVENT_TYPES: dict[str, str] = {
    "post.submitted": gettext_lazy("Post submitted for review"),
    "post.approved": gettext_lazy("Post approved"),
    "post.rejected": gettext_lazy("Post rejected"),
    "post.changes_requested": gettext_lazy("Changes requested on a post"),
    "post.published": gettext_lazy("Post published"),
    "post.corrected": gettext_lazy("Correction published"),
    "post.retracted": gettext_lazy("Post retracted"),
    "delivery.sent": gettext_lazy("Delivery to a network sent"),
    "delivery.failed": gettext_lazy("Delivery to a network failed"),
    "network_account.needs_reauthorisation": gettext_lazy("Network account needs re-authorisation"),
    "publishing.paused": gettext_lazy("Publishing paused"),
    "publishing.resumed": gettext_lazy("Publishing resumed"),
    "member.joined": gettext_lazy("Member joined"),
    "member.retired": gettext_lazy("Member retired"),
}

# Audit verbs (as the services record them) -> webhook event type.
AUDIT_VERBS: dict[str, str] = {
    "post.submit": "post.submitted",
    "post.approve": "post.approved",
    "post.reject": "post.rejected",
    "post.reject_correction": "post.rejected",
    "post.request_changes": "post.changes_requested",
    "post.publish": "post.published",
    "post.correct": "post.corrected",
    "post.retract": "post.retracted",
    "delivery.send": "delivery.sent",
    "delivery.fail": "delivery.failed",
    "network_account.needs_reauthorisation": "network_account.needs_reauthorisation",
    "publishing.pause": "publishing.paused",
    "publishing.resume": "publishing.resumed",
    "member.join": "member.joined",
    "member.return": "member.joined",
    "invitation.accept": "member.joined",
    "member.retire": "member.retired",
}

SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)
SECRET_BYTES = 32
SEAL_VERSION = b"\x01"
NONCE_BYTES = 12
ROTATION_OVERLAP = timedelta(hours=24)
# Retries sooner than this go back to the broker with a countdown; later ones wait for the sweeper.
SHORT_DELAY = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=6)
RESPONSE_EXCERPT = 500
# Test seam: an httpx transport (None: real sockets).
TRANSPORT = None


class WebhookError(DomainError):
    code = "invalid_webhook"


class UnsafeAddress(WebhookError):
    """The endpoint's host is, or resolves to, an address Podium does not send to."""

    code = "unsafe_address"
    default_message = gettext_lazy(
        "Podium does not send to loopback, private, link-local, multicast or reserved addresses."
    )


class SecretUnreadable(RuntimeError):
    """No configured key opens a stored webhook secret (wrong key, or copied to another row)."""


# Secrets at rest ----------------------------------------------------------------------------------


def _keys() -> list[bytes]:
    """AES-256 keys: derived from each ``PODIUM_CREDENTIALS_KEYS`` entry (the first seals, all
    open), or from ``SECRET_KEY`` when none is configured (development)."""
    configured = list(getattr(settings, "PODIUM_CREDENTIALS_KEYS", []) or [])
    sources = [text.encode() for text in configured] or [settings.SECRET_KEY.encode()]
    return [hashlib.sha256(b"podium-webhook-secrets:" + source).digest() for source in sources]


def _associated_data(endpoint: WebhookEndpoint, slot: str) -> bytes:
    return f"institution:{endpoint.institution_id}:webhook-endpoint:{endpoint.id}:{slot}".encode()


def _seal(endpoint: WebhookEndpoint, slot: str, secret: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_keys()[0]).encrypt(nonce, secret.encode(), _associated_data(endpoint, slot))
    return SEAL_VERSION + nonce + sealed


def _unseal(endpoint: WebhookEndpoint, slot: str, blob: bytes | memoryview) -> str:
    blob = bytes(blob)
    if blob[:1] != SEAL_VERSION:
        raise SecretUnreadable("unknown sealed secret format")
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    for key in _keys():
        try:
            return AESGCM(key).decrypt(nonce, sealed, _associated_data(endpoint, slot)).decode()
        except InvalidTag:
            continue
    raise SecretUnreadable("no configured key opens this webhook secret")


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets_module.token_bytes(SECRET_BYTES)).decode()


def signing_secrets(endpoint: WebhookEndpoint, at: datetime | None = None) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during the overlap."""
    at = at or timezone.now()
    found = [_unseal(endpoint, "current", endpoint.secret_sealed)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_sealed and expires is not None and expires > at:
        found.append(_unseal(endpoint, "previous", endpoint.previous_secret_sealed))
    return found


def sign(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,<base64 HMAC-SHA256>`` per secret, space-separated."""
    # Four lines of HMAC rather than a runtime dependency; tests/integrations/test_webhooks.py
    # compares the result with the standardwebhooks library over generated inputs.
    content = f"{message_id}.{timestamp}.".encode() + body
    signatures = []
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
        digest = hmac.new(key, content, hashlib.sha256).digest()
        signatures.append("v1," + base64.b64encode(digest).decode())
    return " ".join(signatures)


# The SSRF guard -------------------------------------------------------------------------------


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses a name resolves to (tests replace this with a stub resolver)."""
    infos = outbound.lookup(host, port)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_allowed(address: str) -> bool:
    """Whether Podium may send to this IP address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return False
    if settings.PODIUM_WEBHOOKS_ALLOW_PRIVATE:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and (ip.sixtofour or ip.teredo):
        return False  # tunnels that can carry a private IPv4 address inside
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
    )


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def checked_address(url: str) -> str:
    """The address to connect to for ``url``: resolved, and every answer allowed."""
    parsed = httpx.URL(url)
    host = parsed.host
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = resolve_host(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        except OSError as error:
            raise WebhookError(_("The endpoint's name does not resolve.")) from error
    # Every answer must be allowed: a mixed answer is how DNS rebinding reaches the inside.
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise UnsafeAddress()
    return addresses[0]


def validate_url(url: str) -> str:
    """An endpoint address as registered: http(s), a host, no credentials, no literal unsafe IP."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise WebhookError(_("Enter a valid web address."), field="url") from error
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise WebhookError(_("Use an http:// or https:// address."), field="url")
    if parsed.userinfo:
        raise WebhookError(_("Leave user names and passwords out of the address."), field="url")
    literal = _literal(parsed.host)
    if literal is not None and not address_allowed(literal):
        raise UnsafeAddress(field="url")
    return str(parsed)


def _validate_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise WebhookError(
            _("Unknown event types: %(types)s") % {"types": ", ".join(unknown)},
            field="event_types",
        )
    if not event_types:
        raise WebhookError(_("Choose at least one event."), field="event_types")
    return [name for name in EVENT_TYPES if name in event_types]


# Endpoints ----------------------------------------------------------------------------------


def _summary(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
        "description": endpoint.description,
    }


@transaction.atomic
def create_endpoint(
    institution: Institution,
    by: Membership | None,
    *,
    url: str,
    event_types: list[str],
    description: str = "",
    is_active: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret (shown this once)."""
    with tenant_context(institution.id):
        endpoint = WebhookEndpoint(
            institution=institution,
            url=validate_url(url),
            event_types=_validate_event_types(event_types),
            description=description,
            is_active=is_active,
            created_by=by,
            secret_sealed=b"",
        )
        endpoint.save()
        secret = new_secret()
        endpoint.secret_sealed = _seal(endpoint, "current", secret)
        endpoint.save(update_fields=["secret_sealed"])
        audit.record(institution.id, "webhook.create", actor=by, target=endpoint,
                     after=_summary(endpoint))  # fmt: skip
        return endpoint, secret


@transaction.atomic
def update_endpoint(endpoint: WebhookEndpoint, by: Membership | None, **changes) -> WebhookEndpoint:
    """Change an endpoint's address, events, description or active flag."""
    with tenant_context(endpoint.institution_id):
        endpoint = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
        before = _summary(endpoint)
        if "url" in changes:
            endpoint.url = validate_url(changes["url"])
        if "event_types" in changes:
            endpoint.event_types = _validate_event_types(changes["event_types"])
        if "description" in changes:
            endpoint.description = changes["description"]
        if "is_active" in changes:
            endpoint.is_active = bool(changes["is_active"])
            if endpoint.is_active:
                # Switched on again by a person: the failure streak starts over.
                endpoint.disabled_at, endpoint.disabled_reason = None, ""
                endpoint.consecutive_failures, endpoint.failing_since = 0, None
        endpoint.updated_at = timezone.now()
        endpoint.save()
        old, new = audit.changes(endpoint, list(before), before)
        if new:
            audit.record(endpoint.institution_id, "webhook.update", actor=by, target=endpoint,
                         before=old, after=new)  # fmt: skip
        if endpoint.is_active:
            _enqueue_due(endpoint.institution_id, endpoint_id=endpoint.id)
        return endpoint


@transaction.atomic
def delete_endpoint(endpoint: WebhookEndpoint, by: Membership | None) -> None:
    """Remove an endpoint with its events and attempts."""
    with tenant_context(endpoint.institution_id):
        audit.record(endpoint.institution_id, "webhook.delete", actor=by, target=endpoint,
                     before=_summary(endpoint))  # fmt: skip
        endpoint.delete()


@transaction.atomic
def rotate_secret(
    endpoint: WebhookEndpoint, by: Membership | None, *, overlap: timedelta = ROTATION_OVERLAP
) -> str:
    """A new secret (returned this once); the old one keeps signing beside it for ``overlap``."""
    with tenant_context(endpoint.institution_id):
        endpoint = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
        current = _unseal(endpoint, "current", endpoint.secret_sealed)
        secret = new_secret()
        now = timezone.now()
        endpoint.previous_secret_sealed = _seal(endpoint, "previous", current)
        endpoint.previous_secret_expires_at = now + overlap
        endpoint.secret_sealed = _seal(endpoint, "current", secret)
        endpoint.updated_at = now
        endpoint.save()
        audit.record(
            endpoint.institution_id,
            "webhook.rotate_secret",
            actor=by,
            target=endpoint,
            after={"previous_secret_expires_at": endpoint.previous_secret_expires_at},
        )
        return secret


# Emission (the outbox) ----------------------------------------------------------------------


def _payload(event: AuditEvent, event_type: str, institution_slug: str) -> dict:
    return {
        "type": event_type,
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {
            "institution": institution_slug,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "actor": event.actor_label or None,
            "audit_sequence": event.sequence,
            "before": event.before,
            "after": event.after,
        },
    }


def emit_for_audit_event(
    event: AuditEvent, endpoints: list[tuple[int, list[str]]] | None = None
) -> list[WebhookEvent]:
    """Write the webhook events an audit event causes, in its transaction (called by ``record``).

    Verbs no webhook carries cost nothing; the others one indexed query when no endpoint
    subscribes, or none when the caller read the active ``endpoints`` already (``(id, event
    types)`` as ``active_endpoints_statement`` reads them).
    """
    event_type = AUDIT_VERBS.get(event.verb)
    if event_type is None:
        return []
    if endpoints is None:
        endpoints = list(
            WebhookEndpoint.objects.filter(
                institution_id=event.institution_id, is_active=True
            ).values_list("id", "event_types")
        )
    endpoints = [(endpoint_id, types) for endpoint_id, types in endpoints if event_type in types]
    if not endpoints:
        return []
    slug = Institution.objects.values_list("slug", flat=True).get(id=event.institution_id)
    payload = _payload(event, event_type, slug)
    event_id = f"msg_{uuid.uuid4().hex}"
    rows = WebhookEvent.objects.bulk_create(
        WebhookEvent(
            institution_id=event.institution_id,
            endpoint_id=endpoint_id,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            created_at=event.created_at,
            next_attempt_at=event.created_at,
        )
        for endpoint_id, _types in endpoints
    )
    for row in rows:
        _enqueue(row.id, event.institution_id)
    return rows


def active_endpoints_statement(institution_id: int) -> tuple[str, list]:
    """The statement ``emit_for_audit_event`` would run for the institution's active endpoints
    (``audit.record`` sends it together with its read of the chain's head)."""
    table = WebhookEndpoint._meta.db_table
    return (
        f"SELECT id, event_types FROM {table} WHERE institution_id = %s AND is_active",  # noqa: S608
        [institution_id],
    )


def _enqueue(event_pk: int, institution_id: int, countdown: float = 0) -> None:
    """Send the event's delivery task once the transaction commits (never for a rollback)."""

    def send() -> None:
        from accounts.tasks import deliver_webhook

        try:
            deliver_webhook.apply_async(
                args=[event_pk], kwargs={"institution_id": institution_id}, countdown=countdown
            )
        except Exception:
            log.warning("webhook event %s not enqueued; the sweeper will send it", event_pk)

    transaction.on_commit(send)


def _enqueue_due(institution_id: int, endpoint_id: int | None = None) -> int:
    due = WebhookEvent.objects.filter(
        state=WebhookEvent.State.PENDING,
        next_attempt_at__lte=timezone.now(),
        endpoint__is_active=True,
    )
    if endpoint_id is not None:
        due = due.filter(endpoint_id=endpoint_id)
    ids = list(due.values_list("id", flat=True)[:500])
    for event_pk in ids:
        _enqueue(event_pk, institution_id)
    return len(ids)


@transaction.atomic
def send_again(event: WebhookEvent, by: Membership | None) -> WebhookEvent:
    """Deliver an event once more, with the same id, whatever became of it."""
    with tenant_context(event.institution_id):
        event = WebhookEvent.objects.select_for_update().select_related("endpoint").get(id=event.id)
        if event.state == WebhookEvent.State.SENDING:
            raise Conflict(_("This event is being sent right now."))
        if not event.endpoint.is_active:
            raise Conflict(_("The endpoint is switched off; switch it on first."))
        before = {"state": event.state, "attempts": event.attempts}
        event.state, event.next_attempt_at = WebhookEvent.State.PENDING, timezone.now()
        event.save(update_fields=["state", "next_attempt_at"])
        audit.record(event.institution_id, "webhook.send_again", actor=by, target=event,
                     before=before, after={"state": event.state})  # fmt: skip
        _enqueue(event.id, event.institution_id)
        return event


# Delivery -----------------------------------------------------------------------------------


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _backoff(attempts: int) -> timedelta:
    """Exponential back-off with jitter: about base, 2 base, 4 base, ... up to six hours."""
    base = float(settings.PODIUM_WEBHOOKS_BACKOFF_SECONDS)
    ceiling = min(MAX_BACKOFF.total_seconds(), base * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 (jitter)


@dataclass
class Claim:
    event_pk: int
    institution_id: int
    owner: str
    url: str
    message_id: str
    body: bytes
    secrets: list[str]
    number: int


@dataclass
class Outcome:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claim(event_pk: int, institution_id: int, owner: str, now: datetime) -> Claim | None:
    lease = timedelta(seconds=settings.PODIUM_WEBHOOKS_TIMEOUT * 3 + 30)
    taken = WebhookEvent.objects.filter(
        id=event_pk,
        state=WebhookEvent.State.PENDING,
        next_attempt_at__lte=now,
        endpoint__is_active=True,
    ).update(
        state=WebhookEvent.State.SENDING,
        lease_until=now + lease,
        lease_owner=owner,
        attempts=F("attempts") + 1,
    )
    if not taken:
        return None
    event = WebhookEvent.objects.select_related("endpoint").get(id=event_pk)
    body = json.dumps(event.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Claim(
        event_pk=event.id,
        institution_id=institution_id,
        owner=owner,
        url=event.endpoint.url,
        message_id=event.event_id,
        body=body.encode(),
        secrets=signing_secrets(event.endpoint, now),
        number=event.attempts,
    )


def _post(claim: Claim) -> Outcome:
    """One POST to the endpoint, at the address the guard checked; never follows redirects."""
    started = time.monotonic()

    def outcome(status_code: int | None, error: str = "", excerpt: str = "") -> Outcome:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(status_code, error[:500], excerpt[:RESPONSE_EXCERPT], elapsed)

    try:
        address = checked_address(claim.url)
    except DomainError as error:
        return outcome(None, error.message)
    url = httpx.URL(claim.url)
    timestamp = int(time.time())
    headers = {
        "Host": url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": "Podium-Webhooks/1",
        "webhook-id": claim.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(claim.secrets, claim.message_id, timestamp, claim.body),
    }
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    timeout = httpx.Timeout(settings.PODIUM_WEBHOOKS_TIMEOUT)
    try:
        with httpx.Client(
            transport=TRANSPORT, timeout=timeout, follow_redirects=False, trust_env=False
        ) as client:
            request = client.build_request(
                "POST", url.copy_with(host=address), content=claim.body, headers=headers,
                extensions=extensions,
            )  # fmt: skip
            response = client.send(request, stream=True)
            try:
                excerpt = b""
                for chunk in response.iter_bytes():
                    excerpt += chunk
                    if len(excerpt) >= RESPONSE_EXCERPT:
                        break
            finally:
                response.close()
            text = excerpt.decode("utf-8", errors="replace")
            if response.is_redirect:
                return outcome(response.status_code, _("Redirects are not followed."), text)
            error = "" if response.is_success else _("The endpoint answered with an error.")
            return outcome(response.status_code, error, text)
    except httpx.HTTPError as error:
        return outcome(None, f"{type(error).__name__}: {error}")


def _record(claim: Claim, result: Outcome, now: datetime) -> str:
    WebhookAttempt.objects.create(
        institution_id=claim.institution_id,
        event_id=claim.event_pk,
        number=claim.number,
        started_at=now,
        duration_ms=result.duration_ms,
        status_code=result.status_code,
        error=result.error,
        response_excerpt=result.excerpt,
    )
    event = (
        WebhookEvent.objects.select_for_update().select_related("endpoint").get(id=claim.event_pk)
    )
    endpoint = WebhookEndpoint.objects.select_for_update().get(id=event.endpoint_id)
    ended = timezone.now()
    if result.succeeded:
        endpoint.consecutive_failures, endpoint.failing_since = 0, None
        endpoint.save(update_fields=["consecutive_failures", "failing_since"])
    else:
        endpoint.consecutive_failures += 1
        endpoint.failing_since = endpoint.failing_since or now
        endpoint.save(update_fields=["consecutive_failures", "failing_since"])
        _disable_if_failing(endpoint, ended)
    if event.state != WebhookEvent.State.SENDING or event.lease_owner != claim.owner:
        return "lease_lost"  # the sweeper took it back meanwhile; only the attempt is kept
    event.lease_until, event.lease_owner = None, ""
    event.last_status_code, event.last_error = result.status_code, result.error
    if result.succeeded:
        event.state, event.delivered_at = WebhookEvent.State.DELIVERED, ended
        event.save()
        return "delivered"
    if event.attempts >= settings.PODIUM_WEBHOOKS_MAX_ATTEMPTS:
        event.state = WebhookEvent.State.FAILED
        event.save()
        return "failed"
    wait = _backoff(event.attempts)
    event.state, event.next_attempt_at = WebhookEvent.State.PENDING, ended + wait
    event.save()
    if wait <= SHORT_DELAY and endpoint.is_active:
        _enqueue(event.id, event.institution_id, countdown=wait.total_seconds())
    return "retry"


def _disable_if_failing(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Switch off an endpoint that failed often enough for long enough; tell the admins."""
    streak = timedelta(hours=float(settings.PODIUM_WEBHOOKS_DISABLE_AFTER_HOURS))
    if (
        not endpoint.is_active
        or endpoint.consecutive_failures < settings.PODIUM_WEBHOOKS_DISABLE_AFTER_FAILURES
        or endpoint.failing_since is None
        or now - endpoint.failing_since < streak
    ):
        return
    endpoint.is_active, endpoint.disabled_at = False, now
    endpoint.disabled_reason = _("%(count)s deliveries in a row failed since %(since)s.") % {
        "count": endpoint.consecutive_failures,
        "since": endpoint.failing_since.isoformat(timespec="minutes"),
    }
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    audit.record(endpoint.institution_id, "webhook.disable", target=endpoint,
                 after={"reason": endpoint.disabled_reason})  # fmt: skip
    transaction.on_commit(lambda: _tell_admins(endpoint.institution_id, endpoint.id))


def _tell_admins(institution_id: int, endpoint_id: int) -> None:
    with tenant_context(institution_id):
        endpoint = WebhookEndpoint.objects.filter(id=endpoint_id).first()
        institution = Institution.objects.get(id=institution_id)
        admins = Membership.objects.filter(
            role=Role.ADMIN, status=Membership.Status.ACTIVE
        ).select_related("user")
        recipients = [member.user.email for member in admins]
    if endpoint is None or not recipients:
        return
    link = absolute_url(reverse("accounts:webhook-endpoint", args=[institution.slug, endpoint.id]))
    with translation.override(institution.locale):
        subject = _("Webhook endpoint switched off: %(url)s") % {"url": endpoint.url[:100]}
        body = _(
            "Podium stopped sending events to %(url)s because its deliveries kept failing "
            "(%(reason)s). Events wait until you switch it on again: %(link)s"
        ) % {"url": endpoint.url, "reason": endpoint.disabled_reason, "link": link}
    try:
        send_mail(subject, body, None, recipients)
    except Exception:
        log.exception("could not tell the admins of institution %s", institution_id)


def deliver(event_pk: int, institution_id: int, *, now: datetime | None = None) -> str:
    """Claim, send and record one webhook event. Safe to repeat: a claimed or finished event
    is left alone."""
    now = now or timezone.now()
    owner = _worker_name()
    with tenant_context(institution_id):
        claim = _claim(event_pk, institution_id, owner, now)
    if claim is None:
        return "skipped"
    result = _post(claim)
    with tenant_context(institution_id):
        return _record(claim, result, now)


def sweep_institution(institution_id: int, *, now: datetime | None = None) -> dict:
    """Take back expired leases, enqueue due events, forget expired idempotency records."""
    from accounts.models import IdempotencyRecord

    now = now or timezone.now()
    with tenant_context(institution_id):
        reclaimed = WebhookEvent.objects.filter(
            state=WebhookEvent.State.SENDING, lease_until__lt=now
        ).update(state=WebhookEvent.State.PENDING, lease_until=None, lease_owner="")
        enqueued = _enqueue_due(institution_id)
        forgotten, _counts = IdempotencyRecord.objects.filter(expires_at__lt=now).delete()
    return {"reclaimed": reclaimed, "enqueued": enqueued, "forgotten": forgotten}
