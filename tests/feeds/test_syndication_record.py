"""Corrections and retractions reach feed subscribers on their next poll: a retracted post stays
in every feed it appeared in as a notice (same id, new updated time, when and why, none of its
text; Atom also an RFC 6721 tombstone); a corrected post says so and links to the earlier
version's own anchor on the permalink. Read as feedparser reads them; JSON Feed as JSON."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import feedparser
import pytest

from feeds import services
from tests.feeds.test_public_pages import correct, publish, url, with_image

BASE = "https://podium.example"
TOMBSTONES = "{http://purl.org/atompub/tombstones/1.0}"
ZONE_TIME = re.compile(r"\d{1,2} \w{3} \d{4}, \d{2}:\d{2} CES?T")


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    settings.PODIUM_BASE_URL = BASE
    settings.PODIUM_TAG_AUTHORITY = "podium.example"


def feeds_of(side, post):
    slug, handle = side.institution.slug, post.author.handle
    return [
        (fmt, path)
        for fmt in ("atom", "rss", "json")
        for path in (f"/{slug}/feed.{fmt}", f"/{slug}/@{handle}/feed.{fmt}")
    ]


def poll(client, fmt, path):
    """The feed's entries by id, as a reader gets them: (id, title, text, updated)."""
    body = client.get(path).content
    if fmt == "json":
        return {
            item["id"]: (
                item["id"],
                item.get("title", ""),
                item["content_html"],
                item.get("date_modified"),
            )
            for item in json.loads(body)["items"]
        }
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return {
        entry.id: (
            entry.id,
            entry.title,
            entry.content[0].value if "content" in entry else entry.description,
            entry.get("updated"),
        )
        for entry in parsed.entries
    }


def test_a_retracted_post_stays_in_every_feed_as_a_notice_with_its_reason(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "The exam answers are A, C, D #exam")
    paths = feeds_of(a, post)
    before = {path: poll(client, fmt, path) for fmt, path in paths}

    services.retract_post(post, by=a.reviewer, reason="Published by mistake")

    for fmt, path in paths:
        raw = client.get(path).content.decode()
        assert "exam answers" not in raw, path
        assert "#exam" not in raw and "A, C, D" not in raw, path
        after = poll(client, fmt, path)
        assert after.keys() == before[path].keys(), path
        (entry_id,) = after
        _id, title, text, updated = after[entry_id]
        assert entry_id == post.tag_id, path
        assert title.startswith("Retracted on "), path
        assert ZONE_TIME.search(title), path
        assert "Northside School retracted this post on" in text, path
        assert "Reason: Published by mistake" in text, path
        assert updated != before[path][entry_id][3], path


def test_atom_also_announces_the_retraction_as_an_rfc_6721_deleted_entry(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Gone soon")
    post = services.retract_post(post, by=a.reviewer, reason="Wrong room")
    root = ET.fromstring(client.get(url(a.institution, "feed.atom")).content)  # noqa: S314 (ours)
    (tombstone,) = root.findall(f"{TOMBSTONES}deleted-entry")
    assert tombstone.get("ref") == post.tag_id
    assert datetime.fromisoformat(tombstone.get("when")) == post.retracted_at
    assert "Wrong room" in tombstone.find(f"{TOMBSTONES}comment").text


def test_a_retracted_posts_images_leave_the_feeds(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Look", attachments=with_image(a.author))
    services.retract_post(post, by=a.reviewer, reason="Wrong photo")
    for _fmt, path in feeds_of(a, post):
        raw = client.get(path).content.decode()
        assert "/media/" not in raw, path
        assert "enclosure" not in raw and "attachments" not in raw, path


def test_a_corrected_post_says_when_and_links_to_the_earlier_versions_anchor(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Sports day is on Friday")
    before = {path: poll(client, fmt, path) for fmt, path in feeds_of(a, post)}
    post = correct(post, a.author, a.reviewer, "Sports day moved to Monday")
    earlier_anchor = f"{BASE}/{a.institution.slug}/posts/{post.id}/#version-1"

    for fmt, path in feeds_of(a, post):
        after = poll(client, fmt, path)
        assert after.keys() == before[path].keys(), path
        _id, _title, text, updated = after[post.tag_id]
        assert "Corrected on " in text, path
        assert ZONE_TIME.search(text), path
        assert earlier_anchor in text, path
        assert "Sports day moved to Monday" in text, path
        assert updated != before[path][post.tag_id][3], path

    page = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    earlier = page.split('id="version-1"', 1)[1].split("</li>", 1)[0]
    assert "Sports day is on Friday" in earlier
    assert "Shown from" in earlier and "until" in earlier
    assert ZONE_TIME.search(earlier)
    assert 'id="version-2"' in page  # the current text has its own anchor too


def test_the_journalists_record_published_corrected_retracted(cast, client):
    """At each step the permalink, every feed and the sitemap say exactly what the record says."""
    a = cast.a
    slug = a.institution.slug
    post = publish(a.author, a.reviewer, "Version one of the record")
    permalink = url(a.institution, f"posts/{post.id}/")
    sitemap = f"/{slug}/sitemap.xml"

    def everything() -> str:
        paths = [permalink, sitemap] + [path for _fmt, path in feeds_of(a, post)]
        return "\n".join(client.get(path).content.decode() for path in paths)

    assert "Version one of the record" in everything()
    post = correct(post, a.author, a.reviewer, "Version two of the record")
    text = everything()
    assert "Version two of the record" in text
    assert "Corrected on" in text
    page = client.get(permalink).content.decode()
    assert "Version one of the record" in page.split('id="version-1"', 1)[1]
    services.retract_post(post, by=a.reviewer, reason="Superseded by the letter")
    text = everything()
    assert "of the record" not in text
    assert "Superseded by the letter" in text
    assert f"posts/{post.id}/" not in client.get(sitemap).content.decode()
