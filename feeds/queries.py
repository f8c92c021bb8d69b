"""Reads of posts that public pages, feeds, the composer and the API share.

Public lists page by keyset (published_at, id), newest first, so every page costs the same
number of queries and the same index range scan whatever the number of posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import DomainError, NotFound
from accounts.models import Institution, Membership
from accounts.queries import active_members
from feeds.models import Attachment, Media, Post, PostState, Revision

PAGE_SIZE = 20
_CURSOR_RE = re.compile(r"^(\d{1,20})-(\d{1,20})$")


class BadCursor(DomainError):
    code = "bad_cursor"
    default_message = gettext_lazy("This page link is not valid. Start again from the first page.")


def _with_public_content(posts: QuerySet[Post]) -> QuerySet[Post]:
    return posts.select_related("public_revision", "author").prefetch_related(
        Prefetch(
            "public_revision__attachments",
            queryset=Attachment.objects.select_related("media").order_by("position"),
        )
    )


def public_posts() -> QuerySet[Post]:
    """Posts of the current institution that anyone can read, newest first."""
    return _with_public_content(
        Post.objects.filter(published_at__isnull=False, retracted_at__isnull=True)
    ).order_by("-published_at", "-id")


def encode_cursor(post: Post) -> str:
    micros = int(post.published_at.timestamp() * 1_000_000)
    return f"{micros}-{post.id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    match = _CURSOR_RE.match(cursor or "")
    if match is None:
        raise BadCursor(field="before")
    micros, post_id = int(match.group(1)), int(match.group(2))
    try:
        when = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise BadCursor(field="before") from error
    return when, post_id


@dataclass(frozen=True)
class Page:
    posts: list[Post]
    next_cursor: str | None
    is_first: bool


def page_of(posts: QuerySet[Post], before: str | None, size: int = PAGE_SIZE) -> Page:
    """One page of a newest-first post list, starting after the cursor (None: the first page)."""
    if before:
        when, post_id = decode_cursor(before)
        posts = posts.filter(Q(published_at__lt=when) | Q(published_at=when, id__lt=post_id))
    rows = list(posts[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode_cursor(rows[-1]) if has_more and rows else None, not before)


def permalink_post(post_id: int) -> Post:
    """A post as its permalink shows it: public, or retracted with its notice. Else NotFound."""
    post = (
        _with_public_content(Post.objects.filter(published_at__isnull=False))
        .filter(id=post_id)
        .first()
    )
    if post is None:
        raise NotFound(_("There is no published post at this address."))
    return post


def correction_history(post: Post) -> list[Revision]:
    """Every text of the post that was public at some time, oldest first."""
    return list(Revision.objects.filter(post=post, published_at__isnull=False).order_by("number"))


def profile_member(handle: str) -> Membership:
    """A member's public profile by handle (former staff included). Else NotFound."""
    member = Membership.objects.filter(handle=handle.lower()).select_related("user").first()
    if member is None:
        raise NotFound(_("There is no profile with this handle here."))
    return member


def posts_by(member: Membership) -> QuerySet[Post]:
    return public_posts().filter(author=member)


def posts_of_author(member: Membership) -> QuerySet[Post]:
    """Everything a member has written, for their own list ("my posts"), latest change first."""
    return (
        Post.objects.filter(author=member)
        .select_related("latest_revision", "public_revision")
        .order_by("-updated_at", "-id")
    )


def editable_post(member: Membership, post_id: int) -> Post:
    """The member's own post, or NotFound (someone else's post looks missing)."""
    post = posts_of_author(member).filter(id=post_id).first()
    if post is None:
        raise NotFound()
    return post


def post_for_member(member: Membership, post_id: int, *, see_all: bool) -> Post | None:
    """A post as a member may open it in the composer: their own, or any when ``see_all``."""
    posts = Post.objects if see_all else Post.objects.filter(author=member)
    return (
        posts.select_related("latest_revision", "public_revision", "author")
        .filter(id=post_id)
        .first()
    )


def uploads_of(member: Membership, ids: list[int]) -> dict[int, Media]:
    """The member's own uploads among the ids (someone else's image is never shown)."""
    if not ids:
        return {}
    return {m.id: m for m in Media.objects.filter(id__in=ids, uploaded_by=member)}


def revisions_of(post: Post) -> list[Revision]:
    """Every revision of a post, newest first, with its images and the people involved."""
    return list(
        Revision.objects.filter(post=post)
        .select_related("created_by", "approved_by")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.select_related("media").order_by("position"),
            )
        )
        .order_by("-number")
    )


def scheduled_posts() -> QuerySet[Post]:
    return Post.objects.filter(state=PostState.APPROVED).order_by("publish_at", "id")


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


@dataclass(frozen=True)
class StaffPage:
    members: list[Membership]
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
        if not after.isdigit() or len(after) > 18:
            raise BadCursor(field="after")
        anchor = Membership.objects.filter(id=int(after)).values("display_name")[:1]
        members = members.filter(
            Q(display_name__gt=Subquery(anchor))
            | Q(display_name=Subquery(anchor), id__gt=int(after))
        )
    rows = list(members[: size + 1])
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
