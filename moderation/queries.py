"""Reads the review pages and the API share: the queue, one post's review, counts."""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Prefetch, QuerySet
from django.utils import timezone

from accounts.errors import NotFound
from accounts.models import Membership
from feeds.models import Attachment, Post, PostState, Revision
from feeds.rendering import excerpt, plain_text
from moderation.models import Decision, Flag, Policy, Severity, Verdict
from moderation.renderings import NetworkRendering, renderings_of
from moderation.services import (
    Binding,
    deadline_of,
    findings_of,
    needs_override,
    sector_of,
    valid_approvals,
)

QUEUE_PAGE_SIZE = 50
COUNT_CAP = 1000
AGES = {"1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}


@dataclass(frozen=True)
class QueueFilter:
    author: int | None = None
    flag: str = ""
    # Only posts waiting at least this long (a key of AGES).
    age: str = ""


def pending_reviews(viewer: Membership, filters: QueueFilter | None = None) -> QuerySet[Post]:
    """Posts in review, most urgent first: nearest publish time (so nearest deadline), then the
    longest waiting. A reviewer's own posts are left out: nobody decides on them.

    Only the post table is filtered and sorted (``updated_at`` is the time of submission); the
    page's authors and revisions come by prefetch, so a page costs the same at any queue length.
    """
    filters = filters or QueueFilter()
    posts = (
        Post.objects.filter(state=PostState.SUBMITTED)
        .exclude(author_id=viewer.id)
        .prefetch_related(
            Prefetch("author", queryset=Membership.objects.all()),
            Prefetch("latest_revision", queryset=Revision.objects.all()),
        )
    )
    if filters.author:
        posts = posts.filter(author_id=filters.author)
    if filters.flag:
        posts = posts.filter(
            latest_revision_id__in=Flag.objects.filter(category=filters.flag).values("revision_id")
        )
    if filters.age in AGES:
        posts = posts.filter(updated_at__lte=timezone.now() - AGES[filters.age])
    return posts.order_by(F("publish_at").asc(nulls_last=True), "updated_at", "id")


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue without counting the whole queue."""

    items: list[Post]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def queue_page(posts: QuerySet[Post], number: int, size: int = QUEUE_PAGE_SIZE) -> QueuePage:
    """Page ``number`` (from 1) of the queue: one query for ``size`` + 1 rows."""
    number = max(1, min(number, 10_000))
    rows = list(posts[(number - 1) * size : number * size + 1])
    return QueuePage(rows[:size], number, len(rows) > size)


def capped_count(posts: QuerySet[Post], cap: int = COUNT_CAP) -> int:
    """How many posts, counting no further than ``cap`` (the badge then reads "999+")."""
    return posts.order_by()[:cap].count()


def review_count(viewer: Membership) -> int:
    """How many posts wait for the viewer's decision (the navigation's badge, capped)."""
    return capped_count(
        Post.objects.filter(state=PostState.SUBMITTED).exclude(author_id=viewer.id), 100
    )


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
    """One page of the queue with each post's flags and approvals (two queries per page)."""
    now = timezone.now()
    revision_ids = [p.latest_revision_id for p in posts]
    flags: dict[int, dict[str, int]] = {}
    blocked: set[int] = set()
    for revision_id, category, severity, count in (
        Flag.objects.filter(revision_id__in=revision_ids)
        .values_list("revision_id", "category", "severity")
        .annotate(n=Count("id"))
        .order_by()
    ):
        flags.setdefault(revision_id, {})[category] = (
            flags.get(revision_id, {}).get(category, 0) + count
        )
        if severity == Severity.BLOCK:
            blocked.add(revision_id)
    approvals: dict[int, set[int]] = {}
    for revision_id, reviewer_id, created_at, submitted_at in Decision.objects.filter(
        revision_id__in=revision_ids, verdict=Verdict.APPROVE
    ).values_list("revision_id", "reviewer_id", "created_at", "revision__submitted_at"):
        if submitted_at is None or created_at >= submitted_at:
            approvals.setdefault(revision_id, set()).add(reviewer_id)
    items = []
    for post in posts:
        revision = post.latest_revision
        deadline = deadline_of(post, policy)
        first = next((line for line in revision.body.splitlines() if line.strip()), revision.body)
        items.append(
            QueueItem(
                post=post,
                first_line=excerpt(plain_text(first, revision.body_format), 140),
                deadline=deadline,
                is_late=deadline is not None and deadline < now,
                flags=dict(sorted(flags.get(revision.id, {}).items())),
                blocked=revision.id in blocked,
                approvals=len(approvals.get(revision.id, ())),
            )
        )
    return items


def flag_categories() -> list[str]:
    """Every category the checks can flag (the queue's flag filter)."""
    from moderation.checks import CHECKS

    return sorted({category for check in CHECKS for category in check.categories})


def authors_in_review() -> list[Membership]:
    """The institution's members (the queue's author filter): few, whatever the queue's length."""
    return list(Membership.objects.order_by("display_name", "id"))


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
    policy = Policy.objects.filter(institution_id=post.institution_id).first()
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
