"""Settings of the live server the API example runs against: SQLite, tasks run at once."""

from podium.settings import *  # noqa: F403

# No worker in the test: webhook deliveries run in the server right after each commit.
CELERY_TASK_ALWAYS_EAGER = True
PODIUM_WEBHOOKS_ALLOW_PRIVATE = True
