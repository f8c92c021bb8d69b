"""Institutions (the tenants), users, memberships with their public profiles, invitations and
API tokens."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel

# Paths that an institution slug may not take, because the root URLconf uses them.
RESERVED_SLUGS = frozenset(
    {
        "accounts", "admin", "api", "static", "media", "robots.txt", "sitemap.xml", "favicon.ico",
        "healthz", "invitations", "ops", "www", "podium", "about", "help", "login", "logout",
    }
)  # fmt: skip

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1 to 50 lowercase letters, digits and hyphens; no hyphen at either end."),
)
handle_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9_.-]{0,28}[a-z0-9])?$",
    _("Use 1 to 30 lowercase letters, digits, dots, hyphens and underscores."),
)
color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1f6feb."))


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("“%(slug)s” is reserved; choose another."), params={"slug": value})


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(zone)s” is not an IANA time zone such as Europe/Berlin."), params={"zone": value}
        )


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    GERMAN = "de", _("German")


class Institution(models.Model):
    """A tenant: a school, clinic, law firm or company with official staff profiles.

    Global (not tenant-owned): it is the tenant registry, resolved from the URL before any
    institution is selected.
    """

    class Kind(models.TextChoices):
        SCHOOL = "school", _("School")
        UNIVERSITY = "university", _("University")
        CLINIC = "clinic", _("Clinic")
        LAW_FIRM = "law_firm", _("Law firm")
        COMPANY = "company", _("Company")
        PUBLIC_OFFICE = "public_office", _("Public office")
        OTHER = "other", _("Other")

    slug = models.SlugField(
        _("address"),
        max_length=50,
        unique=True,
        validators=[slug_validator, validate_slug_not_reserved],
        help_text=_("Part of every public address, for example /northside-school/."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    locale = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_timezone]
    )
    description = models.TextField(_("description"), max_length=2000, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    # Set when the website was found to link back to the institution's Podium page with
    # rel="me" (accounts.tasks.verify_website); cleared when the website changes.
    website_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    website_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    website_check_error = models.CharField(max_length=200, blank=True, editable=False)
    address = models.TextField(_("postal address"), max_length=500, blank=True)
    accent_color = models.CharField(
        _("accent colour"), max_length=7, default="#1f5fbf", validators=[color_validator]
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    review_required = models.BooleanField(
        _("review required"),
        default=True,
        help_text=_("Posts need a reviewer's approval before they are published."),
    )
    search_indexing = models.BooleanField(
        _("allow search engines"),
        default=True,
        help_text=_("When off, robots.txt and every public page ask search engines not to index."),
    )
    require_second_factor = models.BooleanField(
        _("second factor for reviewers and administrators"),
        default=False,
        help_text=_("Reviewers and administrators must sign in with an authenticator app as well."),
    )
    publishing_paused = models.BooleanField(
        _("publishing paused"),
        default=False,
        help_text=_("Emergency stop: nothing is published or delivered while paused."),
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, email: str) -> User:
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address.

    Global (not tenant-owned): one person can be a member of several institutions.
    ``is_staff`` marks operators of the installation, not institution staff.
    """

    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, blank=True,
        help_text=_("Language of pages and e-mail; empty follows the browser."),
    )  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("operator"), default=False)
    date_joined = models.DateTimeField(default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.lower()


class Role(models.TextChoices):
    AUTHOR = "author", _("Author")
    REVIEWER = "reviewer", _("Reviewer")
    ADMIN = "admin", _("Administrator")


class Membership(TenantModel):
    """A person's place in an institution: role, status and public profile."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        FORMER = "former", _("Former staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AUTHOR)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    handle = models.CharField(
        _("handle"),
        max_length=30,
        validators=[handle_validator],
        help_text=_("Your profile's address, for example /northside-school/@m.meier/."),
    )
    display_name = models.CharField(_("display name"), max_length=100)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    bio = models.TextField(_("about"), max_length=1000, blank=True)
    avatar = models.ImageField(_("photo"), upload_to="avatars/", blank=True)
    # Links to the member's other profiles, shown with rel="me": [{"label": ..., "url": ...}].
    links = models.JSONField(_("links"), default=list, blank=True)
    joined_at = models.DateTimeField(default=now, editable=False)
    left_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(TenantModel.Meta):
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["display_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "handle"], name="membership_handle"),
            models.UniqueConstraint(fields=["institution", "user"], name="membership_user"),
        ]
        indexes = [
            models.Index(fields=["institution", "status", "display_name", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} (@{self.handle})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_former(self) -> bool:
        return self.status == self.Status.FORMER


class FormerHandle(TenantModel):
    """A handle a member used before renaming: its addresses redirect to the member for good,
    and it is never given to anyone else in the institution (links and mentions stay true)."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="former_handles"
    )
    handle = models.CharField(max_length=30)
    # When the member stopped using it.
    until = models.DateTimeField(default=now, editable=False)

    class Meta(TenantModel.Meta):
        verbose_name = _("former handle")
        verbose_name_plural = _("former handles")
        constraints = [
            models.UniqueConstraint(fields=["institution", "handle"], name="former_handle"),
        ]

    def __str__(self) -> str:
        return f"@{self.handle} (now member {self.membership_id})"


class Invitation(TenantModel):
    """A single-use, expiring invitation to join an institution with a role."""

    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AUTHOR)
    # SHA-256 of the secret in the link; the secret itself is only ever in the e-mail.
    digest = models.CharField(max_length=64, editable=False)
    invited_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_membership = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["institution", "email"])]
        constraints = [
            models.UniqueConstraint(fields=["institution", "digest"], name="invitation_digest")
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now()


class Scope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write posts")
    REVIEW = "review", _("Review posts")
    ADMIN = "admin", _("Administer the institution")


class ApiToken(TenantModel):
    """A bearer token for the API: shown once, stored as a SHA-256 digest, scoped, expiring."""

    PREFIX = "pdm_"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # The typed prefix and the first characters of the secret, so people can tell tokens apart.
    prefix = models.CharField(max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["institution", "membership"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        current = now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > current)


class AuditEvent(TenantModel):
    """One entry of an institution's tamper-evident record: who did what to which object.

    Append-only and hash-chained per institution: ``sequence`` counts 1, 2, 3, ... and ``hash`` is
    SHA-256 over the event's content and ``previous_hash``. Written only by
    ``accounts.audit.record``; on PostgreSQL the application role may insert and read, never
    update or delete (``accounts.database_roles``). Actors are kept as ids plus a label, not as
    foreign keys, so nothing that happens to a member later can change or remove the record.
    """

    class ActorKind(models.TextChoices):
        MEMBER = "member", _("Member")
        OPERATOR = "operator", _("Operator")
        SYSTEM = "system", _("System")

    sequence = models.PositiveBigIntegerField(editable=False)
    created_at = models.DateTimeField(default=now, editable=False)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices, editable=False)
    actor_membership_id = models.BigIntegerField(null=True, blank=True, editable=False)
    actor_user_id = models.BigIntegerField(null=True, blank=True, editable=False)
    actor_label = models.CharField(max_length=200, blank=True, editable=False)
    verb = models.CharField(max_length=64, editable=False)
    object_type = models.CharField(max_length=64, blank=True, editable=False)
    object_id = models.CharField(max_length=64, blank=True, editable=False)
    before = models.JSONField(null=True, blank=True, editable=False)
    after = models.JSONField(null=True, blank=True, editable=False)
    request_id = models.CharField(max_length=64, blank=True, editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta(TenantModel.Meta):
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "sequence"], name="audit_event_sequence")
        ]
        indexes = [
            models.Index(fields=["institution", "verb", "sequence"]),
            models.Index(fields=["institution", "object_type", "object_id"]),
            models.Index(fields=["institution", "actor_membership_id", "sequence"]),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.verb}"


# Webhooks and idempotent API writes (integrations) ---------------------------------------------


class WebhookEndpoint(TenantModel):
    """An address outside Podium that receives the institution's events, signed with a secret.

    The secret is stored sealed (AES-GCM, bound to the institution and row; ``accounts.webhooks``)
    because Podium must sign with it. After a rotation the previous secret signs too, until
    ``previous_secret_expires_at``, so receivers can switch without losing a delivery.
    """

    url = models.URLField(_("address"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    secret_sealed = models.BinaryField(editable=False)
    previous_secret_sealed = models.BinaryField(null=True, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now, editable=False)
    # Failed attempts in a row, and since when; a success resets both.
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=500, blank=True, editable=False)

    class Meta(TenantModel.Meta):
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["institution", "is_active"])]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(TenantModel):
    """The outbox: one event for one endpoint, written in the transaction of the change.

    ``event_id`` is the stable ``webhook-id`` (the same for every attempt and for every endpoint
    that receives the event). Workers claim a row by conditional update with a lease.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=64, editable=False)
    event_type = models.CharField(max_length=64, editable=False)
    payload = models.JSONField(editable=False)
    created_at = models.DateTimeField(default=now, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=now)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "endpoint", "event_id"], name="webhook_event_once"
            )
        ]
        indexes = [
            models.Index(fields=["institution", "state", "next_attempt_at"]),
            models.Index(fields=["institution", "endpoint", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class WebhookAttempt(TenantModel):
    """One try to deliver a webhook event: when, how long, and what came back."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["event", "number"]
        indexes = [models.Index(fields=["institution", "event", "number"])]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class IdempotencyRecord(TenantModel):
    """The first response to an API write sent with an ``Idempotency-Key``, kept for replays.

    ``owner`` is ``token:<id>`` or ``user:<id>``: keys are per token (per user for sessions).
    Written in the transaction of the write itself, so a write that rolled back leaves no record
    and its retry runs again.
    """

    owner = models.CharField(max_length=40, editable=False)
    key = models.CharField(max_length=255, editable=False)
    fingerprint = models.CharField(max_length=64, editable=False)
    method = models.CharField(max_length=10, editable=False)
    path = models.CharField(max_length=2000, editable=False)
    response_status = models.PositiveIntegerField(editable=False)
    response_headers = models.JSONField(default=dict, editable=False)
    response_body = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField(editable=False)

    class Meta(TenantModel.Meta):
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "owner", "key"], name="idempotency_key_per_owner"
            )
        ]
        indexes = [models.Index(fields=["institution", "expires_at"])]
