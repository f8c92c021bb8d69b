"""The abuse benchmark (issue 11, "How it is checked"). See bench/README.md.

    .venv/bin/python -m bench.abuse                       # 2,000 posts, 15 s per phase
    .venv/bin/python -m bench.abuse --duration 30 --abusers 3

Seeds a small institution as ``bench.public_read`` does (its own database, ``podium_abuse``),
serves it with gunicorn under the production settings and ``platform/gunicorn.conf.py`` with the
server cache off (every page is rendered), and measures one public page's latency on loopback:
first alone, then while ``--abusers`` clients (3) send the largest bad bodies the API reads
(tests/api/bad_bodies.py: 511 KiB of empty attachments, deep JSON, unknown keys, lone
surrogates, pictures that decode big; ``--with-uploads`` adds large pictures that are accepted)
with an administrator's token, back to back, each from a process of its own. It prints p50 and
p99 of both phases and the ratio of the p99s; the goal is at most 2. Exit status 1 when it is
missed or any bad request got a 5xx.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import public_read
from bench.public_read import DIRECT_HEADERS, BenchError

GOAL_RATIO = 2.0


@dataclass(frozen=True)
class Latency:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Abuse:
    method: str
    path: str
    body: bytes
    content_type: str


def parse_options(argv: list[str], environ: dict[str, str]) -> tuple[public_read.Options, dict]:
    parser = argparse.ArgumentParser(prog="python -m bench.abuse", description=__doc__)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--abusers", type=int, default=3, help="concurrent bad clients")
    parser.add_argument(
        "--with-uploads",
        action="store_true",
        help="also send large pictures that are within the budget (accepted, 201)",
    )
    parser.add_argument("--keep-temp", action="store_true")
    known, rest = parser.parse_known_args(argv)
    defaults = {
        "BENCH_POSTS": "2000",
        "BENCH_STAFF": "20",
        "BENCH_SLUG": "abuse-academy",
        "BENCH_PORT": "8473",
        "BENCH_DATABASE_URL": "postgres://podium_app@127.0.0.1:5432/podium_abuse",
        "BENCH_DATABASE_OWNER_URL": "postgres://postgres@127.0.0.1:5432/podium_abuse",
    }
    options = public_read.parse_options(rest, {**defaults, **environ})
    options.keep_temp = known.keep_temp
    extra = {"duration": known.duration, "abusers": known.abusers, "uploads": known.with_uploads}
    return options, extra


def token_main(argv: list[str]) -> int:
    """Inside Django: a token of the institution's first administrator, printed once."""
    parser = argparse.ArgumentParser(prog="python -m bench.abuse token")
    parser.add_argument("--slug", required=True)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from accounts import services
    from accounts.models import Institution, Membership, Role
    from accounts.permissions import ROLE_SCOPES
    from accounts.tenancy import tenant_context

    institution = Institution.objects.get(slug=args.slug)
    with tenant_context(institution.id):
        admin = Membership.objects.filter(role=Role.ADMIN, status="active").order_by("id").first()
        _token, secret = services.create_token(
            admin, name="abuse benchmark", scopes=sorted(ROLE_SCOPES[admin.role])
        )
    print(secret)
    return 0


# Pictures within the budget: large but legitimate uploads, each about 0.7 s of decoding and
# encoding. They are bad requests only in number (the upload throttle's business), so they join
# the abuse with --with-uploads alone.
ACCEPTED_PICTURES = {"6300 x 6300 one-bit", "24-megapixel JPEG"}


def abuses(slug: str, *, with_uploads: bool = False) -> list[Abuse]:
    """Every bad body of the regression tests, at its largest, against this institution."""
    from tests.api.bad_bodies import bad_json_bodies, image_bombs

    base = f"/api/v1/institutions/{slug}/"
    bodies = [
        Abuse(b.method.upper(), base + b.tail, b.raw, b.content_type) for b in bad_json_bodies()
    ]
    boundary = "podiumabuse"
    for name, data in image_bombs().items():
        if name in ACCEPTED_PICTURES and not with_uploads:
            continue
        kind = "image/jpeg" if data.startswith(b"\xff\xd8") else "image/png"
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename={name}\r\n"
            f"Content-Type: {kind}\r\n\r\n"
        ).encode()
        body = head + data + f"\r\n--{boundary}--\r\n".encode()
        bodies.append(
            Abuse("POST", base + "media/", body, f"multipart/form-data; boundary={boundary}")
        )
    return bodies


def _request(port: int, method: str, path: str, headers: dict, body: bytes | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def measure_page(port: int, path: str, seconds: float) -> Latency:
    """Sequential GETs of one page for ``seconds``; latency percentiles in milliseconds."""
    timings, errors = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        status = _request(port, "GET", path, DIRECT_HEADERS)
        timings.append((time.perf_counter() - started) * 1000)
        errors += status != 200
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return Latency(len(timings), errors, statistics.median(timings), cuts[98])


def abuse(port: int, token: str, bodies: list[Abuse], stop, statuses) -> None:
    """Send the bad bodies back to back until told to stop; report the answers' statuses.

    Runs in a process of its own: threads would share the measuring process's interpreter lock
    and slow the page's measurement itself.
    """
    seen: list[int] = []
    index = 0
    while not stop.is_set():
        item = bodies[index % len(bodies)]
        headers = {
            **DIRECT_HEADERS,
            "Authorization": f"Bearer {token}",
            "Content-Type": item.content_type,
        }
        seen.append(_request(port, item.method, item.path, headers, item.body))
        index += 1
    statuses.put(seen)


@contextmanager
def gunicorn(options: public_read.Options, temp: Path) -> Iterator[None]:
    """gunicorn as in production, the server cache off (every page rendered), no API throttle
    (the worst case: DRF throttles before it parses a body, so 429s would make abuse cheap)."""
    public_read.flush_redis(options.redis_url)
    env = public_read.django_env(options, temp, server_cache=False)
    env["PODIUM_API_USER_RATE"] = "100000/minute"
    log = temp / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--config", str(public_read.GUNICORN_CONFIG)]
    with public_read.running(command, env, log) as server:
        public_read.wait_until_ready(server, options.port, "/healthz", DIRECT_HEADERS, log)
        time.sleep(1)  # let every worker boot
        yield


def under_load(
    port: int, page: str, token: str, bodies: list[Abuse], clients: int, seconds: float
) -> tuple[Latency, list[int]]:
    """The page's latency while ``clients`` processes send ``bodies`` back to back."""
    context = multiprocessing.get_context("fork")
    stop, statuses = context.Event(), context.Queue()
    processes = [
        context.Process(target=abuse, args=(port, token, bodies, stop, statuses))
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    time.sleep(1)  # let the requests take their workers
    try:
        latency = measure_page(port, page, seconds)
    finally:
        stop.set()
        seen = [status for _process in processes for status in statuses.get(timeout=120)]
        for process in processes:
            process.join()
    return latency, seen


def run(options: public_read.Options, duration: float, abusers: int, uploads: bool) -> int:
    if not public_read._port_is_free(options.port):
        raise BenchError(f"port {options.port} is taken: choose another with --port")
    temp = Path(tempfile.mkdtemp(prefix="podium-abuse-"))
    try:
        seeded = public_read.set_up(options, temp)
        env = public_read.django_env(options, temp)
        command = [sys.executable, "-m", "bench.abuse", "token", "--slug", seeded["slug"]]
        output = public_read._run(command, env, temp / "setup.log", "creating a token")
        token = output.strip().splitlines()[-1]
        page = f"/{seeded['slug']}/"
        bodies = abuses(seeded["slug"], with_uploads=uploads)
        # The control: as many clients sending small valid requests. Its ratio is what any
        # traffic of that concurrency costs the page on this machine; bad bodies should cost
        # no more than that.
        control = [Abuse("GET", "/api/v1/me", b"", "application/json")]
        with gunicorn(options, temp):
            measure_page(options.port, page, 2)  # warm-up
            alone = measure_page(options.port, page, duration)
            attacked, seen = under_load(options.port, page, token, bodies, abusers, duration)
            ordinary, _ = under_load(options.port, page, token, control, abusers, duration)
        return report(alone, attacked, ordinary, seen, abusers)
    finally:
        if not options.keep_temp:
            shutil.rmtree(temp, ignore_errors=True)


def report(
    alone: Latency, attacked: Latency, ordinary: Latency, seen: list[int], abusers: int
) -> int:
    ratio = attacked.p99_ms / alone.p99_ms
    statuses = {status: seen.count(status) for status in sorted(set(seen))}
    print(f"{'phase':<36}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}")
    for name, latency in (
        ("page alone", alone),
        (f"page, {abusers} clients of bad bodies", attacked),
        (f"page, {abusers} clients of GET /me", ordinary),
    ):
        print(
            f"{name:<36}{latency.requests:>10}{latency.errors:>8}"
            f"{latency.p50_ms:>10.1f}{latency.p99_ms:>10.1f}"
        )
    print(f"bad requests answered: {len(seen)} {statuses}")
    print(
        f"p99 ratio, bad bodies: {ratio:.2f}; small valid requests (control): "
        f"{ordinary.p99_ms / alone.p99_ms:.2f}"
    )
    verdict = "PASS" if ratio <= GOAL_RATIO and not attacked.errors else "FAIL"
    print(f"goal: bad bodies' p99 ratio <= {GOAL_RATIO:.0f}: {verdict}")
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    return 0 if verdict == "PASS" and not server_errors else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGTERM, _interrupt)
    if argv[:1] == ["token"]:
        return token_main(argv[1:])
    try:
        options, extra = parse_options(argv, dict(os.environ))
        return run(options, extra["duration"], extra["abusers"], extra["uploads"])
    except BenchError as error:
        print(f"abuse: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
