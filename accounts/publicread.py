"""The anonymous public read path: cache headers, conditional GETs and the server-side cache.

Public views are decorated with ``public_view``. They never touch the session, so they send no
cookie and no ``Vary: Cookie``. ``PublicCacheMiddleware`` keeps their rendered responses in the
shared cache, each stored with the institution's *public version* it was rendered under; any
change to what an institution shows publicly calls ``public_content_changed``, which sets a new
version once the transaction commits, so the next request finds the stored page outdated and
renders afresh (DESIGN section 8). A request reads the version and the page in one round trip.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag

GLOBAL_SCOPE = "_global"
# The only query parameters public pages read. The cache key keeps these and drops the rest, so
# made-up parameters (?x=1, ?x=2, ...) cannot fill the cache with copies of one page.
PUBLIC_QUERY_PARAMETERS = ("lang", "before", "after", "status", "page")
_HEADERS_NOT_STORED = {"set-cookie", "etag", "last-modified"}


def public_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view as readable by anyone: no session, shared-cacheable, stored server-side."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 200:
            response.public_cacheable = True
            patch_cache_control(
                response,
                public=True,
                max_age=settings.PODIUM_PUBLIC_MAX_AGE,
                stale_while_revalidate=settings.PODIUM_PUBLIC_STALE_WHILE_REVALIDATE,
            )
        return response

    wrapped.tenant_access = "public"
    return wrapped


def public_query(request: HttpRequest, name: str) -> str | None:
    """A query parameter of a public page (only these may change what the page shows)."""
    if name not in PUBLIC_QUERY_PARAMETERS:
        raise ValueError(f"{name!r} is not in PUBLIC_QUERY_PARAMETERS: the server cache ignores it")
    return request.GET.get(name)


def _version_key(scope: str) -> str:
    return f"pubver:{scope}"


def _new_version() -> str:
    return f"{uuid.uuid4().hex}|{int(time.time())}"


def _scope_of(path: str) -> str:
    """The institution slug a path belongs to (its first segment), or the global scope."""
    first = path.lstrip("/").split("/", 1)[0]
    return first if first and "." not in first else GLOBAL_SCOPE


def public_content_changed(institution_slug: str) -> None:
    """Invalidate every cached public response of an institution once the transaction commits."""

    def bump() -> None:
        cache.set_many(
            {
                _version_key(institution_slug): _new_version(),
                _version_key(GLOBAL_SCOPE): _new_version(),
            },
            timeout=None,
        )

    transaction.on_commit(bump)


def _current_version(scope: str) -> str:
    key = _version_key(scope)
    version = cache.get(key)
    if version is None:
        cache.add(key, _new_version(), timeout=None)
        version = cache.get(key) or _new_version()
    return version


def _page_key(scope: str, request: HttpRequest) -> str:
    kept = [(name, request.GET.get(name, "")) for name in PUBLIC_QUERY_PARAMETERS]
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


def _finish(request: HttpRequest, response: HttpResponse, etag: str, modified: int) -> HttpResponse:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    return get_conditional_response(request, etag=etag, last_modified=modified, response=response)


class PublicCacheMiddleware:
    """Serves stored public responses, stores new ones, answers conditional GETs with 304."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or _never_public(request.path_info):
            return self.get_response(request)
        if settings.PODIUM_PUBLIC_CACHE_SECONDS <= 0:
            return self._render(request, None, None)
        scope = _scope_of(request.path_info)
        page_key, version_key = _page_key(scope, request), _version_key(scope)
        found = cache.get_many([version_key, page_key])
        version = found.get(version_key)
        entry = found.get(page_key)
        if version is None:
            version = _current_version(scope)  # none yet (or evicted): start one
        elif entry is not None and entry[0] == version:
            return self._from_entry(request, entry)
        return self._render(request, version, page_key)

    def _render(self, request: HttpRequest, version: str | None, key: str | None) -> HttpResponse:
        """The view's response, stored under ``key`` with ``version`` when it is public."""
        response = self.get_response(request)
        if not getattr(response, "public_cacheable", False) or response.streaming:
            return response
        etag = quote_etag(hashlib.sha256(response.content).hexdigest()[:32])
        modified = int(version.split("|", 1)[1]) if version else int(time.time())
        if key is not None:
            headers = [(k, v) for k, v in response.items() if k.lower() not in _HEADERS_NOT_STORED]
            entry = (version, response.status_code, response.content, headers, etag, modified)
            cache.set(key, entry, settings.PODIUM_PUBLIC_CACHE_SECONDS)
        return _finish(request, response, etag, modified)

    def _from_entry(self, request: HttpRequest, entry: tuple) -> HttpResponse:
        _version, status, content, headers, etag, modified = entry
        response = HttpResponse(content, status=status, headers=headers)
        return _finish(request, response, etag, modified)
