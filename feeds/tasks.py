"""Celery tasks of feeds: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Institution
from accounts.tasks import TenantTask
from feeds import services


@shared_task(name="feeds.publish_due_posts", queue="default", ignore_result=True)
def publish_due_posts() -> int:
    """The sweeper (beat, every minute): hand each institution's due posts to publish_due."""
    ids = Institution.objects.filter(publishing_paused=False).values_list("id", flat=True)
    for institution_id in ids:
        publish_due.apply_async(kwargs={"institution_id": institution_id})
    return len(ids)


@shared_task(
    name="feeds.publish_due", base=TenantTask, queue="default", ignore_result=True,
    acks_late=True,
)  # fmt: skip
def publish_due(*, institution_id: int) -> int:
    """Publish one institution's due posts. Idempotent: published posts are no longer due."""
    institution = Institution.objects.filter(id=institution_id).first()
    if institution is None:  # deleted since the sweeper looked: nothing left to publish
        return 0
    return services.publish_due_posts_of(institution)
