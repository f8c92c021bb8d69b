"""The post lifecycle: one table of allowed transitions, and the one function that applies them.

::

    draft -> submitted -> approved (scheduled) -> published -> corrected* / retracted
                |  ^
                v  |
      changes_requested / rejected

A published post stays public while a correction of it moves through draft, review and
approval; the public sees ``public_revision`` until the correction is approved. Moderation adds
reviewers' decisions on the same verbs without new states.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.errors import DomainError
from feeds.models import Post, PostState

S = PostState
# The target of "delete": the post no longer exists.
DELETED = "deleted"

# verb -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({S.DRAFT, S.CHANGES_REQUESTED}), S.SUBMITTED),
    "withdraw": (frozenset({S.SUBMITTED}), S.DRAFT),
    "edit": (
        frozenset({S.DRAFT, S.CHANGES_REQUESTED, S.SUBMITTED, S.APPROVED, S.PUBLISHED}),
        S.DRAFT,
    ),
    "approve": (frozenset({S.SUBMITTED}), S.APPROVED),
    "request_changes": (frozenset({S.SUBMITTED}), S.CHANGES_REQUESTED),
    "reject": (frozenset({S.SUBMITTED}), S.REJECTED),
    "publish": (frozenset({S.APPROVED}), S.PUBLISHED),
    # A published post's correction that is rejected or dropped: the public text stays.
    "reject_correction": (frozenset({S.SUBMITTED}), S.PUBLISHED),
    "discard_correction": (frozenset({S.DRAFT, S.CHANGES_REQUESTED}), S.PUBLISHED),
    "retract": (
        frozenset({S.PUBLISHED, S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED}),
        S.RETRACTED,
    ),
    # A draft that never went to review is removed with its revision; nothing is left.
    "delete": (frozenset({S.DRAFT}), DELETED),
}

# Verbs that only make sense for a post that has been public (or never has).
ONLY_AFTER_PUBLICATION = frozenset({"reject_correction", "discard_correction", "retract"})
ONLY_BEFORE_PUBLICATION = frozenset({"reject", "delete"})


class IllegalTransition(DomainError):
    status = 409
    code = "illegal_transition"


_MESSAGES = {
    "submit": _("Only drafts and posts with requested changes can be submitted."),
    "withdraw": _("Only posts in review can be withdrawn."),
    "edit": _("This post can no longer be edited."),
    "publish": _("Only approved posts can be published."),
    "retract": _("Only published posts can be retracted."),
    "delete": _("Only drafts that were never submitted can be deleted."),
}


def can(post: Post, verb: str) -> bool:
    """Whether the verb is allowed on the post in its present state."""
    sources, _target = TRANSITIONS[verb]
    if post.state not in sources:
        return False
    was_public = post.published_at is not None
    if verb in ONLY_AFTER_PUBLICATION and not was_public:
        return False
    return not (verb in ONLY_BEFORE_PUBLICATION and was_public)


def transition(post: Post, verb: str) -> None:
    """Move the post along an allowed edge, or raise IllegalTransition. The only state setter."""
    if not can(post, verb):
        raise IllegalTransition(
            _MESSAGES.get(verb) or _("This is not possible for a post in its present state.")
        )
    post.state = TRANSITIONS[verb][1]


def _check_table() -> None:
    """Validate the table at import: every state named exists, every state is reachable."""
    states = set(PostState.values)
    reached = {S.DRAFT}
    for verb, (sources, target) in TRANSITIONS.items():
        unknown = (set(sources) | ({target} - {DELETED})) - states
        if unknown:
            raise ValueError(f"Transition {verb} names unknown states {unknown}")
        if target != DELETED:
            reached.add(target)
    if reached != states:
        raise ValueError(f"States never reached: {states - reached}")


_check_table()
