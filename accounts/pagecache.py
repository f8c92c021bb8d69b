"""Member pages kept while they are true: a signed-in member's page, rendered once, is shown
again to the same member until anything in the institution changes.

Reviewers come back to the review queue after every decision and keep it open; rendering it
costs about 25 ms of Python, while checking that nothing changed costs one indexed read.
``bench.queue`` measures the difference (served, against the trivial view: 0.04 rendered every
time, 0.49 with this cache; 8 Dec 2026, load average 3.5).

A kept page is shown again only when all of these hold:

- the same institution, membership (id and role), language, second-factor state and full
  address (path and query string) asked for it;
- the institution's audit chain has not moved since it was rendered. Every change of state in
  Podium writes an audit event inside its own transaction (a submission and its flags, a
  decision, a policy, membership or profile change, a pause, a delivery's outcome), so the
  chain head (``accounts.audit``), read in the request's tenant transaction before the page
  is rendered (with the membership, ``accounts.middleware``), names the state the page shows
  at the least: a change that commits in between only costs one more rendering;
- it is younger than ``PODIUM_MEMBER_PAGE_CACHE_SECONDS`` and than the moment the page said it
  stops being true (``response.fresh_until``, e.g. the queue's next approval deadline): this
  bounds how long anything that changes without an audit event (the clock) can be missed;
- no flash message waits to be shown, and the page was a 200.

Pages are kept per process (a bounded dict): no round trip to fetch one, nothing shared between
processes or written anywhere, gone with the process. The form tokens a page carries are
replaced on every response with freshly masked ones of the asking browser's own secret, as
``{% csrf_token %}`` would write them: a kept page must write its tokens with that tag only.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from accounts.compiled import compiled_rows
from accounts.models import AuditEvent

# Pages kept per process; each is a page of HTML (the review queue: about 16 KB).
LIMIT = 256

# What ``{% csrf_token %}`` writes (django.template.defaulttags.CsrfTokenNode).
_FORM_TOKEN = re.compile(rb'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(">)')


@dataclass(frozen=True)
class _Page:
    chain_head: int
    until: float  # time.monotonic()
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes


_pages: OrderedDict[tuple, _Page] = OrderedDict()


def clear() -> None:
    """Forget every kept page of this process."""
    _pages.clear()


def _chain_head_query():
    return AuditEvent.objects.order_by("-sequence").values_list("sequence")[:1]


def audit_chain_head() -> int:
    """The sequence number of the newest audit event of the institution in context (0: none)."""
    rows = compiled_rows(("audit-chain-head",), _chain_head_query)
    return rows[0][0] if rows else 0


def _key(request: HttpRequest, view: Callable) -> tuple:
    membership = request.membership
    return (
        view.__module__,
        view.__qualname__,
        request.institution.id,
        membership.id,
        membership.role,
        request.LANGUAGE_CODE,
        request.user.is_verified(),
        request.get_full_path(),
    )


def _seconds_until(moment: datetime | None, lifetime: float) -> float:
    if moment is None:
        return lifetime
    return max(0.0, min(lifetime, (moment - timezone.now()).total_seconds()))


def _answer(request: HttpRequest, page: _Page) -> HttpResponse:
    # One masked token for every form of the page, as a rendering gives them.
    token = get_token(request).encode()
    content = _FORM_TOKEN.sub(lambda match: match[1] + token + match[2], page.content)
    return HttpResponse(content, status=page.status, headers=dict(page.headers))


def member_page_cache(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Keep the view's 200 pages for the member who asked, while the institution is unchanged
    (see the module's text). For GET views of members' pages only."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        lifetime = settings.PODIUM_MEMBER_PAGE_CACHE_SECONDS
        usable = (
            lifetime > 0
            and request.method == "GET"
            and getattr(request, "membership", None) is not None
            and not len(get_messages(request))
        )
        if not usable:
            return view(request, *args, **kwargs)
        key = _key(request, view)
        # Read with the membership by TenantMiddleware's fast path; else read here.
        head = getattr(request, "audit_chain_head", None)
        if head is None:
            head = audit_chain_head()
        page = _pages.get(key)
        if page is not None and page.chain_head == head and page.until > time.monotonic():
            _pages.move_to_end(key)
            return _answer(request, page)
        response = view(request, *args, **kwargs)
        seconds = _seconds_until(getattr(response, "fresh_until", None), lifetime)
        if response.status_code == 200 and not response.streaming and seconds > 0:
            _pages[key] = _Page(
                chain_head=head,
                until=time.monotonic() + seconds,
                status=response.status_code,
                headers=tuple(response.items()),
                content=response.content,
            )
            _pages.move_to_end(key)
            while len(_pages) > LIMIT:
                _pages.popitem(last=False)
        return response

    return wrapped
