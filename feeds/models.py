"""Posts, their revisions, and the images attached to them.

A post's text lives in revisions. The public sees ``public_revision``, the last approved one;
authors work on ``latest_revision``. Revisions are never deleted once submitted: a correction is
a new revision and the earlier text stays readable. The post's ``state`` moves only through
``feeds.lifecycle``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from accounts.tenancy import TenantModel

# Languages a post can be written in (ISO 639-1), shown by their own names.
POST_LANGUAGES = [
    ("de", "Deutsch"), ("en", "English"), ("fr", "Français"), ("es", "Español"),
    ("it", "Italiano"), ("nl", "Nederlands"), ("pl", "Polski"), ("pt", "Português"),
    ("tr", "Türkçe"), ("uk", "Українська"), ("ru", "Русский"), ("ar", "العربية"),
    ("da", "Dansk"), ("sv", "Svenska"), ("nb", "Norsk bokmål"), ("fi", "Suomi"),
    ("cs", "Čeština"), ("el", "Ελληνικά"), ("ro", "Română"), ("hu", "Magyar"),
]  # fmt: skip

MAX_BODY_LENGTH = 5000
MAX_ATTACHMENTS = 4
MAX_ALT_TEXT_LENGTH = 1500


class PostState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Scheduled")
    PUBLISHED = "published", _("Published")
    RETRACTED = "retracted", _("Retracted")


class BodyFormat(models.TextChoices):
    TEXT = "text", _("Plain text")
    MARKDOWN = "markdown", _("Markdown")


class Post(TenantModel):
    author = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="posts")
    state = models.CharField(max_length=20, choices=PostState.choices, default=PostState.DRAFT)
    # When the post should go public; None means as soon as it is approved. Stored in UTC.
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    # When it first went public; it keeps this date through corrections.
    published_at = models.DateTimeField(null=True, blank=True)
    latest_revision = models.ForeignKey(
        "Revision", on_delete=models.PROTECT, null=True, related_name="+"
    )
    public_revision = models.ForeignKey(
        "Revision", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True, blank=True)
    retracted_at = models.DateTimeField(null=True, blank=True)
    retraction_reason = models.TextField(blank=True)
    retracted_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The feeds' permanent id of the post (an RFC 4151 tag URI), fixed when it is first
    # published from settings.PODIUM_TAG_AUTHORITY, never from a request's host.
    tag_id = models.CharField(max_length=255, blank=True, editable=False)
    # Set when a scheduled post must wait for a person (its author left the institution).
    held_at = models.DateTimeField(null=True, blank=True)
    held_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [
            # Keyset pagination of the public lists, newest first.
            models.Index(
                fields=["institution", "-published_at", "-id"],
                name="post_public_timeline",
                condition=Q(published_at__isnull=False, retracted_at__isnull=True),
            ),
            models.Index(
                fields=["institution", "author", "-published_at", "-id"],
                name="post_public_by_author",
                condition=Q(published_at__isnull=False, retracted_at__isnull=True),
            ),
            # The feeds: every post that was ever published (retracted ones stay as notices).
            models.Index(
                fields=["institution", "-published_at", "-id"],
                name="post_feed",
                condition=Q(published_at__isnull=False),
            ),
            models.Index(
                fields=["institution", "author", "-published_at", "-id"],
                name="post_feed_by_author",
                condition=Q(published_at__isnull=False),
            ),
            # The sweeper: approved posts that are due.
            models.Index(
                fields=["institution", "publish_at"],
                name="post_scheduled",
                condition=Q(state="approved"),
            ),
            models.Index(fields=["institution", "author", "-updated_at"], name="post_by_author"),
            models.Index(fields=["institution", "state", "-updated_at"], name="post_by_state"),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk} ({self.state})"

    @property
    def is_public(self) -> bool:
        """Readable on the public pages (a retracted post only shows its notice)."""
        return self.public_revision_id is not None and self.retracted_at is None

    @property
    def is_retracted(self) -> bool:
        return self.retracted_at is not None


class Revision(TenantModel):
    """One version of a post's content. Immutable once submitted."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    body = models.TextField(_("text"), max_length=MAX_BODY_LENGTH)
    body_format = models.CharField(
        _("format"), max_length=10, choices=BodyFormat.choices, default=BodyFormat.TEXT
    )
    language = models.CharField(_("language"), max_length=5, choices=POST_LANGUAGES)
    # Sanitised HTML rendered from body when the revision is saved.
    body_html = models.TextField(editable=False)
    # SHA-256 over body, format, language and attachments (image digests and alt texts).
    content_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    # None when the institution does not require review; moderation records decisions too.
    approved_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["post", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "post", "number"], name="revision_number"
            ),
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of post {self.post_id}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class Media(TenantModel):
    """An uploaded image, re-encoded without metadata, with a smaller size for lists."""

    uploaded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    image = models.ImageField(upload_to="posts/%Y/%m/")
    small = models.ImageField(upload_to="posts/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=50)
    byte_size = models.PositiveIntegerField(default=0)
    # SHA-256 of the stored (re-encoded) image, part of each revision's content hash.
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta(TenantModel.Meta):
        verbose_name = _("image")
        verbose_name_plural = _("images")
        indexes = [models.Index(fields=["institution", "uploaded_by", "-created_at"])]

    def __str__(self) -> str:
        return f"Image {self.pk}"


class Attachment(TenantModel):
    """An image in a revision, at a position, with its alt text."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="attachments")
    media = models.ForeignKey(Media, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    alt_text = models.TextField(_("alt text"), max_length=MAX_ALT_TEXT_LENGTH)

    class Meta(TenantModel.Meta):
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["revision", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "revision", "position"], name="attachment_position"
            ),
        ]

    def __str__(self) -> str:
        return f"Image {self.position + 1} of revision {self.revision_id}"
