"""The API example (docs/examples/publish_with_webhook.py) runs against a live server.

The server is ``manage.py runserver`` on a free loopback port with its own SQLite database and
Celery tasks run at once; the example registers its own receiver on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "publish_with_webhook.py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.pop("PYTEST_XDIST_WORKER", None)
    port = _free_port()
    env.update(
        DJANGO_SETTINGS_MODULE="tests.integrations.live_settings",
        PODIUM_VAR_DIR=str(tmp_path),
        PODIUM_MEDIA_ROOT=str(tmp_path / "media"),
        PODIUM_BASE_URL=f"http://localhost:{port}",
        PYTHONPATH=str(ROOT),
    )
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    setup = subprocess.run(
        [python, "tests/integrations/live_setup.py"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    cast = json.loads(setup.stdout.strip().splitlines()[-1])
    server = subprocess.Popen(
        [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/api/v1/me", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        yield base, cast
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_example_publishes_a_post_and_receives_the_signed_webhook(live_server_env):
    base, cast = live_server_env
    env = {
        **os.environ,
        "PODIUM_URL": base,
        "PODIUM_INSTITUTION": cast["institution"],
        "PODIUM_AUTHOR_TOKEN": cast["author"],
        "PODIUM_REVIEWER_TOKEN": cast["admin"],
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "webhook post.published" in result.stdout
