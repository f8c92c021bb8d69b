"""One network's outage never delays the others: a real Celery worker with docker-compose's
settings (prefork, concurrency 2, every network's queue) delivers posts to the five fake networks
while one of them (Mastodon by default) stalls: it answers nothing until the network timeout.

    DATABASE_URL=postgres://podium_app@127.0.0.1:5432/<db> \\
    DATABASE_OWNER_URL=postgres://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python -m bench.crossposting_isolation [--posts 10] [--deadline 40]

It prints when the other networks' deliveries were all sent (goal: within ``--deadline``
seconds, where a worker whose slots waited on the stalled network would need several times
longer), then lets the stalled network answer again and checks that its deliveries arrive too,
one copy each. Exit status 0 when both hold. ``tests/crossposting/test_network_isolation.py``
runs it against the test database.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--stalled", default="mastodon", help="the network that stops answering")
    parser.add_argument("--timeout", type=float, default=4.0, help="network timeout (seconds)")
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds for the others")
    parser.add_argument(
        "--max-stalls", type=int, default=4, help="tries that may wait for the stalled network"
    )
    parser.add_argument("--recovery", type=float, default=120.0, help="seconds after healing")
    parser.add_argument("--concurrency", type=int, default=2, help="docker-compose default: 2")
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

    fakes = start_fakes(latency=0.05)
    stalled = fakes[args.stalled]
    stalled.faults.latency = 10 * args.timeout  # every request hangs past the timeout
    worker = Worker(
        args.concurrency,
        env={
            "PODIUM_NETWORK_TIMEOUT": str(args.timeout),
            "PODIUM_DELIVERY_BACKOFF_SECONDS": "0.5",
            "PODIUM_DELIVERY_MAX_ATTEMPTS": "50",
        },
    )
    stop = threading.Event()
    try:
        institution, author, accounts = seed_institution(fakes, "isolation")

        def states() -> dict[str, list[str]]:
            with tenant_context(institution.id):
                rows = Delivery.objects.values_list("network", "state")
                found: dict[str, list[str]] = {}
                for network, state in rows:
                    found.setdefault(network, []).append(state)
                return found

        def stalled_tries() -> int:
            """Tries that held a worker slot until the network timeout."""
            with tenant_context(institution.id):
                tries = DeliveryAttempt.objects.filter(delivery__network=args.stalled)
                return sum(
                    (ended - started).total_seconds() >= 0.9 * args.timeout
                    for started, ended in tries.values_list("started_at", "ended_at")
                )

        def sweeper() -> None:
            # The beat's job, every two seconds here instead of every minute.
            while not stop.wait(2.0):
                try:
                    delivery.sweep_institution(institution.id)
                except Exception as error:
                    print(f"sweep: {error!r}")

        worker.start()
        publish_posts(author, accounts, args.posts, "Isolation")
        started = time.monotonic()
        threading.Thread(target=sweeper, daemon=True).start()
        others_done = None
        while time.monotonic() - started < 3 * args.deadline:
            worker.check_alive()
            now = states()
            others = [s for n, found in now.items() if n != args.stalled for s in found]
            if others and all(s == DeliveryState.SENT for s in others):
                others_done = time.monotonic() - started
                break
            time.sleep(0.25)
        now = states()
        stalls = stalled_tries()
        waiting = sum(s != DeliveryState.SENT for s in now.get(args.stalled, []))
        sent_meanwhile = len(now.get(args.stalled, [])) - waiting
        print(
            f"{args.stalled} stalled (answers after {stalled.faults.latency:.0f}s, timeout "
            f"{args.timeout:.0f}s): the other networks' "
            f"{sum(len(v) for n, v in now.items() if n != args.stalled)} deliveries "
            + (f"all sent after {others_done:.1f}s" if others_done else "NOT all sent")
            + f" (goal < {args.deadline:.0f}s); {args.stalled}: {sent_meanwhile} sent, "
            f"{waiting} waiting; {stalls} tries held a slot until the timeout "
            f"(goal <= {args.max_stalls}, where every delivery would otherwise)"
        )

        stalled.faults.latency = 0.05
        healed = time.monotonic()
        recovered = None
        while time.monotonic() - healed < args.recovery:
            worker.check_alive()
            if all(s == DeliveryState.SENT for found in states().values() for s in found):
                recovered = time.monotonic() - healed
                break
            time.sleep(0.5)
        with tenant_context(institution.id):
            sent = set(
                Delivery.objects.filter(network=args.stalled, state=DeliveryState.SENT).values_list(
                    "remote_id", flat=True
                )
            )
        copies = stalled.copy_ids()
        print(
            f"{args.stalled} answers again: "
            + (f"all its deliveries sent after {recovered:.1f}s" if recovered else "NOT all sent")
            + f"; {len(sent)} sent, {len(copies)} copies on the network, "
            f"{stalled.created - len(sent)} duplicates"
        )
        ok = (
            others_done is not None
            and others_done < args.deadline
            and stalls <= args.max_stalls
            and recovered is not None
            and copies == sent
            and stalled.created == len(sent)
        )
        print("ISOLATION: OK" if ok else "ISOLATION: FAILED")
        return 0 if ok else 1
    finally:
        stop.set()
        worker.stop()
        for fake in fakes.values():
            fake.stop()
        redis.close()


if __name__ == "__main__":
    sys.exit(main())
