"""The Celery base task for work inside one institution.

Tasks take ids plus ``institution_id`` (a keyword argument, never a model instance); the base
task runs the body inside ``tenant_context(institution_id)``, so the fail-closed managers and
row-level security apply to background work exactly as to requests.
"""

from __future__ import annotations

from celery import Task, shared_task


class TenantTask(Task):
    """Runs the task inside the institution given as the keyword argument ``institution_id``."""

    abstract = True

    def __call__(self, *args, **kwargs):
        from accounts.tenancy import tenant_context

        institution_id = kwargs.get("institution_id")
        if not isinstance(institution_id, int) or isinstance(institution_id, bool):
            raise TypeError(
                f"Task {self.name} needs institution_id=<int> as a keyword argument, "
                f"got {institution_id!r}"
            )
        with tenant_context(institution_id):
            return self.run(*args, **kwargs)


class NetworkTask(TenantTask):
    """A ``TenantTask`` that checks ``institution_id`` but opens no transaction around the body:
    the body calls the network with no transaction open and enters the institution itself."""

    abstract = True

    def __call__(self, *args, **kwargs):
        institution_id = kwargs.get("institution_id")
        if not isinstance(institution_id, int) or isinstance(institution_id, bool):
            raise TypeError(
                f"Task {self.name} needs institution_id=<int> as a keyword argument, "
                f"got {institution_id!r}"
            )
        return self.run(*args, **kwargs)


# No autoretry: the outbox row, its lease and the sweeper decide when an event is sent again.
@shared_task(
    name="accounts.deliver_webhook", base=NetworkTask, queue="default",
    acks_late=True, reject_on_worker_lost=True, ignore_result=True,
)  # fmt: skip
def deliver_webhook(event_id: int, *, institution_id: int) -> str:
    """Claim, sign, send and record one webhook event."""
    from accounts import webhooks

    return webhooks.deliver(event_id, institution_id)


@shared_task(name="accounts.sweep_webhooks", queue="default", ignore_result=True)
def sweep_webhooks() -> int:
    """The sweeper (beat, every minute): one webhook sweep per institution."""
    from accounts.models import Institution

    ids = list(Institution.objects.values_list("id", flat=True))
    for institution_id in ids:
        sweep_webhooks_of.apply_async(kwargs={"institution_id": institution_id})
    return len(ids)


@shared_task(
    name="accounts.sweep_webhooks_of", base=NetworkTask, queue="default",
    acks_late=True, ignore_result=True,
)  # fmt: skip
def sweep_webhooks_of(*, institution_id: int) -> dict:
    """Expired leases back to pending, due events enqueued, expired idempotency keys dropped."""
    from accounts import webhooks

    return webhooks.sweep_institution(institution_id)


# A page fetch that may fail; an admin checks again from the settings page. No retries.
@shared_task(
    name="accounts.verify_website", base=NetworkTask, queue="default", ignore_result=True,
)  # fmt: skip
def verify_website(*, institution_id: int) -> bool:
    """Check that the institution's website links back to its Podium page (rel="me")."""
    from accounts import websites
    from accounts.models import Institution

    institution = Institution.objects.filter(id=institution_id).first()
    return websites.verify_website(institution) if institution is not None else False
