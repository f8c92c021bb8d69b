"""Absolute addresses of this installation: the one place that puts ``PODIUM_BASE_URL`` in front
of a path, for every app (feeds, sitemaps and meta tags, e-mail, API bodies, network clients).

Addresses never come from the request's host. Which path: public pages and their files from
``feeds.public.addresses``, other pages from ``reverse()``. It lives in accounts, below every
app, so that each can use it; ``tests/isolation/test_addresses.py`` fails for any other module
that joins the base to a path.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.utils.encoding import iri_to_uri


def absolute_url(path_or_url: str) -> str:
    """The address readers outside see: a site-relative path under ``PODIUM_BASE_URL``; an
    address with a scheme (a file in remote storage) as it is."""
    if not path_or_url or path_or_url.startswith("/"):
        return settings.PODIUM_BASE_URL + path_or_url
    if urlsplit(path_or_url).scheme:
        return path_or_url
    return urljoin(settings.PODIUM_BASE_URL + "/", path_or_url)


def absolute_uri(path: str) -> str:
    """``absolute_url`` of a site-relative path as a URI (what feed documents carry: Django's
    feed generators pass addresses through ``iri_to_uri``). Paths of routes and stored files
    are URIs already, so only the base can change."""
    return _uri_of(settings.PODIUM_BASE_URL) + path


@lru_cache(maxsize=4)
def _uri_of(base: str) -> str:
    return iri_to_uri(base)
