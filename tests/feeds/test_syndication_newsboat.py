"""A real feed reader, newsboat (Debian's package), polls the Atom and RSS feeds from the live
server: a correction and a retraction reach it on the next poll, in the item it already has.
(newsboat 2.21 reads no JSON Feed; the JSON Feed is checked in test_syndication_record.py.)"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess

import pytest

from feeds import services
from tests.feeds.test_public_pages import correct, publish

NEWSBOAT = shutil.which("newsboat")

if NEWSBOAT is None and os.environ.get("PODIUM_REQUIRE_POSTGRES"):
    # CI installs every Debian package ./dev test names: a missing reader is a failure there.
    raise RuntimeError("newsboat is missing: ./dev test installs it (apt-get install newsboat)")

pytestmark = [
    pytest.mark.skipif(
        NEWSBOAT is None, reason="newsboat is not installed (apt-get install newsboat)"
    ),
    pytest.mark.django_db(transaction=True),
]


class Reader:
    """newsboat with its own home, URL list and cache, reloading on demand."""

    def __init__(self, home, feeds: list[str]) -> None:
        self.home = home
        (home / "urls").write_text("\n".join(feeds) + "\n")
        (home / "config").write_text("")
        self.cache = home / "cache.db"

    def poll(self) -> dict[str, tuple[str, str]]:
        """Reload every feed; (title, content) of each item the reader keeps, by id."""
        subprocess.run(
            [NEWSBOAT, "-u", "urls", "-c", "cache.db", "-C", "config", "-x", "reload"],
            cwd=self.home,
            env={"HOME": str(self.home), "PATH": "/usr/bin:/bin"},
            check=True,
            timeout=60,
            capture_output=True,
        )
        with sqlite3.connect(self.cache) as db:
            rows = db.execute("SELECT guid, title, content, feedurl FROM rss_item").fetchall()
        return {(feed, guid): (title, content) for guid, title, content, feed in rows}


@pytest.fixture(params=["atom", "rss"])
def reader(request, live_server, settings, tmp_path, cast):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 3600
    settings.PODIUM_BASE_URL = live_server.url
    settings.PODIUM_TAG_AUTHORITY = "podium.example"
    slug = cast.a.institution.slug
    # One feed per reader: newsboat keeps one item per id across all its feeds.
    return Reader(tmp_path, [f"{live_server.url}/{slug}/feed.{request.param}"])


def test_newsboat_sees_a_correction_then_a_retraction_on_its_next_polls(cast, reader):
    a = cast.a
    post = publish(a.author, a.reviewer, "Sports day is on Friday")
    first = reader.poll()
    keys = [key for key in first if key[1] == post.tag_id]
    assert len(keys) == 1
    assert all("Sports day is on Friday" in first[key][1] for key in keys)

    correct(post, a.author, a.reviewer, "Sports day moved to Monday")
    second = reader.poll()
    for key in keys:
        _title, content = second[key]
        assert "Corrected on" in content, key
        assert "Sports day moved to Monday" in content, key
        assert f"/posts/{post.id}/#version-1" in content, key

    services.retract_post(post, by=a.reviewer, reason="Wrong date")
    third = reader.poll()
    for key in keys:
        title, content = third[key]
        assert title.startswith("Retracted on"), key
        assert "Reason: Wrong date" in content, key
        assert "Sports day" not in title + content, key
