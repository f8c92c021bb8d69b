"""Public pages and feeds: landing page, robots.txt, institution page, staff directory, profile,
post permalink, Atom / RSS / JSON Feed and sitemap.

Anyone reads them anonymously. Every view is a ``public_view`` and never touches the session
(no ``request.user``, messages or CSRF token, here or in the templates), so anonymous readers
get no cookie and no ``Vary: Cookie``, and shared caches keep the responses (DESIGN section 8).
The language comes from ``?lang=`` or the institution (LanguageMiddleware); pages offer plain
``?lang=`` links, never a cookie. Each page runs a fixed number of queries whatever the number
of posts or staff: lists page by keyset and texts are the precomputed ``Revision.body_html``.

A retracted post answers 200 with its public notice (reason and date, never the text), not
410: the notice is the public record of the retraction (DESIGN section 1) and, like every
public page, it must be cacheable by the shared cache and the server cache when a crowd follows
old links to it. It asks search engines not to index it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import DomainError, NotFound
from accounts.models import Institution, Membership
from accounts.publicread import public_query, public_view
from accounts.queries import active_members
from feeds import queries, syndication
from feeds.rendering import excerpt

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


# Shared pieces --------------------------------------------------------------------------------


def _language(request: HttpRequest) -> dict[str, str]:
    """``?lang=`` as the reader chose it, to keep in the page's own links."""
    lang = public_query(request, "lang")
    return {"lang": lang} if lang in dict(settings.LANGUAGES) else {}


def _link(request: HttpRequest, **params: str | None) -> str:
    """A query string for a link to another page of the same list, keeping ``?lang=``."""
    query = {key: value for key, value in params.items() if value} | _language(request)
    return "?" + urlencode(query) if query else request.path


def _feeds(institution: Institution, member: Membership | None = None) -> list[dict[str, str]]:
    feeds = []
    for fmt, content_type, label in FEED_FORMATS:
        if member is None:
            url = reverse("feeds:institution-feed", args=[institution.slug, fmt])
            title = _("%(name)s (%(format)s)") % {"name": institution.name, "format": label}
        else:
            url = reverse("feeds:profile-feed", args=[institution.slug, member.handle, fmt])
            title = _("%(name)s (%(format)s)") % {"name": member.display_name, "format": label}
        feeds.append({"type": content_type, "label": label, "title": title, "url": url})
    return feeds


def _context(request: HttpRequest, **extra) -> dict:
    institution = request.institution
    context = {
        "institution": institution,
        "accent": accent_of(institution),
        "logo_url": syndication.media_url(institution.logo) if institution.logo else None,
        "feeds": _feeds(institution),
        "noindex": not institution.search_indexing,
        "canonical_url": _canonical(request),
    }
    context.update(extra)
    return context


def _canonical(request: HttpRequest, path: str | None = None, **params: str | None) -> str:
    """The page's absolute address without ``?lang=`` (every language shows the same posts)."""
    query = {key: value for key, value in params.items() if value}
    path = path or request.path
    return syndication.absolute_url(path + ("?" + urlencode(query) if query else ""))


def _not_found(request: HttpRequest, error: DomainError) -> HttpResponse:
    context = _context(request, message=error.message, noindex=True, canonical_url=None)
    return render(request, "feeds/public/not_found.html", context, status=404)


def _bad_request(request: HttpRequest, error: DomainError) -> HttpResponse:
    context = _context(request, message=error.message, noindex=True, canonical_url=None)
    return render(request, "feeds/public/bad_request.html", context, status=400)


# Global pages ---------------------------------------------------------------------------------


@public_view
def landing(request: HttpRequest) -> HttpResponse:
    """What Podium is, and the directory of institutions."""
    return render(
        request,
        "feeds/public/landing.html",
        {"institutions": queries.institution_directory()},
    )


@public_view
def robots(request: HttpRequest) -> HttpResponse:
    """Crawler rules: members' areas are closed; institutions that opt out are closed too."""
    return render(
        request,
        "feeds/public/robots.txt",
        {"institutions": queries.institution_directory(), "base_url": syndication.absolute_url("")},
        content_type="text/plain; charset=utf-8",
    )


# An institution -------------------------------------------------------------------------------


@public_view
def institution(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The institution's page: who they are, the latest posts, a preview of the staff."""
    before = public_query(request, "before")
    try:
        page = queries.page_of(queries.public_posts(), before)
    except queries.BadCursor as error:
        return _bad_request(request, error)
    staff = active_members()
    context = _context(
        request,
        section="institution",
        page=page,
        staff=list(staff[:STAFF_PREVIEW]),
        staff_count=staff.count(),
        older_link=_link(request, before=page.next_cursor) if page.next_cursor else None,
        newest_link=_link(request),
        canonical_url=_canonical(request, before=before),
    )
    return render(request, "feeds/public/institution.html", context)


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
    former_preview = [] if former else list(queries.former_members()[: FORMER_PREVIEW + 1])
    context = _context(
        request,
        section="staff",
        former=former,
        page=page,
        count=members.count(),
        former_preview=former_preview[:FORMER_PREVIEW],
        more_former=len(former_preview) > FORMER_PREVIEW,
        former_link=_link(request, status=Membership.Status.FORMER),
        active_link=_link(request),
        next_link=_link(request, status=status if former else None, after=page.next_cursor)
        if page.next_cursor
        else None,
        canonical_url=_canonical(request, status=status if former else None, after=after),
    )
    return render(request, "feeds/public/staff.html", context)


@public_view
def profile(request: HttpRequest, institution_slug: str, handle: str) -> HttpResponse:
    """A member's public profile (h-card) and their posts; former staff stay as a record."""
    try:
        member = queries.profile_member(handle)
    except NotFound as error:
        return _not_found(request, error)
    before = public_query(request, "before")
    try:
        page = queries.page_of(queries.posts_by(member), before)
    except queries.BadCursor as error:
        return _bad_request(request, error)
    context = _context(
        request,
        member=member,
        page=page,
        feeds=_feeds(request.institution, member) + _feeds(request.institution),
        profile_url=syndication.profile_page_url(request.institution, member),
        canonical_url=_canonical(
            request, reverse("feeds:profile", args=[institution_slug, member.handle]), before=before
        ),
        description=excerpt(" ".join(filter(None, [member.job_title, member.bio])), 200),
        avatar_url=syndication.media_url(member.avatar) if member.avatar else None,
        older_link=_link(request, before=page.next_cursor) if page.next_cursor else None,
        newest_link=_link(request),
    )
    return render(request, "feeds/public/profile.html", context)


@public_view
def post(request: HttpRequest, institution_slug: str, post_id: int) -> HttpResponse:
    """A post's permalink (h-entry); a corrected post shows its earlier texts, a retracted one
    only the notice of its retraction."""
    try:
        post = queries.permalink_post(post_id)
    except NotFound as error:
        return _not_found(request, error)
    institution = request.institution
    context = _context(
        request,
        post=post,
        feeds=_feeds(institution, post.author) + _feeds(institution),
        canonical_url=syndication.post_url(institution, post),
        noindex=not institution.search_indexing or post.is_retracted,
    )
    if not post.is_retracted:
        revision = post.public_revision
        images = syndication.post_images(post)
        earlier = []
        if post.corrected_at is not None:
            earlier = [
                r for r in queries.correction_history(post) if r.id != post.public_revision_id
            ]
        context.update(
            revision=revision,
            images=images,
            earlier_revisions=earlier,
            hashtags=syndication.post_hashtags(post),
            description=excerpt(syndication.text_of(revision.body_html), 200),
            og_image=syndication.media_url(images[0].media.image) if images else None,
            og_image_alt=images[0].alt_text if images else None,
        )
    return render(request, "feeds/public/post.html", context)


# Feeds and sitemap ----------------------------------------------------------------------------


@public_view
def institution_feed(request: HttpRequest, institution_slug: str, fmt: str) -> HttpResponse:
    """The institution's latest public posts as Atom, RSS or JSON Feed."""
    return syndication.PostFeed(fmt, request.institution)(request)


@public_view
def profile_feed(
    request: HttpRequest, institution_slug: str, handle: str, fmt: str
) -> HttpResponse:
    """A member's latest public posts as Atom, RSS or JSON Feed."""
    try:
        member = queries.profile_member(handle)
    except NotFound as error:
        return _not_found(request, error)
    return syndication.PostFeed(fmt, request.institution, member)(request)


class SitemapPageInvalid(DomainError):
    code = "bad_sitemap_page"
    default_message = gettext_lazy("The sitemap page must be a whole number from 1.")


@public_view
def sitemap(request: HttpRequest, institution_slug: str) -> HttpResponse:
    """The institution's sitemap (an index of pages when it outgrows one file)."""
    institution = request.institution
    if not institution.search_indexing:
        return _not_found(
            request, NotFound(_("This institution asks search engines not to index its pages."))
        )
    page = public_query(request, "page")
    if page is not None and (not page.isdigit() or len(page) > 9 or int(page) < 1):
        return _bad_request(request, SitemapPageInvalid(field="page"))
    try:
        document = syndication.sitemap(institution, int(page) if page else None)
    except syndication.SitemapPageMissing:
        return _not_found(request, NotFound(_("This sitemap has fewer pages.")))
    return HttpResponse(document, content_type="application/xml; charset=utf-8")
