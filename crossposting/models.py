"""Network accounts, the targets a post chooses, and deliveries: the outbox of copies on networks.

A ``Delivery`` is one call to one network (create, edit, delete or a correction reply) for one
part of one post on one account; its payload is frozen when it is created and its state moves
only through ``crossposting.lifecycle``. Each try leaves a ``DeliveryAttempt``.
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from accounts.tenancy import TenantModel
from feeds.models import Post, Revision


class Network(models.TextChoices):
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    X = "x", "X"
    LINKEDIN = "linkedin", "LinkedIn"
    THREADS = "threads", "Threads"


class NetworkAccount(TenantModel):
    """An account on a network that copies are posted to: the institution's own, or a member's."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        NEEDS_REAUTHORISATION = "needs_reauthorisation", _("needs re-authorisation")
        REVOKED = "revoked", _("revoked")

    member = models.ForeignKey(
        Membership, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    network = models.CharField(_("network"), max_length=20, choices=Network.choices)
    handle = models.CharField(_("handle"), max_length=255)
    # The Mastodon instance or the Bluesky PDS; the API host for the others.
    base_url = models.URLField(_("server"), max_length=500)
    profile_url = models.URLField(_("profile"), max_length=500, blank=True)
    # The network's id of the account (Mastodon account id, Bluesky DID, X user id, LinkedIn
    # person URN, Threads user id).
    remote_user_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.ACTIVE)
    # AES-GCM ciphertext of the JSON credentials (crossposting.credentials); never in clear.
    credentials = models.BinaryField(default=b"", editable=False)
    # Bumped on every change of the credentials: token refresh is a compare-and-swap on it.
    credentials_version = models.PositiveIntegerField(default=0, editable=False)
    default_for_new_posts = models.BooleanField(_("use for new posts"), default=False)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    rate_remaining = models.IntegerField(null=True, blank=True)
    status_reason = models.TextField(blank=True)
    # When the network's permission ends (LinkedIn and Threads: 60 days) and when the token was
    # last issued or refreshed (Threads refreshes only tokens at least a day old).
    token_expires_at = models.DateTimeField(null=True, blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True)
    # The Mastodon instance's own limits, read from /api/v2/instance when connecting.
    max_characters = models.PositiveIntegerField(null=True, blank=True)
    max_media_attachments = models.PositiveSmallIntegerField(null=True, blank=True)
    characters_reserved_per_url = models.PositiveSmallIntegerField(null=True, blank=True)
    # When the owner was told that the account needs re-authorisation (cleared on reconnect):
    # one e-mail per transition, not per failed delivery.
    reauthorisation_noticed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "network", "base_url", "handle"],
                name="crossposting_account_unique_handle",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_network_display()} {self.handle}"

    @property
    def needs_reauthorisation(self) -> bool:
        return self.status == self.Status.NEEDS_REAUTHORISATION


class CorrectionMode(models.TextChoices):
    REPOST = "repost", _("delete the copy and post the corrected text")
    REPLY = "reply", _("reply to the copy with the correction")


class CrosspostSettings(TenantModel):
    """How an institution's corrections reach networks that cannot edit a post in place."""

    edit_in_place = models.BooleanField(
        _("edit copies in place where the network allows"), default=True
    )
    correction_mode = models.CharField(
        _("otherwise"), max_length=10, choices=CorrectionMode.choices, default=CorrectionMode.REPOST
    )

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["institution"], name="crossposting_settings_one")
        ]


class PostTarget(TenantModel):
    """A network account a revision is copied to. The choice belongs to the revision: reviewers
    approve it with the text, a correction may choose again, and publishing a revision delivers
    to its own targets."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="targets")
    account = models.ForeignKey(NetworkAccount, on_delete=models.CASCADE, related_name="targets")
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "revision", "account"], name="crossposting_target_unique"
            )
        ]


class DeliveryKind(models.TextChoices):
    CREATE = "create", _("post")
    EDIT = "edit", _("edit")
    DELETE = "delete", _("delete")
    CORRECTION_REPLY = "correction_reply", _("correction reply")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    UNKNOWN = "unknown", _("being checked")
    NEEDS_REAUTHORISATION = "needs_reauthorisation", _("needs re-authorisation")
    HELD = "held", _("held")
    CANCELLED = "cancelled", _("cancelled")


class Delivery(TenantModel):
    """One call to a network for one part of a post on one account, with its frozen payload."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="deliveries")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(NetworkAccount, on_delete=models.CASCADE, related_name="deliveries")
    network = models.CharField(max_length=20, choices=Network.choices)
    part = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=DeliveryKind.choices)
    state = models.CharField(
        max_length=30, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    # The delivery whose copy this one needs: the previous part (a thread), or the copy that an
    # edit, delete or correction reply acts on. It must be sent first.
    depends_on = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="dependants"
    )
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=64)
    # What a multi-step send has done so far (the Threads container id), kept between tries.
    progress = models.JSONField(default=dict)
    remote_id = models.CharField(max_length=500, blank=True)
    remote_url = models.URLField(max_length=1000, blank=True)
    # Network extras of the copy (the Bluesky cid a reply needs).
    remote = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A try may have reached the network and nobody knows its answer: look the copy up before
    # any resend.
    unconfirmed = models.BooleanField(default=False)
    next_attempt_at = models.DateTimeField(default=now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    last_error_kind = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the post was published (or corrected): the start of the publish-to-sent delay.
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "post", "account", "part", "kind", "revision"],
                name="crossposting_delivery_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["institution", "state", "next_attempt_at"], name="crossposting_due"
            ),
            models.Index(fields=["institution", "post"], name="crossposting_by_post"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.network} post {self.post_id} part {self.part}"


class DeliveryAttempt(TenantModel):
    """One try of a delivery: when, what came back, and the error in plain words."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    outcome = models.CharField(max_length=30)
    status_code = models.IntegerField(null=True, blank=True)
    response_summary = models.TextField(blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=100, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(fields=["institution", "delivery"], name="crossposting_attempt_delivery")
        ]


class MastodonApp(TenantModel):
    """The app Podium registered on one Mastodon instance (``POST /api/v1/apps``), reused for
    every account of the institution there. The client secret is sealed like credentials."""

    instance_url = models.URLField(max_length=500)
    redirect_uri = models.URLField(max_length=500)
    scopes = models.CharField(max_length=200)
    client_id = models.CharField(max_length=500)
    secret = models.BinaryField(default=b"", editable=False)
    supports_pkce = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "instance_url", "redirect_uri", "scopes"],
                name="crossposting_mastodon_app_unique",
            )
        ]


class ConnectAttempt(TenantModel):
    """One authorisation in progress: what the OAuth ``state`` stands for. Used once, within
    minutes, by the member who started it."""

    network = models.CharField(max_length=20, choices=Network.choices)
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    # The account will belong to the institution (an administrator connects it) or to the member.
    for_institution = models.BooleanField(default=False)
    # Re-authorising an existing account: the one to renew.
    account = models.ForeignKey(
        NetworkAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    base_url = models.URLField(max_length=500)
    app = models.ForeignKey(MastodonApp, on_delete=models.CASCADE, null=True, blank=True)
    nonce_digest = models.CharField(max_length=64)
    # Sealed: the PKCE code verifier.
    secret = models.BinaryField(default=b"", editable=False)
    # Started in a browser: the callback must come back in the same session.
    session_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class NetworkAccountNotice(TenantModel):
    """An e-mail about a network account sent to one member, at most once per key."""

    account = models.ForeignKey(NetworkAccount, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    sent_at = models.DateTimeField(default=now)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "key"], name="crossposting_account_notice_once"
            )
        ]
