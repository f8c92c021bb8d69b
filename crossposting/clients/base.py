"""What every network client shares: the account it acts for, the outcome classes, and the
mapping of transport failures onto them.

A client makes one network call (or the few calls one send needs) and says what happened as an
``Outcome``; it never touches the database. The engine (``crossposting.delivery``) decides what
the outcome means for the delivery.
"""

from __future__ import annotations

import json
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import httpx
from django.utils.translation import gettext as _

from accounts.numbers import parse_ascii_int

# Asynchronous media processing (X, LinkedIn, Threads containers, Mastodon video) is waited for
# this long within one try, polling at most every MAX_POLL_INTERVAL seconds; what is still
# processing after that is a RETRY, and the next try polls the same upload again (the upload ids
# are kept in the delivery's progress). Well inside the delivery lease (90 s by default).
MEDIA_WAIT_SECONDS = 20.0
MAX_POLL_INTERVAL = 2.0


class Result(StrEnum):
    SENT = "sent"  # the network holds the copy (or, for delete, no longer holds it)
    FAILED = "failed"  # the network refused for good: the reason is in ``message``
    AUTH = "auth"  # the token was refused: refresh once where possible, else re-authorise
    RATE_LIMITED = "rate_limited"  # wait until ``until``
    RETRY = "retry"  # nothing reached the network (connection refused, 503 before posting)
    UNKNOWN = "unknown"  # the request may have been processed: look the copy up first
    ABSENT = "absent"  # a lookup proved the network holds no copy
    SAFE_TO_RESEND = "safe_to_resend"  # a resend cannot duplicate (idempotency key, rkey)


@dataclass
class Outcome:
    result: Result
    remote_id: str = ""
    remote_url: str = ""
    remote: dict = field(default_factory=dict)
    until: datetime | None = None
    status_code: int | None = None
    summary: str = ""
    message: str = ""
    # Rate budget seen on the answer: calls left and when the window resets.
    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass
class Account:
    """What a client needs of a network account (no model instance: clients stay outside the
    database)."""

    id: int
    institution_id: int
    network: str
    handle: str
    base_url: str
    remote_user_id: str
    credentials: dict
    # The institution's slug: public addresses of its images (Threads downloads them itself).
    institution_slug: str = ""


@dataclass
class Copy:
    """A copy on the network that an edit, delete or reply acts on."""

    remote_id: str
    remote_url: str = ""
    remote: dict = field(default_factory=dict)


Remember = Callable[[dict], None]


class NetworkClient(ABC):
    """One network's calls. Subclasses implement create, delete, find and, where the network
    allows, edit and refresh."""

    network = ""
    can_edit = False
    can_reply = True

    def __init__(self, account: Account, *, timeout: float, transport=None) -> None:
        self.account = account
        self.http = shared_http(timeout, transport)

    def close(self) -> None:  # noqa: B027 (a no-op on purpose: the pool is shared)
        """Nothing to close: the connection pool is shared by the process (``shared_http``)."""

    def __enter__(self) -> NetworkClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def base(self) -> str:
        return self.account.base_url.rstrip("/")

    # Calls ------------------------------------------------------------------------------------

    @abstractmethod
    def create(
        self, payload: dict, *, key: str, reply_to: Copy | None, progress: dict, remember: Remember
    ) -> Outcome:
        """Post one part (a reply to ``reply_to`` in a thread); classify the network's answer."""

    def edit(self, payload: dict, *, copy: Copy, key: str) -> Outcome:
        return Outcome(Result.FAILED, message=_("This network cannot edit a post."))

    @abstractmethod
    def delete(self, *, copy: Copy) -> Outcome:
        """Delete a copy; one already gone counts as deleted."""

    @abstractmethod
    def find(
        self,
        payload: dict,
        *,
        key: str,
        progress: dict,
        since: datetime | None,
        may_resend: bool = True,
    ) -> Outcome:
        """After an unknown outcome: SENT (with the copy), ABSENT, SAFE_TO_RESEND or UNKNOWN.
        ``may_resend=False`` (a retracted post): SAFE_TO_RESEND is no answer; look if possible."""

    def refresh(self) -> dict | None:
        """New credentials after the token was refused, or None where the network has no
        refresh (the account then needs re-authorisation). Called by the engine only through
        ``crossposting.token_refresh``, which makes one refresh per account at a time."""
        return None

    @abstractmethod
    def _answer(self, response: httpx.Response, *, posting: bool) -> Outcome:
        """The network's answer as an outcome class (its own error shapes and rate headers)."""

    # What every client's delete and find do alike -----------------------------------------------

    def deleted(
        self, answer: httpx.Response | Outcome, copy: Copy, *, gone: tuple[int, ...] = ()
    ) -> Outcome:
        """A delete's answer: SENT names the deleted copy; a status in ``gone`` (the network's
        "not found") means it was already deleted, which is what a delete wants."""
        if isinstance(answer, Outcome):
            return answer
        if answer.status_code in gone:
            return Outcome(
                Result.SENT,
                remote_id=copy.remote_id,
                status_code=answer.status_code,
                summary=f"{answer.status_code} already deleted",
            )
        outcome = self._answer(answer, posting=False)
        outcome.remote = {}
        outcome.remote_id = copy.remote_id if outcome.result == Result.SENT else ""
        return outcome

    def lookup_failed(self, answer: httpx.Response | Outcome) -> Outcome:
        """A lookup without a usable answer proves nothing either way (UNKNOWN), unless the token
        was refused or the rate budget is spent, which the engine handles as such."""
        if isinstance(answer, Outcome):
            return Outcome(Result.UNKNOWN, message=answer.message, summary=answer.summary)
        outcome = self._answer(answer, posting=False)
        if outcome.result not in (Result.AUTH, Result.RATE_LIMITED):
            outcome.result = Result.UNKNOWN
        outcome.remote = {}
        return outcome

    def wait(self, seconds: float, deadline: float) -> bool:
        """Sleep before the next status poll of a bounded wait; False when the time is up."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(max(0.0, min(seconds, left, MAX_POLL_INTERVAL)))
        return True

    # Transport --------------------------------------------------------------------------------

    def request(
        self, method: str, url: str, *, posting: bool, **kwargs
    ) -> httpx.Response | Outcome:
        """One HTTP call; a transport failure becomes RETRY when nothing can have reached the
        network and UNKNOWN when the request may have been processed (only for posting calls)."""
        try:
            return self.http.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            return Outcome(
                Result.RETRY,
                summary=type(error).__name__,
                message=_("Could not reach %(server)s.") % {"server": self.base},
            )
        except httpx.TransportError as error:
            return Outcome(
                Result.UNKNOWN if posting else Result.RETRY,
                summary=type(error).__name__,
                message=_("The connection to %(server)s broke off before it answered.")
                % {"server": self.base},
            )

    @staticmethod
    def json_of(response: httpx.Response) -> dict | None:
        """The body as a JSON object, or None when it is not one (an HTML error page)."""
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            return None
        return body if isinstance(body, dict) else None

    @staticmethod
    def summary_of(response: httpx.Response) -> str:
        return f"{response.status_code} {response.text[:300]}"

    def server_error(self, response: httpx.Response, *, posting: bool) -> Outcome:
        """A 5xx, or a 2xx whose body makes no sense: for a post, it may exist."""
        return Outcome(
            Result.UNKNOWN if posting else Result.RETRY,
            status_code=response.status_code,
            summary=self.summary_of(response),
            message=_(
                "The network answered with an error (%(status)s); checking whether the "
                "post arrived."
            )
            % {"status": response.status_code}
            if posting
            else _("The network answered with an error (%(status)s).")
            % {"status": response.status_code},
        )

    def malformed(self, response: httpx.Response, *, posting: bool) -> Outcome:
        return Outcome(
            Result.UNKNOWN if posting else Result.RETRY,
            status_code=response.status_code,
            summary=self.summary_of(response),
            message=_("The network's answer could not be read."),
        )


_pools: dict[tuple, httpx.Client] = {}
_pools_lock = threading.Lock()


def shared_http(timeout: float, transport=None) -> httpx.Client:
    """One httpx client (connection pool, keep-alive) per process and timeout: a worker sends
    many deliveries to the same few hosts, and a new TCP connection per call costs more than
    the call on a fast network. Forked workers build their own after the fork."""
    key = (os.getpid(), timeout, id(transport))
    with _pools_lock:
        client = _pools.get(key)
        if client is None or client.is_closed:
            client = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                transport=transport,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
            _pools[key] = client
        return client


def epoch_time(value: str | None) -> datetime | None:
    """A reset time sent as epoch seconds (Bluesky, X)."""
    if not value:
        return None
    seconds = parse_ascii_int(value.strip())
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def iso_time(value: str | None) -> datetime | None:
    """A reset time sent as ISO 8601 (Mastodon); some forks send epoch seconds instead."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return epoch_time(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def count(value: str | None) -> int | None:
    return parse_ascii_int(value.strip()) if value else None


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
