"""Machine-readable public documents: Atom 1.0, RSS 2.0 and JSON Feed 1.1 of an institution's
and a member's posts, and the sitemaps.

The feeds are built on Django's syndication framework (``Feed`` and the generators in
``django.utils.feedgenerator``) with a small JSON Feed 1.1 generator beside them. Every address
in them is absolute, built from ``settings.PODIUM_BASE_URL``; the request's host is never used.

Item ids are tag URIs (RFC 4151) and never change: ``tag:<host>,<date>:post/<id>``, where
``host`` is the host name of the installation's base URL and ``date`` the day the institution
was created, which the post outlives unchanged. Post ids are unique across the installation, so
the slug is not needed (and the id survives any change of the page layout). A correction keeps
the id and moves the item's ``updated`` date; a retracted post drops out of the feeds.

Texts are the precomputed, sanitised ``Revision.body_html``; nothing is rendered again here.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import (
    Atom1Feed,
    Enclosure,
    Rss201rev2Feed,
    SyndicationFeed,
    rfc3339_date,
)
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.xmlutils import SimplerXMLGenerator

from accounts.models import Institution, Membership
from feeds import queries
from feeds.models import Attachment, Post
from feeds.rendering import excerpt

FEED_LENGTH = 50
# The sitemap protocol allows 50,000 addresses per file; above that an index lists the files.
SITEMAP_LIMIT = 50_000
# Hashtags as feeds.rendering marks them up in body_html (the page's p-category), so feeds list
# exactly the tags the page shows (never one inside a link or code).
_HASHTAG_RE = re.compile(r'<span class="p-category hashtag">#([^<]+)</span>')
# Site-relative links in sanitised post HTML (mentions link to profiles as "/slug/@handle/").
_RELATIVE_HREF_RE = re.compile(r'href="/(?!/)')


# Addresses -------------------------------------------------------------------------------------


def absolute_url(path: str) -> str:
    """An absolute address on this installation (feeds, sitemaps and meta tags need them)."""
    return settings.PODIUM_BASE_URL + path


def institution_url(institution: Institution) -> str:
    return absolute_url(reverse("feeds:institution", args=[institution.slug]))


def profile_page_url(institution: Institution, member: Membership) -> str:
    return absolute_url(reverse("feeds:profile", args=[institution.slug, member.handle]))


def post_url(institution: Institution, post: Post) -> str:
    return absolute_url(reverse("feeds:post", args=[institution.slug, post.id]))


def media_url(file) -> str:
    """The absolute address of an uploaded file (relative MEDIA_URL made absolute)."""
    url = file.url
    return url if urlsplit(url).scheme else absolute_url(url)


def _tag_authority(institution: Institution) -> str:
    host = urlsplit(settings.PODIUM_BASE_URL).hostname or "localhost"
    return f"tag:{host},{institution.created_at.astimezone(UTC):%Y-%m-%d}:"


def post_tag_uri(institution: Institution, post: Post) -> str:
    """The permanent id of a post in every feed (see the module docstring)."""
    return f"{_tag_authority(institution)}post/{post.id}"


# What feeds and pages derive from a post's public revision ------------------------------------


def text_of(body_html: str) -> str:
    """The plain text of sanitised post HTML, on one line (titles, summaries, meta tags)."""
    return " ".join(html.unescape(nh3.clean(body_html, tags=set())).split())


def post_title(post: Post, length: int = 80) -> str:
    return excerpt(text_of(post.public_revision.body_html), length)


def post_hashtags(post: Post) -> list[str]:
    """The hashtags the rendered text marks up (``p-category``), without duplicates."""
    seen: dict[str, str] = {}
    for tag in _HASHTAG_RE.findall(post.public_revision.body_html):
        tag = html.unescape(tag)
        seen.setdefault(tag.lower(), tag)
    return list(seen.values())


def post_images(post: Post) -> list[Attachment]:
    """The attachments of the public revision, prefetched by ``queries.public_posts``."""
    return list(post.public_revision.attachments.all())


def content_html(post: Post) -> str:
    """The post's HTML for feed readers: absolute links, and its images with their alt texts."""
    images = "".join(
        format_html(
            '<p><img src="{}" alt="{}" width="{}" height="{}"></p>',
            media_url(attachment.media.image),
            attachment.alt_text,
            attachment.media.width,
            attachment.media.height,
        )
        for attachment in post_images(post)
    )
    body = _RELATIVE_HREF_RE.sub(
        f'href="{settings.PODIUM_BASE_URL}/', post.public_revision.body_html
    )
    return body + images


def last_change(post: Post) -> datetime:
    """When the public text last changed: the correction, else the publication."""
    return post.corrected_at or post.published_at


# Generators ------------------------------------------------------------------------------------


class _StableDateMixin:
    """An empty feed's date is the feed's own fixed date, not "now" (stable ETags)."""

    def latest_post_date(self) -> datetime:
        if self.items:
            return super().latest_post_date()
        return self.feed.get("fallback_date") or datetime.now(tz=UTC)


class PodiumAtomFeed(_StableDateMixin, Atom1Feed):
    """Atom 1.0 with the full text as ``content`` and each entry's language."""

    def item_attributes(self, item: dict) -> dict:
        return {"xml:lang": item["language"]} if item.get("language") else {}

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict) -> None:
        super().add_item_elements(handler, {**item, "description": None})
        handler.addQuickElement("summary", item["summary"])
        handler.addQuickElement("content", item["description"], {"type": "html"})


class PodiumRssFeed(_StableDateMixin, Rss201rev2Feed):
    """RSS 2.0 with each item's language (Dublin Core); RSS allows one enclosure per item."""

    def rss_attributes(self) -> dict:
        return {**super().rss_attributes(), "xmlns:dc": "http://purl.org/dc/elements/1.1/"}

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict) -> None:
        super().add_item_elements(handler, {**item, "enclosures": item["enclosures"][:1]})
        if item.get("language"):
            handler.addQuickElement("dc:language", item["language"])


class JsonFeed(_StableDateMixin, SyndicationFeed):
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""

    content_type = "application/feed+json; charset=utf-8"

    def write(self, outfile, encoding: str) -> None:
        feed = self.feed
        document = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": feed["title"],
            "home_page_url": feed["link"],
            "feed_url": feed["feed_url"],
            "description": feed["description"],
            "language": feed["language"],
            "authors": feed.get("json_authors") or [],
            "icon": feed.get("icon"),
        }
        document = _without_empty(document) | {"items": [self._item(item) for item in self.items]}
        outfile.write(json.dumps(document, ensure_ascii=False))

    def _item(self, item: dict) -> dict:
        return _without_empty(
            {
                "id": item["unique_id"],
                "url": item["link"],
                "content_html": item["description"],
                "summary": item["summary"],
                "image": item["image"],
                "date_published": rfc3339_date(item["pubdate"]),
                "date_modified": rfc3339_date(item["updateddate"]),
                "authors": [item["json_author"]],
                "tags": list(item["categories"]),
                "language": item["language"],
                "attachments": item["json_attachments"],
            }
        )


def _without_empty(document: dict) -> dict:
    """JSON Feed leaves out what is unknown rather than sending nulls or empty lists."""
    return {key: value for key, value in document.items() if value not in (None, "", [])}


FEED_TYPES: dict[str, type[SyndicationFeed]] = {
    "atom": PodiumAtomFeed,
    "rss": PodiumRssFeed,
    "json": JsonFeed,
}


# Feeds -----------------------------------------------------------------------------------------


class PostFeed(Feed):
    """The latest public posts of an institution (or of one member), in one of three formats."""

    def __init__(self, fmt: str, institution: Institution, member: Membership | None = None):
        self.feed_type = FEED_TYPES[fmt]
        self.fmt = fmt
        self.language = institution.locale
        self.institution = institution
        self.member = member

    # The feed.

    def items(self) -> list[Post]:
        posts = queries.public_posts() if self.member is None else queries.posts_by(self.member)
        return list(posts[:FEED_LENGTH])

    def title(self) -> str:
        if self.member is None:
            return self.institution.name
        return f"{self.member.display_name} · {self.institution.name}"

    def link(self) -> str:
        if self.member is None:
            return institution_url(self.institution)
        return profile_page_url(self.institution, self.member)

    def feed_url(self) -> str:
        kwargs = {"institution_slug": self.institution.slug, "fmt": self.fmt}
        if self.member is None:
            return absolute_url(reverse("feeds:institution-feed", kwargs=kwargs))
        kwargs["handle"] = self.member.handle
        return absolute_url(reverse("feeds:profile-feed", kwargs=kwargs))

    def feed_guid(self) -> str:
        suffix = "posts" if self.member is None else f"member/{self.member.id}"
        return _tag_authority(self.institution) + suffix

    def description(self) -> str:
        if self.member is not None:
            if self.member.job_title:
                return f"{self.member.job_title}, {self.institution.name}"
            return self.institution.name
        return self.institution.description or _("Posts of %(name)s") % {
            "name": self.institution.name
        }

    def subtitle(self) -> str:
        return self.description()

    def author_name(self) -> str:
        return self.member.display_name if self.member else self.institution.name

    def author_link(self) -> str:
        return self.link()

    def feed_extra_kwargs(self, obj) -> dict:
        extra = {"fallback_date": self.institution.created_at}
        if self.member is not None:
            extra["json_authors"] = [_json_author(self.institution, self.member)]
        else:
            extra["json_authors"] = [{"name": self.institution.name, "url": self.link()}]
        if self.institution.logo:
            extra["icon"] = media_url(self.institution.logo)
        return extra

    # Each item.

    def item_title(self, post: Post) -> str:
        return post_title(post)

    def item_description(self, post: Post) -> str:
        return content_html(post)

    def item_link(self, post: Post) -> str:
        return post_url(self.institution, post)

    def item_guid(self, post: Post) -> str:
        return post_tag_uri(self.institution, post)

    item_guid_is_permalink = False

    def item_pubdate(self, post: Post) -> datetime:
        return post.published_at

    def item_updateddate(self, post: Post) -> datetime:
        return last_change(post)

    def item_author_name(self, post: Post) -> str:
        return post.author.display_name

    def item_author_link(self, post: Post) -> str:
        return profile_page_url(self.institution, post.author)

    def item_categories(self, post: Post) -> list[str]:
        return post_hashtags(post)

    def item_enclosures(self, post: Post) -> list[Enclosure]:
        return [
            Enclosure(
                media_url(attachment.media.image),
                str(attachment.media.byte_size),
                attachment.media.content_type,
            )
            for attachment in post_images(post)
        ]

    def item_extra_kwargs(self, post: Post) -> dict:
        images = post_images(post)
        return {
            "language": post.public_revision.language,
            "summary": excerpt(text_of(post.public_revision.body_html), 300),
            "image": media_url(images[0].media.image) if images else None,
            "json_author": _json_author(self.institution, post.author),
            "json_attachments": [
                _without_empty(
                    {
                        "url": media_url(attachment.media.image),
                        "mime_type": attachment.media.content_type,
                        "title": attachment.alt_text,
                        "size_in_bytes": attachment.media.byte_size or None,
                    }
                )
                for attachment in images
            ],
        }


def _json_author(institution: Institution, member: Membership) -> dict:
    author = {"name": member.display_name, "url": profile_page_url(institution, member)}
    if member.avatar:
        author["avatar"] = media_url(member.avatar)
    return author


# Sitemaps --------------------------------------------------------------------------------------


class SitemapPageMissing(Exception):
    """A sitemap page number beyond the last page."""


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None = None


def sitemap(institution: Institution, page: int | None) -> str:
    """The sitemap of the current institution: its page, staff directory, profiles and posts.

    One ``urlset`` file while everything fits; beyond ``SITEMAP_LIMIT`` addresses the plain
    address answers with an index of ``?page=N`` files. Four queries whatever the size: two
    counts and two slices.
    """
    counts = queries.sitemap_counts()
    total = 2 + counts.members + counts.posts
    pages = max(1, math.ceil(total / SITEMAP_LIMIT))
    if page is None and pages > 1:
        return sitemap_index_xml(institution, pages)
    page = page or 1
    if page > pages:
        raise SitemapPageMissing
    start, stop = (page - 1) * SITEMAP_LIMIT, page * SITEMAP_LIMIT
    slug = institution.slug
    fixed = [
        SitemapEntry(institution_url(institution), counts.latest_change),
        SitemapEntry(absolute_url(reverse("feeds:staff", args=[slug]))),
    ][start:stop]
    profile = _address_maker("feeds:profile", slug, "sentinel0handle")
    members = [
        SitemapEntry(profile(handle))
        for handle, _status in queries.sitemap_members(
            max(0, start - 2), min(counts.members, stop - 2)
        )
    ]
    first_post = 2 + counts.members
    post = _address_maker("feeds:post", slug, 987654321987654321)
    posts = [
        SitemapEntry(post(post_id), changed)
        for post_id, changed in queries.sitemap_posts(
            max(0, start - first_post), max(0, stop - first_post)
        )
    ]
    return sitemap_xml(fixed + members + posts)


def _address_maker(name: str, slug: str, sentinel: str | int):
    """Absolute addresses of one route for many values, reversing the route only once."""
    prefix, suffix = absolute_url(reverse(name, args=[slug, sentinel])).rsplit(str(sentinel), 1)
    return lambda value: f"{prefix}{value}{suffix}"


def _w3c_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemap_xml(entries: Iterable[SitemapEntry]) -> str:
    """A sitemap ``urlset`` document."""
    out = StringIO()
    handler = SimplerXMLGenerator(out, "utf-8", short_empty_elements=True)
    handler.startDocument()
    handler.startElement("urlset", {"xmlns": SITEMAP_NS})
    for entry in entries:
        handler.startElement("url", {})
        handler.addQuickElement("loc", entry.url)
        if entry.lastmod is not None:
            handler.addQuickElement("lastmod", _w3c_date(entry.lastmod))
        handler.endElement("url")
    handler.endElement("urlset")
    return out.getvalue()


def sitemap_index_xml(institution: Institution, pages: int) -> str:
    """A sitemap index listing the institution's sitemap files ``?page=1`` to ``?page=pages``."""
    base = absolute_url(reverse("feeds:sitemap", args=[institution.slug]))
    out = StringIO()
    handler = SimplerXMLGenerator(out, "utf-8", short_empty_elements=True)
    handler.startDocument()
    handler.startElement("sitemapindex", {"xmlns": SITEMAP_NS})
    for page in range(1, pages + 1):
        handler.startElement("sitemap", {})
        handler.addQuickElement("loc", f"{base}?page={page}")
        handler.endElement("sitemap")
    handler.endElement("sitemapindex")
    return out.getvalue()
