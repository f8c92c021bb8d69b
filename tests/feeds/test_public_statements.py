"""A cold anonymous public page (server cache off, in a worker that has served it before)
sends at most three statements to PostgreSQL, counted at the driver: its reads, and no health
check (podium.postgresql checks the socket, not the server). No tenant transaction (BEGIN,
set_config, COMMIT): public pages read rows that are public by nature (feeds migration 0006)."""

from __future__ import annotations

import pytest

from accounts.middleware import PublicEntries
from bench.statements import cold_page_statements
from feeds import services
from tests.feeds.test_public_pages import bulk_members, bulk_posts, correct, publish, with_image

pytestmark = pytest.mark.postgres_only

MOST_STATEMENTS = 3


@pytest.fixture(autouse=True)
def _no_server_cache(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    # However slow the machine, the page's per-process entries (institution, connected
    # accounts) stay current between the warm-up and the counted request.
    monkeypatch.setattr(PublicEntries, "UNVERSIONED_SECONDS", 3600.0)


def test_cold_public_pages_send_at_most_three_statements(cast):
    side = cast.a
    plain = publish(side.author, side.reviewer, "Plain #news", attachments=with_image(side.author))
    corrected = publish(side.author, side.reviewer, "First text")
    corrected = correct(
        corrected, side.author, side.reviewer, "Second text", attachments=with_image(side.author)
    )
    retracted = publish(side.author, side.reviewer, "Wrong")
    services.retract_post(retracted, by=side.reviewer, reason="It was wrong")
    bulk_posts(side.institution, side.author2, 60)
    bulk_members(side.institution, 40)
    slug, handle = side.institution.slug, side.author.handle
    pages = {
        "institution page": f"/{slug}/",
        "institution page, older posts": None,  # filled in below
        "profile page": f"/{slug}/@{handle}/",
        "post page": f"/{slug}/posts/{plain.id}/",
        "post page, corrected": f"/{slug}/posts/{corrected.id}/",
        "post page, retracted": f"/{slug}/posts/{retracted.id}/",
        **{f"institution feed ({fmt})": f"/{slug}/feed.{fmt}" for fmt in ("atom", "rss", "json")},
        **{f"profile feed ({fmt})": f"/{slug}/@{handle}/feed.{fmt}" for fmt in ("atom", "rss")},
    }
    from django.test import Client

    from tests.feeds.test_public_queries import _next_link

    first = Client().get(pages["institution page"]).content.decode()
    pages["institution page, older posts"] = _next_link(pages["institution page"], first)

    counted = cold_page_statements(pages)

    too_many = {
        name: found.statements for name, found in counted.items() if found.count > MOST_STATEMENTS
    }
    assert not too_many
    for name, found in counted.items():
        assert not [s for s in found.statements if s in ("BEGIN", "COMMIT")], name
        assert not [s for s in found.statements if "set_config" in s], name
    # The counter sees what Django's query log misses, such as Django's health check (SELECT 1),
    # which podium.postgresql replaced with a look at the socket.
    for name, found in counted.items():
        assert "SELECT 1" not in found.statements, name
    assert counted["institution page"].statements[0].startswith('SELECT "feeds_post"')
