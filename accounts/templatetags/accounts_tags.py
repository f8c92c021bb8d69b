"""Template helpers of the signed-in pages: what the current member may do."""

from __future__ import annotations

from django import template

from accounts.models import Membership, Scope
from accounts.permissions import Permission, has_permission

register = template.Library()


@register.filter
def can(membership: Membership | None, permission: str) -> bool:
    """``{% if request.membership|can:"manage_members" %}``: the navigation shows what works."""
    return has_permission(membership, Permission(permission))


@register.filter
def scope_labels(scopes: list[str]) -> str:
    """The readable names of a token's scopes, comma-separated."""
    labels = {value: label for value, label in Scope.choices}
    return ", ".join(str(labels.get(scope, scope)) for scope in scopes)
