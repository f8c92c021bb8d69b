"""Review policy and lexicons, the checks' flags, reviewers' decisions, the emergency stop, and
notification preferences with the notices already sent.

A ``Decision`` is bound to the exact text: the revision's content hash and the hash of every
selected network's rendering at the moment of the decision. An approval counts only while those
hashes still match the post (``moderation.services``). Decisions, flags and policy versions are
never changed after they are written.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from accounts.tenancy import TenantModel
from feeds.models import Post, Revision

MAX_DEADLINE_HOURS = 24 * 14
MAX_LEAD_MINUTES = 60 * 24 * 14
MAX_DOMAINS = 500
MAX_TERM_LENGTH = 100


class ReviewMode(models.TextChoices):
    ALL = "all", _("Every post is reviewed")
    UNTRUSTED = "untrusted", _("Every post except those of trusted members")
    NONE = "none", _("No review")


class Policy(TenantModel):
    """How an institution reviews: one row per institution, its version bumped on every change."""

    review_mode = models.CharField(
        _("review"), max_length=10, choices=ReviewMode.choices, default=ReviewMode.ALL
    )
    approvals_required = models.PositiveSmallIntegerField(
        _("approvals needed"),
        default=1,
        choices=[(1, _("One reviewer")), (2, _("Two different reviewers"))],
    )
    # Approval must arrive this many hours before the publish time, or the post waits.
    approval_deadline_hours = models.PositiveIntegerField(_("approval deadline (hours)"), default=2)
    # A scheduled post must be submitted at least this long before its publish time.
    minimum_lead_minutes = models.PositiveIntegerField(_("minimum lead time (minutes)"), default=0)
    allowed_domains = models.JSONField(_("allowed link domains"), default=list, blank=True)
    denied_domains = models.JSONField(_("denied link domains"), default=list, blank=True)
    # The institution's own published contacts (switchboard, role address, IBAN, address).
    own_contacts = models.JSONField(_("the institution's own contacts"), default=list, blank=True)
    # Decisions through the API must carry a current second-factor code (X-Podium-OTP), so a
    # leaked token alone decides nothing (accounts.second_factor.require_for_api_decision).
    api_decisions_need_code = models.BooleanField(
        _("API decisions need a fresh second-factor code"), default=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(default=now)
    updated_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta(TenantModel.Meta):
        verbose_name = _("review policy")
        verbose_name_plural = _("review policies")
        constraints = [
            models.UniqueConstraint(fields=["institution"], name="policy_per_institution"),
        ]

    def __str__(self) -> str:
        return f"Policy v{self.version} of institution {self.institution_id}"


class PolicyVersion(TenantModel):
    """An immutable snapshot of a policy with its lexicon, one per version number."""

    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    created_at = models.DateTimeField(default=now, editable=False)
    created_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta(TenantModel.Meta):
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "number"], name="policy_version_number")
        ]

    def __str__(self) -> str:
        return f"Policy version {self.number}"


class TrustedMember(TenantModel):
    """A member whose posts need no review when the policy says "all but trusted members"."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["institution", "membership"], name="trusted_member")
        ]

    def __str__(self) -> str:
        return f"Trusted member {self.membership_id}"


class TermKind(models.TextChoices):
    BLOCKED = "blocked", _("Blocked (approval needs an administrator's override)")
    FLAGGED = "flagged", _("Flagged (a warning)")


class LexiconTerm(TenantModel):
    """A word of the institution's lexicon; ``*`` stands for any letters (see lexicons/README)."""

    term = models.CharField(_("term"), max_length=MAX_TERM_LENGTH)
    kind = models.CharField(_("kind"), max_length=10, choices=TermKind.choices)
    # Empty: every language.
    language = models.CharField(_("language"), max_length=5, blank=True)
    category = models.CharField(_("category"), max_length=40, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta(TenantModel.Meta):
        ordering = ["kind", "term", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "term", "kind", "language"], name="lexicon_term"
            )
        ]

    def __str__(self) -> str:
        return self.term


class Severity(models.TextChoices):
    BLOCK = "block", _("Blocked")
    HIGH = "high", _("High")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Note")


class Flag(TenantModel):
    """One finding of an automated check on a revision; the span points into the body."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="+")
    check_name = models.CharField(max_length=60)
    category = models.CharField(max_length=40)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    severity = models.CharField(max_length=10, choices=Severity.choices)
    explanation = models.TextField(blank=True)
    matched = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta(TenantModel.Meta):
        ordering = ["revision", "start", "id"]
        indexes = [
            models.Index(fields=["institution", "revision"], name="flag_by_revision"),
            models.Index(fields=["institution", "category"], name="flag_by_category"),
        ]

    def __str__(self) -> str:
        return f"{self.category} at {self.start}-{self.end}"

    @property
    def is_blocking(self) -> bool:
        return self.severity == Severity.BLOCK


class Verdict(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    REQUEST_CHANGES = "request_changes", _("Changes requested")
    OVERRIDE = "override", _("Blocked terms overridden")
    RETRACT = "retract", _("Retracted")


class Decision(TenantModel):
    """A reviewer's decision on a revision, bound to its exact text and renderings."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    reason = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64)
    # network -> SHA-256 of the text that network receives (empty: no networks selected).
    rendered_hashes = models.JSONField(default=dict, blank=True)
    policy_version = models.PositiveIntegerField()
    publish_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta(TenantModel.Meta):
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["institution", "post", "created_at"], name="decision_by_post"),
            models.Index(fields=["institution", "revision"], name="decision_by_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.verdict} of post {self.post_id} by {self.reviewer_id}"

    def binds(self, content_hash: str, rendered_hashes: dict[str, str]) -> bool:
        """Whether the decision was made on exactly this text and these renderings."""
        return self.content_hash == content_hash and self.rendered_hashes == rendered_hashes


class PublishingPause(TenantModel):
    """One use of the emergency stop: who paused, and who (another person) resumed."""

    paused_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    paused_at = models.DateTimeField(default=now)
    reason = models.TextField(blank=True)
    resumed_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-paused_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution"],
                condition=Q(resumed_at__isnull=True),
                name="one_open_pause",
            )
        ]

    def __str__(self) -> str:
        return f"Pause {self.pk}"


class NotificationPreference(TenantModel):
    """What a member wants to hear about by e-mail (no row: everything)."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    on_submission = models.BooleanField(_("new posts to review"), default=True)
    on_deadline = models.BooleanField(_("approaching deadlines"), default=True)
    on_decision = models.BooleanField(_("decisions on my posts"), default=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "membership"], name="notification_preference"
            )
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.membership_id}"


class SentNotice(TenantModel):
    """A notice that went out; its key makes a retried task send nothing twice."""

    key = models.CharField(max_length=200)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)
    sent_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["institution", "key"], name="notice_key")]

    def __str__(self) -> str:
        return self.key
