"""A real JSON Feed reader, @extractus/feed-extractor 8.0.3 in Node (``tests/feeds/readers``,
installed by ./dev test), polls the live server after a post is published, corrected and
retracted: the JSON Feeds of the institution and of the author's profile, and cheaply their Atom
and RSS feeds. The correction and the retraction reach it on its next poll, in the entry it
already has.

By default the reader shows an entry's id, title, link, a time and a description (the text with
its tags stripped, cut at 250 characters). The time it shows is Atom's ``updated`` but JSON
Feed's ``date_published`` and RSS's ``pubDate``: ``date_modified`` and ``atom:updated`` are
dropped, and so is every link inside the text. An app that asks (``getExtraEntryFields``) gets
the item's full HTML and its time of change: ``kept`` below. It never sees Atom's RFC 6721
``at:deleted-entry``; the retraction reaches it as the notice entry."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from feeds import services
from tests.feeds.test_public_pages import correct, publish

READERS = Path(__file__).resolve().with_name("readers")
NODE = shutil.which("node")
ZONE_TIME = re.compile(r"\d{1,2} \w{3} \d{4}, \d{2}:\d{2} CES?T")
FIRST = "Sports day is on Friday"
# Longer than the reader's 250 characters: the notice that opens it must survive the cut.
SECOND = (
    "Sports day moved to Monday because the field is being reseeded this week. "
    "Races start after lunch, the relay follows the long jump, and families are welcome "
    "to watch from the benches along the running track. Please bring water, a hat, "
    "trainers and a spare shirt; the tuck shop stays open all afternoon."
)

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed: feed-extractor cannot run"),
    pytest.mark.django_db(transaction=True),
]


def poll(urls: list[str]) -> dict[str, dict[str, dict]]:
    """Every feed's entries as feed-extractor shows them, by entry id (one Node run)."""
    if not (READERS / "node_modules" / "@extractus" / "feed-extractor").is_dir():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed: ./dev test cannot install feed-extractor")
        pytest.fail("tests/feeds/readers/node_modules is missing: run ./dev test (or npm ci there)")
    result = subprocess.run(
        [NODE, str(READERS / "read_feeds.mjs"), *urls],
        capture_output=True,
        check=True,
        timeout=60,
    )
    feeds = json.loads(result.stdout)
    return {url: {entry["id"]: entry for entry in feeds[url]} for url in urls}


def shown(entry: dict) -> str:
    """Everything the reader shows of an entry, and what it hands an app that asks."""
    return "\n".join([entry["title"], entry["description"], entry["kept"]["content"]])


def close(shown_time: str, record: datetime) -> bool:
    # The reader shows times to the millisecond.
    return abs(datetime.fromisoformat(shown_time) - record) < timedelta(milliseconds=1)


def test_feed_extractor_sees_a_correction_then_a_retraction_on_its_next_polls(
    cast, live_server, settings
):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 3600
    settings.PODIUM_BASE_URL = live_server.url
    settings.PODIUM_TAG_AUTHORITY = "podium.example"
    a = cast.a
    post = publish(a.author, a.reviewer, FIRST)
    institution = f"{live_server.url}/{a.institution.slug}"
    profile = f"{institution}/@{a.author.handle}"
    formats = ("json", "atom", "rss")
    urls = [f"{feed}/feed.{fmt}" for fmt in formats for feed in (institution, profile)]
    permalink = f"{institution}/posts/{post.id}/"

    first = poll(urls)
    for url in urls:
        assert first[url].keys() == {post.tag_id}, url
        entry = first[url][post.tag_id]
        assert entry["link"] == permalink, url
        assert entry["description"] == FIRST, url
        assert "Corrected" not in shown(entry), url

    post = correct(post, a.author, a.reviewer, SECOND)
    second = poll(urls)
    for url in urls:
        assert second[url].keys() == {post.tag_id}, url
        entry = second[url][post.tag_id]
        description = entry["description"]
        assert description.startswith("Corrected on "), url
        assert ZONE_TIME.match(description, len("Corrected on ")), url
        assert "See the earlier version Sports day moved" in description, url  # words apart
        assert "Sports day moved to Monday" in description, url
        assert description.endswith("..."), url  # the reader's cut; the notice came first
        assert FIRST not in shown(entry), url
        # The address of the earlier version is lost from the description (tags are stripped);
        # an app that asks for the content has it.
        assert f'href="{permalink}#version-1"' in entry["kept"]["content"], url
        assert close(entry["kept"]["modified"], post.corrected_at), url
        if url.endswith(".atom"):
            assert close(entry["published"], post.corrected_at), url

    with urllib.request.urlopen(f"{permalink}#version-1", timeout=10) as response:
        page = response.read().decode()
    assert FIRST in page.split('id="version-1"', 1)[1].split("</li>", 1)[0]

    post = services.retract_post(post, by=a.reviewer, reason="Wrong date")
    third = poll(urls)
    for url in urls:
        assert third[url].keys() == {post.tag_id}, url
        entry = third[url][post.tag_id]
        assert entry["link"] == permalink, url
        assert entry["title"].startswith("Retracted on "), url
        assert ZONE_TIME.fullmatch(entry["title"], len("Retracted on ")), url
        description = entry["description"]
        assert "Northside School retracted this post on" in description, url
        assert "Its text is no longer shown." in description, url
        assert "no longer shown. Reason: Wrong date" in description, url
        assert "Sports day" not in shown(entry), url
        assert "Corrected" not in shown(entry), url
        assert close(entry["kept"]["modified"], post.retracted_at), url
        if url.endswith(".atom"):
            assert close(entry["published"], post.retracted_at), url
