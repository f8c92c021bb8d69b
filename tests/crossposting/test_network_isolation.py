"""One network's outage never delays the others, end to end: a real Celery worker with
docker-compose's settings listening to every network's queue, PostgreSQL, Redis, and a fake
Mastodon that stops answering (every request hangs past the network timeout).

The suite runs ``bench.crossposting_isolation`` against its own test database (and its own
redis-server): the other networks' deliveries must all be sent while Mastodon is stalled, with
at most a few tries held up by it, and Mastodon's must all arrive, once each, after it recovers.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.conftest import postgres_only
from tests.crossposting.test_exactly_once import _url

ROOT = settings.BASE_DIR


@postgres_only
@pytest.mark.slow
def test_a_stalled_network_holds_up_neither_the_other_networks_nor_its_own_later_copies(
    transactional_db,
):
    env = os.environ.copy() | {"DATABASE_URL": _url("default")}
    env.pop("DATABASE_OWNER_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "bench.crossposting_isolation", "--posts", "10", "--no-migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    report = "\n".join(line for line in run.stdout.splitlines() if "httpx" not in line)
    print(report)
    assert run.returncode == 0, report + run.stderr[-3000:]
    assert "ISOLATION: OK" in report
