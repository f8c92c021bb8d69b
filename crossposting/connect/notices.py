"""E-mails to the owners of network accounts (the member, or the institution's administrators
for an institution account), each sent at most once per key.

A notice is a ``NetworkAccountNotice`` row with a unique key written in the transaction that
sends the mail (as moderation's notices do): a retried task finds the row and sends nothing; a
failed send rolls the row back so the retry sends it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.addresses import absolute_url
from accounts.models import Membership, Role
from accounts.tenancy import tenant_context
from crossposting.models import Network, NetworkAccount, NetworkAccountNotice

A = NetworkAccount.Status


def owners(account: NetworkAccount) -> list[Membership]:
    """Who hears about the account: its member, or the institution's active administrators."""
    members = Membership.objects.filter(status=Membership.Status.ACTIVE).select_related(
        "user", "institution"
    )
    if account.member_id is not None:
        return list(members.filter(id=account.member_id))
    return list(members.filter(role=Role.ADMIN).order_by("id"))


def _page(account: NetworkAccount) -> str:
    slug = account.institution.slug
    return absolute_url(reverse("crossposting:networks", args=[slug]))


def _send(account: NetworkAccount, member: Membership, kind: str, key: str, template: str) -> bool:
    try:
        with transaction.atomic():
            NetworkAccountNotice.objects.create(
                institution_id=account.institution_id,
                account=account,
                membership=member,
                kind=kind,
                key=key[:200],
            )
            language = member.user.language or account.institution.locale
            with translation.override(language):
                context = {
                    "account": account,
                    "member": member,
                    "institution": account.institution,
                    "url": _page(account),
                    "network": Network(account.network).label,
                }
                subject = {
                    "reauthorisation": _("%(network)s account %(handle)s needs re-authorisation"),
                    "expiry_soon": _("%(network)s permission for %(handle)s ends soon"),
                }[kind] % {"network": context["network"], "handle": account.handle}
                send_mail(
                    subject=subject,
                    message=render_to_string(template, context),
                    from_email=None,
                    recipient_list=[member.user.email],
                )
    except IntegrityError:
        return False  # sent before (a retried task)
    return True


def notify_reauthorisation(institution_id: int) -> int:
    """One e-mail per owner for each account that went to needs re-authorisation since its
    owners were last told (whoever marked it: a delivery, a token check)."""
    sent = 0
    with tenant_context(institution_id):
        waiting = list(
            NetworkAccount.objects.filter(
                status=A.NEEDS_REAUTHORISATION, reauthorisation_noticed_at__isnull=True
            ).values_list("id", flat=True)
        )
    for account_id in waiting:
        with transaction.atomic(), tenant_context(institution_id):
            account = (
                NetworkAccount.objects.select_for_update()
                .select_related("institution")
                .filter(
                    id=account_id,
                    status=A.NEEDS_REAUTHORISATION,
                    reauthorisation_noticed_at__isnull=True,
                )
                .first()
            )
            if account is None:
                continue
            # The moment it entered the state names this transition (it does not change while
            # the account waits), so a retry finds the notices it already sent.
            stamp = account.updated_at.isoformat()
            for member in owners(account):
                sent += _send(
                    account,
                    member,
                    "reauthorisation",
                    f"reauthorisation:{account.id}:{stamp}:{member.id}",
                    "crossposting/email/reauthorisation.txt",
                )
            account.reauthorisation_noticed_at = timezone.now()
            account.save(update_fields=["reauthorisation_noticed_at"])
    return sent


def remind_linkedin_expiry(institution_id: int, now: datetime | None = None) -> int:
    """Remind owners ``PODIUM_LINKEDIN_REMINDER_DAYS`` before a LinkedIn permission ends (once
    per account and permission: a re-consent sets a new end and a new reminder)."""
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.PODIUM_LINKEDIN_REMINDER_DAYS)
    sent = 0
    with tenant_context(institution_id):
        ending = list(
            NetworkAccount.objects.filter(
                network=Network.LINKEDIN,
                status=A.ACTIVE,
                token_expires_at__gt=now,
                token_expires_at__lte=horizon,
            ).select_related("institution")
        )
        for account in ending:
            stamp = account.token_expires_at.isoformat()
            for member in owners(account):
                sent += _send(
                    account,
                    member,
                    "expiry_soon",
                    f"expiry_soon:{account.id}:{stamp}:{member.id}",
                    "crossposting/email/expiry_soon.txt",
                )
    return sent
