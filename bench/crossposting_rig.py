"""The rig of the cross-posting runs (``bench.crossposting_chaos``, ``bench.fanout``): a Redis of
their own on a free loopback port, the five fake networks, a real Celery worker process that can
be killed, and an institution with one account on each network.

Import order matters: ``start_redis`` sets ``REDIS_URL`` before Django reads its settings.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A redis-server of our own (no persistence), so restarting it disturbs nobody else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="podium-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.folder,
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> None:
        """Kill it (everything queued is lost) and start an empty one on the same port."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_redis() -> OwnRedis:
    redis = OwnRedis()
    redis.start()
    # SIGTERM (timeout, a CI cancel) unwinds like Ctrl-C, and the server goes with the process
    # whatever fails first (closing twice is harmless).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    atexit.register(redis.close)
    os.environ["REDIS_URL"] = redis.url
    return redis


class Worker:
    """``celery -A podium worker`` as a process group of its own, killable with SIGKILL."""

    def __init__(
        self,
        concurrency: int,
        env: dict[str, str],
        pool: str = "prefork",
        queues: str | None = None,
        prefetch: int | None = None,
    ) -> None:
        from crossposting.queues import worker_queues

        self.concurrency = concurrency
        self.env = os.environ.copy() | env
        self.pool = pool
        # The queues docker-compose's worker listens to (default and every network's).
        self.queues = queues or ",".join(worker_queues())
        self.prefetch = prefetch
        self.process: subprocess.Popen | None = None
        self.kills = 0
        # The worker's own output, shown when it dies by itself (an import error, a crash).
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (open for the worker's lifetime)
            prefix="podium-worker-", suffix=".log", delete=False
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "podium",
                "worker",
                "--queues",
                self.queues,
                "--concurrency",
                str(self.concurrency),
                "--pool",
                self.pool,
                *(["--prefetch-multiplier", str(self.prefetch)] if self.prefetch else []),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"rig-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def check_alive(self) -> None:
        """Raise with the worker's last words when it stopped without being told to."""
        if self.process is not None and self.process.poll() is not None:
            self.log.flush()
            tail = Path(self.log.name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the Celery worker exited ({self.process.returncode}):\n{tail}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the worker's living processes (Linux)."""
        if self.process is None:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid:  # the process group of the worker
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def kill(self) -> None:
        """SIGKILL the worker and its pool children (its own process group)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.kills += 1
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podium.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def start_fakes(*, latency: float = 0.0, drop: float = 0.0) -> dict:
    from tests.crossposting.fakes.networks import FAKES

    fakes = {name: cls() for name, cls in FAKES.items()}
    for fake in fakes.values():
        fake.faults.latency = latency
        fake.faults.drop_after_commit = drop
        fake.start()
    return fakes


def seed_institution(fakes: dict, label: str):
    """A fresh institution (no review) with an author and one default account per network."""
    from accounts.models import Role
    from tests.crossposting.conftest import connect
    from tests.factories import InstitutionFactory, MembershipFactory

    suffix = f"{label}-{os.getpid()}-{int(time.time())}"
    institution = InstitutionFactory(slug=suffix, name=f"Rig {suffix}", review_required=False)
    author = MembershipFactory(
        institution=institution,
        role=Role.ADMIN,
        handle="author",
        user__email=f"author-{suffix}@example.org",
    )
    author.reviewer = MembershipFactory(
        institution=institution,
        role=Role.REVIEWER,
        handle="reviewer",
        user__email=f"reviewer-{suffix}@example.org",
    )
    accounts = {
        network: connect(institution, fake, network, name=f"rig{os.getpid()}")
        for network, fake in fakes.items()
    }
    return institution, author, accounts


def publish_posts(author, accounts: dict, count: int, label: str) -> list[int]:
    """Publish ``count`` posts through the real services, each to every account."""
    from crossposting import services
    from feeds import services as feeds
    from feeds.services import PostContent

    ids = []
    for number in range(count):
        for _try in range(20):
            try:
                text = f"{label} post number {number} of {count} (try {_try})"
                post = feeds.create_post(author, PostContent(text, "en"))
                services.choose_targets(post, list(accounts.values()), by=author)
                post = feeds.submit_post(post, author)
                if post.state == "submitted":  # a review policy holds it: a colleague approves
                    feeds.approve_post(post, by=author.reviewer)
            except Exception:
                time.sleep(0.5)
                continue
            ids.append(post.id)
            break
    return ids
