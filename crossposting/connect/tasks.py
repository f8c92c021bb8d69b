"""Celery tasks of connected accounts: the owners' e-mails and the care of tokens that end.
Each is idempotent: an e-mail goes at most once per key, a refresh is a compare-and-swap."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Institution
from accounts.tasks import NetworkTask
from crossposting.connect import notices, services


@shared_task(
    name="crossposting.notify_reauthorisation", base=NetworkTask, queue="default",
    ignore_result=True, acks_late=True,
)  # fmt: skip
def notify_reauthorisation(*, institution_id: int) -> int:
    """Tell owners that their accounts need re-authorisation (once per transition)."""
    return notices.notify_reauthorisation(institution_id)


@shared_task(
    name="crossposting.care_for_accounts_of", base=NetworkTask, queue="default",
    ignore_result=True, acks_late=True,
)  # fmt: skip
def care_for_accounts_of(*, institution_id: int) -> dict:
    """One institution: Threads refreshes, LinkedIn reminders and expiries, e-mails, cleanup."""
    return {
        "threads_refreshed": services.refresh_threads_tokens(institution_id),
        "linkedin_expired": services.expire_linkedin_tokens(institution_id),
        "linkedin_reminded": notices.remind_linkedin_expiry(institution_id),
        "reauthorisation_notices": notices.notify_reauthorisation(institution_id),
        "attempts_purged": services.purge_attempts(institution_id),
    }


@shared_task(name="crossposting.care_for_accounts", queue="default", ignore_result=True)
def care_for_accounts() -> int:
    """Beat, every five minutes: one task per institution."""
    ids = list(Institution.objects.values_list("id", flat=True))
    for institution_id in ids:
        care_for_accounts_of.apply_async(kwargs={"institution_id": institution_id})
    return len(ids)
