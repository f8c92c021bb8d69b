"""The journalist's test, through the real proxy (nginx rendered from platform/nginx, Django's
server cache on): a post with a photo is published, corrected, then retracted. At each step,
2 s after the change commits, the permalink (English and German), every feed, the sitemap and
the photo say exactly what the record says, with every time in the institution's zone, and the
earlier version is on the permalink under its own anchor. Each address was fetched through the
proxy just before the change, so a copy of the previous step is there to be served wrongly.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feedparser
import pytest
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.localtime import local_time_text
from feeds import services
from tests.feeds.test_public_pages import correct, publish, with_image
from tests.platform.servers import fetch, nginx_available
from tests.platform.test_proxy_freshness import GUARANTEE_SECONDS, HOST, site  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not nginx_available(), reason="/usr/sbin/nginx is not installed"),
    pytest.mark.django_db(transaction=True),
]

BASE = f"http://{HOST}"
TOMBSTONES = "{http://purl.org/atompub/tombstones/1.0}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
FEEDS = ("atom", "rss", "json")


class Record:
    """The post's addresses and what a reader gets from each through the proxy."""

    def __init__(self, side, post, port: int) -> None:
        self.side, self.post, self.port = side, post, port
        slug, handle = side.institution.slug, post.author.handle
        self.permalink = f"/{slug}/posts/{post.id}/"
        self.feeds = [
            (fmt, path)
            for fmt in FEEDS
            for path in (f"/{slug}/feed.{fmt}", f"/{slug}/@{handle}/feed.{fmt}")
        ]
        self.sitemap = f"/{slug}/sitemap.xml"
        page = self.get(self.permalink).decode()
        self.image = page.split('<img class="u-photo" src="', 1)[1].split('"', 1)[0]

    def addresses(self) -> list[str]:
        return [
            self.permalink,
            f"{self.permalink}?lang=de",
            self.sitemap,
            self.image,
            *(path for _fmt, path in self.feeds),
        ]

    def get(self, path: str) -> bytes:
        response = fetch(self.port, path)
        assert response.status == 200, (path, response.status)
        return response.body

    def status(self, path: str) -> int:
        return fetch(self.port, path).status

    def prime(self) -> None:
        """Every address through the proxy, so that it holds a copy of what it shows now."""
        for path in self.addresses():
            fetch(self.port, path)

    def entries(self, fmt: str, path: str) -> dict[str, dict]:
        """The feed's entries by id as a reader gets them: title, content, updated time."""
        body = self.get(path)
        if fmt == "json":
            return {
                item["id"]: {
                    "title": item.get("title", ""),
                    "content": item["content_html"],
                    "updated": datetime.fromisoformat(item["date_modified"]),
                }
                for item in json.loads(body)["items"]
            }
        parsed = feedparser.parse(body)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        return {
            entry.id: {
                "title": entry.title,
                "content": entry.content[0].value if "content" in entry else entry.description,
                "updated": (
                    datetime(*entry.updated_parsed[:6], tzinfo=UTC)
                    if "updated_parsed" in entry and fmt == "atom"
                    else None
                ),
            }
            for entry in parsed.entries
        }

    def sitemap_lastmod(self) -> str | None:
        """The sitemap's lastmod of the permalink; None when the permalink is not listed."""
        root = ET.fromstring(self.get(self.sitemap))  # noqa: S314 (our own document)
        for entry in root.findall(f"{SITEMAP}url"):
            if entry.find(f"{SITEMAP}loc").text == BASE + self.permalink:
                lastmod = entry.find(f"{SITEMAP}lastmod")
                return lastmod.text if lastmod is not None else ""
        return None


def after_the_guarantee(change) -> object:
    """Run ``change`` and wait until 2 s after it committed (services commit before returning)."""
    result = change()
    committed = time.time()
    time.sleep(max(0.0, committed + GUARANTEE_SECONDS - time.time()))
    return result


def local(moment: datetime, side, language: str = "en") -> str:
    with translation.override(language):
        return local_time_text(moment, side.institution.zone)


def iso(moment: datetime, side) -> str:
    return f"{moment.astimezone(side.institution.zone):%Y-%m-%dT%H:%M:%S%z}"


def w3c(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def german(message: str) -> str:
    with translation.override("de"):
        return _(message)


def test_published_corrected_retracted_through_the_proxy_says_what_the_record_says(cast, site):  # noqa: F811 (the fixture)
    a = cast.a
    photo = with_image(a.author, alt_text="Runners at the start line")
    post = publish(a.author, a.reviewer, "Sports day is on Friday #sports", attachments=photo)
    record = Record(a, post, site.port)
    published = post.published_at

    # 1. Published.
    page = record.get(record.permalink).decode()
    assert "Sports day is on Friday" in page
    assert (
        f'<time class="dt-published" datetime="{iso(published, a)}">{local(published, a)}</time>'
        in page
    )
    assert "Corrected on" not in page
    for fmt, path in record.feeds:
        (entry,) = record.entries(fmt, path).values()
        assert "Sports day is on Friday" in entry["content"], path
        assert "Corrected on" not in entry["content"], path
    assert record.sitemap_lastmod() == w3c(published)
    assert fetch(site.port, record.image).body.startswith(b"\x89PNG")

    # 2. Corrected: the new text, when, and the earlier version under its own anchor.
    record.prime()
    post = after_the_guarantee(
        lambda: correct(
            post, a.author, a.reviewer, "Sports day moved to Monday #sports", attachments=photo
        )
    )
    corrected = post.corrected_at
    assert corrected > published
    page = record.get(record.permalink).decode()
    content = page.split('class="e-content', 1)[1].split("</div>", 1)[0]
    assert "Sports day moved to Monday" in content
    assert "Sports day is on Friday" not in content
    assert (
        f'Corrected on <time class="dt-updated" datetime="{iso(corrected, a)}">'
        f"{local(corrected, a)}</time>" in page
    )
    assert 'id="version-2"' in page  # the text shown now has its anchor too
    earlier = page.split('<li id="version-1">', 1)[1].split("</li>", 1)[0]
    assert "Sports day is on Friday" in earlier
    assert (
        f'Shown from <time datetime="{iso(published, a)}">{local(published, a)}</time> '
        f'until <time datetime="{iso(corrected, a)}">{local(corrected, a)}</time>'
    ) in earlier
    german_page = record.get(f"{record.permalink}?lang=de").decode()
    assert f"{german('Corrected on')} <time" in german_page
    assert local(corrected, a, "de") in german_page
    assert "Sports day moved to Monday" in german_page

    earlier_anchor = f"{BASE}{record.permalink}#version-1"
    for fmt, path in record.feeds:
        entries = record.entries(fmt, path)
        assert list(entries) == [post.tag_id], path
        entry = entries[post.tag_id]
        assert "Sports day moved to Monday" in entry["content"], path
        assert f"Corrected on {local(corrected, a)}." in entry["content"], path
        assert earlier_anchor in entry["content"], path
        if entry["updated"] is not None:
            assert entry["updated"].replace(microsecond=0) == corrected.replace(microsecond=0)
    assert record.sitemap_lastmod() == w3c(corrected)
    assert fetch(site.port, record.image).status == 200  # the correction still shows it

    # 3. Retracted: when and why, none of the text, no photo, out of the sitemap.
    record.prime()
    reason = "The date was not confirmed"
    post = after_the_guarantee(lambda: services.retract_post(post, by=a.reviewer, reason=reason))
    retracted = post.retracted_at
    for path in (record.permalink, f"{record.permalink}?lang=de"):
        page = record.get(path).decode()
        assert "Sports day" not in page, path
        assert "/media/posts/" not in page, path
        assert 'property="og:image"' not in page, path
        assert reason in page, path
    page = record.get(record.permalink).decode()
    assert f'Retracted on <time datetime="{iso(retracted, a)}">{local(retracted, a)}</time>' in page
    assert local(retracted, a, "de") in record.get(f"{record.permalink}?lang=de").decode()

    for fmt, path in record.feeds:
        raw = record.get(path).decode()
        assert "Sports day" not in raw and "/media/posts/" not in raw, path
        entries = record.entries(fmt, path)
        assert list(entries) == [post.tag_id], path  # the same entry, now a notice
        entry = entries[post.tag_id]
        assert entry["title"] == f"Retracted on {local(retracted, a)}", path
        assert f"Reason: {reason}" in entry["content"], path
        if entry["updated"] is not None:
            assert entry["updated"].replace(microsecond=0) == retracted.replace(microsecond=0)
        if fmt == "atom":
            root = ET.fromstring(raw)  # noqa: S314 (our own document)
            (tombstone,) = root.findall(f"{TOMBSTONES}deleted-entry")
            assert tombstone.get("ref") == post.tag_id
            assert datetime.fromisoformat(tombstone.get("when")) == retracted
    assert record.sitemap_lastmod() is None
    assert record.status(record.image) == 404
