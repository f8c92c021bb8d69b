"""The public read path under a crowd: no cookie, shared-cacheable headers, conditional GETs,
and a server cache that answers without queries and is replaced the moment content changes."""

from __future__ import annotations

import pytest

from accounts import services as account_services
from feeds import services
from feeds.services import PostContent
from tests.feeds.test_public_pages import correct, publish, url


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def every_public_url(side, post, retracted):
    """(path, expected status) of every public route, and of the ways they go wrong."""
    slug, handle = side.institution.slug, side.author.handle
    return [
        ("/", 200),
        ("/?lang=de", 200),
        ("/robots.txt", 200),
        (f"/{slug}/", 200),
        (f"/{slug}/?lang=de", 200),
        (f"/{slug}/?before=bad", 400),
        (f"/{slug}/staff/", 200),
        (f"/{slug}/staff/?status=former", 200),
        (f"/{slug}/staff/?after=bad", 400),
        (f"/{slug}/sitemap.xml", 200),
        (f"/{slug}/sitemap.xml?page=9", 404),
        (f"/{slug}/feed.atom", 200),
        (f"/{slug}/feed.rss", 200),
        (f"/{slug}/feed.json", 200),
        (f"/{slug}/@{handle}/", 200),
        (f"/{slug}/@{handle}/?before=bad", 400),
        (f"/{slug}/@{handle}/feed.atom", 200),
        (f"/{slug}/@{handle}/feed.rss", 200),
        (f"/{slug}/@{handle}/feed.json", 200),
        (f"/{slug}/@nobody/", 404),
        (f"/{slug}/@nobody/feed.rss", 404),
        (f"/{slug}/posts/{post.id}/", 200),
        (f"/{slug}/posts/{retracted.id}/", 200),
        (f"/{slug}/posts/999999/", 404),
        ("/no-such-institution/", 404),
        ("/no-such-institution/feed.atom", 404),
        (f"/{slug}/no/such/page/", 404),
    ]


@pytest.fixture
def published(cast):
    a = cast.a
    post = publish(a.author, a.reviewer)
    retracted = publish(a.author, a.reviewer, "Oops")
    services.retract_post(retracted, by=a.reviewer, reason="Wrong date")
    return post, retracted


@pytest.mark.parametrize("server_cache", [0, 3600])
@pytest.mark.parametrize("signed_in", [False, True])
def test_no_public_get_sets_a_cookie_or_varies_on_cookies(
    cast, client, published, settings, server_cache, signed_in
):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = server_cache
    if signed_in:
        # A member reading public pages gets the same shared-cacheable answer as anyone.
        client.force_login(cast.a.author.user)
    for path, status in every_public_url(cast.a, *published):
        for method in (client.get, client.head):
            for _attempt in (1, 2):  # the second one may come from the server cache
                response = method(path)
                assert response.status_code == status, path
                assert "Set-Cookie" not in response.headers, path
                assert "cookie" not in response.get("Vary", "").lower(), path
                assert not response.cookies, path


def test_public_responses_are_cacheable_by_shared_caches(cast, client, published):
    for path, status in every_public_url(cast.a, *published):
        if status != 200:
            continue
        response = client.get(path)
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"public", "max-age=30", "stale-while-revalidate=30"} <= cache_control, path
        assert response["ETag"], path
        # Whole seconds cannot tell a change from a retraction in the same second.
        assert "Last-Modified" not in response, path


def test_error_pages_are_not_cached_as_public(cast, client, published):
    for path, status in every_public_url(cast.a, *published):
        if status != 200:
            assert "public" not in client.get(path).get("Cache-Control", ""), path


@pytest.mark.parametrize("server_cache", [0, 3600])
def test_conditional_gets_are_answered_with_304(cast, client, published, settings, server_cache):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = server_cache
    for path in (url(cast.a.institution), url(cast.a.institution, "feed.atom")):
        first = client.get(path)
        again = client.get(path, headers={"if-none-match": first["ETag"]})
        assert again.status_code == 304, path
        assert again.content == b""
        since = client.get(path, headers={"if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT"})
        # No Last-Modified is given, so If-Modified-Since alone never answers 304.
        assert since.status_code == 200, path


def test_the_server_cache_answers_a_second_request_without_queries(
    cast, client, published, django_assert_num_queries
):
    post, _retracted = published
    paths = [
        "/",
        "/robots.txt",
        url(cast.a.institution),
        url(cast.a.institution, "staff/"),
        url(cast.a.institution, f"@{cast.a.author.handle}/"),
        url(cast.a.institution, f"posts/{post.id}/"),
        url(cast.a.institution, "feed.atom"),
        url(cast.a.institution, f"@{cast.a.author.handle}/feed.json"),
        url(cast.a.institution, "sitemap.xml"),
    ]
    first = {path: client.get(path) for path in paths}
    for path in paths:
        with django_assert_num_queries(0):
            again = client.get(path)
        assert again.status_code == 200
        assert again.content == first[path].content
        assert again["ETag"] == first[path]["ETag"]
        assert again["Content-Type"] == first[path]["Content-Type"]


def _change(action, side, post):
    if action == "publish":
        publish(side.author2, side.reviewer, "Brand-new announcement")
    elif action == "correct":
        correct(post, side.author, side.reviewer, "Brand-new corrected text")
    elif action == "retract":
        services.retract_post(post, by=side.reviewer, reason="Brand-new retraction reason")
    elif action == "profile":
        account_services.update_profile(side.author, job_title="Brand-new job title")
    elif action == "retire":
        account_services.retire_member(side.author)


@pytest.mark.parametrize(
    ("action", "pages", "gone"),
    [
        ("publish", ["", "feed.atom", "feed.json", "@{handle2}/", "@{handle2}/feed.rss"], ""),
        ("correct", ["", "posts/{post}/", "feed.rss", "@{handle}/feed.json"], ""),
        ("retract", ["posts/{post}/"], ""),
        ("retract", ["", "feed.atom", "@{handle}/"], "Sports day is on Friday"),
        ("profile", ["", "staff/", "@{handle}/", "posts/{post}/"], ""),
        ("retire", ["staff/", "@{handle}/"], ""),
    ],
)
def test_the_server_cache_is_replaced_the_moment_public_content_changes(
    cast, client, django_capture_on_commit_callbacks, action, pages, gone
):
    a = cast.a
    post = publish(a.author, a.reviewer, "Sports day is on Friday. #sports")
    paths = [
        url(
            a.institution,
            page.format(handle=a.author.handle, handle2=a.author2.handle, post=post.id),
        )
        for page in pages
    ]
    before = {path: client.get(path).content.decode() for path in paths}
    with django_capture_on_commit_callbacks(execute=True):
        _change(action, a, post)
    for path in paths:
        after = client.get(path).content.decode()
        assert after != before[path], path
        if gone:
            assert gone not in after, path
        else:
            marker = "Former staff" if action == "retire" else "Brand-new"
            assert marker in after, path


def test_a_change_in_one_institution_keeps_the_other_institutions_cache(
    cast, client, django_capture_on_commit_callbacks, django_assert_num_queries
):
    b_page = url(cast.b.institution)
    client.get(b_page)
    with django_capture_on_commit_callbacks(execute=True):
        publish(cast.a.author, cast.a.reviewer)
    with django_assert_num_queries(0):
        assert client.get(b_page).status_code == 200


def test_a_new_post_appears_on_the_landing_page_scope_too(
    cast, client, django_capture_on_commit_callbacks
):
    # The landing page and robots.txt live in the global scope, which every change bumps.
    client.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        account_services.update_institution(cast.a.institution, name="Northside Academy")
    assert "Northside Academy" in client.get("/").content.decode()


def test_drafts_and_submissions_do_not_touch_the_public_cache(
    cast, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    page = url(cast.a.institution)
    client.get(page)
    with django_capture_on_commit_callbacks(execute=True):
        post = services.create_post(cast.a.author, PostContent(body="Draft", language="en"))
        services.submit_post(post, cast.a.author)
    with django_assert_num_queries(0):
        client.get(page)
