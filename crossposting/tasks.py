"""Celery tasks of cross-posting: thin wrappers around ``crossposting.delivery``."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Institution
from accounts.tasks import NetworkTask
from crossposting import delivery


# No autoretry: the claim, the lease and the sweeper decide when a delivery is tried again. A
# message redelivered after a worker died finds the delivery claimed or done and does nothing.
# Messages go to their network's queue (``crossposting.queues.enqueue``); "default" is only the
# fallback of a message sent without one.
@shared_task(
    name="crossposting.deliver",
    base=NetworkTask,
    queue="default",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver(delivery_id: int, *, institution_id: int) -> str:
    """Claim, send and record one delivery."""
    return delivery.deliver(delivery_id, institution_id)


@shared_task(name="crossposting.sweep", queue="default", ignore_result=True)
def sweep() -> int:
    """The sweeper (beat, every minute): one sweep task per institution."""
    ids = list(Institution.objects.values_list("id", flat=True))
    for institution_id in ids:
        sweep_institution.apply_async(kwargs={"institution_id": institution_id})
    return len(ids)


@shared_task(
    name="crossposting.sweep_institution",
    base=NetworkTask,
    queue="default",
    acks_late=True,
    ignore_result=True,
)
def sweep_institution(*, institution_id: int) -> dict:
    """Reclaim expired leases, hold or release, enqueue due deliveries of one institution."""
    return delivery.sweep_institution(institution_id)
