"""Template helpers of the signed-in pages: what the current member may do, and times on the
institution's clock."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template

from accounts import addresses, localtime
from accounts.localtime import local_time_text
from accounts.models import Institution, Membership, Scope
from accounts.permissions import Permission, has_permission

register = template.Library()


@register.filter
def absolute_url(path: str) -> str:
    """``{{ path|absolute_url }}``: a link in e-mail, under ``PODIUM_BASE_URL`` (never the
    request's host)."""
    return addresses.absolute_url(path)


@register.filter
def can(membership: Membership | None, permission: str) -> bool:
    """``{% if request.membership|can:"manage_members" %}``: the navigation shows what works."""
    return has_permission(membership, Permission(permission))


@register.filter
def scope_labels(scopes: list[str]) -> str:
    """The readable names of a token's scopes, comma-separated."""
    labels = {value: label for value, label in Scope.choices}
    return ", ".join(str(labels.get(scope, scope)) for scope in scopes)


@register.filter
def local_time(value: datetime | None, institution: Institution | None) -> str:
    """``{{ post.published_at|local_time:institution }}``: the time on the institution's clock,
    with the zone named ("7 Dec 2026, 16:49 CET")."""
    if value is None:
        return ""
    zone = institution.zone if institution is not None else UTC
    return local_time_text(value, zone)


@register.filter
def machine_time(value: datetime | None, institution: Institution | None) -> str:
    """The ``datetime`` attribute of ``<time>``: ISO 8601 with the institution's offset."""
    if value is None:
        return ""
    zone = institution.zone if institution is not None else UTC
    return localtime.machine_time(value, zone)
