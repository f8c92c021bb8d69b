"""Every state change of posts: write, edit, submit, approve, publish, correct, retract, upload.

Each function runs in one transaction inside the post's institution, writes its audit event and
calls the lifecycle's listeners (``feeds.hooks``) in that transaction. State moves only through
``feeds.lifecycle.transition``. Whatever changes the public pages calls
``public_content_changed`` so cached pages are replaced the moment the change commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import audit, errors
from accounts.models import Institution, Membership
from accounts.permissions import Permission, has_permission
from accounts.publicread import public_content_changed
from accounts.tenancy import tenant_context
from feeds import hooks, lifecycle
from feeds.images import process_image
from feeds.models import (
    MAX_ALT_TEXT_LENGTH,
    MAX_ATTACHMENTS,
    MAX_BODY_LENGTH,
    POST_LANGUAGES,
    Attachment,
    BodyFormat,
    Media,
    Post,
    PostState,
    Revision,
)
from feeds.public import syndication
from feeds.public.addresses import PublicAddresses
from feeds.rendering import Entities, mentioned_handles, render_body
from feeds.scheduling import check_publish_time

LANGUAGE_CODES = {code for code, _name in POST_LANGUAGES}


class Keep(Enum):
    """Default of an optional argument that may also be None: leave the value as it is."""

    TIME = "keep"


@dataclass(frozen=True)
class AttachmentInput:
    media_id: int
    alt_text: str


@dataclass(frozen=True)
class PostContent:
    """What an author writes: text, format, language and up to four images with alt text."""

    body: str
    language: str
    body_format: str = BodyFormat.TEXT
    attachments: Sequence[AttachmentInput] = ()


class PostNotEditable(errors.PermissionDenied):
    code = "not_your_post"
    default_message = gettext_lazy("Only the author can change this post.")


# Content --------------------------------------------------------------------------------------


def _validate(content: PostContent) -> PostContent:
    body = (content.body or "").replace("\r\n", "\n").strip()
    if not body:
        raise errors.DomainError(_("Write something first: the text is empty."), field="body")
    if "\x00" in body:
        raise errors.DomainError(_("The text contains a NUL character."), field="body")
    if len(body) > MAX_BODY_LENGTH:
        raise errors.DomainError(
            _("The text is %(length)d characters long; the limit is %(limit)d.")
            % {"length": len(body), "limit": MAX_BODY_LENGTH},
            field="body",
        )
    if content.language not in LANGUAGE_CODES:
        raise errors.DomainError(_("Choose the language the post is written in."), field="language")
    if content.body_format not in BodyFormat.values:
        raise errors.DomainError(_("Unknown text format."), field="body_format")
    if len(content.attachments) > MAX_ATTACHMENTS:
        raise errors.DomainError(
            _("A post can have at most %(count)d images.") % {"count": MAX_ATTACHMENTS},
            field="attachments",
        )
    attachments = []
    for index, attachment in enumerate(content.attachments, start=1):
        alt_text = (attachment.alt_text or "").strip()
        if not alt_text:
            raise errors.DomainError(
                _("Image %(number)d needs a description (alt text) for people who cannot see it.")
                % {"number": index},
                field="attachments",
            )
        if len(alt_text) > MAX_ALT_TEXT_LENGTH:
            raise errors.DomainError(
                _("The description of image %(number)d is longer than %(limit)d characters.")
                % {"number": index, "limit": MAX_ALT_TEXT_LENGTH},
                field="attachments",
            )
        if "\x00" in alt_text:
            # The web composer reads descriptions outside a form field; PostgreSQL text cannot
            # hold a NUL, so it was a 500 there (issue 11).
            raise errors.DomainError(
                _("The description of image %(number)d contains a NUL character.")
                % {"number": index},
                field="attachments",
            )
        attachments.append(AttachmentInput(int(attachment.media_id), alt_text))
    if len({a.media_id for a in attachments}) != len(attachments):
        raise errors.DomainError(_("The same image is attached twice."), field="attachments")
    return PostContent(body, content.language, content.body_format, tuple(attachments))


def profile_url(institution: Institution, handle: str) -> str:
    """The profile's site-relative address, as mentions in rendered texts link to it."""
    return PublicAddresses(institution.slug).profile(handle)


def _entities(institution: Institution, body: str) -> Entities:
    handles = mentioned_handles(body)
    known = Membership.objects.filter(handle__in=handles).values_list("handle", flat=True)
    return Entities({handle: profile_url(institution, handle) for handle in known})


def preview_html(institution: Institution, body: str, body_format: str) -> str:
    """The body as the public will see it, with mentions of colleagues linked (no saving)."""
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        return ""
    if body_format not in BodyFormat.values:
        body_format = BodyFormat.TEXT
    with tenant_context(institution.id):
        return render_body(body, body_format, _entities(institution, body))


def content_hash(content: PostContent, media: dict[int, Media]) -> str:
    """SHA-256 over exactly what will be published: text, format, language, images, alt texts."""
    canonical = {
        "body": content.body,
        "body_format": content.body_format,
        "language": content.language,
        "attachments": [
            {"sha256": media[a.media_id].sha256, "alt_text": a.alt_text}
            for a in content.attachments
        ],
    }
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _media_for(content: PostContent, author: Membership) -> dict[int, Media]:
    ids = [a.media_id for a in content.attachments]
    media = {m.id: m for m in Media.objects.filter(id__in=ids)}
    for media_id in ids:
        item = media.get(media_id)
        if item is None or item.uploaded_by_id not in (author.id,):
            raise errors.DomainError(
                _("Image %(id)s was not found among your uploads.") % {"id": media_id},
                field="attachments",
            )
    return media


def _write_revision(revision: Revision, content: PostContent, media: dict[int, Media]) -> None:
    institution = revision.post.institution
    revision.body = content.body
    revision.body_format = content.body_format
    revision.language = content.language
    revision.body_html = render_body(
        content.body, content.body_format, _entities(institution, content.body)
    )
    revision.content_hash = content_hash(content, media)
    revision.save()
    Attachment.objects.filter(revision=revision).delete()
    Attachment.objects.bulk_create(
        Attachment(
            institution_id=revision.institution_id,
            revision=revision,
            media=media[a.media_id],
            position=position,
            alt_text=a.alt_text,
        )
        for position, a in enumerate(content.attachments)
    )


def _check_author(post: Post, by: Membership) -> None:
    if post.author_id != by.id or not has_permission(by, Permission.WRITE_POSTS):
        raise PostNotEditable()


def _summary(post: Post, **extra: object) -> dict:
    """What the audit log keeps of a post at a change: its state and the revision concerned."""
    revision = post.latest_revision
    summary = {
        "state": post.state,
        "revision": revision.number if revision is not None else None,
        "content_hash": revision.content_hash if revision is not None else None,
    }
    summary.update(extra)
    return summary


def _record(post: Post, verb: str, before: dict, by: Membership | None, **extra: object) -> None:
    audit.record(
        post.institution_id,
        f"post.{verb}",
        actor=by,
        target=post,
        before=before,
        after=_summary(post, **extra),
    )


def _change(post: Post, by: Membership | None, at: datetime, reason: str = "") -> hooks.PostChange:
    return hooks.PostChange(post=post, revision=post.latest_revision, by=by, at=at, reason=reason)


def _lock(post: Post) -> Post:
    return (
        Post.objects.select_for_update(of=("self",))
        .select_related("institution", "author", "latest_revision")
        .get(id=post.id)
    )


# Writing --------------------------------------------------------------------------------------


@transaction.atomic
def create_post(
    author: Membership, content: PostContent, *, publish_at: datetime | None = None
) -> Post:
    """Start a post as a draft with its first revision."""
    with tenant_context(author.institution_id):
        if not has_permission(author, Permission.WRITE_POSTS):
            raise errors.PermissionDenied()
        content = _validate(content)
        institution = author.institution
        media = _media_for(content, author)
        post = Post.objects.create(
            institution=institution,
            author=author,
            publish_at=check_publish_time(institution, publish_at),
        )
        revision = Revision(institution=institution, post=post, number=1, created_by=author)
        _write_revision(revision, content, media)
        post.latest_revision = revision
        post.save(update_fields=["latest_revision"])
        _record(post, "create", {}, author, publish_at=post.publish_at)
        return post


@transaction.atomic
def edit_post(
    post: Post, by: Membership, content: PostContent, *, publish_at: datetime | None = None
) -> Post:
    """Change a post's text, images or publish time.

    An unsubmitted draft is changed in place. Anything already submitted keeps its revision
    and gets a new one, which needs review again; for a published post this is a correction.
    """
    with tenant_context(post.institution_id):
        post = _lock(post)
        _check_author(post, by)
        before = _summary(post, publish_at=post.publish_at)
        lifecycle.transition(post, "edit")
        content = _validate(content)
        media = _media_for(content, post.author)
        latest = post.latest_revision
        if latest.is_submitted:
            latest = Revision(
                institution=post.institution,
                post=post,
                number=latest.number + 1,
                created_by=by,
            )
        _write_revision(latest, content, media)
        post.latest_revision = latest
        if post.published_at is None:
            post.publish_at = check_publish_time(post.institution, publish_at)
        post.updated_at = timezone.now()
        post.save()
        _record(post, "edit", before, by, publish_at=post.publish_at)
        return post


@transaction.atomic
def submit_post(post: Post, by: Membership) -> Post:
    """Send the latest revision to review; without required review it is approved at once."""
    with tenant_context(post.institution_id):
        post = _lock(post)
        _check_author(post, by)
        if post.published_at is None and post.publish_at is not None:
            check_publish_time(post.institution, post.publish_at)
        before = _summary(post)
        lifecycle.transition(post, "submit")
        now = timezone.now()
        revision = post.latest_revision
        revision.submitted_at = now
        revision.save(update_fields=["submitted_at"])
        post.updated_at = now
        post.save(update_fields=["state", "updated_at"])
        _record(post, "submit", before, by)
        hooks.revision_submitted.send(_change(post, by, now))
        if not hooks.needs_review(post, by):
            _approve(post, by=None)
        return post


@transaction.atomic
def withdraw_post(post: Post, by: Membership) -> Post:
    """Take a post back from review to draft (the submitted revision stays on record)."""
    with tenant_context(post.institution_id):
        post = _lock(post)
        _check_author(post, by)
        before = _summary(post)
        lifecycle.transition(post, "withdraw")
        post.updated_at = timezone.now()
        post.save(update_fields=["state", "updated_at"])
        _record(post, "withdraw", before, by)
        return post


@transaction.atomic
def discard_correction(post: Post, by: Membership) -> Post:
    """Drop an unfinished correction of a published post; the public text stays as it is."""
    with tenant_context(post.institution_id):
        post = _lock(post)
        _check_author(post, by)
        before = _summary(post)
        lifecycle.transition(post, "discard_correction")
        post.latest_revision = post.public_revision
        post.updated_at = timezone.now()
        post.save(update_fields=["state", "latest_revision", "updated_at"])
        _record(post, "discard_correction", before, by)
        return post


@transaction.atomic
def delete_post(post: Post, by: Membership) -> None:
    """Delete a draft that was never submitted (anything once submitted stays on record)."""
    with tenant_context(post.institution_id):
        post = _lock(post)
        _check_author(post, by)
        if post.revisions.filter(submitted_at__isnull=False).exists():
            raise lifecycle.IllegalTransition(
                _("Only drafts that were never submitted can be deleted.")
            )
        before = _summary(post)
        lifecycle.transition(post, "delete")
        hooks.post_deleted.send(hooks.PostChange(post, None, by, timezone.now()))
        audit.record(post.institution_id, "post.delete", actor=by, target=post, before=before)
        post.latest_revision = None
        post.save(update_fields=["latest_revision"])
        Attachment.objects.filter(revision__post=post).delete()
        Revision.objects.filter(post=post).delete()
        post.delete()


# Approval and publication -----------------------------------------------------------------------


def _check_reviewer(post: Post, by: Membership) -> None:
    if not has_permission(by, Permission.REVIEW_POSTS):
        raise errors.PermissionDenied(_("Only reviewers and administrators decide on posts."))
    if by.id == post.author_id:
        raise errors.PermissionDenied(_("Nobody decides on their own post."))


@transaction.atomic
def approve_post(
    post: Post, *, by: Membership, publish_at: datetime | Keep | None = Keep.TIME
) -> Post:
    """A reviewer approves the submitted revision (four eyes: never the author's own post).

    ``publish_at`` (when given, None meaning "now") replaces the post's time: the approver
    confirms a new time for a post whose time has passed.
    """
    with tenant_context(post.institution_id):
        if not has_permission(by, Permission.REVIEW_POSTS):
            raise errors.PermissionDenied(_("Only reviewers and administrators approve posts."))
        post = _lock(post)
        if publish_at is not Keep.TIME and post.published_at is None:
            post.publish_at = check_publish_time(post.institution, publish_at)
            post.save(update_fields=["publish_at"])
        _approve(post, by=by)
        return post


def _approve(post: Post, *, by: Membership | None) -> None:
    """Approve the latest revision (by=None: the institution does not require review)."""
    if by is not None and by.id == post.author_id:
        raise errors.PermissionDenied(_("Nobody approves their own post."))
    before = _summary(post)
    lifecycle.transition(post, "approve")
    now = timezone.now()
    revision = post.latest_revision
    revision.approved_at = now
    revision.approved_by = by
    revision.save(update_fields=["approved_at", "approved_by"])
    post.save(update_fields=["state"])
    _record(post, "approve", before, by, publish_at=post.publish_at)
    hooks.revision_approved.send(_change(post, by, now))
    is_correction = post.published_at is not None
    due = post.publish_at is None or post.publish_at <= now
    if (is_correction or due) and not post.institution.publishing_paused and post.held_at is None:
        _publish(post, now)


@transaction.atomic
def reject_post(post: Post, *, by: Membership, reason: str) -> Post:
    """A reviewer rejects the submitted revision with a reason the author sees.

    For a correction of a published post the public text stays (verb ``reject_correction``).
    """
    with tenant_context(post.institution_id):
        _check_reviewer(post, by)
        reason = (reason or "").strip()
        if not reason:
            raise errors.DomainError(_("Give the reason the author will see."), field="reason")
        post = _lock(post)
        before = _summary(post)
        verb = "reject_correction" if post.published_at is not None else "reject"
        lifecycle.transition(post, verb)
        if verb == "reject_correction":
            post.latest_revision = post.public_revision
        post.updated_at = timezone.now()
        post.save(update_fields=["state", "latest_revision", "updated_at"])
        _record(post, verb, before, by, reason=reason[:1000])
        return post


@transaction.atomic
def request_changes(post: Post, *, by: Membership, comment: str) -> Post:
    """A reviewer sends the submitted revision back to its author with a comment."""
    with tenant_context(post.institution_id):
        _check_reviewer(post, by)
        comment = (comment or "").strip()
        if not comment:
            raise errors.DomainError(_("Say what should change."), field="comment")
        post = _lock(post)
        before = _summary(post)
        lifecycle.transition(post, "request_changes")
        post.updated_at = timezone.now()
        post.save(update_fields=["state", "updated_at"])
        _record(post, "request_changes", before, by, comment=comment[:2000])
        return post


def _publish(post: Post, now: datetime, by: Membership | None = None) -> None:
    before = _summary(post)
    lifecycle.transition(post, "publish")
    revision = post.latest_revision
    revision.published_at = now
    revision.save(update_fields=["published_at"])
    if post.published_at is None:
        post.published_at = now
        # The feeds' permanent id, fixed now (never from a request's host).
        post.tag_id = post.tag_id or syndication.post_tag_id(post.id, now)
    else:
        post.corrected_at = now
    post.public_revision = revision
    post.updated_at = now
    post.save(
        update_fields=[
            "state",
            "published_at",
            "corrected_at",
            "public_revision",
            "updated_at",
            "tag_id",
        ]
    )
    is_correction = post.corrected_at == now
    _record(post, "correct" if is_correction else "publish", before, None)
    listeners = hooks.post_corrected if is_correction else hooks.post_published
    listeners.send(hooks.PostChange(post=post, revision=revision, by=by, at=now))
    public_content_changed(post.institution.slug)


def publish_due_posts_of(institution: Institution, now: datetime | None = None) -> int:
    """Publish the institution's approved posts whose time has come; returns how many."""
    now = now or timezone.now()
    if institution.publishing_paused:
        return 0
    published = 0
    with tenant_context(institution.id):
        due = (
            Post.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("institution", "latest_revision")
            .filter(state=PostState.APPROVED, held_at__isnull=True)
            .exclude(publish_at__gt=now)
            .order_by("publish_at", "id")[:500]
        )
        for post in due:
            _publish(post, now)
            published += 1
    return published


@transaction.atomic
def retract_post(post: Post, *, by: Membership, reason: str) -> Post:
    """Take a published post down, leaving a public notice with the reason."""
    with tenant_context(post.institution_id):
        if not has_permission(by, Permission.REVIEW_POSTS):
            raise errors.PermissionDenied(_("Only reviewers and administrators can retract posts."))
        reason = (reason or "").strip()
        if not reason:
            raise errors.DomainError(_("Give the reason that readers will see."), field="reason")
        post = _lock(post)
        before = _summary(post)
        lifecycle.transition(post, "retract")
        now = timezone.now()
        post.retracted_at = now
        post.retracted_by = by
        post.retraction_reason = reason[:1000]
        post.updated_at = now
        post.save(
            update_fields=[
                "state",
                "retracted_at",
                "retracted_by",
                "retraction_reason",
                "updated_at",
            ]
        )
        _record(post, "retract", before, by, reason=post.retraction_reason)
        hooks.post_retracted.send(_change(post, by, now, post.retraction_reason))
        public_content_changed(post.institution.slug)
        return post


def hold_scheduled_posts(membership: Membership) -> None:
    """When a member leaves, their scheduled posts wait for an administrator."""
    held = list(
        Post.objects.select_for_update()
        .filter(author=membership, state=PostState.APPROVED, published_at__isnull=True)
        .values_list("id", flat=True)
    )
    if not held:
        return
    Post.objects.filter(id__in=held).update(held_at=timezone.now(), held_reason="author_left")
    for post_id in held:
        audit.record(
            membership.institution_id,
            "post.hold",
            object_type="feeds.post",
            object_id=post_id,
            after={"held_reason": "author_left"},
        )


# Images -----------------------------------------------------------------------------------------


@transaction.atomic
def upload_media(uploader: Membership, data: bytes) -> Media:
    """Store an uploaded image without its metadata, with a small version for lists."""
    with tenant_context(uploader.institution_id):
        if not has_permission(uploader, Permission.WRITE_POSTS):
            raise errors.PermissionDenied()
        processed = process_image(data)
        display = processed.display
        media = Media(
            institution_id=uploader.institution_id,
            uploaded_by=uploader,
            content_type=display.content_type,
            byte_size=len(display.data),
            sha256=processed.sha256,
            width=display.width,
            height=display.height,
        )
        name = f"{processed.sha256[:16]}.{display.extension}"
        media.image.save(name, ContentFile(display.data), save=False)
        media.small.save(f"small-{name}", ContentFile(processed.small.data), save=False)
        media.save()
        audit.record(
            uploader.institution_id,
            "media.upload",
            actor=uploader,
            target=media,
            after={"sha256": media.sha256, "bytes": media.byte_size},
        )
        return media
