"""Bad input on the public read path is answered, never a 500 (issue 11): numbers parsed in one
place (ASCII digits, canonical spelling), the host checked before the server cache answers,
unknown methods refused with 405, members' pages never shareable, and a property test over
arbitrary paths, query strings and headers on every public route."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.numbers import parse_ascii_int
from accounts.publicread import PUBLIC_QUERY_PARAMETERS
from accounts.tenancy import tenant_context
from feeds import services
from feeds.models import Media
from feeds.public import queries
from tests.feeds.test_public_pages import publish, url, with_image

NOT_ASCII_NUMBERS = ["²", "①", "³", "٣", "١٢", "5\n", " 5", "+5", "05", "5_0", "5.0", "1e3", "-1"]


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 3600
    settings.ALLOWED_HOSTS = ["testserver", "podium.example"]


def page_keys() -> set[str]:
    """The server cache's stored public pages (LocMemCache in tests, else Redis)."""
    if django_settings.REDIS_URL:
        client = cache._cache.get_client(write=False)
        prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
        return {key.decode() for key in client.scan_iter(match=f"{prefix}:*pubpage:*")}
    return {key for key in cache._cache if "pubpage:" in key}


# Numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", NOT_ASCII_NUMBERS)
@pytest.mark.parametrize("name", ["after", "page", "before", "before-post"])
def test_numbers_that_are_not_canonical_ascii_are_a_400_and_never_stored(cast, client, name, value):
    a = cast.a
    publish(a.author, a.reviewer)
    paths = {
        "after": (url(a.institution, "staff/"), "after", value),
        "page": (url(a.institution, "sitemap.xml"), "page", value),
        "before": (url(a.institution), "before", f"{value}-5"),
        "before-post": (
            url(a.institution, f"@{a.author.handle}/"),
            "before",
            f"1765000000-{value}",
        ),
    }
    path, parameter, spelled = paths[name]
    stored = page_keys()
    for _attempt in (1, 2):
        response = client.get(path + "?" + urlencode({parameter: spelled}))
        assert response.status_code == 400, (path, spelled)
    assert page_keys() == stored


def test_a_canonical_cursor_still_pages(cast, client):
    from tests.feeds.test_public_pages import bulk_posts

    a = cast.a
    posts = bulk_posts(a.institution, a.author, 25)
    cursor = queries.encode_cursor(posts[19])
    assert client.get(url(a.institution), {"before": cursor}).status_code == 200
    assert client.get(url(a.institution, "staff/"), {"after": str(a.author.id)}).status_code == 200
    assert client.get(url(a.institution, "sitemap.xml"), {"page": "1"}).status_code == 200


# Host, methods, members' pages -----------------------------------------------------------------


def test_the_host_is_checked_before_the_server_cache_answers(cast, client):
    a = cast.a
    path = url(a.institution, "staff/")
    assert client.get(path).status_code == 200  # now in the server cache
    assert client.get(path, HTTP_HOST="evil.example").status_code == 400
    assert client.get(path + "?after=1", HTTP_HOST="evil.example").status_code == 400


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH", "POST", "OPTIONS"])
def test_public_pages_refuse_other_methods_with_405(cast, method):
    from django.test import Client

    a = cast.a
    post = publish(a.author, a.reviewer)
    client = Client(enforce_csrf_checks=True)
    for path in ("/", url(a.institution), url(a.institution, f"posts/{post.id}/")):
        response = client.generic(method, path)
        assert response.status_code == 405, (method, path)
        assert response["Allow"] == "GET, HEAD"


def test_members_pages_are_private_and_never_stored(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer)
    client.force_login(a.author.user)
    for path in (
        url(a.institution, "posts/mine/"),
        url(a.institution, "posts/new/"),
        url(a.institution, f"posts/{post.id}/history/"),
        url(a.institution, f"posts/{post.id}/edit/"),
        url(a.institution, "profile/"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "private, no-store", path


# The property test -----------------------------------------------------------------------------

PUBLIC_METHODS = ("GET", "HEAD")
NUMBERISH = st.sampled_from(["0", "1", "2", "9" * 19, "-3", "²", "٣", "1\n", " 1", "01", "1.5"])
VALUES = st.one_of(
    NUMBERISH,
    st.sampled_from(["de", "en", "xx", "DE", "former", "active", ""]),
    st.builds(lambda a, b: f"{a}-{b}", NUMBERISH, NUMBERISH),
    st.text(max_size=30),
)
NAMES = st.one_of(st.sampled_from(PUBLIC_QUERY_PARAMETERS), st.text(min_size=1, max_size=8))
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_IF_NONE_MATCH": st.one_of(HEADER_TEXT, st.just("*"), st.just('"abc", W/"x"')),
        "HTTP_IF_MODIFIED_SINCE": st.one_of(
            HEADER_TEXT, st.just("Fri, 01 Jan 2100 00:00:00 GMT"), st.just("Thu, 01 Jan 1970")
        ),
        "HTTP_ACCEPT_LANGUAGE": st.one_of(HEADER_TEXT, st.just("de-DE,de;q=0.9,en;q=0.8")),
        "HTTP_RANGE": st.one_of(HEADER_TEXT, st.just("bytes=0-10"), st.just("bytes=-5")),
    },
)


def canonical(name: str, value: str) -> bool:
    """Whether a public parameter's value is spelled as the site itself spells it."""
    if name == "lang":
        return value in ("", *dict(django_settings.LANGUAGES))
    if name == "status":
        return value in ("", "former")
    if name in ("after", "page"):
        return value == "" or parse_ascii_int(value) is not None
    if name == "before":
        first, dash, second = value.partition("-")
        return value == "" or (
            bool(dash)
            and parse_ascii_int(first) is not None
            and parse_ascii_int(second) is not None
        )
    return True  # not read by any page: dropped from the cache key


def parameters_read(path: str) -> tuple[str, ...]:
    """The parameters the page at ``path`` declares it reads (the server cache's key)."""
    try:
        view = resolve(path).func
    except Resolver404:
        return PUBLIC_QUERY_PARAMETERS
    return ("lang", *getattr(view, "public_parameters", PUBLIC_QUERY_PARAMETERS))


@pytest.fixture
def routes(cast):
    a = cast.a
    post = publish(a.author, a.reviewer, "Property post #tag", attachments=with_image(a.author))
    retracted = publish(a.author, a.reviewer, "Gone")
    services.retract_post(retracted, by=a.reviewer, reason="Mistake")
    slug, handle = a.institution.slug, a.author.handle
    with tenant_context(a.institution.id):
        image = Media.objects.get(uploaded_by=a.author).image.name
    return [
        f"/{slug}/media/{image}",
        "/",
        "/robots.txt",
        f"/{slug}/",
        f"/{slug}/staff/",
        f"/{slug}/sitemap.xml",
        f"/{slug}/feed.atom",
        f"/{slug}/feed.rss",
        f"/{slug}/feed.json",
        f"/{slug}/@{handle}/",
        f"/{slug}/@{handle}/feed.json",
        f"/{slug}/posts/{post.id}/",
        f"/{slug}/posts/{retracted.id}/",
    ]


@hypothesis_settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(
    data=st.data(),
    query=st.lists(st.tuples(NAMES, VALUES), max_size=4),
    headers=HEADERS,
    method=st.sampled_from(["GET", "GET", "GET", "HEAD", "TRACE", "OPTIONS", "PUT"]),
    tail=st.one_of(st.just(""), st.text(max_size=12)),
)
def test_no_request_to_a_public_route_is_a_500_or_stores_a_non_canonical_copy(
    client, routes, data, query, headers, method, tail
):
    path = data.draw(st.sampled_from(routes)) + quote(tail)
    query_string = urlencode(query)
    read = {name: value for name, value in query if name in parameters_read(path)}
    stranger = not all(canonical(name, value) for name, value in read.items())
    if stranger and method in PUBLIC_METHODS:
        # The same page with only its canonical values: what that stores may be shared.
        client.get(path, {name: value for name, value in read.items() if canonical(name, value)})
    stored = page_keys()
    response = client.generic(method, f"{path}?{query_string}" if query_string else path, **headers)
    # 301 only as Django's APPEND_SLASH answers it: to the same address with its slash.
    expected = (
        (200, 304, 400, 404, 405, 301) if not path.endswith("/") else (200, 304, 400, 404, 405)
    )
    assert response.status_code in expected, (method, path, query, headers)
    if stranger:
        assert page_keys() == stored, (method, path, query)


def all_keys() -> set[str]:
    if django_settings.REDIS_URL:
        client = cache._cache.get_client(write=False)
        prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
        return {key.decode() for key in client.scan_iter(match=f"{prefix}:*")}
    return set(cache._cache)


def test_made_up_first_segments_leave_nothing_in_the_cache(cast, client):
    client.get("/")  # the global scope's version exists from here on
    stored = all_keys()
    for path in ("/Not_A_Slug/", "/" + "x" * 200 + "/", "/%E2%91%A0/", "/a b/feed.atom"):
        assert client.get(path).status_code == 404, path
    assert all_keys() == stored
