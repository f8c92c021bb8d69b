"""Fan-out: 1,000 posts to 5 accounts each (5,000 deliveries) against the fake networks with
100 ms latency per request, on a real Celery worker with the settings of docker-compose.yml
(prefork pool, ``CELERY_WORKER_CONCURRENCY`` default 2, ``CELERY_WORKER_PREFETCH_MULTIPLIER``,
acks late, listening to the default queue and every network's deliveries queue).

    DATABASE_URL=postgres://podium_app@127.0.0.1:5432/<db> \\
    DATABASE_OWNER_URL=postgres://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python -m bench.fanout [--posts 1000] [--concurrency 2]

Two phases:

1. Throughput: the posts are published (rows written as the publish transaction writes them,
   deliveries through ``crossposting.services.deliveries_for_publication``) with the worker
   stopped, then the worker starts and drains the backlog. Deliveries per second are compared
   with the ideal, worker concurrency / latency (each slot waiting on one 100 ms call at a time).
   A Threads delivery needs three calls (container, publish, permalink), the others one: the
   run counts the round trips per delivery and prints the ratio per network call beside the
   ratio per delivery (the goal is on the latter), and the worker's CPU time per delivery.
2. Delay: posts are published at a steady 70% of the measured rate with the worker running, and
   the delay from publish time to sent is reported (p50, p95).

Goals: ratio >= 0.60; p95 delay < 5 s. ``--delay-posts 0`` runs the first phase only. The
machine's load average is printed: on a shared machine the ratio falls with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from bench.crossposting_rig import Worker, seed_institution, setup_django, start_fakes, start_redis

LATENCY = 0.1


def publish_rows(institution, author, accounts: dict, count: int, label: str) -> list[int]:
    """Published posts with their deliveries, written as the publish transaction would."""
    from django.utils import timezone

    from accounts.tenancy import tenant_context
    from crossposting import services
    from crossposting.models import PostTarget
    from feeds.models import Post, PostState, Revision

    ids = []
    for number in range(count):
        with tenant_context(institution.id):
            now = timezone.now()
            body = f"{label} {number}: the choir sings on Friday at the town hall #music"
            post = Post.objects.create(
                institution=institution, author=author, state=PostState.PUBLISHED, published_at=now
            )
            revision = Revision.objects.create(
                institution=institution,
                post=post,
                number=1,
                body=body,
                language="en",
                body_html=f"<p>{body}</p>",
                content_hash=f"{post.id:064d}",
                created_by=author,
                published_at=now,
            )
            post.latest_revision = post.public_revision = revision
            post.save(update_fields=["latest_revision", "public_revision"])
            for account in accounts.values():
                PostTarget.objects.create(
                    institution=institution, post=post, revision=revision, account=account
                )
            services._enqueue(services.deliveries_for_publication(post, revision, now))
        ids.append(post.id)
    return ids


def sent_rows(institution_id: int):
    from accounts.tenancy import tenant_context
    from crossposting.models import Delivery, DeliveryState

    with tenant_context(institution_id):
        return list(
            Delivery.objects.filter(state=DeliveryState.SENT).values_list("published_at", "sent_at")
        )


def open_count(institution_id: int) -> int:
    from accounts.tenancy import tenant_context
    from crossposting.models import Delivery, DeliveryState

    with tenant_context(institution_id):
        return Delivery.objects.exclude(
            state__in=(DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.CANCELLED)
        ).count()


def wait_until_done(institution_id: int, timeout: float, worker: Worker) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and open_count(institution_id):
        worker.check_alive()
        time.sleep(0.5)


def network_calls(fakes: dict) -> int:
    """HTTP requests the fakes have answered so far."""
    return sum(len(fake.requests) for fake in fakes.values())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--delay-posts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2, help="docker-compose default: 2")
    parser.add_argument("--pool", default="prefork", help="Celery pool (docker-compose: prefork)")
    parser.add_argument(
        "--prefetch",
        type=int,
        default=None,
        help="prefetch multiplier (default: CELERY_WORKER_PREFETCH_MULTIPLIER, as docker-compose)",
    )
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args(argv)

    redis = start_redis()
    setup_django()
    from django.core.management import call_command
    from django.db import connections

    if not args.no_migrate and "owner" in connections.databases:
        call_command("migrate", database="owner", verbosity=0)
    fakes = start_fakes(latency=LATENCY)
    # Threads allows 250 posts a day per profile (the fake enforces it); this run measures the
    # engine, not the quota.
    fakes["threads"].publish_quota = 10**9
    worker = Worker(args.concurrency, env={}, pool=args.pool, prefetch=args.prefetch)
    try:
        institution, author, accounts = seed_institution(fakes, "fanout")
        # Phase 1: a backlog of 1,000 posts x 5 accounts, then the worker drains it.
        started = time.monotonic()
        publish_rows(institution, author, accounts, args.posts, "Fan-out")
        total = args.posts * len(accounts)
        print(
            f"published {args.posts} posts -> {total} deliveries "
            f"in {time.monotonic() - started:.1f}s"
        )
        calls_before = network_calls(fakes)
        worker.start()
        wait_until_done(institution.id, timeout=3600, worker=worker)
        cpu = worker.cpu_seconds()
        rows = sent_rows(institution.id)
        sent_times = sorted(sent for _published, sent in rows)
        # From the first copy sent to the last: the worker's start-up is not delivery time.
        span = (sent_times[-1] - sent_times[0]).total_seconds()
        rate = (len(sent_times) - 1) / span
        ideal = args.concurrency / LATENCY
        # Threads needs three calls per post (container, publish, permalink), the others one:
        # the ideal counts a delivery as one latency, so the ratio per network call shows how
        # much of each slot's time is spent waiting on the network at all.
        per_delivery = (network_calls(fakes) - calls_before) / len(rows)
        print(
            f"phase 1: {len(rows)} of {total} sent in {span:.1f}s: {rate:.1f} deliveries/s; "
            f"ideal {ideal:.1f}/s; ratio {rate / ideal:.2f} (goal >= 0.60)"
        )
        print(
            f"network round trips per delivery: {per_delivery:.2f}; "
            f"{rate * per_delivery:.1f} calls/s; ratio per network call "
            f"{rate * per_delivery / ideal:.2f} (the best a slot can do is 1.00)"
        )
        print(
            f"worker CPU per delivery: {cpu / len(rows) * 1000:.1f} ms (start-up included); "
            f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        if args.delay_posts <= 0:
            return 0

        # Phase 2: a steady load at 70% of that rate; publish-to-sent delay.
        fresh, fresh_author, fresh_accounts = seed_institution(fakes, "fanout-delay")
        interval = len(fresh_accounts) / (0.7 * rate)
        for number in range(args.delay_posts):
            tick = time.monotonic()
            publish_rows(fresh, fresh_author, fresh_accounts, 1, f"Steady {number}")
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))
        wait_until_done(fresh.id, timeout=600, worker=worker)
        delays = [(sent - published).total_seconds() for published, sent in sent_rows(fresh.id)]
        p50, p95 = statistics.median(delays), percentile(delays, 0.95)
        print(
            f"phase 2: {len(delays)} deliveries at {0.7 * rate:.1f}/s: publish-to-sent "
            f"p50 {p50:.2f}s, p95 {p95:.2f}s (goal p95 < 5s)"
        )
        ok = rate / ideal >= 0.60 and p95 < 5.0
        print("FAN-OUT: OK" if ok else "FAN-OUT: BELOW GOAL")
        return 0 if ok else 1
    finally:
        worker.stop()
        for fake in fakes.values():
            fake.stop()
        redis.close()


if __name__ == "__main__":
    sys.exit(main())
