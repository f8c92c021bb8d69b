"""State changes of cross-posting: network accounts, a post's targets, the institution's settings,
and the outbox: deliveries created in the transaction that publishes, corrects or retracts a post.

The feeds listeners (registered in ``CrosspostingConfig.ready``) run inside the post's
transaction, so a delivery exists exactly when the publication does; each new delivery is handed
to a worker through ``transaction.on_commit``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit, errors
from accounts.models import Institution, Membership
from accounts.permissions import Permission, has_permission
from accounts.publicread import public_content_changed
from accounts.tenancy import tenant_context
from crossposting import credentials, lifecycle
from crossposting.models import (
    CorrectionMode,
    CrosspostSettings,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Network,
    NetworkAccount,
    PostTarget,
)
from feeds import hooks
from feeds.models import Post, PostState, Revision

S = DeliveryState
K = DeliveryKind
# A copy may exist on the network for a create (or reply) in these states.
COPY_STATES = (S.SENT, S.SENDING, S.UNKNOWN)
EDITABLE_NETWORKS = frozenset({Network.MASTODON})
REPLYING_NETWORKS = frozenset({Network.MASTODON, Network.BLUESKY, Network.X, Network.THREADS})
# Deletes of correction replies are numbered apart from deletes of the parts they answer.
REPLY_PART_OFFSET = 100
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


# Network accounts ---------------------------------------------------------------------------------


def connect_account(
    institution: Institution,
    *,
    network: str,
    handle: str,
    base_url: str,
    secrets: dict,
    remote_user_id: str = "",
    profile_url: str = "",
    member: Membership | None = None,
    default_for_new_posts: bool | None = None,
    by: Membership | None = None,
    token_expires_at: datetime | None = None,
    token_issued_at: datetime | None = None,
    limits: dict | None = None,
) -> NetworkAccount:
    """Connect (or reconnect) a network account with its credentials, encrypted at rest.

    The account is found by the network's id of it where known (a renamed handle stays the same
    account), else by server and handle. ``default_for_new_posts=None`` keeps the current choice
    (off for a new account)."""
    with tenant_context(institution.id):
        account = None
        if remote_user_id:
            account = (
                NetworkAccount.objects.filter(network=network, remote_user_id=remote_user_id)
                .order_by("id")
                .first()
            )
        if account is None:
            account, _created = NetworkAccount.objects.get_or_create(
                institution=institution,
                network=network,
                base_url=base_url,
                handle=handle,
                defaults={"member": member},
            )
        reconnected = account.credentials_version > 0
        before = {"status": account.status, "handle": account.handle} if reconnected else None
        account.member = member
        account.handle = handle
        account.base_url = base_url
        account.remote_user_id = remote_user_id
        account.profile_url = profile_url
        if default_for_new_posts is not None:
            account.default_for_new_posts = default_for_new_posts
        account.status = NetworkAccount.Status.ACTIVE
        account.status_reason = ""
        account.reauthorisation_noticed_at = None
        account.token_expires_at = token_expires_at
        account.token_issued_at = token_issued_at
        limits = limits or {}
        account.max_characters = limits.get("max_characters")
        account.max_media_attachments = limits.get("max_media_attachments")
        account.characters_reserved_per_url = limits.get("characters_reserved_per_url")
        account.credentials = credentials.seal(institution.id, account.id, secrets)
        account.credentials_version += 1
        account.updated_at = timezone.now()
        account.save()
        # What waited for the account's access may go now.
        Delivery.objects.filter(account=account, state=S.NEEDS_REAUTHORISATION).update(
            state=lifecycle.target("retry"),
            next_attempt_at=timezone.now(),
            attempts=0,
            last_error_kind="",
            last_error="",
        )
        # Its profile address is a rel="me" link on the public pages.
        public_content_changed(institution.slug)
        audit.record(
            institution.id,
            "network_account.reauthorise" if reconnected else "network_account.connect",
            actor=by,
            target=account,
            before=before,
            after={
                "network": network,
                "handle": handle,
                "base_url": base_url,
                "owner": "member" if member is not None else "institution",
                "token_expires_at": token_expires_at,
            },
        )
        return account


def account_credentials(account: NetworkAccount) -> dict:
    return credentials.unseal(account.institution_id, account.id, account.credentials)


# Targets ----------------------------------------------------------------------------------------


def default_accounts(post: Post) -> list[NetworkAccount]:
    """The author's default accounts and the institution's own default accounts."""
    return list(
        NetworkAccount.objects.filter(default_for_new_posts=True)
        .exclude(status=NetworkAccount.Status.REVOKED)
        .filter(Q(member__isnull=True) | Q(member_id=post.author_id))
        .order_by("network", "id")
    )


def usable_accounts(post: Post) -> list[NetworkAccount]:
    """The accounts a post may be copied to: the institution's own and its author's."""
    return list(
        NetworkAccount.objects.exclude(status=NetworkAccount.Status.REVOKED)
        .filter(Q(member__isnull=True) | Q(member_id=post.author_id))
        .order_by("network", "handle", "id")
    )


def targets_of(revision: Revision) -> list[NetworkAccount]:
    """The accounts a revision is copied to when it is published."""
    return list(NetworkAccount.objects.filter(targets__revision=revision).order_by("network", "id"))


class TargetsApproved(errors.Conflict):
    code = "targets_approved"


# Post states whose latest revision may still choose its targets: before review, or in review
# (where a new choice changes what reviewers approve, so earlier approvals stop counting).
_CHOOSING = frozenset({PostState.DRAFT, PostState.CHANGES_REQUESTED, PostState.SUBMITTED})


def can_choose_targets(post: Post) -> bool:
    """Whether the post's latest revision may still choose its targets."""
    return post.latest_revision_id is not None and post.state in _CHOOSING


def _set_targets(post: Post, revision: Revision, accounts: list[NetworkAccount]) -> None:
    PostTarget.objects.filter(revision=revision).exclude(account__in=accounts).delete()
    for account in accounts:
        PostTarget.objects.get_or_create(
            institution_id=post.institution_id, post=post, revision=revision, account=account
        )


def choose_targets(
    post: Post, accounts: Iterable[NetworkAccount] | None, *, by: Membership
) -> list[PostTarget]:
    """Set the accounts the post's latest revision is copied to (None: the defaults).

    The choice is part of the revision reviewers approve: it can change until the revision is
    approved; after that only an edit (a new revision, reviewed again) chooses anew. A
    correction of a published post chooses its own targets.
    """
    with tenant_context(post.institution_id):
        post = Post.objects.select_for_update(of=("self",)).get(id=post.id)
        if post.author_id != by.id and not has_permission(by, Permission.REVIEW_POSTS):
            raise errors.PermissionDenied(_("Only the author or a reviewer can choose targets."))
        revision = post.latest_revision
        if not can_choose_targets(post):
            raise TargetsApproved(
                _(
                    "The targets were approved with the post. Edit the post to choose others; "
                    "it is then reviewed again."
                )
            )
        chosen = default_accounts(post) if accounts is None else list(accounts)
        for account in chosen:
            if account.institution_id != post.institution_id or (
                account.member_id not in (None, post.author_id)
            ):
                raise errors.DomainError(_("This account cannot be used for this post."))
        before = sorted(
            PostTarget.objects.filter(revision=revision).values_list("account_id", flat=True)
        )
        _set_targets(post, revision, chosen)
        audit.record(
            post.institution_id,
            "post.targets",
            actor=by,
            target=post,
            before={"accounts": before, "revision": revision.number},
            after={"accounts": sorted(a.id for a in chosen), "revision": revision.number},
        )
        return list(PostTarget.objects.filter(revision=revision).select_related("account"))


def settings_of(institution_id: int) -> CrosspostSettings:
    found = CrosspostSettings.objects.filter(institution_id=institution_id).first()
    return found or CrosspostSettings(institution_id=institution_id)


def update_settings(
    institution: Institution, *, edit_in_place: bool, correction_mode: str, by: Membership
) -> CrosspostSettings:
    """How corrections reach the copies on networks (an administrator's choice)."""
    with tenant_context(institution.id):
        if not has_permission(by, Permission.EDIT_INSTITUTION):
            raise errors.PermissionDenied(_("Only administrators can change this."))
        if correction_mode not in CorrectionMode.values:
            raise errors.DomainError(_("Choose how corrections are sent."), field="correction_mode")
        current = settings_of(institution.id)
        before = {
            "edit_in_place": current.edit_in_place,
            "correction_mode": current.correction_mode,
        }
        current.edit_in_place, current.correction_mode = edit_in_place, correction_mode
        current.save()
        audit.record(
            institution.id,
            "crossposting.settings",
            actor=by,
            target=current,
            before=before,
            after={"edit_in_place": edit_in_place, "correction_mode": correction_mode},
        )
        return current


# The outbox -------------------------------------------------------------------------------------


def idempotency_key(
    institution_id: int, post_id: int, revision_id: int, account_id: int, part: int, kind: str
) -> str:
    """The same for every try of one delivery, different for every other delivery."""
    text = f"podium:{institution_id}:{post_id}:{revision_id}:{account_id}:{part}:{kind}"
    return hashlib.sha256(text.encode()).hexdigest()


def record_key(key: str, at: datetime) -> str:
    """A Bluesky record key (a TID) chosen once: the publication time spread by the delivery's
    key, so that posts published in the same instant never share one."""
    digest = int(key[:16], 16)
    micros = int(at.timestamp() * 1_000_000) + digest % 1_000_000
    value = ((micros & ((1 << 53) - 1)) << 10) | ((digest >> 20) & 0x3FF)
    chars = []
    for _i in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _render(post: Post, revision: Revision, network: str, limit: int | None = None) -> list[dict]:
    """The parts the network is sent, as frozen JSON, from the text renderers (``limit``: the
    account's own, a Mastodon instance's ``max_characters``; None: the network's)."""
    from crossposting import text
    from feeds.public.addresses import post_permalink

    images = [
        text.Image(url_or_path=attachment.media.image.name, alt_text=attachment.alt_text)
        for attachment in revision.attachments.select_related("media").order_by("position")
    ]
    rendering = text.render(
        network,
        text.RenderInput(
            body=revision.body,
            language=revision.language,
            permalink=post_permalink(post.institution, post),
            images=images,
            mode="thread",
            limit=limit,
        ),
    )
    parts = rendering.canonical()["parts"]
    return [part | {"language": revision.language} for part in parts]


def _enqueue(deliveries: list[Delivery]) -> None:
    """Send each new delivery to its network's queue once the transaction has committed."""
    from crossposting import queues

    rows = [(d.id, d.institution_id, d.network) for d in deliveries]

    def send() -> None:
        for delivery_id, institution_id, network in rows:
            if not queues.enqueue(delivery_id, institution_id, network):
                return

    if rows:
        transaction.on_commit(send)


def _new_delivery(
    post: Post,
    revision: Revision,
    account: NetworkAccount,
    *,
    part: int,
    kind: str,
    payload: dict,
    at: datetime,
    depends_on: Delivery | None = None,
) -> Delivery:
    key = idempotency_key(post.institution_id, post.id, revision.id, account.id, part, kind)
    if account.network == Network.BLUESKY and kind in (K.CREATE, K.CORRECTION_REPLY):
        payload = payload | {
            "rkey": record_key(key, at),
            "created_at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }
    delivery, _created = Delivery.objects.get_or_create(
        institution_id=post.institution_id,
        post=post,
        account=account,
        part=part,
        kind=kind,
        revision=revision,
        defaults={
            "network": account.network,
            "payload": payload,
            "idempotency_key": key,
            "depends_on": depends_on,
            "published_at": at,
            "next_attempt_at": at,
            "enqueued_at": at,
        },
    )
    return delivery


def _create_parts(
    post: Post,
    revision: Revision,
    account: NetworkAccount,
    at: datetime,
    *,
    kind: str = K.CREATE,
    after: Delivery | None = None,
    parts: list[dict] | None = None,
) -> list[Delivery]:
    from crossposting.text import RenderError

    try:
        parts = (
            parts
            if parts is not None
            else _render(post, revision, account.network, account.max_characters)
        )
    except RenderError as error:
        key = idempotency_key(post.institution_id, post.id, revision.id, account.id, 0, kind)
        failed, _created = Delivery.objects.get_or_create(
            institution_id=post.institution_id,
            post=post,
            account=account,
            part=0,
            kind=kind,
            revision=revision,
            defaults={
                "network": account.network,
                "idempotency_key": key,
                "state": S.FAILED,
                "last_error_kind": "render",
                "published_at": at,
                "last_error": _("The text could not be prepared for %(network)s: %(error)s")
                % {"network": account.get_network_display(), "error": error},
            },
        )
        audit.record(
            post.institution_id, "delivery.fail", target=failed, after={"reason": failed.last_error}
        )
        return []
    created = []
    offset = REPLY_PART_OFFSET if kind == K.CORRECTION_REPLY else 0
    for number, payload in enumerate(parts):
        after = _new_delivery(
            post,
            revision,
            account,
            part=offset + number,
            kind=kind,
            payload=payload | {"network": account.network},
            at=at,
            depends_on=after,
        )
        created.append(after)
    return created


def deliveries_for_publication(post: Post, revision: Revision, at: datetime) -> list[Delivery]:
    """One pending delivery per (target account, part), with the payload frozen now."""
    created: list[Delivery] = []
    for account in targets_of(revision):
        created += _create_parts(post, revision, account, at)
    if created:
        audit.record(
            post.institution_id,
            "delivery.create",
            target=post,
            after={"deliveries": len(created), "revision": revision.number},
        )
    return created


def _copies(post: Post, account: NetworkAccount) -> list[Delivery]:
    """The creates whose copies are (or may be) on the network and not deleted since."""
    deleted = Delivery.objects.filter(post=post, account=account, kind=K.DELETE).values(
        "depends_on_id"
    )
    return list(
        Delivery.objects.filter(post=post, account=account, kind=K.CREATE, state__in=COPY_STATES)
        .exclude(id__in=deleted)
        .order_by("part")
    )


def _cancel_open(post: Post, account: NetworkAccount | None, reason: str) -> int:
    """Cancel what has not reached the network yet (never a sending or unknown delivery, and
    never a delete: a copy that is to go must go)."""
    waiting = Delivery.objects.filter(
        post=post, state__in=(S.PENDING, S.HELD, S.NEEDS_REAUTHORISATION)
    ).exclude(kind=K.DELETE)
    if account is not None:
        waiting = waiting.filter(account=account)
    return waiting.update(
        state=lifecycle.target("cancel"),
        last_error_kind="cancelled",
        last_error=reason,
        updated_at=timezone.now(),
        lease_until=None,
    )


def _delete_copies(
    post: Post, account: NetworkAccount, at: datetime, kinds: tuple
) -> list[Delivery]:
    deleted = Delivery.objects.filter(post=post, account=account, kind=K.DELETE).values(
        "depends_on_id"
    )
    copies = (
        Delivery.objects.filter(post=post, account=account, kind__in=kinds, state__in=COPY_STATES)
        .exclude(id__in=deleted)
        .select_related("revision")
    )
    return [
        _new_delivery(
            post,
            copy.revision,
            account,
            part=copy.part,
            kind=K.DELETE,
            payload={},
            at=at,
            depends_on=copy,
        )
        for copy in copies
    ]


def deliveries_for_correction(post: Post, revision: Revision, at: datetime) -> list[Delivery]:
    """Bring every copy to the corrected text: edit in place where the network allows and the
    institution wants it, else reply with the correction or delete and post again."""
    options = settings_of(post.institution_id)
    created: list[Delivery] = []
    reason = _("A correction replaced this text before it was sent.")
    chosen = targets_of(revision)
    # An account the correction no longer chooses keeps no copy of the text it replaces.
    for account in (
        NetworkAccount.objects.filter(deliveries__post=post)
        .exclude(id__in=[a.id for a in chosen])
        .distinct()
    ):
        _cancel_open(post, account, _("The correction is not sent to this account."))
        created += _delete_copies(post, account, at, (K.CREATE, K.CORRECTION_REPLY))
    for account in chosen:
        _cancel_open(post, account, reason)
        copies = _copies(post, account)
        if not copies:
            created += _create_parts(post, revision, account, at)
            continue
        try:
            parts = _render(post, revision, account.network, account.max_characters)
        except Exception:
            created += _create_parts(post, revision, account, at)
            continue
        if (
            options.edit_in_place
            and account.network in EDITABLE_NETWORKS
            and len(parts) == len(copies)
        ):
            for copy, payload in zip(copies, parts, strict=True):
                created.append(
                    _new_delivery(
                        post,
                        revision,
                        account,
                        part=copy.part,
                        kind=K.EDIT,
                        payload=payload | {"network": account.network},
                        at=at,
                        depends_on=copy,
                    )
                )
        elif (
            options.correction_mode == CorrectionMode.REPLY and account.network in REPLYING_NETWORKS
        ):
            created += _create_parts(
                post, revision, account, at, kind=K.CORRECTION_REPLY, after=copies[-1], parts=parts
            )
        else:
            created += _delete_copies(post, account, at, (K.CREATE, K.CORRECTION_REPLY))
            created += _create_parts(post, revision, account, at, parts=parts)
    if created:
        audit.record(
            post.institution_id,
            "delivery.correct",
            target=post,
            after={"deliveries": len(created), "revision": revision.number},
        )
    return created


def deliveries_for_retraction(post: Post, at: datetime) -> list[Delivery]:
    """Cancel everything not yet sent; delete every copy that is (or may be) on a network."""
    cancelled = _cancel_open(post, None, _("The post was retracted before this was sent."))
    created: list[Delivery] = []
    for account in NetworkAccount.objects.filter(deliveries__post=post).distinct():
        created += _delete_copies(post, account, at, (K.CREATE, K.CORRECTION_REPLY))
    audit.record(
        post.institution_id,
        "delivery.retract",
        target=post,
        after={"cancelled": cancelled, "deletes": len(created)},
    )
    return created


# Listeners on the post lifecycle (feeds.hooks) --------------------------------------------------


def on_revision_submitted(change: hooks.PostChange) -> None:
    """A revision submitted without a choice of targets gets one, so that the reviewer approves
    it: a correction keeps the targets of the text it corrects, a new post gets the defaults
    (the author's and the institution's default accounts)."""
    post, revision = change.post, change.revision
    if revision is None or PostTarget.objects.filter(revision=revision).exists():
        return
    earlier = (
        post.public_revision
        if post.public_revision_id is not None
        else Revision.objects.filter(post=post, number__lt=revision.number, targets__isnull=False)
        .order_by("-number")
        .first()
    )
    if earlier is not None:
        chosen, inherited = targets_of(earlier), True
    elif post.published_at is None:
        chosen, inherited = default_accounts(post), False
    else:
        return
    _set_targets(post, revision, chosen)
    if chosen:
        audit.record(
            post.institution_id,
            "post.targets",
            target=post,
            after={
                "accounts": sorted(a.id for a in chosen),
                "revision": revision.number,
                "defaults": not inherited,
            },
        )


def on_post_published(change: hooks.PostChange) -> None:
    _enqueue(deliveries_for_publication(change.post, change.revision, change.at))


def on_post_corrected(change: hooks.PostChange) -> None:
    _enqueue(deliveries_for_correction(change.post, change.revision, change.at))


def on_post_retracted(change: hooks.PostChange) -> None:
    _enqueue(deliveries_for_retraction(change.post, change.at))


# Retry from the web UI and the API --------------------------------------------------------------


def retry_delivery(delivery: Delivery, *, by: Membership) -> Delivery:
    """Send a failed delivery (or one waiting for re-authorisation) again, as it was frozen."""
    with tenant_context(delivery.institution_id):
        if not has_permission(by, Permission.REVIEW_POSTS):
            raise errors.PermissionDenied(_("Only reviewers and administrators can retry."))
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("post", "account")
            .get(id=delivery.id)
        )
        if delivery.post.retracted_at is not None:
            raise lifecycle.IllegalTransition(_("The post was retracted."))
        if delivery.account.status != NetworkAccount.Status.ACTIVE:
            raise errors.DomainError(_("Connect the account again first."))
        before = {"state": delivery.state, "last_error": delivery.last_error}
        lifecycle.transition(delivery, "retry")
        now = timezone.now()
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.enqueued_at = now
        delivery.updated_at = now
        delivery.save(
            update_fields=["state", "attempts", "next_attempt_at", "enqueued_at", "updated_at"]
        )
        audit.record(
            delivery.institution_id,
            "delivery.retry",
            actor=by,
            target=delivery,
            before=before,
            after={"state": delivery.state},
        )
        _enqueue([delivery])
        return delivery
