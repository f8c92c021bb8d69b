"""The public read benchmark (public feeds issue, "How it is checked"). See bench/README.md.

    .venv/bin/python -m bench.public_read            # full scale: 200 staff, 100,000 posts
    .venv/bin/python -m bench.public_read --rounds 3     # medians over 3 rounds (noisy machine)
    .venv/bin/python -m bench.public_read --posts 5000 --duration 5 --phases warm

Seeds one institution on PostgreSQL (reused while the scale stays the same), serves it with
gunicorn under the production settings and ``platform/gunicorn.conf.py``, and loads each target
with ``wrk``: a trivial Django view (the reference), the institution page, a profile page, a
permalink and an Atom feed, first with the server cache off (cold), then on (warm), then through
the production proxy config (``platform/nginx``) against a static file served by that nginx.
Each figure is printed as a ratio to its reference measured in the same run, with PASS or FAIL
against the goals in ``bench.report.GOALS``; results also go to bench/results/ as JSON.

Before the load, the run prints the statements each cold page sends to PostgreSQL (server
cache off, in a process that has served the page before; counted at the driver, so the
connection's health check and any BEGIN/COMMIT count too: ``bench.statements``).

``python -m bench.public_read serve [--cold]`` sets up the same way and serves until interrupted
(for profiling by hand); ``python -m bench.public_read seed`` is the seeding step alone and
``python -m bench.public_read statements SEEDED_JSON`` the statement count (the run calls both
with Django's environment).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import proxy
from bench.report import GOALS, Measurement, as_json, evaluate, format_table, summary
from bench.wrk import WRK, Load, WrkOutputError, measure

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
GUNICORN_CONFIG = REPO / "platform" / "gunicorn.conf.py"
TRIVIAL_PATH = "/__bench__/trivial"  # bench.urls.TRIVIAL_PATH (kept free of Django imports)
STATIC_REFERENCE = ("podium/podium.css", "admin/css/base.css")
PHASES = ("cold", "warm", "proxy")
INSTITUTION_CACHE_SECONDS = 1.0  # accounts.middleware.PublicEntries.UNVERSIONED_SECONDS
# What gunicorn needs to see to treat a direct request as https (the proxy sends it in production).
DIRECT_HEADERS = {"X-Forwarded-Proto": "https"}
# The environment the benchmark sets itself; the caller's values of these never leak in.
OWN_PREFIXES = ("PODIUM_", "DATABASE_", "REDIS_", "DJANGO_", "GUNICORN_BIND")


class BenchError(RuntimeError):
    """The benchmark cannot go on (a tool is missing, a server did not start, ...)."""


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    content_type: str


@dataclass
class Options:
    posts: int
    staff: int
    slug: str
    database_url: str
    owner_url: str
    redis_url: str
    port: int
    proxy_port: int
    load: Load
    phases: list[str]
    rounds: int
    reseed: bool
    keep_temp: bool
    results_dir: Path
    environ: dict[str, str] = field(default_factory=dict)


def _env(environ: dict[str, str], name: str, default: str) -> str:
    return environ.get(name) or default


def parse_options(argv: list[str], environ: dict[str, str]) -> Options:
    """Command-line options, each defaulting to a BENCH_* variable, then to the full scale."""
    parser = argparse.ArgumentParser(prog="python -m bench.public_read", description=__doc__)
    add = parser.add_argument
    add("--posts", type=int, default=int(_env(environ, "BENCH_POSTS", "100000")))
    add("--staff", type=int, default=int(_env(environ, "BENCH_STAFF", "200")))
    add("--slug", default=_env(environ, "BENCH_SLUG", "bench-academy"))
    add(
        "--database-url",
        default=_env(
            environ, "BENCH_DATABASE_URL", "postgres://podium_app@127.0.0.1:5432/podium_bench"
        ),
    )
    add(
        "--owner-url",
        default=_env(
            environ, "BENCH_DATABASE_OWNER_URL", "postgres://postgres@127.0.0.1:5432/podium_bench"
        ),
    )
    add(
        "--redis-url",
        default=_env(environ, "BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="a Redis database of its own: it is flushed before each phase",
    )
    add("--port", type=int, default=int(_env(environ, "BENCH_PORT", "8471")))
    add("--proxy-port", type=int, default=int(_env(environ, "BENCH_PROXY_PORT", "8472")))
    add("--threads", type=int, default=int(_env(environ, "BENCH_THREADS", "2")))
    add("--connections", type=int, default=int(_env(environ, "BENCH_CONNECTIONS", "32")))
    add(
        "--duration",
        type=int,
        default=int(_env(environ, "BENCH_DURATION", "10")),
        help="seconds of each measured wrk run",
    )
    add(
        "--warmup",
        type=int,
        default=int(_env(environ, "BENCH_WARMUP", "3")),
        help="seconds of the discarded wrk run before each measurement",
    )
    add("--phases", default=_env(environ, "BENCH_PHASES", ",".join(PHASES)))
    add(
        "--rounds",
        type=int,
        default=int(_env(environ, "BENCH_ROUNDS", "1")),
        help="repeat each phase's measurements; the table shows medians over rounds",
    )
    add("--reseed", action="store_true", help="drop the benchmark database and seed it again")
    add("--keep-temp", action="store_true", help="keep the temporary directory (logs, configs)")
    add("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; choose from {', '.join(PHASES)}")
    return Options(
        posts=args.posts,
        staff=args.staff,
        slug=args.slug,
        database_url=args.database_url,
        owner_url=args.owner_url,
        redis_url=args.redis_url,
        port=args.port,
        proxy_port=args.proxy_port,
        load=Load(args.threads, args.connections, args.duration, args.warmup),
        phases=[p for p in PHASES if p in phases],
        rounds=max(1, args.rounds),
        reseed=args.reseed,
        keep_temp=args.keep_temp,
        results_dir=args.results_dir,
        environ=dict(environ),
    )


# Environment and processes --------------------------------------------------------------------


def django_env(options: Options, temp: Path, *, server_cache: bool = True) -> dict[str, str]:
    """Production settings pointed at the benchmark's database, Redis and directories."""
    env = {k: v for k, v in options.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(REPO),
        PODIUM_ENV="production",
        PODIUM_SECRET_KEY=secrets.token_urlsafe(50),
        # Production requires a key for network credentials; the benchmark stores none.
        PODIUM_CREDENTIALS_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        PODIUM_ALLOWED_HOSTS="127.0.0.1,localhost",
        PODIUM_BASE_URL="https://localhost",
        DATABASE_URL=options.database_url,
        DATABASE_OWNER_URL=options.owner_url,
        REDIS_URL=options.redis_url,
        PODIUM_CACHE_PREFIX="podium-bench",
        PODIUM_VAR_DIR=str(temp / "var"),
        PODIUM_STATIC_ROOT=str(temp / "static"),
        PODIUM_MEDIA_ROOT=str(temp / "media"),
        GUNICORN_BIND=f"127.0.0.1:{options.port}",
    )
    if not server_cache:
        env["PODIUM_PUBLIC_CACHE_SECONDS"] = "0"
    return env


def _run(command: list[str], env: dict[str, str], log: Path, what: str) -> str:
    finished = subprocess.run(
        command, env=env, cwd=REPO, capture_output=True, text=True, check=False
    )
    with log.open("a") as handle:
        handle.write(f"$ {' '.join(command)}\n{finished.stdout}{finished.stderr}\n")
    if finished.returncode != 0:
        raise BenchError(f"{what} failed (see {log}):\n{_tail(finished.stderr or finished.stdout)}")
    return finished.stdout


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@contextmanager
def running(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Start a server process (output to ``log``); on leaving, stop exactly that process."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            # gunicorn and nginx both stop their workers when their master gets SIGTERM.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: bytes


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> Response:
    """One GET, without following redirects (a redirect is a finding, not a page)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        body = answer.read()
        return Response(
            status=answer.status,
            headers={name.lower(): value for name, value in answer.getheaders()},
            cookies=answer.msg.get_all("Set-Cookie") or [],
            body=body,
        )
    finally:
        connection.close()


def wait_until_ready(
    process: subprocess.Popen, port: int, path: str, headers: dict[str, str], log: Path
) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(
                f"the server stopped (exit {process.returncode}):\n{_tail(log.read_text())}"
            )
        try:
            if fetch(port, path, headers).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise BenchError(f"no answer from port {port} within 90 s:\n{_tail(log.read_text())}")


# Database -------------------------------------------------------------------------------------


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def prepare_database(options: Options, temp: Path, log: Path) -> dict:
    """Create (or with --reseed recreate) the database, migrate it as the owner, seed it."""
    import psycopg
    from psycopg import sql

    name = _database_name(options.owner_url)
    if name != _database_name(options.database_url):
        raise BenchError("--database-url and --owner-url must name the same database")
    if name in {"podium", "postgres", "template0", "template1"}:
        raise BenchError(f"refusing to use the database {name!r}: the benchmark may drop it")
    with psycopg.connect(_maintenance_url(options.owner_url), autocommit=True) as connection:
        if options.reseed:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = django_env(options, temp)
    print(f"Migrating {name} as the owner ...", flush=True)
    _run(
        [sys.executable, "manage.py", "migrate", "--database", "owner", "--noinput"],
        env,
        log,
        "migrate",
    )
    print(
        f"Seeding {options.staff} staff and {options.posts:,} posts (reused if present) ...",
        flush=True,
    )
    command = [
        sys.executable,
        "-m",
        "bench.public_read",
        "seed",
        "--slug",
        options.slug,
        "--staff",
        str(options.staff),
        "--posts",
        str(options.posts),
    ]
    finished = subprocess.run(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, text=True, check=False
    )
    if finished.returncode != 0:
        raise BenchError("seeding failed (output above)")
    seeded = json.loads(finished.stdout.strip().splitlines()[-1])
    if seeded["seconds"]:
        print(f"  seeded in {seeded['seconds']:.0f} s", flush=True)
    # A database in service has been vacuumed and analysed by autovacuum; a freshly loaded one
    # has no statistics (bad plans) and unset hint bits (writes on first read). Settle it.
    with psycopg.connect(options.owner_url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    return seeded


@contextmanager
def renamed_institution(options: Options, institution_id: int, name: str) -> Iterator[None]:
    """Rename the institution behind the application's back (no cache invalidation)."""
    import psycopg

    with psycopg.connect(options.owner_url, autocommit=True) as connection:
        (original,) = connection.execute(
            "SELECT name FROM accounts_institution WHERE id = %s", [institution_id]
        ).fetchone()
        connection.execute(
            "UPDATE accounts_institution SET name = %s WHERE id = %s", [name, institution_id]
        )
        try:
            yield
        finally:
            connection.execute(
                "UPDATE accounts_institution SET name = %s WHERE id = %s",
                [original, institution_id],
            )


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


# Targets and checks ---------------------------------------------------------------------------


def page_targets(seeded: dict) -> list[Target]:
    slug = seeded["slug"]
    return [
        Target("institution page", f"/{slug}/", "text/html"),
        Target("profile page", f"/{slug}/@{seeded['profile_handle']}/", "text/html"),
        Target("permalink", f"/{slug}/posts/{seeded['permalink_post_id']}/", "text/html"),
        Target("atom feed", f"/{slug}/feed.atom", "application/atom+xml"),
    ]


TRIVIAL = Target("trivial view", TRIVIAL_PATH, "text/html")


def check_response(target: Target, response: Response) -> tuple[list[str], str]:
    """What a target must answer before it is measured: 200 and its content type."""
    checks: list[str] = []
    if response.status != 200:
        where = response.headers.get("location", "")
        return checks, f"answered {response.status}" + (f" (to {where})" if where else "")
    checks.append("status 200")
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith(target.content_type):
        return checks, f"content type {content_type!r}, expected {target.content_type}"
    checks.append(f"content type {content_type}")
    checks.append(f"{len(response.body):,} bytes")
    if response.cookies:
        checks.append("WARNING: sets a cookie on an anonymous GET")
    return checks, ""


def verify_server_cache(
    options: Options, seeded: dict, port: int, targets: list[Target], server_cache: bool
) -> dict[str, str]:
    """Prove where responses come from: rename the institution without telling the cache.

    With the cache on, a primed page must still show the old name (a cache hit); with it off,
    every page must show the new name (rendered afresh). A page that shows no name at all
    cannot tell, and says so.
    """
    old = seeded["name"]
    new = f"{old} Renamed{secrets.token_hex(3)}"
    for target in targets:  # prime (with the cache off this only renders)
        fetch(port, target.path, DIRECT_HEADERS)
    findings = {}
    with renamed_institution(options, seeded["institution_id"], new):
        if not server_cache:
            # Without the server cache, a worker keeps the institution it read for up to this
            # long (accounts.middleware.PublicEntries.UNVERSIONED_SECONDS).
            time.sleep(INSTITUTION_CACHE_SECONDS + 0.2)
        for target in targets:
            body = fetch(port, target.path, DIRECT_HEADERS).body.decode(errors="replace")
            if new in body:
                fresh = True
            elif old in body:
                fresh = False
            else:
                findings[target.name] = "cache use not verifiable (the page shows no name)"
                continue
            if server_cache and fresh:
                findings[target.name] = "PROBLEM: rendered afresh although the cache is on"
            elif not server_cache and not fresh:
                findings[target.name] = "PROBLEM: served stale although the cache is off"
            else:
                findings[target.name] = (
                    "served from the server cache"
                    if server_cache
                    else ("rendered afresh (no server cache)")
                )
    return findings


def _measure(
    phase: str,
    target: Target,
    port: int,
    options: Options,
    headers: dict[str, str],
    *,
    round_: int = 1,
    is_reference: bool = False,
    checks: list[str] | None = None,
    problem: str = "",
) -> Measurement:
    url = f"http://127.0.0.1:{port}{target.path}"
    measurement = Measurement(
        phase, target.name, url, None, is_reference, round_, list(checks or [])
    )
    measurement.problem = problem
    if problem:
        print(f"  {phase:5} {round_} {target.name:16} not measured: {problem}", flush=True)
        return measurement
    measurement.checks.append(f"load average before: {os.getloadavg()[0]:.2f}")
    try:
        measurement.result, measurement.raw = measure(url, options.load, headers)
    except WrkOutputError as error:
        measurement.problem = str(error).splitlines()[0]
        return measurement
    result = measurement.result
    print(
        f"  {phase:5} {round_} {target.name:16} {result.requests_per_second:9,.0f} req/s  "
        f"p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms",
        flush=True,
    )
    return measurement


def _checked(port: int, target: Target, headers: dict[str, str]) -> tuple[list[str], str]:
    try:
        return check_response(target, fetch(port, target.path, headers))
    except OSError as error:
        return [], f"no answer: {error}"


def run_server_phase(
    phase: str, options: Options, seeded: dict, port: int, measure_it: bool
) -> list[Measurement]:
    """Reference, pages and feed, reference again, against gunicorn directly."""
    if not measure_it:
        return []
    server_cache = phase != "cold"
    targets = page_targets(seeded)
    results = {t.name: _checked(port, t, DIRECT_HEADERS) for t in [TRIVIAL, *targets]}
    answering = [t for t in targets if not results[t.name][1]]
    for name, finding in verify_server_cache(
        options, seeded, port, answering, server_cache
    ).items():
        checks = results[name][0]
        checks.append(finding)
        if finding.startswith("PROBLEM"):
            results[name] = (checks, finding)
    return measure_rounds(phase, TRIVIAL, targets, port, options, DIRECT_HEADERS, results)


def measure_rounds(
    phase: str,
    reference: Target,
    targets: list[Target],
    port: int,
    options: Options,
    headers: dict[str, str],
    results: dict[str, tuple[list[str], str]],
) -> list[Measurement]:
    """Each round: the reference, every target, the reference again (so drift shows)."""
    measurements = []
    for round_ in range(1, options.rounds + 1):
        sequence = [(reference, True), *((t, False) for t in targets), (reference, True)]
        for target, is_reference in sequence:
            checks, problem = results[target.name]
            measurements.append(
                _measure(
                    phase,
                    target,
                    port,
                    options,
                    headers,
                    round_=round_,
                    is_reference=is_reference,
                    checks=checks,
                    problem=problem,
                )
            )
    return measurements


def static_reference(static_root: Path) -> Target:
    """A collected static file the pages link to, under its hashed name."""
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    for name in STATIC_REFERENCE:
        if name in manifest:
            return Target("static file", f"/static/{manifest[name]}", "text/css")
    raise BenchError(f"none of {STATIC_REFERENCE} was collected")


def run_proxy_phase(options: Options, seeded: dict, temp: Path) -> list[Measurement]:
    """The same pages through nginx with the platform config, against a static file."""
    config = proxy.write_config(
        temp / "nginx",
        listen=f"127.0.0.1:{options.proxy_port}",
        upstream=f"127.0.0.1:{options.port}",
        static_dir=temp / "static",
        media_dir=temp / "media",
    )
    log = temp / "nginx.log"
    _run(proxy.check_command(config), {**os.environ}, log, "nginx -t")
    port = options.proxy_port
    with running(proxy.command(config), dict(os.environ), log) as nginx:
        wait_until_ready(nginx, port, "/_proxy/health", {}, log)
        static = static_reference(temp / "static")
        results = {t.name: _checked(port, t, {}) for t in [static, *page_targets(seeded)]}
        for target in page_targets(seeded):
            checks, problem = results[target.name]
            if not problem:
                status = fetch(port, target.path).headers.get("x-cache-status", "none")
                checks.append(f"proxy cache on the second request: {status}")
        measurements = measure_rounds(
            "proxy", static, page_targets(seeded), port, options, {}, results
        )
    return measurements


# The run --------------------------------------------------------------------------------------


def _gunicorn_workers(log: Path) -> int:
    return log.read_text(errors="replace").count("Booting worker")


def _git_commit() -> str:
    finished = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return finished.stdout.strip()


def _check_tools_and_ports(options: Options) -> None:
    for tool in (WRK, proxy.NGINX):
        if not Path(tool).exists():
            raise BenchError(f"{tool} is missing: apt-get install wrk nginx")
    for port in (options.port, options.proxy_port):
        if not _port_is_free(port):
            raise BenchError(f"port {port} is taken: choose another with --port/--proxy-port")


def set_up(options: Options, temp: Path) -> dict:
    """Database (created, migrated, seeded, settled) and static files; returns the seeding."""
    setup_log = temp / "setup.log"
    seeded = prepare_database(options, temp, setup_log)
    print("Collecting static files ...", flush=True)
    _run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        django_env(options, temp),
        setup_log,
        "collectstatic",
    )
    (temp / "media").mkdir(exist_ok=True)
    return seeded


@contextmanager
def gunicorn(options: Options, temp: Path, phase: str) -> Iterator[tuple[subprocess.Popen, Path]]:
    """gunicorn with platform/gunicorn.conf.py, the server cache off when cold; ready to serve."""
    flush_redis(options.redis_url)
    env = django_env(options, temp, server_cache=phase != "cold")
    log = temp / f"gunicorn-{phase}.log"
    command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
    with running(command, env, log) as server:
        wait_until_ready(server, options.port, "/healthz", DIRECT_HEADERS, log)
        time.sleep(1)  # let every worker boot
        yield server, log


def count_statements(options: Options, temp: Path, seeded: dict) -> dict[str, list[str]]:
    """{page: statements} of each cold page, counted in a Django process of its own."""
    command = [sys.executable, "-m", "bench.public_read", "statements", json.dumps(seeded)]
    output = _run(
        command, django_env(options, temp, server_cache=False), temp / "setup.log", "statements"
    )
    found = json.loads(output.strip().splitlines()[-1])
    print("Statements per cold page (server cache off; counted at the driver):", flush=True)
    for name, statements in found.items():
        print(f"  {name:38} {len(statements)}: {'; '.join(s[:30] for s in statements)}")
    return found


def run(options: Options) -> int:
    _check_tools_and_ports(options)
    temp = Path(tempfile.mkdtemp(prefix="podium-bench-"))
    started = datetime.now(UTC)
    measurements: list[Measurement] = []
    context: dict = {}
    try:
        seeded = set_up(options, temp)
        statements = count_statements(options, temp, seeded)
        workers = {}
        for phase in ("cold", "warm"):
            needed = phase in options.phases or (phase == "warm" and "proxy" in options.phases)
            if not needed:
                continue
            print(
                f"Phase {phase}: gunicorn with the server cache "
                f"{'off' if phase == 'cold' else 'on'}",
                flush=True,
            )
            with gunicorn(options, temp, phase) as (_server, log):
                at_start = _gunicorn_workers(log)
                measurements += run_server_phase(
                    phase, options, seeded, options.port, phase in options.phases
                )
                if phase == "warm" and "proxy" in options.phases:
                    print(
                        "Phase proxy: nginx (platform config) in front of that gunicorn", flush=True
                    )
                    measurements += run_proxy_phase(options, seeded, temp)
                # platform/gunicorn.conf.py recycles workers (max_requests): count the restarts.
                workers[phase] = {"workers": at_start, "booted": _gunicorn_workers(log)}
        context = {
            "benchmark": "public_read",
            "started": started.isoformat(timespec="seconds"),
            "commit": _git_commit(),
            "cpus": os.cpu_count(),
            "load": asdict(options.load),
            "rounds": options.rounds,
            "phases": options.phases,
            "gunicorn_workers_booted": workers,
            "seeded": seeded,
            "statements_per_cold_page": statements,
            "goals": {
                phase: {"reference": ref, "goal": goal} for phase, (ref, goal) in GOALS.items()
            },
        }
    finally:
        if options.keep_temp:
            print(f"Kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)
    rows = evaluate(measurements)
    print()
    print(format_table(rows))
    counts = summary(rows)
    load = options.load
    print(
        f"\n{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['ERROR']} ERROR "
        f"(wrk -t{load.threads} -c{load.connections} -d{load.seconds}s, {os.cpu_count()} CPUs "
        "shared with whatever else runs: compare ratios, not req/s)"
    )
    options.results_dir.mkdir(parents=True, exist_ok=True)
    path = options.results_dir / f"public_read-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(as_json(rows, measurements, context), indent=2))
    print(f"Results: {path}")
    return 0 if counts["FAIL"] == counts["ERROR"] == 0 else 1


def serve(options: Options, phase: str) -> int:
    """Set up as for a run, then serve one phase until interrupted (to profile by hand)."""
    _check_tools_and_ports(options)
    temp = Path(tempfile.mkdtemp(prefix="podium-bench-"))
    try:
        seeded = set_up(options, temp)
        with gunicorn(options, temp, phase) as (server, log):
            base = f"http://127.0.0.1:{options.port}"
            print(f"gunicorn master pid {server.pid} (log {log}), cache {phase}; targets:")
            for target in [TRIVIAL, *page_targets(seeded)]:
                print(f"  {base}{target.path}")
            print("Send requests with -H 'X-Forwarded-Proto: https'. Ctrl-C stops.", flush=True)
            with suppress(KeyboardInterrupt):
                server.wait()
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return 0


def seed_main(argv: list[str]) -> int:
    """The seeding step, inside Django (the benchmark runs it with its own environment)."""
    parser = argparse.ArgumentParser(prog="python -m bench.public_read seed")
    parser.add_argument("--slug", default="bench-academy")
    parser.add_argument("--staff", type=int, default=200)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from bench.seeding import ScaleMismatch, seed_or_reuse

    reported = [0]

    def progress(done: int, total: int) -> None:
        if done == total or done >= reported[0] + total // 5:
            reported[0] = done
            print(f"  {done:,}/{total:,} posts", file=sys.stderr, flush=True)

    try:
        seeded = seed_or_reuse(
            slug=args.slug, staff=args.staff, posts=args.posts, progress=progress
        )
    except ScaleMismatch as error:
        print(error, file=sys.stderr)
        return 2
    print(json.dumps(asdict(seeded)))
    return 0


def statements_main(argv: list[str]) -> int:
    """The statement count, inside Django (the run calls it with the benchmark's environment)."""
    import django

    django.setup()
    from accounts.middleware import PublicEntries
    from bench.statements import cold_page_statements

    seeded = json.loads(argv[0])
    paths = {t.name: t.path for t in page_targets(seeded)}
    # A busy worker's per-process entries are current (each is read again at most once a
    # second); however slow this machine is, they stay so between warm-up and count here.
    PublicEntries.UNVERSIONED_SECONDS = 3600.0
    found = {
        name: counted.statements
        for name, counted in cold_page_statements(paths, "localhost").items()
    }
    refreshed = cold_page_statements(paths, "localhost", refreshed=True)
    found |= {f"{name}, entries read again": c.statements for name, c in refreshed.items()}
    print(json.dumps(found))
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the servers this run started are stopped on the way out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGTERM, _interrupt)
    if argv[:1] == ["seed"]:
        return seed_main(argv[1:])
    if argv[:1] == ["statements"]:
        return statements_main(argv[1:])
    try:
        if argv[:1] == ["serve"]:
            phase = "cold" if "--cold" in argv else "warm"
            rest = [arg for arg in argv[1:] if arg != "--cold"]
            return serve(parse_options(rest, dict(os.environ)), phase)
        return run(parse_options(argv, dict(os.environ)))
    except BenchError as error:
        print(f"public_read: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
