"""Machine-readable public documents: Atom 1.0, RSS 2.0 and JSON Feed 1.1 of an institution's
and a member's posts, and the sitemaps; and the addresses of the public pages.

Atom and RSS are written by Django's syndication framework (``django.utils.feedgenerator``'s
``Atom1Feed`` and ``Rss201rev2Feed``, with what the record needs: RSS items' ``atom:updated``,
Atom's RFC 6721 tombstones), from rows read once; a JSON Feed 1.1 beside them. Every address
in them is absolute (``feeds.public.addresses``: from ``PODIUM_BASE_URL``, never the request's
host).

Item ids are tag URIs (RFC 4151), fixed into ``Post.tag_id`` when the post is first published
(``tag:<PODIUM_TAG_AUTHORITY>,<date>:post/<id>``), never taken from a request's host; posts
published before ids were stored keep the form they had (migration 0004). The record reaches
subscribers: a correction keeps the id, moves ``updated`` and opens the text with "Corrected
on ..." and a link to the earlier version's anchor on the permalink; a retracted post stays
where it was as a notice (same id, ``updated`` = the retraction, when and why, none of its text
or images), and Atom also carries an RFC 6721 ``at:deleted-entry``. Visible times name their
zone (``accounts.localtime``).

Texts are the precomputed, sanitised ``Revision.body_html``; nothing is rendered again here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from io import StringIO
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpResponse
from django.utils.encoding import iri_to_uri
from django.utils.feedgenerator import (
    Atom1Feed,
    Enclosure,
    Rss201rev2Feed,
    SyndicationFeed,
    rfc3339_date,
)
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.xmlutils import SimplerXMLGenerator, UnserializableContentError

from accounts.addresses import absolute_uri, absolute_url
from accounts.localtime import local_time_text
from accounts.models import Institution
from feeds.public import queries
from feeds.public.addresses import PublicAddresses, media_url, stored_file_url
from feeds.public.queries import FeedPost, PublicImage, PublicProfile
from feeds.public.text import hashtags_of, text_of
from feeds.rendering import excerpt

FEED_LENGTH = 50
# The sitemap protocol allows 50,000 addresses per file; above that an index lists the files.
SITEMAP_LIMIT = 50_000
# Site-relative links in sanitised post HTML (mentions link to profiles as "/slug/@handle/").
_RELATIVE_HREF_RE = re.compile(r'href="/(?!/)')


def _tag_prefix(authority: str, day: datetime) -> str:
    """``tag:<authority>,<date>:``; an authority that names its own date keeps it."""
    if "," not in authority:
        authority = f"{authority},{day.astimezone(UTC):%Y-%m-%d}"
    return f"tag:{authority}:"


def _tag_authority(institution: Institution) -> str:
    """The prefix of a feed's own id (fixed by the setting and the institution's creation)."""
    return _tag_prefix(settings.PODIUM_TAG_AUTHORITY, institution.created_at)


def post_tag_id(post_id: int, first_published: datetime) -> str:
    """The permanent feed id of a post, fixed when it is first published (``Post.tag_id``)."""
    return f"{_tag_prefix(settings.PODIUM_TAG_AUTHORITY, first_published)}post/{post_id}"


def legacy_tag_id(institution: Institution, post_id: int) -> str:
    """The id feeds gave a post before ids were stored (feeds migration 0004 stores it)."""
    return f"{_legacy_prefix(settings.PODIUM_BASE_URL, institution.created_at)}{post_id}"


@lru_cache(maxsize=64)
def _legacy_prefix(base_url: str, created_at: datetime) -> str:
    # A feed names up to 50 posts by these ids: the host is parsed once.
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},{created_at.astimezone(UTC):%Y-%m-%d}:post/"


def _content_html(body_html: str, images: Iterable[tuple[str, PublicImage]]) -> str:
    """The post's HTML for feed readers: absolute links, and its images with their alt texts."""
    pictures = "".join(
        format_html(
            '<p><img src="{}" alt="{}" width="{}" height="{}"></p>',
            url,
            image.alt_text,
            image.width,
            image.height,
        )
        for url, image in images
    )
    # Paragraphs on lines of their own: readers that strip tags (feed-extractor) keep a space.
    body_html = body_html.replace("</p><p>", "</p>\n<p>")
    return _RELATIVE_HREF_RE.sub(f'href="{absolute_url("/")}', body_html) + pictures


# Feeds -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Head:
    """What a feed says about itself."""

    title: str
    link: str
    description: str
    language: str
    feed_url: str
    guid: str
    author_name: str
    json_authors: list[dict]
    icon: str | None
    fallback_date: datetime


@dataclass(frozen=True)
class _Item:
    title: str
    link: str
    content: str
    summary: str
    guid: str
    published: datetime
    updated: datetime
    author_name: str
    author_link: str
    categories: list[str]
    # (absolute address, length, type, title) of each image
    enclosures: list[tuple[str, str, str, str]]
    language: str
    json_author: dict
    retracted_at: datetime | None = None


def _author_json(name: str, url: str, avatar: str) -> dict:
    author = {"name": name, "url": url}
    if avatar:
        author["avatar"] = stored_file_url(avatar)
    return author


def _head(institution: Institution, member: PublicProfile | None, fmt: str) -> _Head:
    addresses = PublicAddresses(institution.slug)
    if member is None:
        link = absolute_url(addresses.institution)
        title = institution.name
        description = institution.description or _("Posts of %(name)s") % {"name": institution.name}
        feed_path = addresses.feed(fmt)
        guid = _tag_authority(institution) + "posts"
        author_name = institution.name
        json_authors = [{"name": institution.name, "url": link}]
    else:
        link = absolute_url(addresses.profile(member.handle))
        title = f"{member.display_name} · {institution.name}"
        if member.job_title:
            description = f"{member.job_title}, {institution.name}"
        else:
            description = institution.name
        feed_path = addresses.profile_feed(member.handle, fmt)
        guid = _tag_authority(institution) + f"member/{member.id}"
        author_name = member.display_name
        json_authors = [_author_json(member.display_name, link, member.avatar)]
    return _Head(
        title=title,
        link=link,
        description=description,
        language=institution.locale,
        feed_url=absolute_url(feed_path),
        guid=guid,
        author_name=author_name,
        json_authors=json_authors,
        icon=media_url(institution.logo) if institution.logo else None,
        fallback_date=institution.created_at,
    )


def _notice_html(paragraphs: Iterable[str]) -> str:
    # Paragraphs on lines of their own: readers that strip tags (feed-extractor) keep a space.
    return "\n".join(format_html("<p>{}</p>", paragraph) for paragraph in paragraphs)


def _retraction_notice(institution: Institution, post: FeedPost) -> tuple[str, str]:
    """(title, HTML) of a retracted post's entry: when and why, never the retracted text."""
    when = local_time_text(post.retracted_at, institution.zone)
    title = _("Retracted on %(time)s") % {"time": when}
    html_text = _notice_html(
        [
            _("%(name)s retracted this post on %(time)s. Its text is no longer shown.")
            % {"name": institution.name, "time": when},
            _("Reason: %(reason)s") % {"reason": post.retraction_reason},
        ]
    )
    return title, html_text


def _correction_notice(institution: Institution, post: FeedPost, link: str) -> str:
    """HTML that opens a corrected post's content: when, and a link to the earlier version."""
    when = local_time_text(post.corrected_at, institution.zone)
    earlier = f"{link}#version-{post.earlier_number}" if post.earlier_number else link
    return format_html(
        '<p><em>{}</em> <a href="{}">{}</a></p>',
        _("Corrected on %(time)s.") % {"time": when},
        earlier,
        _("See the earlier version"),
    )


class FeedEntries:
    """Feed items, and their Atom entries, kept per process under everything they are made of.

    An item is a function of the post's feed row (text, dates, retraction, author, images)
    and of the institution's slug, name, time zone, language and creation date, the active
    language and the site's addresses: together the key, so a kept item is never out of date
    (a correction, a retraction, a renamed author or institution make another key). Shaping
    50 posts and writing their entries was over half of a cold Atom request; a feed asked for
    again, or after a new post (which moves every other post one place down), finds its
    entries. Bounded: when full it starts over, and settings changes (tests) clear it.
    Measured (8 Dec 2026, bench/public_read's database): in-process Python per cold Atom
    request 4.5 ms -> 1.95 ms; bench.public_read --rounds 3 --phases cold, atom feed 0.14 ->
    0.28 of the trivial view (load average 2-4).
    """

    LIMIT = 2000

    def __init__(self) -> None:
        self.items: dict[tuple, _Item] = {}
        # id(item) -> (item, its entry): the item itself is held, so its id is not reused.
        self._atom: dict[int, tuple[_Item, str]] = {}

    def keep_item(self, key: tuple, item: _Item) -> _Item:
        if len(self.items) >= self.LIMIT:
            self.clear()
        self.items[key] = item
        return item

    def atom_entry(self, item: _Item) -> str:
        """``_atom_entry(item)``, written once per kept item."""
        kept = self._atom.get(id(item))
        if kept is not None and kept[0] is item:
            return kept[1]
        entry = _atom_entry(item)
        if len(self._atom) >= self.LIMIT:
            self._atom.clear()
        self._atom[id(item)] = (item, entry)
        return entry

    def clear(self, **_kwargs: object) -> None:
        self.items.clear()
        self._atom.clear()


feed_entries = FeedEntries()
setting_changed.connect(feed_entries.clear, weak=False)


def _items(institution: Institution, posts: list[FeedPost]) -> list[_Item]:
    """The feed's items, from ``feed_entries`` where a feed made them before."""
    context = (
        institution.id,
        institution.slug,
        institution.name,
        institution.locale,
        str(institution.zone),
        institution.created_at,
        get_language(),
        settings.PODIUM_BASE_URL,
        settings.PODIUM_TAG_AUTHORITY,
    )
    items: list[_Item | None] = [feed_entries.items.get((post, context)) for post in posts]
    missing = [post for post, item in zip(posts, items, strict=True) if item is None]
    if missing:
        made = iter(_made_items(institution, missing))
        items = [
            item or feed_entries.keep_item((post, context), next(made))
            for post, item in zip(posts, items, strict=True)
        ]
    return items


def _made_items(institution: Institution, posts: list[FeedPost]) -> list[_Item]:
    addresses = PublicAddresses(institution.slug)
    # Addresses in items are URIs (Django's generators pass each through iri_to_uri).
    authors: dict[int, tuple[str, dict]] = {}
    items = []
    for post in posts:
        author = post.author
        if author.id not in authors:
            path = addresses.profile(author.handle)
            authors[author.id] = (
                absolute_uri(path),
                _author_json(author.display_name, absolute_url(path), author.avatar),
            )
        author_link, json_author = authors[author.id]
        link = absolute_uri(addresses.post(post.id))
        guid = post.tag_id or legacy_tag_id(institution, post.id)
        if post.retracted_at is not None:
            title, content = _retraction_notice(institution, post)
            items.append(
                _Item(
                    title=title,
                    link=link,
                    content=content,
                    summary=text_of(content),
                    guid=guid,
                    published=post.published_at,
                    updated=post.retracted_at,
                    author_name=author.display_name,
                    author_link=author_link,
                    categories=[],
                    enclosures=[],
                    language=institution.locale,
                    json_author=json_author,
                    retracted_at=post.retracted_at,
                )
            )
            continue
        images = [(absolute_uri(addresses.image(image.image)), image) for image in post.images]
        text = text_of(post.body_html)
        content = _content_html(post.body_html, images)
        summary = excerpt(text, 300)
        if post.corrected_at is not None:
            notice = _correction_notice(institution, post, link)
            content = f"{notice}\n{content}"  # content: sanitised HTML, not escaped again
            summary = excerpt(f"{text_of(notice)} {text}", 300)
        items.append(
            _Item(
                title=excerpt(text, 80),
                link=link,
                content=content,
                summary=summary,
                guid=guid,
                published=post.published_at,
                updated=post.corrected_at or post.published_at,
                author_name=author.display_name,
                author_link=author_link,
                categories=hashtags_of(post.body_html),
                enclosures=[
                    (url, str(image.byte_size), image.content_type, image.alt_text)
                    for url, image in images
                ],
                language=post.language,
                json_author=json_author,
            )
        )
    return items


def _rfc3339(value: datetime) -> str:
    return value.isoformat() + ("Z" if value.utcoffset() is None else "")


ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"


# Atom and RSS through Django's syndication framework: RSS is written by it; Atom by the
# hand-written ``atom_document`` below, held byte for byte to ``library_atom_document``.


class _PodiumAtomFeed(Atom1Feed):
    """Atom1Feed with each entry's language and text, and RFC 6721 tombstones."""

    def root_attributes(self) -> dict[str, str]:
        return {**super().root_attributes(), "xmlns:at": TOMBSTONES_NS}

    def latest_post_date(self) -> datetime:
        # An empty feed keeps a fixed date (the institution's creation): a stable ETag.
        if not self.items:
            return self.feed["fallback_date"]
        return super().latest_post_date()

    def item_attributes(self, item: dict) -> dict[str, str]:
        return {"xml:lang": item["language"]} if item["language"] else {}

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("summary", item["summary"])
        handler.addQuickElement("content", item["content"], {"type": "html"})

    def write_items(self, handler: SimplerXMLGenerator) -> None:
        super().write_items(handler)
        for item in self.items:
            if item["retracted_at"] is not None:
                when = rfc3339_date(item["retracted_at"])
                handler.startElement("at:deleted-entry", {"ref": item["unique_id"], "when": when})
                handler.addQuickElement("at:comment", item["summary"])
                handler.endElement("at:deleted-entry")


class _PodiumRssFeed(Rss201rev2Feed):
    """Rss201rev2Feed with Atom's date of change and each item's language (Dublin Core)."""

    def rss_attributes(self) -> dict[str, str]:
        return {**super().rss_attributes(), "xmlns:dc": DC_NS}

    def latest_post_date(self) -> datetime:
        if not self.items:
            return self.feed["fallback_date"]
        return super().latest_post_date()

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("atom:updated", rfc3339_date(item["updateddate"]))
        if item["language"]:
            handler.addQuickElement("dc:language", item["language"])


def _library_feed(feed_class: type[SyndicationFeed], head: _Head, items: list[_Item]) -> str:
    feed = feed_class(
        title=head.title,
        link=head.link,
        description=head.description,
        language=head.language,
        feed_url=head.feed_url,
        feed_guid=head.guid,
        author_name=head.author_name,
        author_link=head.link,
        subtitle=head.description,
        fallback_date=head.fallback_date,
    )
    for item in items:
        feed.add_item(
            title=item.title,
            link=item.link,
            description=item.content if feed_class is _PodiumRssFeed else None,
            author_name=item.author_name,
            author_link=item.author_link,
            pubdate=item.published,
            updateddate=item.updated,
            unique_id=item.guid,
            unique_id_is_permalink=False,
            categories=item.categories,
            enclosures=[
                Enclosure(url, size, kind)
                for url, size, kind, _title in (
                    item.enclosures[:1] if feed_class is _PodiumRssFeed else item.enclosures
                )
            ],
            language=item.language,
            summary=item.summary,
            content=item.content,
            retracted_at=item.retracted_at,
        )
    return feed.writeString("utf-8")


def library_atom_document(head: _Head, items: list[_Item]) -> str:
    """``atom_document`` as Django's ``Atom1Feed`` writes it (the comparison tests and
    bench.public_shortcuts put the two side by side)."""
    return _library_feed(_PodiumAtomFeed, head, items)


# Elements as Django's SimplerXMLGenerator writes them (short_empty_elements): attributes
# sorted by name and quoted by quoteattr, text escaped by escape(), an element without text
# closed short; text (not attributes) with a character XML 1.0 cannot carry is refused.
_XML_CONTROL_RE = re.compile(r"[\x00-\x08\x0B-\x0C\x0E-\x1F]")
# What quoteattr() leaves alone: such a value is only put in double quotes.
_PLAIN_ATTRIBUTE_RE = re.compile(r"[^&<>\"'\n\r\t]*")
# What iri_to_uri() leaves alone: such an address is already a URI.
_PLAIN_URI_RE = re.compile(r"[A-Za-z0-9/#%\[\]=:;$&()+,!?*@'~._-]*")


def _text(value: str) -> str:
    if _XML_CONTROL_RE.search(value):
        raise UnserializableContentError("Control characters are not supported in XML 1.0")
    return value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _element(name: str, text: str | None) -> str:
    return f"<{name}>{_text(text)}</{name}>" if text else f"<{name}/>"


def _attribute(value: str) -> str:
    return f'"{value}"' if _PLAIN_ATTRIBUTE_RE.fullmatch(value) else quoteattr(value)


def _uri(address: str) -> str:
    return address if _PLAIN_URI_RE.fullmatch(address) else iri_to_uri(address)


def _latest(head: _Head, items: list[_Item]) -> datetime:
    """The newest date of the items (as ``SyndicationFeed.latest_post_date``); an empty feed's
    own fixed date."""
    dates = [date for item in items for date in (item.updated, item.published) if date]
    return max(dates, default=head.fallback_date)


def _atom_entry(item: _Item) -> str:
    """One ``<entry>`` of an Atom document."""
    language = f" xml:lang={_attribute(item.language)}" if item.language else ""
    parts = [
        f"<entry{language}>"
        + _element("title", item.title)
        + f'<link href={_attribute(_uri(item.link))} rel="alternate"/>'
        # Dates in ISO 8601 need no escaping (digits, "-", ":", "+", "T", ".", "Z").
        + f"<published>{_rfc3339(item.published)}</published>"
        + f"<updated>{_rfc3339(item.updated)}</updated>"
        + "<author>"
        + _element("name", item.author_name)
        + _element("uri", _uri(item.author_link))
        + "</author>"
        + _element("id", item.guid)
    ]
    for url, size, kind, _title in item.enclosures:
        parts.append(
            f"<link href={_attribute(_uri(url))} length={_attribute(size)} "
            f'rel="enclosure" type={_attribute(kind)}/>'
        )
    for term in item.categories:
        parts.append(f"<category term={_attribute(term)}/>")
    parts.append(
        _element("summary", item.summary)
        + (
            f'<content type="html">{_text(item.content)}</content>'
            if item.content
            else '<content type="html"/>'
        )
        + "</entry>"
    )
    return "".join(parts)


# Shortcut, earns its place (bench.public_shortcuts --only "atom writer", 8 Dec 2026, 9
# rounds of 30 requests a side, loaded machine): atom_document against library_atom_document
# (Atom1Feed through SimplerXMLGenerator: several Python calls per element and attribute),
# atom feed +40%; the writer alone 4.3 ms -> 1.3 ms for 50 entries. Byte for byte equal to the
# library's over 1,200 generated posts (tests/feeds/test_public_shortcuts.py).
def atom_document(head: _Head, items: list[_Item]) -> str:
    """Atom 1.0 with the full text as ``content``, each entry's language and tombstones."""
    link = _attribute(_uri(head.link))
    language = "" if head.language is None else f" xml:lang={_attribute(head.language)}"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed{language} xmlns="{ATOM_NS}" xmlns:at="{TOMBSTONES_NS}">',
        _element("title", head.title),
        f'<link href={link} rel="alternate"/>',
        f'<link href={_attribute(_uri(head.feed_url))} rel="self"/>',
        _element("id", head.guid or _uri(head.link)),
        _element("updated", _rfc3339(_latest(head, items))),
        "<author>",
        _element("name", head.author_name),
        _element("uri", _uri(head.link)),
        "</author>",
        _element("subtitle", head.description),
    ]
    append = out.append
    for item in items:
        append(feed_entries.atom_entry(item))
    # RFC 6721: a retracted post is also announced as deleted, for readers that drop it.
    for item in items:
        if item.retracted_at is not None:
            append(
                f"<at:deleted-entry ref={_attribute(item.guid)} "
                f"when={_attribute(_rfc3339(item.retracted_at))}>"
                + _element("at:comment", item.summary)
                + "</at:deleted-entry>"
            )
    append("</feed>")
    return "".join(out)


def rss_document(head: _Head, items: list[_Item]) -> str:
    """RSS 2.0 with each item's language (Dublin Core); RSS allows one enclosure per item."""
    return _library_feed(_PodiumRssFeed, head, items)


def json_document(head: _Head, items: list[_Item]) -> str:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    document = _without_empty(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": head.title,
            "home_page_url": iri_to_uri(head.link),
            "feed_url": iri_to_uri(head.feed_url),
            "description": head.description,
            "language": head.language,
            "authors": head.json_authors,
            "icon": head.icon,
        }
    )
    document["items"] = [
        _without_empty(
            {
                "id": item.guid,
                "url": item.link,
                # Posts are untitled notes; a retraction notice says what it is in its title.
                "title": item.title if item.retracted_at is not None else None,
                "content_html": item.content,
                "summary": item.summary,
                "image": item.enclosures[0][0] if item.enclosures else None,
                "date_published": _rfc3339(item.published),
                "date_modified": _rfc3339(item.updated),
                "authors": [item.json_author],
                "tags": item.categories,
                "language": item.language,
                "attachments": [
                    _without_empty(
                        {
                            "url": url,
                            "mime_type": kind,
                            "title": title,
                            "size_in_bytes": int(size) or None,
                        }
                    )
                    for url, size, kind, title in item.enclosures
                ],
            }
        )
        for item in items
    ]
    return json.dumps(document, ensure_ascii=False)


def _without_empty(document: dict) -> dict:
    """JSON Feed leaves out what is unknown rather than sending nulls or empty lists."""
    return {key: value for key, value in document.items() if value not in (None, "", [])}


FEED_FORMATS: dict[str, tuple[Callable[[_Head, list[_Item]], str], str]] = {
    "atom": (atom_document, "application/atom+xml; charset=utf-8"),
    "rss": (rss_document, "application/rss+xml; charset=utf-8"),
    "json": (json_document, "application/feed+json; charset=utf-8"),
}


def feed_response(
    fmt: str, institution: Institution, member: PublicProfile | None = None
) -> HttpResponse:
    """The latest public posts of an institution (or of one member), in one of three formats."""
    write, content_type = FEED_FORMATS[fmt]
    posts = queries.latest_feed_posts(FEED_LENGTH, member)
    document = write(_head(institution, member, fmt), _items(institution, posts))
    return HttpResponse(document, content_type=content_type)


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
    addresses = PublicAddresses(institution.slug)
    fixed = [
        SitemapEntry(absolute_url(addresses.institution), counts.latest_change),
        SitemapEntry(absolute_url(addresses.staff)),
    ][start:stop]
    members = [
        SitemapEntry(absolute_url(addresses.profile(handle)))
        for handle, _status in queries.sitemap_members(
            max(0, start - 2), min(counts.members, stop - 2)
        )
    ]
    first_post = 2 + counts.members
    posts = [
        SitemapEntry(absolute_url(addresses.post(post_id)), changed)
        for post_id, changed in queries.sitemap_posts(
            max(0, start - first_post), max(0, stop - first_post)
        )
    ]
    return sitemap_xml(fixed + members + posts)


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
    base = absolute_url(PublicAddresses(institution.slug).sitemap)
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
