"""The public pages' compiled reads run as prepared statements on PostgreSQL (planning them
cost more than running them: accounts.compiled._cursor), and a page read through a
prepared statement is the page read without one, byte for byte."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from accounts.middleware import PublicEntries
from feeds import services
from tests.feeds.test_public_pages import bulk_posts, correct, publish, with_image

pytestmark = pytest.mark.postgres_only

RUNS = 8  # psycopg prepares after 5 runs; the server settles on a plan after 5 more


@pytest.fixture(autouse=True)
def _no_server_cache(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    monkeypatch.setattr(PublicEntries, "UNVERSIONED_SECONDS", 3600.0)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_public_pages_read_through_prepared_statements_show_the_same_bytes(cast):
    side = cast.a
    plain = publish(side.author, side.reviewer, "Plain #news", attachments=with_image(side.author))
    corrected = correct(
        publish(side.author, side.reviewer, "First text"),
        side.author,
        side.reviewer,
        "Second text",
    )
    retracted = publish(side.author, side.reviewer, "Wrong")
    services.retract_post(retracted, by=side.reviewer, reason="It was wrong")
    bulk_posts(side.institution, side.author2, 30)
    slug, handle = side.institution.slug, side.author.handle
    paths = [
        f"/{slug}/",
        f"/{slug}/@{handle}/",
        f"/{slug}/posts/{plain.id}/",
        f"/{slug}/posts/{corrected.id}/",
        f"/{slug}/posts/{retracted.id}/",
        f"/{slug}/feed.atom",
        f"/{slug}/@{handle}/feed.json",
    ]
    client = Client()
    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    assert threshold is not None, "podium.settings sets prepare_threshold"
    try:
        connection.connection.prepare_threshold = None  # psycopg prepares nothing
        unprepared = {path: client.get(path).content for path in paths}
        connection.connection.prepare_threshold = threshold
        for _ in range(RUNS):
            prepared = {path: client.get(path).content for path in paths}
    finally:
        connection.connection.prepare_threshold = threshold

    statements = _prepared_statements()
    assert any('FROM "feeds_post"' in statement for statement in statements)
    assert prepared == unprepared


def test_only_the_compiled_reads_are_prepared(cast):
    side = cast.a
    publish(side.author, side.reviewer, "Hello")
    client = Client()
    for _ in range(RUNS):
        client.get(f"/{side.institution.slug}/")
        # Django's own queries (client-side binding) run as often, and are never prepared.
        list(type(side.institution).objects.filter(slug=side.institution.slug))

    statements = _prepared_statements()
    assert statements
    assert not [s for s in statements if 'FROM "accounts_institution"' in s]
