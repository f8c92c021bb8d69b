"""What every member page shows of moderation: the review count in the navigation, the
emergency stop while in force, and a reviewer's comment to the author on the post's own pages.

Values are callables, so the templates query only when they show them.
"""

from __future__ import annotations

from django.http import HttpRequest

from accounts.permissions import Permission, has_permission
from feeds.models import Post, PostState

AUTHOR_PAGES = frozenset({"edit", "history"})


def _review_count(request: HttpRequest):
    def count() -> int:
        from moderation.queries import review_count

        membership = getattr(request, "membership", None)
        if not has_permission(membership, Permission.REVIEW_POSTS):
            return 0
        # The queue page counts the same posts for itself and leaves the figure here.
        counted = getattr(request, "moderation_review_count", None)
        if counted is None:
            counted = request.moderation_review_count = review_count(membership)
        return counted

    return count


def _author_feedback(request: HttpRequest):
    def feedback():
        from moderation.services import comment_for_author

        match = getattr(request, "resolver_match", None)
        membership = getattr(request, "membership", None)
        if membership is None or match is None or match.app_name != "feeds":
            return None
        if match.url_name not in AUTHOR_PAGES or "post_id" not in match.kwargs:
            return None
        post = (
            Post.objects.select_related("latest_revision")
            .filter(id=match.kwargs["post_id"], author_id=membership.id)
            .first()
        )
        if post is None or post.latest_revision is None:
            return None
        if post.state not in (PostState.CHANGES_REQUESTED, PostState.REJECTED, PostState.DRAFT):
            return None
        decision = comment_for_author(post)
        if decision is None:
            return None
        number = post.latest_revision.number
        current = decision.revision.number == number
        edited_since = post.state == PostState.DRAFT and decision.revision.number == number - 1
        return decision if current or edited_since else None

    return feedback


def moderation(request: HttpRequest) -> dict:
    if getattr(request, "membership", None) is None:
        return {}
    return {
        "moderation_review_count": _review_count(request),
        "moderation_author_feedback": _author_feedback(request),
    }
