"""The processes the image runs, started for real: the entrypoint's subcommands, gunicorn with
platform/gunicorn.conf.py serving Django behind the proxy, migrations through the owner URL, and
the PostgreSQL init script that creates the application role."""

from __future__ import annotations

import multiprocessing
import os
import runpy
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import pytest

from tests.platform.servers import (
    REPO,
    fetch,
    free_port,
    nginx_available,
    prepare_proxy,
    running_proxy,
    wait_until,
)

ENTRYPOINT = REPO / "platform" / "entrypoint.sh"
GUNICORN_CONFIG = REPO / "platform" / "gunicorn.conf.py"
INIT_ROLES = REPO / "platform" / "postgres" / "init-roles.sh"
ROLES_SQL = REPO / "platform" / "postgres" / "roles.sql"

# What the outer test run may have set (PostgreSQL, Redis, production), and the child must not see.
_INHERITED_SETTINGS = (
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "REDIS_URL",
    "PODIUM_",
    "GUNICORN_",
    "WEB_CONCURRENCY",
)


def development_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The zero-setup settings on a fresh SQLite file, with this virtualenv's programs on PATH."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_SETTINGS)}
    environment |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHON": sys.executable,
        "PODIUM_VAR_DIR": str(tmp_path / "var"),
        "PODIUM_STATIC_ROOT": str(tmp_path / "staticfiles"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'podium.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "podium.settings",
    }
    return environment | extra


def run_entrypoint(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def gunicorn_settings(monkeypatch, environment: dict[str, str]) -> dict:
    for name in list(os.environ):
        if name.startswith(("GUNICORN_", "WEB_CONCURRENCY")):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONFIG))


@pytest.mark.parametrize("script", [ENTRYPOINT, INIT_ROLES], ids=["entrypoint", "init-roles"])
def test_shell_script_parses_and_is_executable(script: Path):
    result = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert os.access(script, os.X_OK)


def test_gunicorn_defaults_suit_one_container_behind_the_proxy(monkeypatch):
    config = gunicorn_settings(monkeypatch, {})

    assert config["wsgi_app"] == "podium.wsgi:application"
    assert config["bind"] == "0.0.0.0:8000"
    assert config["workers"] == min(2 * multiprocessing.cpu_count() + 1, 8)
    assert config["preload_app"] is True
    assert config["accesslog"] is None
    assert config["errorlog"] == "-"
    assert config["timeout"] > config["graceful_timeout"] > 0
    assert config["forwarded_allow_ips"] == "*"
    assert config["secure_scheme_headers"] == {"X-FORWARDED-PROTO": "https"}
    assert config["control_socket_disable"] is True


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"GUNICORN_WORKERS": "3"}, {"workers": 3}),
        ({"WEB_CONCURRENCY": "5"}, {"workers": 5}),
        ({"GUNICORN_WORKERS": "2", "WEB_CONCURRENCY": "5"}, {"workers": 2}),
        ({"GUNICORN_TIMEOUT": "90", "GUNICORN_THREADS": "4"}, {"timeout": 90, "threads": 4}),
        ({"GUNICORN_ACCESS_LOG": "true"}, {"accesslog": "-"}),
        ({"GUNICORN_BIND": "127.0.0.1:9000"}, {"bind": "127.0.0.1:9000"}),
    ],
)
def test_gunicorn_settings_follow_the_environment(monkeypatch, environment, expected):
    config = gunicorn_settings(monkeypatch, environment)

    assert {name: config[name] for name in expected} == expected


def test_gunicorn_access_log_format_has_no_address_agent_referrer_or_path(monkeypatch):
    log_format = gunicorn_settings(monkeypatch, {})["access_log_format"]

    for field in ("%(h)s", "%(a)s", "%(f)s", "%(q)s", "%(r)s", "%(U)s", "{x-forwarded-for}i"):
        assert field not in log_format


def test_entrypoint_help_lists_the_subcommands(tmp_path: Path):
    result = run_entrypoint("help", env=development_environment(tmp_path))

    assert result.returncode == 0
    for subcommand in ("web", "worker", "beat", "migrate", "healthcheck"):
        assert subcommand in result.stderr


def test_entrypoint_healthcheck_fails_when_nothing_answers(tmp_path: Path):
    environment = development_environment(tmp_path, GUNICORN_BIND=f"127.0.0.1:{free_port()}")

    result = run_entrypoint("healthcheck", env=environment, timeout=30)

    assert result.returncode == 1
    assert "healthcheck failed" in result.stderr


def test_migrate_applies_migrations_through_the_owner_url_and_exits(tmp_path: Path):
    database = f"sqlite:///{tmp_path / 'podium.sqlite3'}"
    environment = development_environment(tmp_path, DATABASE_OWNER_URL=database)

    result = run_entrypoint("migrate", env=environment, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(tmp_path / "podium.sqlite3") as connection:
        applied = {
            app for (app,) in connection.execute("SELECT DISTINCT app FROM django_migrations")
        }
    assert {"accounts", "feeds", "auth", "sessions"} <= applied


@pytest.fixture
def gunicorn(tmp_path: Path):
    """`entrypoint.sh web` on a free port: gunicorn with the platform config, Django inside."""
    port = free_port()
    environment = development_environment(
        tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1"
    )
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(ENTRYPOINT), "web"], env=environment, stdout=log, stderr=subprocess.STDOUT
    )

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError((tmp_path / "gunicorn.log").read_text())
        try:
            return fetch(port, "/healthz", headers={"Host": "localhost"}).status == 200
        except OSError:
            return False

    try:
        wait_until(answers, timeout=60, what="gunicorn to serve /healthz")
        yield port, environment
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_entrypoint_healthcheck_passes_against_the_running_web_process(gunicorn):
    _port, environment = gunicorn

    result = run_entrypoint("healthcheck", env=environment, timeout=30)

    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(
    not nginx_available(), reason="/usr/sbin/nginx is not installed (./dev test installs it)"
)
def test_proxy_in_front_of_gunicorn_serves_healthz_and_never_caches_it(gunicorn, tmp_path: Path):
    port, _environment = gunicorn
    proxy = prepare_proxy(tmp_path / "proxy", upstream=f"127.0.0.1:{port}")

    with running_proxy(proxy):
        responses = [fetch(proxy.port, "/healthz", headers={"Host": "localhost"}) for _ in range(2)]

    assert [r.status for r in responses] == [200, 200]
    assert responses[0].body == b'{"status": "ok"}'
    assert [r.cache_status for r in responses] == ["MISS", "MISS"]
    assert responses[0].header("Set-Cookie") is None


@pytest.mark.postgres_only
def test_init_script_creates_the_application_role_with_a_password_that_needs_quoting(
    tmp_path: Path,
):
    owner = dj_database_url.parse(os.environ["DATABASE_OWNER_URL"])
    role = f"podium_app_{uuid.uuid4().hex[:8]}"
    roles_sql = tmp_path / "roles.sql"
    roles_sql.write_text(ROLES_SQL.read_text().replace("podium_app", role))
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PGHOST": owner["HOST"] or "127.0.0.1",
        "PGPORT": str(owner["PORT"] or 5432),
        "PGPASSWORD": owner["PASSWORD"] or "",
        "POSTGRES_USER": owner["USER"],
        "POSTGRES_DB": "postgres",
        "PODIUM_DB_APP_PASSWORD": 'it\'s a "secret"; DROP ROLE x; --',
        "PODIUM_ROLES_SQL": str(roles_sql),
    }
    psql = [
        "psql",
        "--no-psqlrc",
        "-v",
        "ON_ERROR_STOP=1",
        "-At",
        "-U",
        owner["USER"],
        "-d",
        "postgres",
    ]

    try:
        result = subprocess.run(
            [str(INIT_ROLES)], env=environment, capture_output=True, text=True, check=False
        )
        attributes = subprocess.run(
            [*psql, "-v", f"role={role}"],
            input="SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, "
            "rolpassword IS NOT NULL FROM pg_authid WHERE rolname = :'role';",
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    finally:
        subprocess.run(
            [*psql, "-c", f"DROP ROLE IF EXISTS {role}"],
            env=environment,
            check=False,
            capture_output=True,
        )

    assert result.returncode == 0, result.stderr
    assert attributes == "t|f|f|f|f|t"


def test_init_script_refuses_to_run_without_a_password(tmp_path: Path):
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PODIUM_ROLES_SQL": str(tmp_path / "absent.sql"),
    }

    result = subprocess.run(
        [str(INIT_ROLES)], env=environment, capture_output=True, text=True, check=False
    )

    assert result.returncode == 1
    assert "PODIUM_DB_APP_PASSWORD" in result.stderr
