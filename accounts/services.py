"""Every state change of accounts: institutions, members, invitations, profiles, API tokens.

Each function runs in one transaction, takes the institution (or a row of it) explicitly and
writes its audit event (``accounts.audit.record``) in that transaction. User accounts are global,
not an institution's: ``register_user`` and ``update_account`` are in no institution's log.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import audit, errors, second_factor
from accounts.addresses import absolute_url
from accounts.models import (
    ApiToken,
    FormerHandle,
    Institution,
    Invitation,
    Language,
    Membership,
    Role,
    User,
)
from accounts.permissions import ROLE_SCOPES
from accounts.publicread import public_content_changed
from accounts.tenancy import tenant_context

INVITATION_LIFETIME = timedelta(days=14)
TOKEN_DEFAULT_LIFETIME = timedelta(days=90)
TOKEN_MAX_LIFETIME = timedelta(days=366)
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)

# The extension point through which higher apps act when a member leaves (feeds holds their
# scheduled posts). Each callable receives the retired membership inside the transaction.
member_retired_handlers: list[Callable[[Membership], None]] = []
# Called inside update_institution with the institution and the changed settings
# ({name: (before, after)}), so that moderation's policy follows ``review_required``.
institution_changed_handlers: list[Callable[[Institution, dict], None]] = []


def digest(secret: str) -> str:
    """SHA-256 hex digest under which invitation and token secrets are stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise errors.DomainError(messages[0], field=field) from error


# Institutions -------------------------------------------------------------------------------


@transaction.atomic
def create_institution(*, slug: str, name: str, **fields) -> Institution:
    """Create an institution (operators only; its first admin joins by invitation)."""
    institution = Institution(slug=slug, name=name, **fields)
    _full_clean(institution)
    if Institution.objects.filter(slug=slug).exists():
        raise errors.Conflict(_("An institution with this address already exists."), field="slug")
    institution.save()
    audit.record(
        institution.id,
        "institution.create",
        target=institution,
        after={"slug": institution.slug, "name": institution.name},
    )
    public_content_changed(institution.slug)  # the landing page and robots.txt list it
    return institution


EDITABLE_INSTITUTION_FIELDS = (
    "name", "kind", "locale", "timezone", "description", "contact_email", "contact_phone",
    "website", "address", "accent_color", "logo", "review_required", "search_indexing",
    "require_second_factor",
)  # fmt: skip


@transaction.atomic
def update_institution(institution: Institution, **changes) -> Institution:
    """Change an institution's settings; its public pages show the change at once."""
    unknown = set(changes) - set(EDITABLE_INSTITUTION_FIELDS)
    if unknown:
        raise errors.DomainError(
            _("These settings cannot be changed here: %s") % ", ".join(unknown)
        )
    before = audit.snapshot(institution, list(changes))
    website_before = institution.website
    for name, value in changes.items():
        setattr(institution, name, value)
    _full_clean(institution)
    if institution.website != website_before:  # a new website is unverified until checked
        institution.website_verified_at = None
        institution.website_check_error = ""
    institution.save()
    old, new = audit.changes(institution, list(changes), before)
    audit.record(institution.id, "institution.update", target=institution, before=old, after=new)
    changed = {name: (old[name], new[name]) for name in new}
    if changed:
        for handler in institution_changed_handlers:
            handler(institution, changed)
    public_content_changed(institution.slug)
    return institution


@transaction.atomic
def request_website_check(institution: Institution, *, by: Membership) -> None:
    """Have the website checked for a rel="me" link back to Podium (a task, after commit).

    Only on an admin's request: the check fetches a page from the internet."""
    from accounts.tasks import verify_website

    if not institution.website:
        raise errors.DomainError(_("Enter the website's address first."), field="website")
    audit.record(institution.id, "institution.request_website_check", actor=by, target=institution)
    institution_id = institution.id
    transaction.on_commit(
        lambda: verify_website.apply_async(kwargs={"institution_id": institution_id})
    )


# Members ------------------------------------------------------------------------------------


def _check_handle_free(institution: Institution, handle: str, exclude_id: int | None = None):
    taken = Membership.objects.filter(handle=handle.lower())
    if exclude_id is not None:
        taken = taken.exclude(id=exclude_id)
    if taken.exists():
        raise errors.HandleTaken(field="handle")
    # A handle once used stays with its member: old links and mentions must not change person.
    used = FormerHandle.objects.filter(handle=handle.lower())
    if exclude_id is not None:
        used = used.exclude(membership_id=exclude_id)
    if used.exists():
        raise errors.HandleTaken(field="handle")


@transaction.atomic
def add_member(
    institution: Institution,
    user: User,
    *,
    role: str,
    handle: str,
    display_name: str,
    **profile,
) -> Membership:
    """Make a user a member with a public profile (or bring former staff back)."""
    with tenant_context(institution.id):
        membership, returned = _join(
            institution, user, role=role, handle=handle, display_name=display_name, **profile
        )
        audit.record(
            institution.id,
            "member.return" if returned else "member.join",
            target=membership,
            after={"role": membership.role, "handle": membership.handle},
        )
        return membership


def _join(
    institution: Institution, user: User, *, role: str, handle: str, display_name: str, **profile
) -> tuple[Membership, bool]:
    """Save the membership (new, or former staff coming back: the bool); no audit event."""
    handle = handle.lower()
    existing = Membership.objects.filter(user=user).first()
    if existing is not None and existing.is_active:
        raise errors.AlreadyMember()
    if existing is not None:
        _check_handle_free(institution, handle, exclude_id=existing.id)
        membership = existing
        membership.status = Membership.Status.ACTIVE
        membership.left_at = None
    else:
        _check_handle_free(institution, handle)
        membership = Membership(institution=institution, user=user)
    membership.role = role
    membership.handle = handle
    membership.display_name = display_name
    for name, value in profile.items():
        setattr(membership, name, value)
    _full_clean(membership, exclude=["institution", "user"])
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as error:  # a concurrent request took the handle first
        raise errors.HandleTaken(field="handle") from error
    public_content_changed(institution.slug)
    return membership, existing is not None


def _active_admins(institution: Institution):
    return Membership.objects.filter(role=Role.ADMIN, status=Membership.Status.ACTIVE)


def _lock(membership: Membership) -> Membership:
    return Membership.objects.select_for_update().get(id=membership.id)


@transaction.atomic
def change_role(membership: Membership, role: str) -> Membership:
    """Give an active member another role; the last active admin keeps theirs."""
    if role not in Role.values:
        raise errors.DomainError(_("Unknown role “%s”.") % role, field="role")
    with tenant_context(membership.institution_id):
        membership = _lock(membership)
        if not membership.is_active:
            raise errors.Conflict(_("Former staff have no role to change."))
        if membership.role == Role.ADMIN and role != Role.ADMIN:
            admins = _active_admins(membership.institution).select_for_update()
            if len(admins) <= 1:
                raise errors.LastAdmin()
        before = {"role": membership.role}
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            membership.institution_id,
            "member.change_role",
            target=membership,
            before=before,
            after={"role": role},
        )
        return membership


@transaction.atomic
def retire_member(membership: Membership) -> Membership:
    """Turn a member into former staff: the profile stays as a record, access and tokens end."""
    with tenant_context(membership.institution_id):
        membership = _lock(membership)
        if not membership.is_active:
            raise errors.Conflict(_("This member is already former staff."))
        if membership.role == Role.ADMIN:
            admins = _active_admins(membership.institution).select_for_update()
            if len(admins) <= 1:
                raise errors.LastAdmin()
        now = timezone.now()
        membership.status = Membership.Status.FORMER
        membership.left_at = now
        membership.save(update_fields=["status", "left_at"])
        ApiToken.objects.filter(membership=membership, revoked_at__isnull=True).update(
            revoked_at=now
        )
        audit.record(
            membership.institution_id,
            "member.retire",
            target=membership,
            before={"status": Membership.Status.ACTIVE},
            after={"status": membership.status},
        )
        for handler in member_retired_handlers:
            handler(membership)
        public_content_changed(membership.institution.slug)
        return membership


EDITABLE_PROFILE_FIELDS = ("handle", "display_name", "job_title", "bio", "avatar", "links")


def validate_links(links: object) -> list[dict[str, str]]:
    """Profile links: up to five https addresses with a short label each."""
    if not isinstance(links, list) or len(links) > 5:
        raise errors.DomainError(_("Give at most five links."), field="links")
    cleaned = []
    for link in links:
        if not isinstance(link, dict):
            raise errors.DomainError(_("Each link needs a label and an address."), field="links")
        label, url = str(link.get("label", "")).strip(), str(link.get("url", "")).strip()
        if not url.startswith("https://") or len(url) > 300 or any(c.isspace() for c in url):
            raise errors.DomainError(
                _("Links must be https:// addresses without spaces."), field="links"
            )
        cleaned.append({"label": label[:50] or url.removeprefix("https://")[:50], "url": url})
    return cleaned


@transaction.atomic
def update_profile(membership: Membership, **changes) -> Membership:
    """Change a member's public profile; the public pages show it at once."""
    unknown = set(changes) - set(EDITABLE_PROFILE_FIELDS)
    if unknown:
        raise errors.DomainError(_("These fields cannot be changed here: %s") % ", ".join(unknown))
    with tenant_context(membership.institution_id):
        if "handle" in changes:
            changes["handle"] = changes["handle"].lower()
            _check_handle_free(membership.institution, changes["handle"], exclude_id=membership.id)
        if "links" in changes:
            changes["links"] = validate_links(changes["links"])
        before = audit.snapshot(membership, list(changes))
        previous_handle = membership.handle
        for name, value in changes.items():
            setattr(membership, name, value)
        _full_clean(membership, exclude=["institution", "user"])
        try:
            with transaction.atomic():
                membership.save()
                if membership.handle != previous_handle:  # the old address redirects for good
                    FormerHandle.objects.get_or_create(
                        institution_id=membership.institution_id,
                        handle=previous_handle,
                        defaults={"membership": membership},
                    )
        except IntegrityError as error:
            raise errors.HandleTaken(field="handle") from error
        old, new = audit.changes(membership, list(changes), before)
        audit.record(
            membership.institution_id,
            "member.update_profile",
            target=membership,
            before=old,
            after=new,
        )
        public_content_changed(membership.institution.slug)
        return membership


# Invitations --------------------------------------------------------------------------------


@transaction.atomic
def invite_member(
    institution: Institution, *, email: str, role: str, invited_by: Membership | None
) -> tuple[Invitation, str]:
    """Invite someone by e-mail; returns the invitation and the secret sent in the link."""
    email = email.strip().lower()
    if role not in Role.values:
        raise errors.DomainError(_("Unknown role “%s”.") % role, field="role")
    with tenant_context(institution.id):
        if Membership.objects.filter(
            user__email__iexact=email, status=Membership.Status.ACTIVE
        ).exists():
            raise errors.AlreadyMember(field="email")
        # A new invitation replaces any pending one for the same address.
        Invitation.objects.filter(
            email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        secret = secrets.token_urlsafe(32)
        invitation = Invitation(
            institution=institution,
            email=email,
            role=role,
            digest=digest(secret),
            invited_by=invited_by,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        _full_clean(invitation, exclude=["institution", "invited_by", "digest"])
        invitation.save()
        audit.record(
            institution.id,
            "invitation.create",
            actor=invited_by,
            target=invitation,
            after={"email": email, "role": role},
        )
    transaction.on_commit(lambda: _send_invitation(institution, invitation, secret))
    return invitation, secret


def invitation_url(institution: Institution, secret: str) -> str:
    path = reverse(
        "accounts:accept-invitation",
        kwargs={"institution_slug": institution.slug, "secret": secret},
    )
    return absolute_url(path)


def _send_invitation(institution: Institution, invitation: Invitation, secret: str) -> None:
    with translation.override(institution.locale):
        context = {
            "institution": institution,
            "invitation": invitation,
            "url": invitation_url(institution, secret),
        }
        send_mail(
            subject=_("Your invitation to %(name)s on Podium") % {"name": institution.name},
            message=render_to_string("accounts/email/invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )


def find_invitation(institution: Institution, secret: str) -> Invitation:
    """The pending invitation for a secret; NotFound for an unknown link, else InvitationInvalid."""
    with tenant_context(institution.id):
        invitation = Invitation.objects.filter(digest=digest(secret)).first()
        if invitation is None:
            raise errors.NotFound(_("This invitation link is not valid. Check the address."))
        if not invitation.is_pending:
            raise errors.InvitationInvalid()
        return invitation


@transaction.atomic
def accept_invitation(
    institution: Institution,
    secret: str,
    *,
    user: User,
    handle: str,
    display_name: str,
    job_title: str = "",
) -> Membership:
    """Accept an invitation as the user it was sent to; each invitation works once."""
    with tenant_context(institution.id):
        invitation = Invitation.objects.select_for_update().filter(digest=digest(secret)).first()
        if invitation is None:
            raise errors.NotFound(_("This invitation link is not valid. Check the address."))
        if not invitation.is_pending:
            raise errors.InvitationInvalid()
        if user.email.lower() != invitation.email.lower():
            raise errors.PermissionDenied(
                _("This invitation was sent to %(email)s. Sign in with that address to accept it.")
                % {"email": invitation.email}
            )
        membership, _returned = _join(
            institution,
            user,
            role=invitation.role,
            handle=handle,
            display_name=display_name,
            job_title=job_title,
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_membership = membership
        invitation.save(update_fields=["accepted_at", "accepted_membership"])
        audit.record(
            institution.id,
            "invitation.accept",
            actor=membership,
            target=invitation,
            after={
                "membership": membership.id,
                "role": membership.role,
                "handle": membership.handle,
            },
        )
        return membership


@transaction.atomic
def revoke_invitation(invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation."""
    with tenant_context(invitation.institution_id):
        if not invitation.is_pending:
            raise errors.InvitationInvalid()
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(
            invitation.institution_id,
            "invitation.revoke",
            target=invitation,
            after={"email": invitation.email},
        )
        return invitation


@transaction.atomic
def register_user(*, email: str, password: str, name: str = "", language: str = "") -> User:
    """Create a user account (used when accepting an invitation without an account)."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise errors.Conflict(
            _("An account with this e-mail address exists; sign in instead."), field="email"
        )
    return User.objects.create_user(email, password, name=name, language=language)


@transaction.atomic
def update_account(user: User, *, name: str | None = None, language: str | None = None) -> User:
    """Change a user's own account settings: name and language of pages and e-mail."""
    changed = []
    if name is not None:
        user.name = name.strip()
        changed.append("name")
    if language is not None:
        if language not in ("", *Language.values):
            raise errors.DomainError(_("Unknown language “%s”.") % language, field="language")
        user.language = language
        changed.append("language")
    if changed:
        _full_clean(user, exclude=["password"])
        user.save(update_fields=changed)
    return user


# API tokens ---------------------------------------------------------------------------------


@transaction.atomic
def create_token(
    membership: Membership,
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token; the secret is returned once and stored only as a digest."""
    name = (name or "").strip()
    if not name:
        raise errors.DomainError(_("Give the token a name."), field="name")
    scopes = sorted(set(scopes or []))
    if not scopes:
        raise errors.DomainError(_("Choose at least one scope."), field="scopes")
    allowed = ROLE_SCOPES[membership.role]
    not_allowed = [scope for scope in scopes if scope not in allowed]
    if not_allowed:
        raise errors.DomainError(
            _("Your role cannot grant these scopes: %s") % ", ".join(not_allowed), field="scopes"
        )
    if second_factor.grants_decisions(scopes):
        # A token that can decide stands in for the person: where the institution requires a
        # second factor, only a person who has one gets such a token (the views check it fresh).
        second_factor.require_enrolled(membership)
    now = timezone.now()
    expires_at = expires_at or now + TOKEN_DEFAULT_LIFETIME
    if expires_at <= now:
        raise errors.DomainError(_("The expiry must lie in the future."), field="expires_at")
    if expires_at > now + TOKEN_MAX_LIFETIME:
        raise errors.DomainError(_("Tokens expire within a year at most."), field="expires_at")
    secret = ApiToken.PREFIX + secrets.token_urlsafe(32)
    with tenant_context(membership.institution_id):
        token = ApiToken.objects.create(
            institution_id=membership.institution_id,
            membership=membership,
            name=name[:100],
            prefix=secret[:12],
            digest=digest(secret),
            scopes=scopes,
            expires_at=expires_at,
        )
        audit.record(
            membership.institution_id,
            "token.create",
            target=token,
            after={"name": token.name, "prefix": token.prefix, "scopes": scopes},
        )
    return token, secret


@transaction.atomic
def revoke_token(token: ApiToken) -> ApiToken:
    """Revoke a token at once; requests with it fail from now on."""
    with tenant_context(token.institution_id):
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(
                token.institution_id, "token.revoke", target=token, after={"prefix": token.prefix}
            )
        return token


def record_token_use(token: ApiToken) -> None:
    """Note when a token was last used (at most once a minute, to spare the database)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_LAST_USED_RESOLUTION:
        with tenant_context(token.institution_id):
            ApiToken.objects.filter(id=token.id).update(last_used_at=now)
        token.last_used_at = now
