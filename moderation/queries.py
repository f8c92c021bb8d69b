"""Reads the review pages and the API share: the queue, one post's review, counts."""

from __future__ import annotations

import base64
import difflib
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    Field,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.compiled import Param, compiled_rows
from accounts.errors import NotFound
from accounts.models import Membership
from feeds.models import Attachment, Post, PostState, Revision
from feeds.rendering import excerpt, plain_text
from moderation.models import Decision, Flag, Policy, Severity, Verdict
from moderation.renderings import NetworkRendering, renderings_of
from moderation.services import (
    Binding,
    current_policy,
    deadline_of,
    findings_of,
    needs_override,
    sector_of,
    valid_approvals,
)

QUEUE_PAGE_SIZE = 25
COUNT_CAP = 1000
AGES = {"1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}
# The revision columns each queue item needs (first line, hash, when it was submitted).
_REVISION_FIELDS = (
    "latest_revision__id",
    "latest_revision__number",
    "latest_revision__body",
    "latest_revision__body_format",
    "latest_revision__content_hash",
    "latest_revision__submitted_at",
)


_URGENCY = (F("publish_at").asc(nulls_last=True), "updated_at", "id")
_URGENCY_REVERSED = (F("publish_at").desc(nulls_first=True), "-updated_at", "-id")


@dataclass(frozen=True)
class QueueFilter:
    author: int | None = None
    flag: str = ""
    # Only posts waiting at least this long (a key of AGES).
    age: str = ""


def pending_reviews(viewer: Membership, filters: QueueFilter | None = None) -> QuerySet[Post]:
    """Posts in review, most urgent first: nearest publish time (so nearest deadline), then the
    longest waiting. A reviewer's own posts are left out: nobody decides on them.

    The post table is filtered and sorted along the partial index ``moderation_review_queue``
    (migration 0004); each page's author and revision rows are joined by primary key, so a page
    reads the same few rows at any queue length.
    """
    filters = filters or QueueFilter()
    posts = Post.objects.filter(state=PostState.SUBMITTED).exclude(author_id=viewer.id)
    if filters.author:
        posts = posts.filter(author_id=filters.author)
    if filters.flag:
        # EXISTS per post along the index, not IN: PostgreSQL joins an IN list of every flagged
        # revision against the whole queue (267 ms at 10,000 posts; 1 ms this way).
        posts = posts.filter(
            Exists(
                Flag.objects.filter(
                    revision_id=OuterRef("latest_revision_id"), category=filters.flag
                )
            )
        )
    if filters.age in AGES:
        posts = posts.filter(updated_at__lte=timezone.now() - AGES[filters.age])
    return posts.order_by(*_URGENCY)


class _Categories(Aggregate):
    """The flag categories of a revision, comma-separated (PostgreSQL ``string_agg``, SQLite
    ``group_concat``): a page's flag counts come with its posts, in the same query."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _with_rows(posts: QuerySet[Post]) -> QuerySet[Post]:
    """Each post with what its queue item shows, in one query: the revision's columns, its
    flag categories, whether a blocked term is among them, and the approvals of this revision
    since it was submitted (index probes per row of the page, no round trip per row).

    Authors are not joined: the page knows the institution's members already
    (``with_authors``), and with the member table in the join PostgreSQL misplans the flag
    filter (267 ms instead of 1 ms at 10,000 posts)."""
    revision = OuterRef("latest_revision_id")
    flags = Flag.objects.filter(revision_id=revision).order_by().values("revision_id")
    approvals = (
        Decision.objects.filter(
            revision_id=revision,
            verdict=Verdict.APPROVE,
            created_at__gte=Coalesce(
                OuterRef("latest_revision__submitted_at"), Value(_EPOCH, DateTimeField())
            ),
        )
        .order_by()
        .values("revision_id")
        .annotate(n=Count("reviewer_id", distinct=True))
        .values("n")
    )
    return (
        posts.select_related("latest_revision")
        .only(
            "id",
            "institution_id",
            "author_id",
            "state",
            "publish_at",
            "published_at",
            "updated_at",
            "latest_revision_id",
            *_REVISION_FIELDS,
        )
        .annotate(
            flag_categories=Subquery(flags.annotate(c=_Categories("category")).values("c")[:1]),
            has_blocked_term=Exists(
                Flag.objects.filter(revision_id=revision, severity=Severity.BLOCK)
            ),
            approval_count=Subquery(approvals[:1]),
        )
    )


def with_authors(posts: list[Post], members: dict[int, Membership] | None = None) -> list[Post]:
    """Attach each post's author: from ``members`` (id -> member) when the caller has them,
    else with one query for the page's authors."""
    if members is None:
        ids = {post.author_id for post in posts}
        members = {m.id: m for m in Membership.objects.filter(id__in=ids)} if ids else {}
    for post in posts:
        post.author = members[post.author_id]
    return posts


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue without counting the whole queue."""

    items: list[Post]
    number: int
    has_next: bool
    has_previous_page: bool = False
    # Keyset cursors of the neighbouring pages (``after`` / ``before``); empty when none.
    next_cursor: str = ""
    previous_cursor: str = ""

    @property
    def has_previous(self) -> bool:
        return self.number > 1 or self.has_previous_page


def queue_page(posts: QuerySet[Post], number: int, size: int = QUEUE_PAGE_SIZE) -> QueuePage:
    """Page ``number`` (from 1) of the queue: one query for ``size`` + 1 rows (the API's pages)."""
    number = max(1, min(number, 10_000))
    rows = list(_with_rows(posts)[(number - 1) * size : number * size + 1])
    return QueuePage(with_authors(rows[:size]), number, len(rows) > size)


# Keyset pagination (the review page): a cursor names the sort key of the item it follows or
# precedes, so the next page starts in the index where the last one ended, at any depth, and a
# decision taken meanwhile shifts nothing.


class BadCursor(ValueError):
    """The cursor in the address is not one this page wrote."""


def cursor_of(post: Post) -> str:
    """The cursor of a post's place in the queue: publish time (or nothing), submission, id."""
    publish = post.publish_at.isoformat() if post.publish_at else ""
    raw = f"{publish}|{post.updated_at.isoformat()}|{post.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _parse_cursor(cursor: str) -> tuple[datetime | None, datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        publish, updated, post_id = raw.split("|")
        moments = [datetime.fromisoformat(publish) if publish else None]
        moments.append(datetime.fromisoformat(updated))
        identifier = int(post_id)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadCursor(cursor) from error
    if any(m is not None and m.tzinfo is None for m in moments) or identifier < 1:
        raise BadCursor(cursor)
    return moments[0], moments[1], identifier


class _Row(Func):
    """A row value, ``(a, b)``: compared as a whole, it is one index condition on PostgreSQL
    (and SQLite), where the equivalent OR of comparisons makes the scan filter row by row."""

    template = "(%(expressions)s)"
    output_field = Field()


def _tail(updated: datetime, post_id: int) -> _Row:
    return _Row(Value(updated, output_field=DateTimeField()), Value(post_id))


def _after(posts: QuerySet[Post], cursor: str) -> QuerySet[Post]:
    """Posts that sort after the cursor (publish time NULLS LAST, submission, id)."""
    publish, updated, post_id = _parse_cursor(cursor)
    posts = posts.alias(_tail=_Row(F("updated_at"), F("id")))
    if publish is None:
        return posts.filter(publish_at__isnull=True, _tail__gt=_tail(updated, post_id))
    return posts.filter(
        Q(publish_at__gt=publish)
        | Q(publish_at=publish, _tail__gt=_tail(updated, post_id))
        | Q(publish_at__isnull=True)
    )


def _before(posts: QuerySet[Post], cursor: str) -> QuerySet[Post]:
    """Posts that sort before the cursor."""
    publish, updated, post_id = _parse_cursor(cursor)
    posts = posts.alias(_tail=_Row(F("updated_at"), F("id")))
    if publish is None:
        return posts.filter(
            Q(publish_at__isnull=False)
            | Q(publish_at__isnull=True, _tail__lt=_tail(updated, post_id))
        )
    return posts.filter(
        Q(publish_at__lt=publish) | Q(publish_at=publish, _tail__lt=_tail(updated, post_id))
    )


def queue_page_at(
    posts: QuerySet[Post],
    *,
    after: str = "",
    before: str = "",
    members: dict[int, Membership] | None = None,
    size: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """The page after (or before) a cursor, or the first page: one query for ``size`` + 1 rows
    (and one for the authors unless ``members`` has them).

    Raises BadCursor for a cursor this page did not write.
    """
    if before:
        rows = list(_with_rows(_before(posts, before)).order_by(*_URGENCY_REVERSED)[: size + 1])
        more = len(rows) > size
        items = with_authors(rows[:size][::-1], members)
        return QueuePage(
            items,
            number=0,
            has_next=True,
            has_previous_page=more,
            next_cursor=cursor_of(items[-1]) if items else "",
            previous_cursor=cursor_of(items[0]) if items and more else "",
        )
    if after:
        posts = _after(posts, after)
    rows = list(_with_rows(posts)[: size + 1])
    items = with_authors(rows[:size], members)
    more = len(rows) > size
    return QueuePage(
        items,
        number=0 if after else 1,
        has_next=more,
        has_previous_page=bool(after),
        next_cursor=cursor_of(items[-1]) if items and more else "",
        previous_cursor=cursor_of(items[0]) if items and after else "",
    )


def capped_count(posts: QuerySet[Post], cap: int = COUNT_CAP) -> int:
    """How many posts, counting no further than ``cap`` (the badge then reads "999+")."""
    return posts.order_by()[:cap].count()


NAVIGATION_CAP = 100


def _waiting_for_viewer():
    viewer = Param("viewer", Post._meta.get_field("author_id"))
    posts = Post.objects.filter(state=PostState.SUBMITTED).exclude(author_id=viewer)
    return posts.order_by().values_list("id")[:NAVIGATION_CAP]


def review_count(viewer: Membership) -> int:
    """How many posts wait for the viewer's decision (the navigation's badge, capped).

    A compiled read (``accounts.compiled``): every member page of a reviewer shows the badge,
    and compiling the count cost more than counting."""
    return len(compiled_rows(("review-count",), _waiting_for_viewer, viewer=viewer.id))


@dataclass
class QueueItem:
    post: Post
    first_line: str
    deadline: datetime | None
    is_late: bool
    flags: dict[str, int] = field(default_factory=dict)
    blocked: bool = False
    approvals: int = 0


def queue_items(posts: list[Post], policy: Policy | None) -> list[QueueItem]:
    """One page of the queue with each post's flags and approvals (read with the page's posts,
    see ``_with_rows``: no further query)."""
    now = timezone.now()
    items = []
    for post in posts:
        revision = post.latest_revision
        deadline = deadline_of(post, policy)
        first = next((line for line in revision.body.splitlines() if line.strip()), revision.body)
        categories = post.flag_categories.split(",") if post.flag_categories else []
        items.append(
            QueueItem(
                post=post,
                first_line=excerpt(plain_text(first, revision.body_format), 140),
                deadline=deadline,
                is_late=deadline is not None and deadline < now,
                flags=dict(sorted(Counter(categories).items())),
                blocked=post.has_blocked_term,
                approvals=post.approval_count or 0,
            )
        )
    return items


def flag_categories() -> list[str]:
    """Every category the checks can flag (the queue's flag filter)."""
    from moderation.checks import CHECKS

    return sorted({category for check in CHECKS for category in check.categories})


def author_choices() -> list[Membership]:
    """The institution's members, for the author filter and the authors of the page's posts:
    one narrow query (an institution has hundreds of members, not thousands)."""
    return list(
        Membership.objects.order_by("display_name", "id").only("id", "display_name", "handle")
    )


# One post's review ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A piece of the text, with the flags (numbers) that cover it."""

    text: str
    flags: tuple[int, ...] = ()


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same" | "added" | "removed"
    text: str


@dataclass
class Review:
    post: Post
    revision: Revision
    attachments: list[Attachment]
    flags: list[Flag]
    segments: list[Segment]
    renderings: list[NetworkRendering]
    decisions: list[Decision]
    policy: Policy | None
    deadline: datetime | None
    is_late: bool
    approvals: list[Decision]
    needs_override: bool
    previous: Revision | None
    diff_previous: list[DiffLine]
    public: Revision | None
    diff_public: list[DiffLine]

    @property
    def approvals_required(self) -> int:
        return self.policy.approvals_required if self.policy else 1

    @property
    def is_correction(self) -> bool:
        return self.post.published_at is not None


def segments(text: str, flags: list[Flag]) -> list[Segment]:
    """The text cut at every flag boundary, each piece naming the flags (1-based) over it."""
    bounds = {0, len(text)}
    for flag in flags:
        bounds.update((min(flag.start, len(text)), min(flag.end, len(text))))
    cuts = sorted(bounds)
    result = []
    for start, end in itertools.pairwise(cuts):
        if start == end:
            continue
        covering = tuple(
            number
            for number, flag in enumerate(flags, start=1)
            if flag.start <= start and end <= flag.end
        )
        result.append(Segment(text[start:end], covering))
    return result


def diff(old: str, new: str) -> list[DiffLine]:
    """Line by line, what changed from ``old`` to ``new``."""
    lines = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            lines.append(DiffLine("same", text))
        elif tag == "+ ":
            lines.append(DiffLine("added", text))
        elif tag == "- ":
            lines.append(DiffLine("removed", text))
    return lines


def _explain_in_reader_language(
    post: Post, revision: Revision, policy: Policy, flags: list[Flag]
) -> None:
    """Stored explanations are in the language of the submission; the checks run again (one
    text, milliseconds) to explain each flag in the reader's language."""
    fresh = {
        (f.check, f.start, f.end): str(f.explanation)
        for f in findings_of(post, revision, policy, sector_of(post.institution))
    }
    for flag in flags:
        flag.explanation = fresh.get((flag.check_name, flag.start, flag.end), flag.explanation)


def review_of(post_id: int, viewer: Membership) -> Review:
    """Everything a reviewer sees of one post (reviewers and admins only; NotFound else)."""
    post = (
        Post.objects.select_related("institution", "author", "latest_revision", "public_revision")
        .filter(id=post_id)
        .first()
    )
    if post is None or post.latest_revision is None:
        raise NotFound()
    revision = post.latest_revision
    policy = current_policy(post.institution)
    flags = list(Flag.objects.filter(revision=revision).order_by("start", "id"))
    if flags and policy is not None:
        _explain_in_reader_language(post, revision, policy, flags)
    renderings = renderings_of(post, revision)
    binding = Binding(
        revision.content_hash,
        {f"{r.network}:{r.account}": r.content_hash or f"error:{r.error}" for r in renderings},
    )
    previous = (
        Revision.objects.filter(post=post, number__lt=revision.number, submitted_at__isnull=False)
        .order_by("-number")
        .first()
    )
    public = post.public_revision if post.public_revision_id != revision.id else None
    deadline = deadline_of(post, policy)
    return Review(
        post=post,
        revision=revision,
        attachments=list(
            Attachment.objects.filter(revision=revision)
            .select_related("media")
            .order_by("position")
        ),
        flags=flags,
        segments=segments(revision.body, flags),
        renderings=renderings,
        decisions=list(
            Decision.objects.filter(post_id=post.id)
            .select_related("reviewer", "revision")
            .order_by("-created_at", "-id")
        ),
        policy=policy,
        deadline=deadline,
        is_late=deadline is not None and deadline < timezone.now(),
        approvals=valid_approvals(post, revision, binding),
        needs_override=needs_override(revision, binding, post),
        previous=previous,
        diff_previous=diff(previous.body, revision.body) if previous else [],
        public=public,
        diff_public=diff(public.body, revision.body) if public else [],
    )
