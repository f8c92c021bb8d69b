"""Every public page and feed runs the same number of queries however many posts and staff an
institution has (the benchmark does 100,000 posts; 10 against 300 shows the shape)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.middleware import PublicEntries
from feeds import services
from tests.feeds.test_public_pages import bulk_members, bulk_posts, correct, publish, with_image

# Reads of tables per page at most (posts with their images, staff, a count; the institution
# comes from the process's cache); the transaction's own statements are not counted here
# (test_public_statements counts every statement a cold page sends on PostgreSQL).
MOST_READS = 5
BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SELECT current_setting(")


@pytest.fixture(autouse=True)
def _no_server_cache(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    # A worker that has served the institution before: its per-process institution entry is
    # current for the whole test (the lookup it saves is counted in test_public_statements).
    monkeypatch.setattr(PublicEntries, "UNVERSIONED_SECONDS", 3600.0)


def seed(side, posts, staff):
    """A corrected post with an image, a retracted one, ``posts`` more, ``staff`` more people."""
    image = with_image(side.author)
    featured = publish(side.author, side.reviewer, "Featured #news", attachments=image)
    featured = correct(
        featured, side.author, side.reviewer, "Featured, corrected #news",
        attachments=with_image(side.author),
    )  # fmt: skip
    retracted = publish(side.author, side.reviewer, "Retracted")
    services.retract_post(retracted, by=side.reviewer, reason="Wrong")
    bulk_posts(side.institution, side.author, posts)
    bulk_posts(side.institution, side.author2, posts)
    bulk_members(side.institution, staff)
    bulk_members(side.institution, staff, prefix="gone", status="former")
    return featured, retracted


ROUTES = [
    "/",
    "/robots.txt",
    "/{slug}/",
    "/{slug}/staff/",
    "/{slug}/staff/?status=former",
    "/{slug}/@{handle}/",
    "/{slug}/posts/{featured}/",
    "/{slug}/posts/{retracted}/",
    "/{slug}/sitemap.xml",
    "/{slug}/feed.atom",
    "/{slug}/feed.rss",
    "/{slug}/feed.json",
    "/{slug}/@{handle}/feed.atom",
    "/{slug}/@{handle}/feed.rss",
    "/{slug}/@{handle}/feed.json",
]


def reads(captured):
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(BOOKKEEPING)]


def queries_per_route(client, side, featured, retracted):
    """{route: (number of queries, number of reads)} for one institution."""
    client.get(f"/{side.institution.slug}/")  # the institution is known to the process
    counts = {}
    for route in ROUTES:
        path = route.format(
            slug=side.institution.slug,
            handle=side.author.handle,
            featured=featured.id,
            retracted=retracted.id,
        )
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, path
        counts[route] = (len(captured.captured_queries), len(reads(captured)))
    return counts


def test_public_pages_and_feeds_run_a_constant_number_of_queries(cast, client):
    small = queries_per_route(client, cast.a, *seed(cast.a, posts=10, staff=5))
    large = queries_per_route(client, cast.b, *seed(cast.b, posts=300, staff=150))
    assert small == large
    assert max(read for _total, read in large.values()) <= MOST_READS, large


def _next_link(path, page):
    query = page.split('rel="next"', 1)[0].rsplit('href="?', 1)[1].split('"', 1)[0]
    return path + "?" + query.replace("&amp;", "&")


@pytest.mark.parametrize("route", ["/{slug}/", "/{slug}/@{handle}/", "/{slug}/staff/"])
def test_later_pages_cost_the_same_as_the_first(cast, client, route):
    a = cast.a
    bulk_posts(a.institution, a.author, 70)
    bulk_members(a.institution, 250)
    path = route.format(slug=a.institution.slug, handle=a.author.handle)
    link, counts = path, []
    for _page in range(3):
        client.get(link)  # the institution is known to the process
        with CaptureQueriesContext(connection) as captured:
            page = client.get(link).content.decode()
        counts.append(len(captured.captured_queries))
        link = _next_link(path, page)
    assert len(set(counts)) == 1, counts
