"""The Celery application. Tasks live in each app's tasks.py; the beat schedule lives here."""

import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podium.settings")

app = Celery("podium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Connecting network accounts keeps its tasks beside its services (crossposting/connect/tasks.py).
app.autodiscover_tasks(["crossposting.connect"])

app.conf.beat_schedule = {
    # The sweeper: the database is the queue of record; this finds what is due every minute.
    "feeds.publish_due_posts": {"task": "feeds.publish_due_posts", "schedule": 60.0},
    # Approval deadlines: reviewers warned before, administrators told when one has passed.
    "moderation.escalate_deadlines": {"task": "moderation.escalate_deadlines", "schedule": 300.0},
    # Cross-posting's sweeper: expired leases, the pause, due and lost deliveries.
    "crossposting.sweep": {"task": "crossposting.sweep", "schedule": 60.0},
    # Network accounts: re-authorisation e-mails, LinkedIn expiry reminders, Threads refreshes.
    "crossposting.care_for_accounts": {"task": "crossposting.care_for_accounts", "schedule": 300.0},
    # Webhooks: expired leases, due and lost events, expired idempotency keys.
    "accounts.sweep_webhooks": {"task": "accounts.sweep_webhooks", "schedule": 60.0},
}


@task_postrun.connect
def close_broken_connections(task=None, **_kwargs) -> None:
    """After each task, what Django does after each request: close a database connection that
    broke or outlived CONN_MAX_AGE (the next task opens a new one); keep the others. Not for a
    task run in the caller's process (``apply``, eager mode): its connection is the caller's."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
