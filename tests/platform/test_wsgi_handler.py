"""podium.wsgi's handler (what gunicorn serves) resolves each address once: the match
TenantMiddleware found (accounts.routing, kept per path) is the one the view runs with, and
pages are what Django's own handler answers, byte for byte."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import get_resolver
from django.urls.resolvers import URLResolver

from accounts.routing import match_of
from podium.wsgi import Handler
from tests.feeds.test_public_pages import publish


def _environ(path: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "443",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _get(handler: WSGIHandler, path: str) -> tuple[str, bytes]:
    answer: list[str] = []
    body = handler(_environ(path), lambda status, headers, exc_info=None: answer.append(status))
    try:
        return answer[0], b"".join(body)
    finally:
        body.close()


@pytest.fixture
def root_resolutions(monkeypatch) -> list[str]:
    """The paths the root URL resolver is asked to resolve."""
    resolved: list[str] = []
    original = URLResolver.resolve

    def counting(self, path):
        if path.startswith("/"):  # the root resolver's: included ones get the rest of it
            resolved.append(path)
        return original(self, path)

    monkeypatch.setattr(URLResolver, "resolve", counting)
    return resolved


@pytest.fixture(autouse=True)
def _no_server_cache(settings):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _test_connection_kept():
    """As Django's test client: requests must not close the test's database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_handler_resolves_each_address_once_and_answers_as_djangos(cast, root_resolutions):
    side = cast.a
    post = publish(side.author, side.reviewer, "Sports day is on Friday #news")
    slug = side.institution.slug
    paths = [
        f"/{slug}/",
        f"/{slug}/posts/{post.id}/",
        f"/{slug}/@{side.author.handle}/",
        f"/{slug}/feed.atom",
        f"/{slug}/posts/{post.id + 1000}/",  # a 404 of the view
        "/no-such-institution/",  # a 404 of the middleware
        "/accounts/",  # members only: a redirect to the sign-in page
        "/healthz",
    ]
    for path in paths:
        expected = _get(WSGIHandler(), path)  # Django's own handler, as a reference
        match_of.cache_clear()  # TenantMiddleware's lookups, kept per path
        root_resolutions.clear()
        assert _get(Handler(), path) == expected, path
        assert root_resolutions == [path], path


def test_a_urlconf_set_on_the_request_is_resolved_as_django_does(db, root_resolutions):
    from django.http import HttpRequest

    request = HttpRequest()
    request.path_info = "/robots.txt"
    request.resolver_match = get_resolver().resolve("/")
    request.urlconf = "podium.urls"
    root_resolutions.clear()
    match = Handler().resolve_request(request)
    assert match.url_name == "robots"
    assert request.resolver_match is match
