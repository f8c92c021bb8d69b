"""Reads of accounts that views and the API share."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiToken, Membership, User
from accounts.services import digest
from accounts.tenancy import database_settings, tenant_context


def memberships_of(user: User) -> list[Membership]:
    """A user's active memberships in every institution, with the institution."""
    with database_settings(user_id=str(user.id)):
        # Unscoped on purpose: a person reads their own memberships across institutions. On
        # PostgreSQL the membership table's second policy admits exactly the rows of app.user_id.
        return list(
            Membership.unscoped.filter(user=user, status=Membership.Status.ACTIVE)
            .select_related("institution")
            .order_by("institution__name")
        )


def token_for_secret(secret: str) -> ApiToken | None:
    """The token a bearer secret belongs to, with its member and user, or None."""
    token_digest = digest(secret)
    with database_settings(token_digest=token_digest):
        # Unscoped on purpose: a token names its institution; the API token table's second policy
        # admits only the row whose digest the caller knows.
        token = ApiToken.unscoped.filter(digest=token_digest).first()
    if token is None:
        return None
    with tenant_context(token.institution_id):
        token.membership = (
            Membership.objects.select_related("user", "institution")
            .filter(id=token.membership_id)
            .first()
        )
    return token


def active_members() -> QuerySet[Membership]:
    """Active members of the current institution, by name."""
    return Membership.objects.filter(status=Membership.Status.ACTIVE).order_by("display_name", "id")
