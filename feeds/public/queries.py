"""The reads of the public pages and feeds (the composer's own are in ``feeds.queries``).

Public lists page by keyset (published_at, id), newest first, so every page costs the same
number of queries and the same index range scan whatever the number of posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from django.db.models import (
    Aggregate,
    BigIntegerField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    JSONField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, JSONArray
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.compiled import Param, compiled_rows
from accounts.errors import DomainError, NotFound
from accounts.models import FormerHandle, Institution, Membership
from accounts.numbers import parse_ascii_int
from accounts.queries import active_members
from feeds.models import Attachment, Media, Post, Revision

PAGE_SIZE = 20
_LARGEST_ID = 2**63 - 1  # ids are 64-bit integers (BigAutoField)


class BadCursor(DomainError):
    code = "bad_cursor"
    default_message = gettext_lazy("This page link is not valid. Start again from the first page.")


# Shortcut, earns its place (bench.public_shortcuts, 7 Dec 2026, two runs): against building
# and compiling the queryset on every call: permalink +60%/+70%, institution page +53%/+49%,
# atom feed +50%/+38%, profile page +48%/+20%.
# Compiled reads --------------------------------------------------------------------------------
# Django builds and compiles a queryset's SQL every time it runs it. For the few reads that every
# public page runs, that costs more than the database does. These reads are compiled once per
# shape, institution and database (the tenant manager's filter is part of the SQL) and then run
# with new values for their Params (accounts.compiled, shared with the signed-in pages).


# Public lists: plain rows ----------------------------------------------------------------------
# The public pages and feeds list many posts per request and are the busiest reads of Podium.
# They read plain rows with only the columns they show: building model instances (and compiling
# the wide SELECTs that fill them) would cost more than the queries themselves.


class PublicAuthor(NamedTuple):
    id: int
    handle: str
    display_name: str
    avatar: str  # the stored file's name; "" when there is no photo
    job_title: str = ""  # the author's public role at the institution


class PublicImage(NamedTuple):
    image: str  # stored file names
    small: str
    width: int
    height: int
    content_type: str
    byte_size: int
    alt_text: str


class _JSONArrays(Aggregate):
    """The group's values as one JSON array (PostgreSQL ``JSONB_AGG``, SQLite
    ``JSON_GROUP_ARRAY``), in no particular order."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


_IMAGE_COLUMNS = (
    "position",
    "media__image",
    "media__small",
    "media__width",
    "media__height",
    "media__content_type",
    "media__byte_size",
    "alt_text",
)


def _images_of_revision(revision: str) -> Subquery:
    """The images of the revision in the outer query's column ``revision``, as one value of
    the same row (so a page reads posts and their images in one query)."""
    return Subquery(
        Attachment.objects.filter(revision_id=OuterRef(revision))
        .order_by()
        .values("revision_id")
        .annotate(images=_JSONArrays(JSONArray(*_IMAGE_COLUMNS)))
        .values("images"),
        output_field=JSONField(),
    )


def _public_images(value: list | None) -> tuple[PublicImage, ...]:
    """The ``_images_of_revision`` value as images, in their order."""
    if not value:
        return ()
    return tuple(PublicImage(*image[1:]) for image in sorted(value, key=lambda image: image[0]))


class PublicPost(NamedTuple):
    """A public post as lists and feeds show it: its public revision's text and images."""

    id: int
    published_at: datetime
    corrected_at: datetime | None
    body_html: str
    language: str
    author: PublicAuthor
    images: tuple[PublicImage, ...]


_PUBLIC_POST_COLUMNS = (
    "id",
    "published_at",
    "corrected_at",
    "public_revision_id",
    "public_revision__body_html",
    "public_revision__language",
    "author_id",
    "author__handle",
    "author__display_name",
    "author__avatar",
    "author__job_title",
)


def _public(by_author: bool, after_cursor: bool, limit: int) -> QuerySet[Post]:
    posts = Post.objects.filter(published_at__isnull=False, retracted_at__isnull=True)
    if by_author:
        posts = posts.filter(author_id=Param("author", BigIntegerField()))
    if after_cursor:
        when = Param("when", DateTimeField())
        posts = posts.filter(
            Q(published_at__lt=when) | Q(published_at=when, id__lt=Param("post", BigIntegerField()))
        )
    return (
        posts.annotate(images=_images_of_revision("public_revision_id"))
        .order_by("-published_at", "-id")
        .values_list(*_PUBLIC_POST_COLUMNS, "images")[:limit]
    )


def _public_rows(
    limit: int,
    author: Membership | PublicProfile | None = None,
    cursor: tuple[datetime, int] | None = None,
) -> list[PublicPost]:
    """The first ``limit`` public posts (of one author, after a cursor), with their images:
    one query."""
    by_author, after_cursor = author is not None, cursor is not None
    rows = compiled_rows(
        ("public posts", by_author, after_cursor, limit),
        lambda: _public(by_author, after_cursor, limit),
        author=author.id if author else None,
        when=cursor[0] if cursor else None,
        post=cursor[1] if cursor else None,
    )
    return [
        PublicPost(
            post_id,
            published_at,
            corrected_at,
            body_html,
            language,
            PublicAuthor(author_id, handle, display_name, avatar, job_title),
            _public_images(images),
        )
        for (
            post_id,
            published_at,
            corrected_at,
            _revision_id,
            body_html,
            language,
            author_id,
            handle,
            display_name,
            avatar,
            job_title,
            images,
        ) in rows
    ]


class FeedPost(NamedTuple):
    """A post as the feeds show it: its public text, or, once retracted, only its notice.

    ``earlier_number`` is the number of the revision that was public before the current one
    (the permalink's anchor of the earlier version), None when the post was never corrected.
    """

    id: int
    tag_id: str
    published_at: datetime
    corrected_at: datetime | None
    retracted_at: datetime | None
    retraction_reason: str
    body_html: str  # "" once retracted
    language: str
    earlier_number: int | None
    author: PublicAuthor
    images: tuple[PublicImage, ...]  # none once retracted


def _feed(by_author: bool, limit: int) -> QuerySet[Post]:
    posts = Post.objects.filter(published_at__isnull=False)
    if by_author:
        posts = posts.filter(author_id=Param("author", BigIntegerField()))
    earlier = (
        Revision.objects.filter(
            post_id=OuterRef("id"),
            published_at__isnull=False,
            number__lt=OuterRef("public_revision__number"),
        )
        .order_by("-number")
        .values("number")[:1]
    )
    return (
        posts.annotate(
            earlier_number=Subquery(earlier), images=_images_of_revision("public_revision_id")
        )
        .order_by("-published_at", "-id")
        .values_list(
            "id",
            "tag_id",
            "published_at",
            "corrected_at",
            "retracted_at",
            "retraction_reason",
            "public_revision_id",
            "public_revision__body_html",
            "public_revision__language",
            "earlier_number",
            "author_id",
            "author__handle",
            "author__display_name",
            "author__avatar",
            "images",
        )[:limit]
    )


def latest_feed_posts(
    limit: int, author: Membership | PublicProfile | None = None
) -> list[FeedPost]:
    """The newest posts ever published by the current institution (or one member), for the
    feeds: retracted ones stay where they were, as notices without their text. One query."""
    by_author = author is not None
    rows = compiled_rows(
        ("feed posts", by_author, limit),
        lambda: _feed(by_author, limit),
        author=author.id if author else None,
    )
    posts = []
    for (
        post_id,
        tag_id,
        published_at,
        corrected_at,
        retracted_at,
        reason,
        _revision_id,
        body_html,
        language,
        earlier_number,
        *author_row,
        images,
    ) in rows:
        # A retracted post's text and images are not read on PostgreSQL (row-level security
        # hides them from the public read path) and never shown anywhere.
        retracted = retracted_at is not None
        posts.append(
            FeedPost(
                post_id,
                tag_id,
                published_at,
                corrected_at,
                retracted_at,
                reason,
                "" if retracted else body_html,
                "" if retracted else language,
                earlier_number,
                PublicAuthor(*author_row),
                () if retracted else _public_images(images),
            )
        )
    return posts


def encode_cursor(post: Post | PublicPost) -> str:
    micros = int(post.published_at.timestamp() * 1_000_000)
    return f"{micros}-{post.id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The position a ``before=`` cursor names; BadCursor unless it is spelled exactly as
    ``encode_cursor`` spells it (ASCII digits, no sign, zeros or spaces: one cache entry)."""
    micros_text, _dash, post_text = (cursor or "").partition("-")
    micros = parse_ascii_int(micros_text)
    post_id = parse_ascii_int(post_text, maximum=_LARGEST_ID)
    if micros is None or post_id is None:  # not a cursor of ours
        raise BadCursor(field="before")
    try:
        when = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise BadCursor(field="before") from error
    return when, post_id


@dataclass(frozen=True)
class Page:
    posts: list[PublicPost]
    next_cursor: str | None
    is_first: bool


def public_page(
    before: str | None, author: Membership | PublicProfile | None = None, size: int = PAGE_SIZE
) -> Page:
    """One page of public posts (of one member when given), newest first, after the cursor
    (None: the first page). Two queries on any page: keyset, never an offset."""
    rows = _public_rows(size + 1, author, decode_cursor(before) if before else None)
    has_more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode_cursor(rows[-1]) if has_more and rows else None, not before)


class PermalinkAuthor(NamedTuple):
    id: int
    handle: str
    display_name: str
    avatar: str  # the stored file's name; "" when there is no photo
    job_title: str
    status: str

    @property
    def is_former(self) -> bool:
        return self.status == Membership.Status.FORMER


class Permalink(NamedTuple):
    """A published post as its permalink shows it (public, or retracted with its notice)."""

    id: int
    published_at: datetime
    corrected_at: datetime | None
    retracted_at: datetime | None
    retraction_reason: str
    public_revision_id: int | None
    body_html: str
    language: str
    author: PermalinkAuthor
    images: tuple[PublicImage, ...]

    @property
    def is_retracted(self) -> bool:
        return self.retracted_at is not None


def _permalink() -> QuerySet[Post]:
    return (
        Post.objects.filter(published_at__isnull=False, id=Param("post", BigIntegerField()))
        .annotate(images=_images_of_revision("public_revision_id"))
        .values_list(
            "id",
            "published_at",
            "corrected_at",
            "retracted_at",
            "retraction_reason",
            "public_revision_id",
            "public_revision__body_html",
            "public_revision__language",
            "author_id",
            "author__handle",
            "author__display_name",
            "author__avatar",
            "author__job_title",
            "author__status",
            "images",
        )[:1]
    )


def public_permalink(post_id: int) -> Permalink:
    """A post as its permalink shows it (public, or retracted with its notice): one query.

    Unpublished or unknown posts raise NotFound.
    """
    rows = compiled_rows(("permalink",), _permalink, post=post_id) if post_id <= _LARGEST_ID else []
    if not rows:
        raise NotFound(_("There is no published post at this address."))
    (
        post_id,
        published_at,
        corrected_at,
        retracted_at,
        retraction_reason,
        revision_id,
        body_html,
        language,
        *author,
        images,
    ) = rows[0]
    # A retracted post's text and images are not read on PostgreSQL (row-level security hides
    # them from the public read path) and never shown anywhere: only its notice.
    retracted = retracted_at is not None
    return Permalink(
        post_id,
        published_at,
        corrected_at,
        retracted_at,
        retraction_reason,
        revision_id,
        "" if retracted else body_html,
        "" if retracted else language,
        PermalinkAuthor(*author),
        () if retracted else _public_images(images),
    )


def correction_history(post: Post | Permalink) -> list[Revision]:
    """Every text of the post that was public at some time, oldest first."""
    return list(
        Revision.objects.filter(post_id=post.id, published_at__isnull=False).order_by("number")
    )


class PublicProfile(NamedTuple):
    """``profile_member`` as plain rows for the profile page and feeds."""

    id: int
    handle: str
    display_name: str
    job_title: str
    bio: str
    avatar: str  # the stored file's name; "" when there is no photo
    links: list
    status: str

    @property
    def is_former(self) -> bool:
        return self.status == Membership.Status.FORMER


def _profile() -> QuerySet[Membership]:
    return Membership.objects.filter(handle=Param("handle", CharField())).values_list(
        "id", "handle", "display_name", "job_title", "bio", "avatar", "links", "status"
    )[:1]


def public_profile(handle: str) -> PublicProfile:
    """A member's public profile by handle (former staff included). Else NotFound."""
    rows = compiled_rows(("profile",), _profile, handle=handle.lower())
    if not rows:
        raise NotFound(_("There is no profile with this handle here."))
    return PublicProfile(*rows[0])


class StoredImage(NamedTuple):
    """A post image's file as its address names it, and who may see it."""

    media_id: int
    name: str
    content_type: str
    uploaded_by_id: int
    is_public: bool  # a public revision of a post that is not retracted shows it


def stored_image(name: str) -> StoredImage | None:
    """The current institution's post image stored under ``name`` (or its small version):
    one query, which also tells whether a public text shows it."""
    shown = Attachment.objects.filter(
        media_id=OuterRef("id"),
        revision__post__public_revision_id=F("revision_id"),
        revision__post__retracted_at__isnull=True,
    )
    row = (
        Media.objects.filter(Q(image=name) | Q(small=name))
        .annotate(is_public=Exists(shown))
        .values_list("id", "content_type", "uploaded_by_id", "is_public")
        .first()
    )
    if row is None:
        return None
    media_id, content_type, uploaded_by_id, is_public = row
    return StoredImage(media_id, name, content_type, uploaded_by_id, bool(is_public))


def image_in_posts_of(member: Membership, media_id: int) -> bool:
    """Whether one of the member's own posts (any revision) shows the image."""
    return Attachment.objects.filter(media_id=media_id, revision__post__author=member).exists()


def current_handle(former: str) -> str | None:
    """The handle a member uses now in place of a handle they used before (None: no one)."""
    return (
        FormerHandle.objects.filter(handle=former.lower())
        .values_list("membership__handle", flat=True)
        .first()
    )


# The public directory and sitemaps ------------------------------------------------------------

STAFF_PAGE_SIZE = 100


def institution_directory() -> QuerySet[Institution]:
    """Every institution, by name, for the landing page and robots.txt (the registry is global)."""
    return Institution.objects.only("slug", "name", "kind", "search_indexing").order_by(
        "name", "id"
    )


def former_members() -> QuerySet[Membership]:
    """Former staff of the current institution, by name (their profiles stay as a record)."""
    return Membership.objects.filter(status=Membership.Status.FORMER).order_by("display_name", "id")


def staff_of_status(status: str) -> QuerySet[Membership]:
    """Active or former members of the current institution, by name."""
    return former_members() if status == Membership.Status.FORMER else active_members()


class PublicMember(NamedTuple):
    id: int
    handle: str
    display_name: str
    job_title: str
    avatar: str  # the stored file's name; "" when there is no photo


_PUBLIC_MEMBER_COLUMNS = ("id", "handle", "display_name", "job_title", "avatar")


def staff_preview(status: str, limit: int) -> tuple[list[PublicMember], int]:
    """The first members of a status by name, and how many there are: one query (the count is
    a window over the whole list, taken before the limit)."""
    rows = compiled_rows(
        ("staff preview", status, limit),
        lambda: (
            staff_of_status(status)
            .annotate(total=Window(Count("id")))
            .values_list(*_PUBLIC_MEMBER_COLUMNS, "total")[:limit]
        ),
    )
    return [PublicMember(*row[:-1]) for row in rows], rows[0][-1] if rows else 0


@dataclass(frozen=True)
class StaffPage:
    members: list[PublicMember]
    next_cursor: str | None
    is_first: bool


def staff_page(
    members: QuerySet[Membership], after: str | None, size: int = STAFF_PAGE_SIZE
) -> StaffPage:
    """One page of a by-name member list, after the member whose id is the cursor.

    The cursor is a member id; the (display_name, id) keyset is read from that member in the
    same query, so a page costs one query however far into the list it is. An id that is not
    in the list gives an empty page.
    """
    if after:
        member_id = parse_ascii_int(after)
        if member_id is None:
            raise BadCursor(field="after")
        anchor = Membership.objects.filter(id=member_id).values("display_name")[:1]
        members = members.filter(
            Q(display_name__gt=Subquery(anchor))
            | Q(display_name=Subquery(anchor), id__gt=member_id)
        )
    rows = [PublicMember(*row) for row in members.values_list(*_PUBLIC_MEMBER_COLUMNS)[: size + 1]]
    has_more = len(rows) > size
    rows = rows[:size]
    return StaffPage(rows, str(rows[-1].id) if has_more and rows else None, not after)


@dataclass(frozen=True)
class SitemapCounts:
    members: int
    posts: int
    latest_change: datetime | None


def sitemap_counts() -> SitemapCounts:
    """How many profiles and public posts the current institution has, and its latest change."""
    posts = Post.objects.filter(published_at__isnull=False, retracted_at__isnull=True).aggregate(
        count=Count("id"), latest=Max(Coalesce("corrected_at", "published_at"))
    )
    return SitemapCounts(Membership.objects.count(), posts["count"], posts["latest"])


def sitemap_members(start: int, stop: int) -> list[tuple[str, str]]:
    """(handle, status) of every profile, active and former, in a fixed order, sliced."""
    if stop <= start:
        return []
    return list(Membership.objects.order_by("id").values_list("handle", "status")[start:stop])


def sitemap_posts(start: int, stop: int) -> list[tuple[int, datetime]]:
    """(id, last public change) of every public post in a fixed order, sliced."""
    if stop <= start:
        return []
    return list(
        Post.objects.filter(published_at__isnull=False, retracted_at__isnull=True)
        .order_by("id")
        .values_list("id", Coalesce("corrected_at", "published_at"))[start:stop]
    )
