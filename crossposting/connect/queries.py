"""Reads of network accounts that the networks page, the navigation and the API share."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Membership
from accounts.permissions import Permission, has_permission
from crossposting.connect import flows
from crossposting.models import Network, NetworkAccount


def visible_accounts(member: Membership) -> QuerySet[NetworkAccount]:
    """Administrators see every account; others the institution's and their own."""
    rows = NetworkAccount.objects.select_related("member").order_by("network", "handle", "id")
    if has_permission(member, Permission.EDIT_INSTITUTION):
        return rows
    return rows.filter(Q(member__isnull=True) | Q(member_id=member.id))


def reauthorisation_count() -> int:
    """Accounts of the institution waiting to be authorised again (for administrators)."""
    return NetworkAccount.objects.filter(status=NetworkAccount.Status.NEEDS_REAUTHORISATION).count()


def networks_on_offer() -> list[dict]:
    """Each network with whether the operator has set it up."""
    return [
        {"value": network.value, "label": network.label, "configured": flows.is_configured(network)}
        for network in Network
    ]
