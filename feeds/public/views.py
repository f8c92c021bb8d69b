"""Public pages and feeds: landing page, robots.txt, institution page, staff directory, profile,
post permalink, Atom / RSS / JSON Feed and sitemap.

Anyone reads them anonymously. Every view is a ``public_view`` and never touches the session
(no ``request.user``, messages or CSRF token, here or in the templates), so anonymous readers
get no cookie and no ``Vary: Cookie``, and shared caches keep the responses (DESIGN section 8).
The language comes from ``?lang=`` or the institution (LanguageMiddleware); pages offer plain
``?lang=`` links, never a cookie. Each page runs a fixed number of queries whatever the number
of posts or staff: lists page by keyset and texts are the precomputed ``Revision.body_html``.

These are the busiest pages of Podium, so they are rendered with Jinja2 (``feeds/jinja2/``,
see ``feeds.public.jinja``) from plain rows, and the views hand the templates finished values:
addresses filled into routes reversed once per process (``feeds.public.addresses``), dates
formatted once per value and page (``feeds.public.dates``).

A retracted post answers 200 with its public notice (reason and date, never the text), not
410: the notice is the public record of the retraction (DESIGN section 1) and, like every
public page, it must be cacheable by the shared cache and the server cache when a crowd follows
old links to it. It asks search engines not to index it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.signals import setting_changed
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponsePermanentRedirect,
)
from django.template import engines
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from markupsafe import Markup

from accounts.addresses import absolute_url
from accounts.errors import DomainError, NotFound
from accounts.middleware import PublicEntries
from accounts.models import Institution, Membership
from accounts.numbers import parse_ascii_int
from accounts.permissions import Permission, has_permission
from accounts.publicread import (
    browser_lifetime,
    public_content_changed_handlers,
    public_query,
    public_view,
    reads,
)
from accounts.queries import memberships_of
from accounts.tenancy import tenant_context
from feeds import hooks
from feeds.public import queries, syndication, text
from feeds.public.addresses import (
    PublicAddresses,
    landing_path,
    media_path,
    media_url,
    stored_file_url,
)
from feeds.public.dates import Dates
from feeds.public.jinja import ENGINE as JINJA_ENGINE
from feeds.public.jinja import render
from feeds.rendering import excerpt

# Where the proxy serves files to an X-Accel-Redirect (an internal location of
# platform/nginx/templates/default.conf.template).
INTERNAL_MEDIA_PREFIX = "/_media/"
STAFF_PREVIEW = 30
FORMER_PREVIEW = 30
FEED_FORMATS = (
    ("atom", "application/atom+xml", "Atom"),
    ("rss", "application/rss+xml", "RSS"),
    ("json", "application/feed+json", "JSON Feed"),
)
# Accent colours the stylesheet knows (CSP forbids inline styles): the institution's colour is
# shown as the nearest of these. Each is dark enough for white text (contrast at least 4.5:1).
ACCENTS = {
    "blue": (0x1F, 0x5F, 0xBF),
    "navy": (0x1E, 0x3A, 0x8A),
    "teal": (0x0F, 0x76, 0x6E),
    "green": (0x2F, 0x7D, 0x32),
    "purple": (0x6B, 0x3F, 0xA0),
    "red": (0xB3, 0x26, 0x1E),
    "orange": (0xB4, 0x53, 0x09),
    "brown": (0x7C, 0x4A, 0x1E),
    "grey": (0x4B, 0x55, 0x63),
}


def accent_of(institution: Institution) -> str:
    """The palette name closest to the institution's accent colour."""
    colour = institution.accent_color or "#1f5fbf"
    try:
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    except ValueError:
        return "blue"
    return min(
        ACCENTS, key=lambda name: sum((a - b) ** 2 for a, b in zip(ACCENTS[name], rgb, strict=True))
    )


# What the templates show, ready to place -------------------------------------------------------


class Person(NamedTuple):
    """A member as lists show them (h-card)."""

    url: str
    display_name: str
    handle: str
    job_title: str
    avatar_url: str


class Image(NamedTuple):
    src: str  # the small version where there is one (lists), else the image
    url: str  # the image itself
    alt_text: str
    width: int
    height: int


class Entry(NamedTuple):
    """A post as lists show it (h-entry)."""

    url: str  # the permalink, keeping the reader's ?lang=
    uid: str  # the permalink as it is cited (absolute, no ?lang=)
    author: Person
    language: str
    body_html: str  # sanitised when it was stored (Revision.body_html)
    images: list[Image]
    published: str  # machine-readable
    published_text: str
    corrected: str
    corrected_text: str


class Shaper:
    """Turns rows into what the templates place, with one page's addresses and dates."""

    def __init__(self, addresses: PublicAddresses, dates: Dates) -> None:
        self.addresses = addresses
        self.canonical = PublicAddresses(addresses.slug)
        self.dates = dates
        self._files: dict[str, str] = {}

    def file(self, name: str) -> str:
        """The address of a stored file ("" for none); a page shows one avatar many times."""
        if not name:
            return ""
        if name not in self._files:
            self._files[name] = media_path(name)
        return self._files[name]

    def person(self, member: queries.PublicMember | queries.PublicAuthor) -> Person:
        job_title = member.job_title
        return Person(
            self.addresses.profile(member.handle),
            member.display_name,
            member.handle,
            job_title,
            self.file(member.avatar),
        )

    def entries(self, posts: list[queries.PublicPost]) -> list[Entry]:
        dates = self.dates
        authors: dict[int, Person] = {}  # a list shows few authors many times
        entries = []
        for post in posts:
            author = authors.get(post.author.id)
            if author is None:
                author = authors[post.author.id] = self.person(post.author)
            corrected = post.corrected_at
            entries.append(
                Entry(
                    self.addresses.post(post.id),
                    absolute_url(self.canonical.post(post.id)),
                    author,
                    post.language,
                    text.with_address_breaks(post.body_html),
                    [self.image(image) for image in post.images],
                    dates.machine(post.published_at),
                    dates.text(post.published_at),
                    dates.machine(corrected) if corrected else "",
                    dates.text(corrected) if corrected else "",
                )
            )
        return entries

    def cards(self, posts: list[queries.PublicPost], institution: Institution) -> list[Markup]:
        """The posts' cards in a list (``post_summary`` of macros.html), from ``post_cards``
        where a page made them before."""
        key = (
            self.addresses.slug,
            self.addresses.query,
            institution.name,
            self.dates.zone,
            translation.get_language(),
            settings.PODIUM_BASE_URL,
        )
        cards = []
        missing = []
        for post in posts:
            card = post_cards.get((post, key))
            if card is None:
                missing.append((len(cards), post))
            cards.append(card)
        if missing:
            summary = post_summary_macro()
            made = self.entries([post for _i, post in missing])
            for (position, post), entry in zip(missing, made, strict=True):
                cards[position] = post_cards.keep((post, key), summary(entry, institution))
        return cards

    def member_items(self, members: list[queries.PublicMember]) -> list[Markup]:
        """The members' list items (``member_item`` of macros.html), from ``post_cards`` where
        a page made them before: an item shows its Person and nothing else, so the Person is
        its key."""
        items = []
        for member in members:
            person = self.person(member)
            item = post_cards.get(person)
            if item is None:
                item = post_cards.keep(person, member_item_macro()(person))
            items.append(item)
        return items

    def image(self, image: queries.PublicImage) -> Image:
        """A post image: its address follows the post (``feeds:post-image``), never /media/."""
        url = self.addresses.image(image.image)
        small = self.addresses.image(image.small) or url
        return Image(small, url, image.alt_text, image.width, image.height)


class PostCards:
    """Cards of posts in lists, kept per process under everything a card is made of.

    A card (``post_summary`` in macros.html) is a function of the post's row (text, language,
    dates, author, images) and of the page: the institution's slug, name and time zone, the
    reader's ``?lang=`` in its links, the active language and the site's base address. Those
    together are the key, so a card is never out of date: a corrected text, a renamed author or
    institution, another language make another key. Shaping a post and rendering its card
    cost an institution or profile page about a fifth of its time; a page rendered again
    (the server cache keeps a page only until the institution's next change, and a new post
    moves every other post's page) finds most of its cards. Bounded: when full it starts over.
    """

    LIMIT = 500

    def __init__(self) -> None:
        self._cards: dict[tuple, Markup] = {}

    def get(self, key: tuple) -> Markup | None:
        return self._cards.get(key)

    def keep(self, key: tuple, card: Markup) -> Markup:
        if len(self._cards) >= self.LIMIT:
            self._cards.clear()
        self._cards[key] = card
        return card

    def clear(self, **_kwargs: object) -> None:
        self._cards.clear()


post_cards = PostCards()
# Settings decide addresses and formats a card shows (tests change them): start over then.
setting_changed.connect(post_cards.clear, weak=False)


def member_item_macro() -> Callable[[Person], Markup]:
    """The ``member_item`` macro of macros.html, as a function."""
    return (
        engines[JINJA_ENGINE].get_template("feeds/public/macros.html").template.module.member_item
    )


def post_summary_macro() -> Callable[[Entry, Institution], Markup]:
    """The ``post_summary`` macro of macros.html, as a function."""
    return (
        engines[JINJA_ENGINE].get_template("feeds/public/macros.html").template.module.post_summary
    )


# Shared pieces --------------------------------------------------------------------------------


def _language(request: HttpRequest) -> dict[str, str]:
    """``?lang=`` as the reader chose it, to keep in the page's own links."""
    lang = public_query(request, "lang")
    return {"lang": lang} if lang in dict(settings.LANGUAGES) else {}


def _links(request: HttpRequest, institution_slug: str | None = None) -> PublicAddresses:
    """Addresses for the page's links: they keep the reader's ``?lang=``."""
    slug = institution_slug or request.institution.slug
    return PublicAddresses(slug, urlencode(_language(request)))


def _alternates(canonical: str | None) -> list[tuple[str, str]]:
    """(hreflang, address) of the page in each language, and x-default (the institution's)."""
    if not canonical:
        return []
    separator = "&" if "?" in canonical else "?"
    languages = [(code, f"{canonical}{separator}lang={code}") for code, _n in settings.LANGUAGES]
    return [*languages, ("x-default", canonical)]


def _link(request: HttpRequest, **params: str | None) -> str:
    """A query string for a link to another page of the same list, keeping ``?lang=``."""
    query = {key: value for key, value in params.items() if value} | _language(request)
    return "?" + urlencode(query) if query else request.path


def _feeds(name: str, address: Callable[[str], str]) -> list[dict[str, str]]:
    """The alternate links of a feed in every format; ``address(fmt)`` gives each address."""
    return [
        {
            "type": content_type,
            "label": label,
            "title": _("%(name)s (%(format)s)") % {"name": name, "format": label},
            "url": address(fmt),
        }
        for fmt, content_type, label in FEED_FORMATS
    ]


def _institution_feeds(institution: Institution, addresses: PublicAddresses) -> list[dict]:
    return _feeds(institution.name, addresses.feed)


def _member_feeds(
    member: queries.PublicProfile | queries.PermalinkAuthor, addresses: PublicAddresses
) -> list[dict]:
    return _feeds(member.display_name, lambda fmt: addresses.profile_feed(member.handle, fmt))


def _context(request: HttpRequest, **extra) -> dict:
    institution = request.institution
    addresses = extra.get("addresses") or _links(request)
    context = {
        "language": translation.get_language(),
        "language_bidi": translation.get_language_bidi(),
        "institution": institution,
        "addresses": addresses,
        "accent": accent_of(institution),
        "logo_url": media_url(institution.logo) if institution.logo else None,
        "feeds": _institution_feeds(institution, addresses),
        "noindex": not institution.search_indexing,
        "canonical_url": _canonical(request),
    }
    context.update(extra)
    context["alternates"] = _alternates(context.get("canonical_url"))
    return context


def _shaper(request: HttpRequest, addresses: PublicAddresses) -> Shaper:
    return Shaper(addresses, Dates(request.institution.zone))


def _canonical(request: HttpRequest, path: str | None = None, **params: str | None) -> str:
    """The page's absolute address without ``?lang=`` (every language shows the same posts)."""
    query = {key: value for key, value in params.items() if value}
    path = path or request.path
    return absolute_url(path + ("?" + urlencode(query) if query else ""))


def _not_found(request: HttpRequest, error: DomainError) -> HttpResponse:
    context = _context(request, message=error.message, noindex=True, canonical_url=None)
    return render(request, "feeds/public/not_found.html", context, status=404)


def _bad_request(request: HttpRequest, error: DomainError) -> HttpResponse:
    context = _context(request, message=error.message, noindex=True, canonical_url=None)
    return render(request, "feeds/public/bad_request.html", context, status=400)


# Global pages ---------------------------------------------------------------------------------


def _global_context(**extra) -> dict:
    return {
        "language": translation.get_language(),
        "language_bidi": translation.get_language_bidi(),
        **extra,
    }


@reads()
@public_view
def landing(request: HttpRequest) -> HttpResponse:
    """What Podium is, and the directory of institutions."""
    institutions = [
        (institution, _links(request, institution.slug).institution)
        for institution in queries.institution_directory()
    ]
    context = _global_context(institutions=institutions, landing_url=landing_path())
    return render(request, "feeds/public/landing.html", context)


@reads()
@public_view
def robots(request: HttpRequest) -> HttpResponse:
    """Crawler rules: members' areas are closed; institutions that opt out are closed too."""
    closed, sitemaps = [], []
    for institution in queries.institution_directory():
        addresses = PublicAddresses(institution.slug)
        if institution.search_indexing:
            sitemaps.append(absolute_url(addresses.sitemap))
        else:
            closed.append(addresses.institution)
    return render(
        request,
        "feeds/public/robots.txt",
        {"closed": closed, "sitemaps": sitemaps},
        content_type="text/plain; charset=utf-8",
    )


# An institution -------------------------------------------------------------------------------


@reads("before")
@public_view
def institution(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The institution's page: who they are, the latest posts, a preview of the staff."""
    before = public_query(request, "before")
    try:
        page = queries.public_page(before)
    except queries.BadCursor as error:
        return _bad_request(request, error)
    staff, staff_count = _staff_preview(request, Membership.Status.ACTIVE, STAFF_PREVIEW)
    addresses = _links(request)
    shaper = _shaper(request, addresses)
    context = _context(
        request,
        addresses=addresses,
        section="institution",
        page=page,
        cards=shaper.cards(page.posts, request.institution),
        # Staff preview items kept like the cards: rendering 30 of them cost about 0.25 ms of
        # the page's 2.2 ms of Python (in-process profile, 8 Dec 2026).
        staff=shaper.member_items(staff),
        staff_count=staff_count,
        older_link=_link(request, before=page.next_cursor) if page.next_cursor else None,
        newest_link=_link(request),
        canonical_url=_canonical(request, before=before),
        institution_url=absolute_url(PublicAddresses(institution_slug).institution),
        # The institution's connected network accounts (feeds.hooks), as rel="me" links.
        links=_connected_links(request, None),
    )
    return render(request, "feeds/public/institution.html", context)


@reads("status", "after")
@public_view
def staff(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The staff directory: active members by name; former staff in their own list."""
    former = public_query(request, "status") == Membership.Status.FORMER
    after = public_query(request, "after")
    status = Membership.Status.FORMER if former else Membership.Status.ACTIVE
    members = queries.staff_of_status(status)
    try:
        page = queries.staff_page(members, after)
    except queries.BadCursor as error:
        return _bad_request(request, error)
    former_preview, former_count = (
        ([], 0) if former else _staff_preview(request, Membership.Status.FORMER, FORMER_PREVIEW)
    )
    addresses = _links(request)
    shaper = _shaper(request, addresses)
    context = _context(
        request,
        addresses=addresses,
        section="staff",
        former=former,
        page=page,
        members=[shaper.person(member) for member in page.members],
        count=members.count(),
        former_preview=[shaper.person(member) for member in former_preview],
        more_former=former_count > FORMER_PREVIEW,
        former_link=_link(request, status=Membership.Status.FORMER),
        active_link=_link(request),
        next_link=_link(request, status=status if former else None, after=page.next_cursor)
        if page.next_cursor
        else None,
        canonical_url=_canonical(request, status=status if former else None, after=after),
    )
    return render(request, "feeds/public/staff.html", context)


def _rel_me_links(member: queries.PublicProfile) -> list[tuple[str, str]]:
    """(address, text) of the member's links that may carry rel=me: https only."""
    links = []
    for link in member.links or []:
        url = str(link.get("url") or "") if isinstance(link, dict) else ""
        if url.startswith("https://"):
            links.append((url, link.get("label") or url))
    return links


# The staff previews (the first members of a status by name, and how many there are) change
# with the members, far less often than the posts beside them: kept per process like the
# institution, current as it is (checked against the public version; without the server cache
# at most a second old). The institution page reads only its posts then.
staff_previews = PublicEntries()


def _forget_staff_previews(institution_slug: str) -> None:
    staff_previews.clear()  # keyed by institution id; a change is rare, a reload one query


if _forget_staff_previews not in public_content_changed_handlers:
    public_content_changed_handlers.append(_forget_staff_previews)


def _staff_preview(
    request: HttpRequest, status: str, limit: int
) -> tuple[list[queries.PublicMember], int]:
    return staff_previews.get(
        (request.institution.id, status, limit),
        getattr(request, "public_version", None),
        lambda: queries.staff_preview(status, limit),
    )


# Connected network accounts come from feeds.hooks providers, which read rows anonymous reads
# cannot see (network accounts hold credentials): each lookup needs a tenant transaction (four
# round trips), so its result is kept per process, current as the institution is.
connected_links = PublicEntries()


def _connected_links(request: HttpRequest, member_id: int | None) -> list[tuple[str, str]]:
    """The rel="me" addresses of the member's (None: the institution's) connected accounts."""
    institution_id = request.institution.id

    def load() -> list[tuple[str, str]]:
        with tenant_context(institution_id):
            return hooks.profile_links(institution_id, member_id)

    version = getattr(request, "public_version", None)
    return connected_links.get((institution_id, member_id), version, load) or []


def _renamed(request: HttpRequest, handle: str, error: NotFound, fmt: str = "") -> HttpResponse:
    """A 301 from a handle the member used before to the same address under their handle now
    (old links and mentions keep pointing at the person); else the 404 page."""
    current = queries.current_handle(handle)
    if current is None:
        return _not_found(request, error)
    addresses = PublicAddresses(request.institution.slug)
    path = addresses.profile_feed(current, fmt) if fmt else addresses.profile(current)
    query = request.META.get("QUERY_STRING", "")
    response = HttpResponsePermanentRedirect(path + ("?" + query if query else ""))
    patch_cache_control(response, public=True, **browser_lifetime())
    return response


@reads("before")
@public_view
def profile(request: HttpRequest, institution_slug: str, handle: str) -> HttpResponse:
    """A member's public profile (h-card) and their posts; former staff stay as a record."""
    try:
        member = queries.public_profile(handle)
    except NotFound as error:
        return _renamed(request, handle, error)
    before = public_query(request, "before")
    try:
        page = queries.public_page(before, member)
    except queries.BadCursor as error:
        return _bad_request(request, error)
    institution = request.institution
    addresses = _links(request)
    profile_path = PublicAddresses(institution_slug).profile(member.handle)
    avatar = member.avatar
    context = _context(
        request,
        addresses=addresses,
        member=member,
        page=page,
        cards=_shaper(request, addresses).cards(page.posts, institution),
        feeds=_member_feeds(member, addresses) + _institution_feeds(institution, addresses),
        profile_url=absolute_url(profile_path),
        canonical_url=_canonical(request, profile_path, before=before),
        description=excerpt(" ".join(filter(None, [member.job_title, member.bio])), 200),
        avatar_path=media_path(avatar) if avatar else None,
        avatar_url=stored_file_url(avatar) if avatar else None,
        # The member's own links, then their connected network accounts (feeds.hooks).
        links=_rel_me_links(member) + _connected_links(request, member.id),
        older_link=_link(request, before=page.next_cursor) if page.next_cursor else None,
        newest_link=_link(request),
    )
    return render(request, "feeds/public/profile.html", context)


class EarlierText(NamedTuple):
    """An earlier public text of a corrected post, with its own anchor on the permalink."""

    anchor: str
    language: str
    body_html: str  # sanitised when it was stored
    shown_from: str  # machine-readable
    shown_from_text: str
    shown_until: str
    shown_until_text: str


def version_anchor(number: int) -> str:
    """The permalink's anchor of one public version of a post (feeds link to it)."""
    return f"version-{number}"


@reads()
@public_view
def post(request: HttpRequest, institution_slug: str, post_id: int) -> HttpResponse:
    """A post's permalink (h-entry); a corrected post shows its earlier texts, a retracted one
    only the notice of its retraction."""
    try:
        post = queries.public_permalink(post_id)
    except NotFound as error:
        return _not_found(request, error)
    institution = request.institution
    addresses = _links(request)
    shaper = _shaper(request, addresses)
    dates = shaper.dates
    author = post.author
    context = _context(
        request,
        addresses=addresses,
        post=post,
        author=author,
        author_url=addresses.profile(author.handle),
        author_avatar=shaper.file(author.avatar),
        feeds=_member_feeds(author, addresses) + _institution_feeds(institution, addresses),
        canonical_url=absolute_url(PublicAddresses(institution_slug).post(post.id)),
        noindex=not institution.search_indexing or post.is_retracted,
        published=dates.machine(post.published_at),
        published_text=dates.text(post.published_at),
    )
    if post.is_retracted:
        context.update(
            retracted=dates.machine(post.retracted_at),
            retracted_text=dates.text(post.retracted_at),
        )
        return render(request, "feeds/public/post.html", context)
    earlier = []
    current_anchor = ""
    if post.corrected_at is not None:
        history = queries.correction_history(post)
        for revision, following in zip(history, [*history[1:], None], strict=True):
            if revision.id == post.public_revision_id:
                current_anchor = version_anchor(revision.number)
                continue
            until = following.published_at if following else post.corrected_at
            earlier.append(
                EarlierText(
                    version_anchor(revision.number),
                    revision.language,
                    revision.body_html,
                    dates.machine(revision.published_at),
                    dates.text(revision.published_at),
                    dates.machine(until),
                    dates.text(until),
                )
            )
        earlier.reverse()
    images = [shaper.image(image) for image in post.images]
    corrected = post.corrected_at
    context.update(
        body_html=text.with_address_breaks(post.body_html),
        images=images,
        earlier_revisions=earlier,
        current_anchor=current_anchor,
        hashtags=text.hashtags_of(post.body_html),
        description=excerpt(text.text_of(post.body_html), 200),
        og_image=absolute_url(images[0].url) if images else None,
        og_image_alt=post.images[0].alt_text if images else None,
        corrected=dates.machine(corrected) if corrected else "",
        corrected_text=dates.text(corrected) if corrected else "",
        # The head is outside the page's time zone, as it was: ISO 8601 in UTC.
        published_iso=localtime(post.published_at).isoformat(),
        corrected_iso=localtime(corrected).isoformat() if corrected else "",
    )
    return render(request, "feeds/public/post.html", context)


# Feeds and sitemap ----------------------------------------------------------------------------


@reads()
@public_view
def institution_feed(request: HttpRequest, institution_slug: str, fmt: str) -> HttpResponse:
    """The institution's latest public posts as Atom, RSS or JSON Feed."""
    return syndication.feed_response(fmt, request.institution)


@reads()
@public_view
def profile_feed(
    request: HttpRequest, institution_slug: str, handle: str, fmt: str
) -> HttpResponse:
    """A member's latest public posts as Atom, RSS or JSON Feed."""
    try:
        member = queries.public_profile(handle)
    except NotFound as error:
        return _renamed(request, handle, error, fmt)
    return syndication.feed_response(fmt, request.institution, member)


class SitemapPageInvalid(DomainError):
    code = "bad_sitemap_page"
    default_message = gettext_lazy("The sitemap page must be a whole number from 1.")


@reads("page")
@public_view
def sitemap(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The institution's sitemap (an index of pages when it outgrows one file)."""
    institution = request.institution
    if not institution.search_indexing:
        return _not_found(
            request, NotFound(_("This institution asks search engines not to index its pages."))
        )
    page = public_query(request, "page")
    number = parse_ascii_int(page, minimum=1, maximum=999_999_999) if page is not None else None
    if page is not None and number is None:
        return _bad_request(request, SitemapPageInvalid(field="page"))
    try:
        document = syndication.sitemap(institution, number)
    except syndication.SitemapPageMissing:
        return _not_found(request, NotFound(_("This sitemap has fewer pages.")))
    return HttpResponse(document, content_type="application/xml; charset=utf-8")


# Post images ----------------------------------------------------------------------------------


def _image_file(image: queries.StoredImage) -> HttpResponse:
    """The file: in production an internal redirect to the proxy (X-Accel-Redirect), which
    sends it from disk; outside production Django sends it itself."""
    if settings.PODIUM_SERVE_MEDIA:
        try:
            handle = default_storage.open(image.name, "rb")
        except FileNotFoundError:
            raise Http404 from None
        return FileResponse(handle, content_type=image.content_type)
    response = HttpResponse(content_type=image.content_type)
    response["X-Accel-Redirect"] = INTERNAL_MEDIA_PREFIX + quote(image.name)
    return response


def post_image(request: HttpRequest, institution_slug: str, name: str) -> HttpResponse:
    """A post image, which follows its post: public (and shared-cacheable like the pages) while
    a public revision shows it; otherwise only for members who may see a post that uses it
    (``private, no-store``); anyone else gets a 404, as for an image that does not exist."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(("GET", "HEAD"))
    image = queries.stored_image(name)
    if image is None:
        raise Http404
    if image.is_public:
        # Never reads the session: no cookie, no Vary: Cookie, stored in the server cache
        # under the institution's public version and in the proxy with the pages' expiry.
        response = _image_file(image)
        response.public_view = True
        response.public_cacheable = True
        patch_cache_control(response, public=True, **browser_lifetime())
        return response
    membership = _member_of_institution(request)
    if membership is None or not (
        has_permission(membership, Permission.VIEW_ALL_POSTS)
        or image.uploaded_by_id == membership.id
        or queries.image_in_posts_of(membership, image.media_id)
    ):
        raise Http404
    response = _image_file(image)
    patch_cache_control(response, private=True, no_store=True)
    return response


# Public: the language middleware must not read the session for it (a public image's answer
# is shared); only the members' branch reads it, and its answer is private.
post_image.tenant_access = "public"
post_image.public_parameters = ()
post_image.csrf_exempt = True  # reads only: every other method is a 405


def _member_of_institution(request: HttpRequest) -> Membership | None:
    user = request.user
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, status=Membership.Status.ACTIVE).first()


def member_post_image(request: HttpRequest, name: str) -> HttpResponse:
    """A post image at its stored address (``/media/posts/...``), which the members' pages and
    older links use: only for members who may see a post that uses it, in any of their
    institutions; everyone else gets a 404 (public readers use ``feeds:post-image``)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(("GET", "HEAD"))
    user = request.user
    if not user.is_authenticated:
        raise Http404
    name = "posts/" + name
    for membership in memberships_of(user):
        with tenant_context(membership.institution_id):
            image = queries.stored_image(name)
            if image is not None and (
                image.is_public
                or has_permission(membership, Permission.VIEW_ALL_POSTS)
                or image.uploaded_by_id == membership.id
                or queries.image_in_posts_of(membership, image.media_id)
            ):
                response = _image_file(image)
                patch_cache_control(response, private=True, no_store=True)
                return response
    raise Http404


member_post_image.tenant_access = "open"
member_post_image.csrf_exempt = True  # reads only: every other method is a 405
