"""``Idempotency-Key`` for API writes: a retried request gets the first response again.

A POST, PUT, PATCH or DELETE sent with the header is remembered per token (per user for a
session) for at least ``PODIUM_IDEMPOTENCY_HOURS``:

- the same key with the same method, path and body answers with the first response (status,
  body, ``Location``) and ``Idempotent-Replayed: true``, and changes nothing;
- the same key with another method, path or body is refused (422);
- while a request with the key is still running, another one with it is refused (409).

The record is written in the transaction of the write itself (the request's tenant
transaction), so a write that rolled back leaves no record and its retry runs again; error
answers (4xx, 5xx) roll the request back and are not replayed either. A request
that is still running holds a transaction-level advisory lock on the key (PostgreSQL); SQLite
serialises writers anyway.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

from accounts.errors import Conflict, DomainError
from accounts.models import ApiToken, IdempotencyRecord
from accounts.tenancy import current_institution_id

HEADER = "Idempotency-Key"
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAYED_HEADER = "Idempotent-Replayed"
# Response headers a replay repeats.
KEPT_HEADERS = ("Location", "ETag")
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
# Namespace 0x49444b ("IDK") keeps the advisory lock apart from the audit log's.
LOCK_NAMESPACE = 0x49444B


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    default_message = _("An Idempotency-Key is 1 to 255 visible ASCII characters.")


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    default_message = _(
        "This Idempotency-Key was used for a different request (method, path or body); "
        "use a new key for a new request."
    )


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    default_message = _(
        "A request with this Idempotency-Key is still being processed; retry in a moment."
    )


class _Replay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def owner_of(request) -> str:
    """Whose keys these are: the token's, or the signed-in user's."""
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.id}"
    return f"user:{request.user.id}"


def lock_key(institution_id: int, owner: str, key: str) -> int:
    """The advisory lock (second half of the pair) held while a request runs under the key."""
    digest = hashlib.sha256(f"{institution_id}:{owner}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _try_lock(institution_id: int, owner: str, key: str) -> bool:
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            [LOCK_NAMESPACE, lock_key(institution_id, owner, key)],
        )
        return bool(cursor.fetchone()[0])


def _keys() -> list[bytes]:
    configured = list(getattr(settings, "PODIUM_CREDENTIALS_KEYS", []) or [])
    sources = [text.encode() for text in configured] or [settings.SECRET_KEY.encode()]
    return [hashlib.sha256(b"podium-idempotency:" + source).digest() for source in sources]


def _seal(institution_id: int, owner: str, key: str, body) -> dict:
    """The response body, encrypted: a first response may carry a secret shown once (a new
    token, a webhook secret), and a database dump must not reveal it."""
    nonce = os.urandom(12)
    associated = f"{institution_id}:{owner}:{key}".encode()
    plain = json.dumps(body, default=str).encode()
    sealed = AESGCM(_keys()[0]).encrypt(nonce, plain, associated)
    return {"sealed": base64.b64encode(nonce + sealed).decode()}


def _unseal(record: IdempotencyRecord):
    blob = base64.b64decode(record.response_body["sealed"])
    associated = f"{record.institution_id}:{record.owner}:{record.key}".encode()
    for secret in _keys():
        try:
            return json.loads(AESGCM(secret).decrypt(blob[:12], blob[12:], associated))
        except InvalidTag:
            continue
    raise IdempotencyKeyInUse()  # unreadable after a key change: treated as still unsettled


def _canonical(value):
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "sha256": digest.hexdigest()}
    if hasattr(value, "lists"):  # QueryDict: every value of every field
        return {name: [_canonical(item) for item in items] for name, items in value.lists()}
    if isinstance(value, dict):
        return {str(name): _canonical(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def fingerprint(request) -> str:
    """Method, path with query, and the parsed body (files by their SHA-256)."""
    data = {} if request.method == "DELETE" else _canonical(request.data)
    files = _canonical(request.FILES) if getattr(request, "FILES", None) else {}
    text = json.dumps(
        [request.method, request._request.get_full_path(), data, files],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotentWrites:
    """API view mixin: replays the first response to a write retried with its Idempotency-Key."""

    _idempotency: tuple[int, str, str, str] | None = None

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self._idempotency = None
        key = request.headers.get(HEADER)
        institution_id = current_institution_id()
        if key is None or request.method not in METHODS or institution_id is None:
            return
        if not _KEY.fullmatch(key):
            raise InvalidIdempotencyKey()
        owner = owner_of(request)
        if not _try_lock(institution_id, owner, key):
            raise IdempotencyKeyInUse()
        print_ = fingerprint(request)
        record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if record is not None and record.expires_at <= timezone.now():
            record.delete()
            record = None
        if record is not None:
            if record.fingerprint != print_:
                raise IdempotencyKeyReused(field=None)
            response = Response(
                _unseal(record), status=record.response_status, headers=record.response_headers
            )
            response[REPLAYED_HEADER] = "true"
            raise _Replay(response)
        self._idempotency = (institution_id, owner, key, print_)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        pending, self._idempotency = self._idempotency, None
        # An error answer keeps nothing (TenantMiddleware rolls the request back), its record
        # included: the retry of a failed write runs again.
        if pending is None or response.status_code >= 400 or connection.needs_rollback:
            return response
        institution_id, owner, key, print_ = pending
        hours = max(int(settings.PODIUM_IDEMPOTENCY_HOURS), 24)
        headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        now = timezone.now()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    institution_id=institution_id,
                    owner=owner,
                    key=key,
                    fingerprint=print_,
                    method=request.method,
                    path=request._request.get_full_path()[:2000],
                    response_status=response.status_code,
                    response_headers=headers,
                    response_body=_seal(
                        institution_id, owner, key, getattr(response, "data", None)
                    ),
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                )
        except IntegrityError:
            pass  # a concurrent twin stored its first response (SQLite takes no lock)
        return response


def document_idempotency(result: dict, generator, request, public) -> dict:
    """Schema post-processing hook: the header and its 409/422 answers on every write."""
    parameter = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        "description": str(
            _(
                "Makes the write safe to retry: the same key with the same request returns the "
                "first response (with Idempotent-Replayed: true) and changes nothing. Keys are "
                "per token and kept at least 24 hours. Only a successful answer (2xx) is kept "
                "and replayed: a request that failed (4xx or 5xx) was rolled back and changed "
                "nothing, so a retry of it with the same key runs again."
            )
        ),
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method.upper() not in METHODS or not isinstance(operation, dict):
                continue
            operation.setdefault("parameters", []).append(parameter)
            _add_error(
                operation, "400", _("The Idempotency-Key is not 1 to 255 visible ASCII characters.")
            )
            _add_error(operation, "409", _("A request with this Idempotency-Key is still running."))
            _add_error(operation, "422", _("This Idempotency-Key was used for another request."))
    return result


def _add_error(operation: dict, code: str, description) -> None:
    """Add an error response shaped like the operation's other error responses."""
    responses = operation.setdefault("responses", {})
    if code in responses:
        return
    template = next((responses[c] for c in ("400", "401", "403", "404") if c in responses), None)
    entry = {"description": str(description)}
    if template is not None and "content" in template:
        entry["content"] = template["content"]
    responses[code] = entry
