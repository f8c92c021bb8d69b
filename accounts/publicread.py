"""The anonymous public read path: cache headers, conditional GETs and the server-side cache.

Public views are decorated with ``public_view``. They never touch the session, so they send no
cookie and no ``Vary: Cookie``. ``PublicCacheMiddleware`` keeps their rendered responses in the
shared cache, each stored with the institution's *public version* it was rendered under; any
change to what an institution shows publicly calls ``public_content_changed``, which sets a new
version once the transaction commits, so the next request finds the stored page outdated and
renders afresh (DESIGN section 8). A request reads the version and the page in one round trip.

Freshness is a guarantee (issue 12): after a change commits, no cache Podium controls serves
the earlier text to a request that starts more than 2 s later.

- The server cache: the new version is set as the transaction commits.
- The proxy (platform/nginx): every public response carries ``X-Accel-Expires``, an absolute
  second computed from when the request started, and the proxy never serves stale copies; an
  answer that began before a change is gone from the proxy at most 2 s after it.
- Browsers and other shared caches: ``max-age`` plus ``stale-while-revalidate`` at most 60 s.
- Validators: only the ``ETag`` (a digest of the body). A ``Last-Modified`` in whole seconds
  would let a change and a retraction within one second answer 304 with the retracted text.

The host is checked before anything is served, from the cache or not; only the parameters a
page reads are part of the cache key, in their canonical form (an unknown ``?lang=`` is the
page without it), and a value that is not canonical is a 400, which is never stored.

Every request's address, public or not, is checked here first (``check_address``): a NUL in
the path or in a query parameter is a 400. PostgreSQL text cannot hold one, so a view that
looked such a value up (a media name, a filter the API passes on as text) raised a DataError,
a 500 (issue 11); forms and serializers already refuse NUL in bodies.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import BadRequest
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import quote_etag

from accounts.routing import match_of

GLOBAL_SCOPE = "_global"
# The only query parameters public pages read. The cache key keeps these and drops the rest, so
# made-up parameters (?x=1, ?x=2, ...) cannot fill the cache with copies of one page.
PUBLIC_QUERY_PARAMETERS = ("lang", "before", "after", "status", "page")
_HEADERS_NOT_STORED = {"set-cookie", "etag", "last-modified", "x-accel-expires"}
# What a browser or another shared cache may keep a public page for, at most, in total.
BROWSER_LIMIT_SECONDS = 60
# Public pages answer these methods; anything else (TRACE, POST, PUT, ...) is a 405.
PUBLIC_METHODS = ("GET", "HEAD")


def public_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view as readable by anyone: no session, shared-cacheable, stored server-side."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in PUBLIC_METHODS:
            response = HttpResponseNotAllowed(PUBLIC_METHODS)
            response.public_view = True
            return response
        response = view(request, *args, **kwargs)
        response.public_view = True
        if response.status_code == 200:
            response.public_cacheable = True
            patch_cache_control(response, public=True, **browser_lifetime())
        return response

    wrapped.tenant_access = "public"
    # It reads only rows that are public by nature: TenantMiddleware runs it without a tenant
    # transaction (accounts.tenancy.public_read_context).
    wrapped.public_rows_only = True
    # A public page changes nothing, so a forged POST has nothing to forge: every method but
    # GET and HEAD is answered 405 by the view, not 403 by the CSRF check.
    wrapped.csrf_exempt = True
    return wrapped


def browser_lifetime() -> dict[str, int]:
    """``max-age`` and ``stale-while-revalidate`` from the settings, together at most 60 s."""
    max_age = max(0, min(settings.PODIUM_PUBLIC_MAX_AGE, BROWSER_LIMIT_SECONDS))
    stale = max(
        0, min(settings.PODIUM_PUBLIC_STALE_WHILE_REVALIDATE, BROWSER_LIMIT_SECONDS - max_age)
    )
    return {"max_age": max_age, "stale_while_revalidate": stale}


def proxy_expiry(started: float) -> str:
    """``X-Accel-Expires`` for an answer to a request that started at ``started``.

    nginx keeps an entry while its clock (whole seconds) is at most the given second, so an
    entry lives until second + 1. With ``second = floor(started + 0.5)``, anything that started
    before a change (or up to 0.5 s after its commit, before the new version is set) is gone
    from the proxy 2 s after the change at the latest; a fresh entry lives 0.5 s to 1.5 s.
    """
    return f"@{int(started + 0.5)}"


def reads(*names: str) -> Callable[[Callable], Callable]:
    """Declare the query parameters (besides ``lang``) a public view reads: the server cache
    keys its pages on these alone."""
    unknown = set(names) - set(PUBLIC_QUERY_PARAMETERS)
    if unknown:
        raise ValueError(f"{sorted(unknown)} are not in PUBLIC_QUERY_PARAMETERS")

    def mark(view: Callable) -> Callable:
        view.public_parameters = names
        return view

    return mark


def public_query(request: HttpRequest, name: str) -> str | None:
    """A query parameter of a public page (only these may change what the page shows)."""
    if name not in PUBLIC_QUERY_PARAMETERS:
        raise ValueError(f"{name!r} is not in PUBLIC_QUERY_PARAMETERS: the server cache ignores it")
    return request.GET.get(name)


def _version_key(scope: str) -> str:
    return f"pubver:{scope}"


def _new_version() -> str:
    return f"{uuid.uuid4().hex}|{int(time.time())}"


# What an institution slug can look like (accounts.models.slug_validator).
_SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?")


def _scope_of(path: str) -> str | None:
    """The institution slug a path belongs to (its first segment), or the global scope; None
    when the first segment cannot be a slug (no public page there: nothing is cached)."""
    first = path.lstrip("/").split("/", 1)[0]
    if not first or "." in first:
        return GLOBAL_SCOPE
    return first if _SLUG_RE.fullmatch(first) else None


def _version_lifetime() -> int:
    """Seconds a version key lives: longer than the pages stored under it. When it expires
    (or is evicted) a new one starts, which only means rendering afresh; made-up slugs cannot
    fill the cache with keys that never go."""
    return max(60, 2 * settings.PODIUM_PUBLIC_CACHE_SECONDS)


# Called with the institution's slug when a change to what it shows commits, in the process
# that made it: what that process keeps of public rows (feeds.public.views) forgets it at once,
# without waiting for the next request to read the new version.
public_content_changed_handlers: list[Callable[[str], None]] = []


def public_content_changed(institution_slug: str) -> None:
    """Invalidate every cached public response of an institution once the transaction commits."""

    def bump() -> None:
        cache.set_many(
            {
                _version_key(institution_slug): _new_version(),
                _version_key(GLOBAL_SCOPE): _new_version(),
            },
            timeout=_version_lifetime(),
        )
        for handler in public_content_changed_handlers:
            handler(institution_slug)

    transaction.on_commit(bump)


def _current_version(scope: str) -> str:
    key = _version_key(scope)
    version = cache.get(key)
    if version is None:
        cache.add(key, _new_version(), timeout=_version_lifetime())
        version = cache.get(key) or _new_version()
    return version


def _canonical_parameter(name: str, value: str) -> str:
    """The form of a parameter's value the cache key keeps: an unknown language or status
    shows the same page as none, so it shares its entry."""
    if name == "lang":
        return value if value in dict(settings.LANGUAGES) else ""
    if name == "status":
        return value if value == "former" else ""
    return value


def _parameters_read(path: str) -> tuple[str, ...]:
    """The query parameters the public view at ``path`` reads (``public_parameters``; all of
    them when it does not say, or when nothing answers the path)."""
    match = match_of(path)
    if match is None:
        return PUBLIC_QUERY_PARAMETERS
    return ("lang", *getattr(match.func, "public_parameters", PUBLIC_QUERY_PARAMETERS))


def _members_view(path: str) -> bool:
    """Whether the view answering ``path`` is not a public one (no ``public_view``): its answers
    are never stored, so the server cache is not asked. Saves members' pages a round trip to
    Redis (0.3 of about 3 ms of Python on a kept review queue page, accounts.pagecache)."""
    match = match_of(path)
    return match is not None and getattr(match.func, "tenant_access", None) != "public"


def _page_key(scope: str, request: HttpRequest) -> str:
    # Only what the page reads: ?before=1-2 on a page without a list is the same page.
    kept = [
        (name, _canonical_parameter(name, request.GET.get(name, "")))
        for name in PUBLIC_QUERY_PARAMETERS
        if name in _parameters_read(request.path_info)
    ]
    address = f"{request.path}?{kept}"
    path = hashlib.sha256(address.encode()).hexdigest()[:32]
    return f"pubpage:{scope}:{path}"


# Paths no public view answers (see podium/urls.py): their requests skip the server cache.
_NEVER_PUBLIC_PREFIXES = ("/accounts/", "/api/", "/ops/", "/static/", "/media/")
_PUBLIC_UNDER_NEVER_PUBLIC = ("/api/v1/docs/",)


def _never_public(path: str) -> bool:
    if path.startswith(_NEVER_PUBLIC_PREFIXES):
        return not path.startswith(_PUBLIC_UNDER_NEVER_PUBLIC)
    return path == "/healthz"


def _finish(
    request: HttpRequest, response: HttpResponse, etag: str, started: float
) -> HttpResponse:
    response["ETag"] = etag
    answer = get_conditional_response(request, etag=etag, response=response)
    answer["X-Accel-Expires"] = proxy_expiry(started)
    return answer


def _personal(response: HttpResponse) -> HttpResponse:
    """A page made for the signed-in person (it read the session: ``Vary: Cookie``) and silent
    about caching says ``private, no-store``: no shared cache may keep it, whatever its Vary."""
    if "Cache-Control" not in response and "cookie" in response.get("Vary", "").lower():
        patch_cache_control(response, private=True, no_store=True)
    return response


def check_address(request: HttpRequest) -> None:
    """Refuse (400) a request whose path or query parameters (names or values) hold a NUL."""
    nul = "\x00" in request.path_info or any(
        "\x00" in name or any("\x00" in value for value in values)
        for name, values in request.GET.lists()
    )
    if nul:
        raise BadRequest("A NUL character in the address.")


class PublicCacheMiddleware:
    """Checks every request's address; serves stored public responses, stores new ones,
    answers conditional GETs with 304; marks pages made for a signed-in person as private."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The first of Podium's middleware: every request passes here, before any view and
        # before the server cache answers.
        check_address(request)
        path = request.path_info
        if request.method not in PUBLIC_METHODS or _never_public(path) or _members_view(path):
            return _personal(self.get_response(request))
        started = time.time()
        # The host first: a stored page must never answer a request Django would refuse
        # (DisallowedHost becomes a 400).
        request.get_host()
        if settings.PODIUM_PUBLIC_CACHE_SECONDS <= 0:
            return self._render(request, None, None, started)
        scope = _scope_of(request.path_info)
        if scope is None:
            return self._render(request, None, None, started)
        page_key, version_key = _page_key(scope, request), _version_key(scope)
        found = cache.get_many([version_key, page_key])
        version = found.get(version_key)
        entry = found.get(page_key)
        if version is None:
            version = _current_version(scope)  # none yet (or evicted): start one
        elif entry is not None and entry[0] == version:
            return self._from_entry(request, entry, started)
        # The page is rendered under this version: TenantMiddleware's institution cache checks
        # its entry against it.
        request.public_version = version
        return self._render(request, version, page_key, started)

    def _render(
        self, request: HttpRequest, version: str | None, key: str | None, started: float
    ) -> HttpResponse:
        """The view's response, stored under ``key`` with ``version`` when it is public."""
        response = self.get_response(request)
        if not getattr(response, "public_cacheable", False) or response.streaming:
            if getattr(response, "public_view", False):
                response["X-Accel-Expires"] = proxy_expiry(started)
            return _personal(response)
        etag = quote_etag(hashlib.sha256(response.content).hexdigest()[:32])
        if key is not None:
            headers = [(k, v) for k, v in response.items() if k.lower() not in _HEADERS_NOT_STORED]
            entry = (version, response.status_code, response.content, headers, etag)
            cache.set(key, entry, settings.PODIUM_PUBLIC_CACHE_SECONDS)
        return _finish(request, response, etag, started)

    def _from_entry(self, request: HttpRequest, entry: tuple, started: float) -> HttpResponse:
        _version, status, content, headers, etag = entry[:5]
        response = HttpResponse(content, status=status, headers=headers)
        return _finish(request, response, etag, started)
