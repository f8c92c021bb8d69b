"""Celery tasks of moderation: notices and the deadline sweep, thin wrappers around
``moderation.notifications``. Each is idempotent: a notice is sent at most once per key."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Institution
from accounts.tasks import TenantTask
from moderation import notifications


@shared_task(
    name="moderation.notify_submission", base=TenantTask, queue="default", ignore_result=True,
    acks_late=True,
)  # fmt: skip
def notify_submission(*, institution_id: int, post_id: int, revision: int) -> int:
    """Tell reviewers about a submitted revision."""
    return notifications.notify_submission(post_id, revision)


@shared_task(
    name="moderation.notify_decision", base=TenantTask, queue="default", ignore_result=True,
    acks_late=True,
)  # fmt: skip
def notify_decision(*, institution_id: int, decision_id: int) -> int:
    """Tell an author about a decision on their post."""
    return notifications.notify_decision(decision_id)


@shared_task(
    name="moderation.escalate_deadlines_of", base=TenantTask, queue="default",
    ignore_result=True, acks_late=True,
)  # fmt: skip
def escalate_deadlines_of(*, institution_id: int) -> int:
    """One institution's approaching and passed approval deadlines."""
    institution = Institution.objects.filter(id=institution_id).first()
    if institution is None:
        return 0
    return notifications.escalate_deadlines(institution)


@shared_task(name="moderation.escalate_deadlines", queue="default", ignore_result=True)
def escalate_deadlines() -> int:
    """Beat, every five minutes: sweep each institution (those without a policy return at once)."""
    ids = list(Institution.objects.values_list("id", flat=True))
    for institution_id in ids:
        escalate_deadlines_of.apply_async(kwargs={"institution_id": institution_id})
    return len(ids)
