"""Exactly once under faults, end to end: a real Celery worker killed with SIGKILL at random
moments, fakes that drop 5% of connections after committing, Redis restarted once, PostgreSQL.

The suite runs ``bench.crossposting_chaos`` with 150 deliveries against its own test database
(and its own redis-server); the 1,000-delivery run is ``python -m bench.crossposting_chaos``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connections

from tests.conftest import postgres_only

ROOT = settings.BASE_DIR


def _url(alias: str) -> str:
    db = connections[alias].settings_dict
    user = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@postgres_only
@pytest.mark.slow
def test_every_delivery_is_sent_once_or_failed_with_a_reason_through_kills_and_a_redis_restart(
    transactional_db,
):
    env = os.environ.copy() | {"DATABASE_URL": _url("default")}
    env.pop("DATABASE_OWNER_URL", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.crossposting_chaos",
            "--deliveries",
            "150",
            "--kill-every",
            "3",
            "--redis-restart-after",
            "6",
            "--timeout",
            "150",
            "--no-migrate",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    report = "\n".join(line for line in run.stdout.splitlines() if "httpx" not in line)
    print(report)
    assert run.returncode == 0, report + run.stderr[-3000:]
    assert "EXACTLY ONCE: OK" in report
