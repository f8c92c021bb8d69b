"""Reads of the composer: a member's own posts, uploads and revisions (the public pages' reads
are in ``feeds.public.queries``)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.errors import NotFound
from accounts.models import Membership
from feeds.models import Attachment, Media, Post, Revision


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
