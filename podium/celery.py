"""The Celery application. Tasks live in each app's tasks.py; the beat schedule lives here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podium.settings")

app = Celery("podium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # The sweeper: the database is the queue of record; this finds what is due every minute.
    "feeds.publish_due_posts": {"task": "feeds.publish_due_posts", "schedule": 60.0},
}
