"""The public read path at the scale of the issue: the same queries with 10 posts and 100,000.

Slow on purpose (it seeds 100,000 posts, about half a minute): the smaller, faster version of
this check is test_public_queries.py. Seeding reuses the benchmark's generator.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.middleware import PublicEntries
from bench.seeding import seed_institution

PAGES = (
    "{slug}/",
    "{slug}/staff/",
    "{slug}/@{handle}/",
    "{slug}/posts/{post}/",
    "{slug}/feed.atom",
    "{slug}/feed.rss",
    "{slug}/feed.json",
    "{slug}/@{handle}/feed.atom",
    "{slug}/?before={cursor}",
)


def _queries(client, seeded) -> dict[str, int]:
    counts = {}
    first_page = client.get(f"/{seeded.slug}/")
    cursor = first_page.context["page"].next_cursor if first_page.context else None
    for page in PAGES:
        if "{cursor}" in page and cursor is None:
            continue
        path = "/" + page.format(
            slug=seeded.slug,
            handle=seeded.profile_handle,
            post=seeded.permalink_post_id,
            cursor=cursor,
        )
        # Each page as a fresh process reads it: what a per-process entry saves depends on the
        # time since it was read (one second without the server cache), not on the posts.
        PublicEntries.clear_all()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, path
        counts[page] = len(captured)
    return counts


@pytest.mark.slow
def test_public_pages_run_the_same_queries_with_10_and_100000_posts(db, client, settings):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0  # every request really reads the database
    small = seed_institution(slug="ten-posts", staff=200, posts=10, seed=1)
    large = seed_institution(slug="many-posts", staff=200, posts=100_000, seed=2)
    assert large.public_posts > 99_000
    small_counts = _queries(client, small)
    large_counts = _queries(client, large)
    assert small_counts == {k: v for k, v in large_counts.items() if k in small_counts}
    assert max(large_counts.values()) <= 10, large_counts
