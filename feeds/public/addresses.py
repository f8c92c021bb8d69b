"""Addresses of the public pages, feeds and files: the one module that builds them.

``PublicAddresses`` gives one institution's site-relative addresses (routes filled in as
templates, see below); ``post_permalink`` a post's absolute permalink (the API, the text sent to
the networks, the reviewers' view of it); ``media_path`` / ``media_url`` / ``stored_file_url``
stored files. Absolute forms come from ``accounts.addresses`` (``PODIUM_BASE_URL``, never the
request's host).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import get_script_prefix, get_urlconf, reverse

from accounts.addresses import absolute_url

if TYPE_CHECKING:
    from accounts.models import Institution
    from feeds.models import Post


def media_path(name: str) -> str:
    """The address of a stored file by its name, as ``FieldFile.url`` gives it."""
    return default_storage.url(name)


def media_url(file) -> str:
    """The absolute address of an uploaded file (relative MEDIA_URL made absolute)."""
    return absolute_url(file.url)


def stored_file_url(name: str) -> str:
    """The absolute address of a stored file by its name (rows carry names, not files)."""
    return absolute_url(media_path(name))


def post_permalink(institution: Institution, post: Post) -> str:
    """A post's permalink as it is cited: absolute, without ``?lang=``."""
    return absolute_url(PublicAddresses(institution.slug).post(post.id))


# Shortcut, earns its place (bench.public_shortcuts, 7 Dec 2026, two runs): pages with route
# templates against reverse() for each address: institution page +26%/+37%, profile page
# +31%/+27%, atom feed +36%/+20%. Held equal to reverse() for every public route by
# tests/feeds/test_public_shortcuts.py.
# Routes as templates. A page links to dozens of profiles and posts, and reverse() costs tens
# of microseconds a call; so each public route is reversed once per process (and URLconf and
# script prefix) with stand-ins for its arguments, and addresses are filled in from the parts
# between them. The arguments of these routes (slugs, handles, ids, feed formats) pass their
# URL converters unchanged and need no quoting, so the result is what reverse() gives.
_SLUG, _HANDLE, _ID, _FORMAT = "slug0stand0in", "handle0stand0in", "987654321987654321", "atom"
_STAND_INS = {
    "feeds:landing": (),
    "feeds:institution": (_SLUG,),
    "feeds:staff": (_SLUG,),
    "feeds:sitemap": (_SLUG,),
    "feeds:profile": (_SLUG, _HANDLE),
    "feeds:post": (_SLUG, _ID),
    "feeds:institution-feed": (_SLUG, _FORMAT),
    "feeds:profile-feed": (_SLUG, _HANDLE, _FORMAT),
    "feeds:post-image": (_SLUG, "name0stand0in"),
}


@lru_cache(maxsize=64)
def _route_parts(urlconf: str, script_prefix: str, name: str) -> tuple[str, ...]:
    """The literal parts of a route around its arguments (empty: reverse it each time)."""
    stand_ins = _STAND_INS[name]
    parts = [reverse(name, urlconf=urlconf, args=stand_ins)]
    for stand_in in stand_ins:
        head, found, tail = parts.pop().partition(stand_in)
        if not found or stand_in in tail:
            return ()
        parts += [head, tail]
    return tuple(parts)


def _route(name: str) -> Callable[..., str]:
    """A function giving ``reverse(name, args=args)`` for the route's arguments."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    parts = _route_parts(urlconf, get_script_prefix(), name)
    if not parts:
        return lambda *args: reverse(name, args=args)
    if len(parts) == 2:
        head, tail = parts
        return lambda arg: f"{head}{arg}{tail}"
    if len(parts) == 3:
        head, middle, tail = parts
        return lambda first, second: f"{head}{first}{middle}{second}{tail}"
    return lambda *args: "".join(
        [parts[0], *(f"{arg}{part}" for arg, part in zip(args, parts[1:], strict=True))]
    )


class PublicAddresses:
    """Site-relative addresses of one institution's public pages and feeds.

    ``query`` (e.g. ``lang=de``) is added to the addresses of pages, so that links keep the
    reader's choice; feeds, sitemaps and images, and canonical addresses, go without it.
    """

    def __init__(self, institution_slug: str, query: str = "") -> None:
        self.slug = institution_slug
        self._query = "?" + query if query else ""

    @property
    def query(self) -> str:
        """What the addresses of pages end with: ``?lang=..``, or nothing."""
        return self._query

    @cached_property
    def landing(self) -> str:
        return landing_path() + self._query

    @cached_property
    def institution(self) -> str:
        return _route("feeds:institution")(self.slug) + self._query

    @cached_property
    def staff(self) -> str:
        return _route("feeds:staff")(self.slug) + self._query

    @cached_property
    def sitemap(self) -> str:
        return _route("feeds:sitemap")(self.slug)

    @cached_property
    def _profile(self) -> Callable[..., str]:
        return _route("feeds:profile")

    @cached_property
    def _post(self) -> Callable[..., str]:
        return _route("feeds:post")

    def profile(self, handle: str) -> str:
        return self._profile(self.slug, handle) + self._query

    def post(self, post_id: int) -> str:
        return self._post(self.slug, post_id) + self._query

    def feed(self, fmt: str) -> str:
        return _route("feeds:institution-feed")(self.slug, fmt)

    def profile_feed(self, handle: str, fmt: str) -> str:
        return _route("feeds:profile-feed")(self.slug, handle, fmt)

    @cached_property
    def _image(self) -> Callable[..., str]:
        return _route("feeds:post-image")

    def image(self, name: str) -> str:
        """A post image by its stored name ("" for none): served as its post allows."""
        return self._image(self.slug, name) if name else ""


def landing_path() -> str:
    """The landing page's address (the directory of institutions)."""
    return _route("feeds:landing")()
