"""Reads the review pages and the API share: the queue, one post's review, counts."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.errors import NotFound
from accounts.models import Membership
from feeds.models import Attachment, Post, PostState, Revision
from feeds.rendering import excerpt, plain_text
from moderation.models import Decision, Flag, Policy, Severity, Verdict
from moderation.renderings import NetworkRendering, renderings_of
from moderation.services import Binding, deadline_of, needs_override, valid_approvals

QUEUE_PAGE_SIZE = 50
AGES = {"1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}


@dataclass(frozen=True)
class QueueFilter:
    author: int | None = None
    flag: str = ""
    # Only posts waiting at least this long (a key of AGES).
    age: str = ""


def pending_reviews(viewer: Membership, filters: QueueFilter | None = None) -> QuerySet[Post]:
    """Posts in review, most urgent first: nearest publish time (so nearest deadline), then the
    longest waiting. A reviewer's own posts are left out: nobody decides on them."""
    filters = filters or QueueFilter()
    posts = (
        Post.objects.filter(state=PostState.SUBMITTED)
        .exclude(author_id=viewer.id)
        .select_related("author", "latest_revision")
        .annotate(
            waiting_since=Coalesce("latest_revision__submitted_at", "updated_at"),
        )
    )
    if filters.author:
        posts = posts.filter(author_id=filters.author)
    if filters.flag:
        posts = posts.filter(
            latest_revision_id__in=Flag.objects.filter(category=filters.flag).values(
                "revision_id"
            )
        )
    if filters.age in AGES:
        posts = posts.filter(waiting_since__lte=timezone.now() - AGES[filters.age])
    return posts.order_by(
        Coalesce("publish_at", "published_at").asc(nulls_last=True), "waiting_since", "id"
    )


def review_count(viewer: Membership) -> int:
    """How many posts wait for the viewer's decision (the navigation's badge)."""
    return Post.objects.filter(state=PostState.SUBMITTED).exclude(author_id=viewer.id).count()


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
        first = next(
            (line for line in revision.body.splitlines() if line.strip()), revision.body
        )
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
    """Categories that flag posts now in review (the queue's flag filter)."""
    return sorted(
        Flag.objects.filter(
            revision_id__in=Post.objects.filter(state=PostState.SUBMITTED).values(
                "latest_revision_id"
            )
        )
        .values_list("category", flat=True)
        .distinct()
    )


def authors_in_review() -> list[Membership]:
    ids = Post.objects.filter(state=PostState.SUBMITTED).values("author_id")
    return list(Membership.objects.filter(id__in=ids).order_by("display_name", "id"))


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
    for start, end in zip(cuts, cuts[1:], strict=False):
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
            Attachment.objects.filter(revision=revision).select_related("media").order_by(
                "position"
            )
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
