"""Exactly once under faults: deliveries to the five fake networks while a real Celery worker is
killed with SIGKILL at random moments, the fakes drop 5% of connections after committing the post,
and Redis (the broker) is restarted once. Afterwards every delivery must be sent or failed with a
reason, and each fake must hold exactly one copy per sent delivery.

    DATABASE_URL=postgres://podium_app@127.0.0.1:5432/<db> \\
    DATABASE_OWNER_URL=postgres://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python -m bench.crossposting_chaos --deliveries 1000

It migrates the database as the owner unless ``--no-migrate`` (the test suite runs it against its
own test database). Exit status 0 means zero duplicates and zero lost.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time

from bench.crossposting_rig import (
    Worker,
    publish_posts,
    seed_institution,
    setup_django,
    start_fakes,
    start_redis,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument(
        "--drop", type=float, default=0.05, help="share of posts dropped after commit"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pool", default="threads", help="Celery pool (threads start fastest)")
    parser.add_argument("--kill-every", type=float, default=6.0, help="mean seconds between kills")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds after publishing")
    parser.add_argument("--redis-restart-after", type=float, default=8.0)
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args(argv)

    redis = start_redis()
    setup_django()
    from django.core.management import call_command
    from django.db import connections

    if not args.no_migrate and "owner" in connections.databases:
        call_command("migrate", database="owner", verbosity=0)

    from accounts.tenancy import tenant_context
    from crossposting import delivery
    from crossposting.models import Delivery, DeliveryAttempt, DeliveryState

    fakes = start_fakes(drop=args.drop)
    worker = Worker(
        args.concurrency,
        pool=args.pool,
        env={
            "PODIUM_DELIVERY_LEASE_SECONDS": "5",
            "PODIUM_NETWORK_TIMEOUT": "2",
            "PODIUM_DELIVERY_BACKOFF_SECONDS": "0.5",
            "PODIUM_DELIVERY_MAX_ATTEMPTS": "25",
        },
    )
    from django.conf import settings

    settings.PODIUM_DELIVERY_LEASE_SECONDS = 5
    settings.PODIUM_DELIVERY_REENQUEUE_SECONDS = 20
    stop = threading.Event()
    redis_restarts = 0
    try:
        institution, author, accounts = seed_institution(fakes, "chaos")
        worker.start()
        posts = max(1, args.deliveries // len(accounts))
        total = posts * len(accounts)
        started = time.monotonic()

        def sent_count() -> int:
            with tenant_context(institution.id):
                return Delivery.objects.filter(state=DeliveryState.SENT).count()

        def killer() -> None:
            # Kill at a random moment once the restarted worker has sent something, so that a
            # slow start on a busy machine cannot starve the run.
            while not stop.wait(random.uniform(0.5, 2 * args.kill_every)):
                before, waited = sent_count(), 0.0
                while not stop.is_set() and sent_count() == before and waited < 60:
                    time.sleep(0.2)
                    waited += 0.2
                time.sleep(random.uniform(0.0, 1.0))
                worker.kill()
                time.sleep(random.uniform(0.0, 0.5))
                if not stop.is_set():
                    worker.start()

        def restart_redis_once() -> None:
            nonlocal redis_restarts
            if not stop.wait(args.redis_restart_after):
                redis.restart()  # every queued message is lost; the sweeper finds them again
                redis_restarts += 1
                print(f"redis restarted after {time.monotonic() - started:.1f}s")

        def sweeper() -> None:
            # The beat's job, every second here instead of every minute.
            while not stop.wait(1.0):
                try:
                    delivery.sweep_institution(institution.id)
                except Exception as error:
                    print(f"sweep: {error!r}")

        for job in (killer, restart_redis_once, sweeper):
            threading.Thread(target=job, daemon=True).start()
        publish_posts(author, accounts, posts, "Chaos")
        print(f"published {posts} posts -> {total} deliveries in {time.monotonic() - started:.1f}s")

        def open_count() -> int:
            with tenant_context(institution.id):
                return Delivery.objects.exclude(
                    state__in=(DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.CANCELLED)
                ).count()

        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline and open_count():
            time.sleep(1.0)
        elapsed = time.monotonic() - started
        stop.set()
        worker.stop()
        if worker.process is None and open_count():
            worker.start()
        worker.stop()

        with tenant_context(institution.id):
            rows = list(Delivery.objects.values("network", "state", "remote_id", "last_error"))
            unknown = DeliveryAttempt.objects.filter(outcome="unknown").count()
            attempts = DeliveryAttempt.objects.count()
        ok = True
        print(
            f"{'network':10} {'sent':>5} {'failed':>6} {'open':>5} {'copies':>6} "
            f"{'created':>7} {'dup':>4} {'lost':>4}"
        )
        for network, fake in fakes.items():
            mine = [r for r in rows if r["network"] == network]
            sent = {r["remote_id"] for r in mine if r["state"] == DeliveryState.SENT}
            failed = [r for r in mine if r["state"] == DeliveryState.FAILED]
            still_open = [
                r for r in mine if r["state"] not in (DeliveryState.SENT, DeliveryState.FAILED)
            ]
            copies = fake.copy_ids()
            duplicates = fake.created - len(sent)
            lost = len(sent - copies)
            print(
                f"{network:10} {len(sent):5} {len(failed):6} {len(still_open):5} {len(copies):6} "
                f"{fake.created:7} {duplicates:4} {lost:4}"
            )
            if (
                still_open
                or duplicates
                or lost
                or copies != sent
                or any(not r["last_error"] for r in failed)
            ):
                ok = False
        print(
            f"deliveries {len(rows)}, attempts {attempts} ({unknown} unknown, reconciled), "
            f"worker kills {worker.kills}, redis restarts {redis_restarts}, {elapsed:.1f}s"
        )
        print("EXACTLY ONCE: OK" if ok else "EXACTLY ONCE: FAILED")
        return 0 if ok else 1
    finally:
        stop.set()
        worker.stop()
        for fake in fakes.values():
            fake.stop()
        redis.close()


if __name__ == "__main__":
    sys.exit(main())
