"""Connecting, re-authorising and disconnecting network accounts, the "use for new posts"
choice, and the care of tokens that end (LinkedIn reminders, Threads refreshes).

Who may do what: a member manages their own accounts (``write_posts``); an administrator
(``edit_institution``) manages the institution's accounts and may disconnect a member's.

An authorisation in the browser is a ``ConnectAttempt``: its ``state`` is signed, names the
institution and the attempt, carries a random nonce stored only as a digest, expires after
``STATE_SECONDS``, is used once (a conditional update), by the member who started it, in the
browser session that started it (attempts started through the API are bound to the member).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit, errors
from accounts.models import Institution, Membership, User
from accounts.permissions import Permission, has_permission
from accounts.publicread import public_content_changed
from accounts.tenancy import tenant_context
from crossposting import credentials
from crossposting import services as crossposting
from crossposting.connect import atproto_oauth, flows
from crossposting.connect.addresses import checked_server_url
from crossposting.connect.errors import (
    AccountTaken,
    AuthorisationRefused,
    ConnectFailed,
    InvalidServerAddress,
    StateInvalid,
)
from crossposting.models import ConnectAttempt, MastodonApp, Network, NetworkAccount

STATE_SALT = "crossposting.connect.state"
STATE_SECONDS = 600
A = NetworkAccount.Status


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# Who may do what --------------------------------------------------------------------------------


def may_manage(account: NetworkAccount, by: Membership, action: str = "manage") -> bool:
    """Whether ``by`` may act on the account (``action`` "disconnect" is the only one an
    administrator may take on a member's account)."""
    if account.member_id is not None and account.member_id == by.id:
        return has_permission(by, Permission.WRITE_POSTS)
    if has_permission(by, Permission.EDIT_INSTITUTION):
        return account.member_id is None or action == "disconnect"
    return False


def _require_owner_role(by: Membership, for_institution: bool) -> None:
    if for_institution and not has_permission(by, Permission.EDIT_INSTITUTION):
        raise errors.PermissionDenied(
            _("Only administrators can connect the institution's accounts.")
        )
    if not has_permission(by, Permission.WRITE_POSTS):
        raise errors.PermissionDenied(_("Your role does not allow connecting accounts."))


def _require_may(account: NetworkAccount, by: Membership, action: str) -> None:
    if not may_manage(account, by, action):
        raise errors.PermissionDenied(_("You cannot change this account."))


# Starting an authorisation ----------------------------------------------------------------------


def start_connect(
    institution: Institution,
    network: str,
    *,
    by: Membership,
    for_institution: bool = False,
    instance: str = "",
    account: NetworkAccount | None = None,
    session_key: str = "",
    login_hint: str = "",
) -> str:
    """Begin authorising an account (or re-authorising ``account``) in the member's browser;
    returns the network's authorisation address to send the browser to."""
    if network not in Network.values:
        raise errors.DomainError(_("Choose a network."), field="network")
    if account is not None:
        _require_may(account, by, "reauthorise")
        network = account.network
        for_institution = account.member_id is None
        instance = instance or account.base_url
    _require_owner_role(by, for_institution)
    app = None
    server = None
    if network == Network.BLUESKY:
        try:
            base_url = checked_server_url(instance or settings.PODIUM_BLUESKY_PDS_URL)
        except InvalidServerAddress as error:
            error.field = "server"
            raise
        server = atproto_oauth.discover(base_url)  # NoOAuth: the app password it is
    elif network == Network.MASTODON:
        try:
            base_url = checked_server_url(instance)
        except InvalidServerAddress as error:
            error.field = "instance"
            raise
        flows.mastodon_limits(base_url)  # refuses what is not a Mastodon server, before anything
        app = flows.mastodon_app(institution, base_url)
    else:
        flows.require_configured(network)
        base_url = {
            Network.X: settings.PODIUM_X_API_URL,
            Network.LINKEDIN: settings.PODIUM_LINKEDIN_API_URL,
            Network.THREADS: settings.PODIUM_THREADS_API_URL,
        }[network]
    pkce = flows.Pkce.new()
    nonce = secrets.token_urlsafe(24)
    now = timezone.now()
    with tenant_context(institution.id):
        attempt = ConnectAttempt.objects.create(
            institution=institution,
            network=network,
            member=by,
            for_institution=for_institution,
            account=account,
            base_url=base_url,
            app=app,
            nonce_digest=_digest(nonce),
            session_digest=_digest(session_key) if session_key else "",
            created_at=now,
            expires_at=now + timedelta(seconds=STATE_SECONDS),
        )
        sealed = {"verifier": pkce.verifier}
        if server is not None:
            sealed |= {"dpop_key": atproto_oauth.new_key(), "server": asdict(server)}
        attempt.secret = credentials.seal(
            institution.id, attempt.id, sealed, table="connect_attempt"
        )
        attempt.save(update_fields=["secret"])
    state = signing.dumps({"i": institution.id, "a": attempt.id, "n": nonce}, salt=STATE_SALT)
    if server is not None:
        url, dpop_nonce = atproto_oauth.start(
            server, state=state, pkce=pkce, key=sealed["dpop_key"], login_hint=login_hint
        )
        with tenant_context(institution.id):
            attempt.secret = credentials.seal(
                institution.id,
                attempt.id,
                sealed | {"dpop_nonce": dpop_nonce},
                table="connect_attempt",
            )
            attempt.save(update_fields=["secret"])
        return url
    return flows.authorisation_url(network, state=state, pkce=pkce, app=app)


# Coming back from the network -------------------------------------------------------------------


def _state_data(state: str) -> dict:
    try:
        data = signing.loads(state or "", salt=STATE_SALT, max_age=STATE_SECONDS)
    except signing.SignatureExpired as error:
        raise StateInvalid(
            _("This authorisation took too long and has expired. Start connecting again.")
        ) from error
    except signing.BadSignature as error:
        raise StateInvalid() from error
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("i", "a")):
        raise StateInvalid()
    return data


def institution_of_state(state: str) -> Institution | None:
    """The institution an authorisation was started in (to go back to its page), if the state
    is genuine."""
    try:
        data = _state_data(state)
    except StateInvalid:
        try:  # an expired state still names its institution (signed all the same)
            data = signing.loads(state or "", salt=STATE_SALT)
        except signing.BadSignature:
            return None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        return None
    return Institution.objects.filter(id=data["i"]).first()


def _claim(network: str, data: dict, user: User, session_key: str) -> tuple:
    """Use the attempt once: (institution, membership, attempt, PKCE)."""
    institution = Institution.objects.filter(id=data["i"]).first()
    if institution is None:
        raise StateInvalid()
    with transaction.atomic(), tenant_context(institution.id):
        membership = Membership.objects.filter(user=user, status=Membership.Status.ACTIVE).first()
        attempt = (
            ConnectAttempt.objects.select_related("app", "account")
            .filter(id=data["a"], network=network)
            .first()
        )
        if (
            attempt is None
            or membership is None
            or attempt.member_id != membership.id
            or not hmac.compare_digest(attempt.nonce_digest, _digest(str(data.get("n", ""))))
            or (
                attempt.session_digest
                and not hmac.compare_digest(attempt.session_digest, _digest(session_key or ""))
            )
        ):
            raise StateInvalid()
        now = timezone.now()
        if attempt.expires_at <= now:
            raise StateInvalid(
                _("This authorisation took too long and has expired. Start connecting again.")
            )
        if not ConnectAttempt.objects.filter(id=attempt.id, used_at__isnull=True).update(
            used_at=now
        ):
            raise StateInvalid()
        verifier = credentials.unseal(
            institution.id, attempt.id, attempt.secret, table="connect_attempt"
        ).get("verifier", "")
    return institution, membership, attempt, flows.Pkce(verifier)


def finish_connect(
    network: str,
    *,
    state: str,
    code: str,
    error: str = "",
    user: User,
    session_key: str = "",
    issuer: str = "",
) -> NetworkAccount:
    """The network sent the member back: check the state, exchange the code, confirm who the
    account is, store it. Nothing is stored when any step fails."""
    data = _state_data(state)
    institution, membership, attempt, pkce = _claim(network, data, user, session_key)
    if error:
        raise AuthorisationRefused(
            _("%(network)s did not give Podium access (%(reason)s). Nothing was connected.")
            % {"network": Network(network).label, "reason": error[:100]}
        )
    if not code:
        raise AuthorisationRefused(_("The network sent no authorisation code. Start again."))
    if network == Network.MASTODON:
        try:
            identity = flows.finish_mastodon(attempt.app, code, pkce)
        except AuthorisationRefused:
            _forget_app_if_revoked(institution, attempt.app)
            raise
    elif network == Network.BLUESKY:
        with tenant_context(institution.id):
            sealed = credentials.unseal(
                institution.id, attempt.id, attempt.secret, table="connect_attempt"
            )
        identity = atproto_oauth.finish(
            atproto_oauth.Server(**sealed["server"]),
            code=code,
            issuer=issuer,
            pkce=pkce,
            key=sealed["dpop_key"],
            nonce=sealed.get("dpop_nonce", ""),
        )
    elif network == Network.X:
        identity = flows.finish_x(code, pkce)
    elif network == Network.LINKEDIN:
        identity = flows.finish_linkedin(code)
    else:
        identity = flows.finish_threads(code)
    return _store(
        institution,
        identity,
        by=membership,
        for_institution=attempt.for_institution,
        account=attempt.account,
    )


def _forget_app_if_revoked(institution: Institution, app: MastodonApp | None) -> None:
    """An instance that no longer knows Podium's app gets a new registration next time."""
    if app is not None and flows.mastodon_app_revoked(app):
        with tenant_context(institution.id):
            MastodonApp.objects.filter(id=app.id).delete()


def _store(
    institution: Institution,
    identity: flows.Identity,
    *,
    by: Membership,
    for_institution: bool,
    account: NetworkAccount | None,
) -> NetworkAccount:
    with tenant_context(institution.id):
        owner = None if for_institution else by
        if account is not None and account.remote_user_id not in ("", identity.remote_user_id):
            raise AuthorisationRefused(
                _(
                    "You authorised %(got)s, but this is %(wanted)s. Sign in to the network as "
                    "%(wanted)s and re-authorise again."
                )
                % {"got": identity.handle, "wanted": account.handle}
            )
        existing = (
            NetworkAccount.objects.filter(
                network=identity.network, remote_user_id=identity.remote_user_id
            )
            .order_by("id")
            .first()
        )
        if (
            existing is not None
            and existing.status != A.REVOKED
            and existing.member_id != (owner.id if owner else None)
        ):
            raise AccountTaken()
        return crossposting.connect_account(
            institution,
            network=identity.network,
            handle=identity.handle,
            base_url=identity.base_url,
            secrets=identity.secrets,
            remote_user_id=identity.remote_user_id,
            profile_url=identity.profile_url,
            member=owner,
            by=by,
            token_expires_at=identity.token_expires_at,
            token_issued_at=identity.token_issued_at,
            limits=identity.limits,
        )


# Bluesky: an app password -----------------------------------------------------------------------


def connect_bluesky(
    institution: Institution,
    *,
    identifier: str,
    app_password: str,
    server: str = "",
    by: Membership,
    for_institution: bool = False,
    account: NetworkAccount | None = None,
) -> NetworkAccount:
    """Connect a Bluesky account with its handle (or DID) and an app password; the session's
    tokens and the app password are stored encrypted (the password opens a new session when
    the refresh token has run out)."""
    if account is not None:
        _require_may(account, by, "reauthorise")
        for_institution = account.member_id is None
        server = server or account.base_url
    _require_owner_role(by, for_institution)
    identifier = (identifier or "").strip().removeprefix("@")
    if not flows.IDENTIFIER.match(identifier):
        raise errors.DomainError(
            _("Enter the Bluesky handle (like name.bsky.social) or DID."), field="identifier"
        )
    app_password = (app_password or "").strip()
    if not flows.APP_PASSWORD.match(app_password):
        raise errors.DomainError(
            _(
                "This is not an app password (four groups of four letters or digits, like "
                "abcd-efgh-ijkl-mnop). Create one in Bluesky under Settings, Privacy and "
                "security, App passwords. Never enter your main password here."
            ),
            field="app_password",
        )
    try:
        url = checked_server_url(server or settings.PODIUM_BLUESKY_PDS_URL)
    except InvalidServerAddress as error:
        error.field = "server"
        raise
    identity = flows.bluesky_session(url, identifier, app_password)
    return _store(institution, identity, by=by, for_institution=for_institution, account=account)


# Disconnecting and the default ------------------------------------------------------------------


@dataclass
class Disconnected:
    account: NetworkAccount
    revoked_at_network: bool


def disconnect_account(account: NetworkAccount, *, by: Membership) -> Disconnected:
    """Withdraw access at the network where it offers that, delete the credentials, keep the
    account's row and its delivery history (status revoked)."""
    _require_may(account, by, "disconnect")
    institution_id = account.institution_id
    with tenant_context(institution_id):
        app = (
            MastodonApp.objects.filter(instance_url=account.base_url).order_by("-id").first()
            if account.network == Network.MASTODON
            else None
        )
        secrets_ = credentials.unseal(institution_id, account.id, account.credentials)
    revoked = flows.revoke(account.network, account.base_url, secrets_, app) if secrets_ else False
    with tenant_context(institution_id):
        current = NetworkAccount.objects.select_for_update().get(id=account.id)
        before = {"status": current.status, "default_for_new_posts": current.default_for_new_posts}
        current.status = A.REVOKED
        current.status_reason = _("Disconnected by %(name)s.") % {"name": by.display_name}
        current.credentials = b""
        current.credentials_version += 1
        current.default_for_new_posts = False
        current.token_expires_at = None
        current.updated_at = timezone.now()
        current.save()
        public_content_changed(current.institution.slug)  # its rel="me" link goes
        audit.record(
            institution_id,
            "network_account.disconnect",
            actor=by,
            target=current,
            before=before,
            after={"status": current.status, "revoked_at_network": revoked},
        )
    return Disconnected(current, revoked)


def set_account_default(account: NetworkAccount, *, use: bool, by: Membership) -> NetworkAccount:
    """Whether new posts (of the owner, or of everyone for an institution account) are copied
    to this account unless their author chooses otherwise."""
    _require_may(account, by, "default")
    with tenant_context(account.institution_id):
        current = NetworkAccount.objects.select_for_update().get(id=account.id)
        if use and current.status == A.REVOKED:
            raise errors.DomainError(_("Connect the account again first."))
        before = {"default_for_new_posts": current.default_for_new_posts}
        current.default_for_new_posts = use
        current.updated_at = timezone.now()
        current.save(update_fields=["default_for_new_posts", "updated_at"])
        audit.record(
            account.institution_id,
            "network_account.default",
            actor=by,
            target=current,
            before=before,
            after={"default_for_new_posts": use},
        )
    return current


# Tokens that end --------------------------------------------------------------------------------


def mark_needs_reauthorisation(account: NetworkAccount, reason: str) -> bool:
    """Active to needs re-authorisation (once: a second call changes nothing); the owner is
    told by e-mail after the commit."""
    with tenant_context(account.institution_id):
        changed = NetworkAccount.objects.filter(id=account.id, status=A.ACTIVE).update(
            status=A.NEEDS_REAUTHORISATION,
            status_reason=reason[:1000],
            updated_at=timezone.now(),
        )
        if changed:
            audit.record(
                account.institution_id,
                "network_account.needs_reauthorisation",
                target=account,
                after={"reason": reason[:500]},
            )
            _enqueue_notices(account.institution_id)
    return bool(changed)


def _enqueue_notices(institution_id: int) -> None:
    def send() -> None:
        from crossposting.connect.tasks import notify_reauthorisation

        try:
            notify_reauthorisation.apply_async(kwargs={"institution_id": institution_id})
        except Exception:
            return  # the beat task sends it on its next round

    transaction.on_commit(send)


def refresh_threads_tokens(institution_id: int, now: datetime | None = None) -> int:
    """Refresh Threads tokens that end within ``PODIUM_THREADS_REFRESH_DAYS`` and are at least
    a day old (Threads refuses younger ones); a refused refresh needs re-authorisation."""
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.PODIUM_THREADS_REFRESH_DAYS)
    with tenant_context(institution_id):
        due = list(
            NetworkAccount.objects.filter(
                network=Network.THREADS,
                status=A.ACTIVE,
                token_expires_at__lte=horizon,
                token_issued_at__lte=now - timedelta(hours=24),
            ).order_by("id")
        )
    refreshed = 0
    for account in due:
        if account.token_expires_at <= now:
            mark_needs_reauthorisation(
                account, _("The Threads permission ended. Re-authorise the account.")
            )
            continue
        with tenant_context(institution_id):
            old = credentials.unseal(institution_id, account.id, account.credentials)
        try:
            token, expires = flows.refresh_threads(account.base_url, old.get("access_token", ""))
        except AuthorisationRefused as error:
            mark_needs_reauthorisation(account, error.message)
            continue
        except ConnectFailed:
            continue  # unreachable now: the next round tries again
        with tenant_context(institution_id):
            sealed = credentials.seal(institution_id, account.id, old | {"access_token": token})
            # Compare-and-swap: a delivery that refreshed meanwhile keeps its token.
            stored = NetworkAccount.objects.filter(
                id=account.id, credentials_version=account.credentials_version
            ).update(
                credentials=sealed,
                credentials_version=account.credentials_version + 1,
                token_expires_at=expires or now + timedelta(days=60),
                token_issued_at=now,
                updated_at=now,
            )
            if stored:
                refreshed += 1
                audit.record(
                    institution_id,
                    "network_account.refresh_token",
                    target=account,
                    before={"token_expires_at": account.token_expires_at},
                    after={"token_expires_at": expires},
                )
    return refreshed


def expire_linkedin_tokens(institution_id: int, now: datetime | None = None) -> int:
    """LinkedIn accounts whose 60-day permission has ended need re-authorisation (the owner is
    e-mailed once, by the re-authorisation notice)."""
    now = now or timezone.now()
    with tenant_context(institution_id):
        ended = list(
            NetworkAccount.objects.filter(
                network=Network.LINKEDIN, status=A.ACTIVE, token_expires_at__lte=now
            )
        )
    for account in ended:
        mark_needs_reauthorisation(
            account,
            _("The LinkedIn permission ended on %(date)s. Re-authorise the account.")
            % {"date": account.token_expires_at.date().isoformat()},
        )
    return len(ended)


def purge_attempts(institution_id: int, now: datetime | None = None) -> int:
    """Authorisations nobody finished are of no use after a day."""
    now = now or timezone.now()
    with tenant_context(institution_id):
        deleted, _rows = ConnectAttempt.objects.filter(
            created_at__lt=now - timedelta(days=1)
        ).delete()
    return deleted
