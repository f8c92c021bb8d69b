"""gunicorn's limits (platform/gunicorn.conf.py): request line, header fields, worker memory;
and platform/postgres/roles.sql keeping an existing password when run without one."""

from __future__ import annotations

import http.client
import os
import re
import runpy
import shutil
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path

import dj_database_url
import pytest

from tests.conftest import postgres_only
from tests.platform.servers import free_port, wait_until
from tests.platform.test_processes import development_environment

REPO = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = REPO / "platform" / "gunicorn.conf.py"
ROLES_SQL = REPO / "platform" / "postgres" / "roles.sql"


def gunicorn_settings(monkeypatch, **environment: str) -> dict:
    for name in list(os.environ):
        if name.startswith(("GUNICORN_", "WEB_CONCURRENCY")):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONFIG))


def test_gunicorn_limits_request_line_header_fields_and_worker_memory(monkeypatch):
    config = gunicorn_settings(monkeypatch)
    assert config["limit_request_line"] == 8190
    assert config["limit_request_fields"] == 64
    assert config["limit_request_field_size"] == 8190
    assert config["MAX_WORKER_MEMORY_MIB"] == 768
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0


def _worker() -> types.SimpleNamespace:
    log = types.SimpleNamespace(messages=[])
    log.warning = lambda message, *args: log.messages.append(message % args)
    return types.SimpleNamespace(alive=True, pid=os.getpid(), log=log)


def test_a_worker_over_the_memory_limit_stops_after_its_request(monkeypatch):
    hook = gunicorn_settings(monkeypatch, GUNICORN_MAX_WORKER_MEMORY_MB="1")["post_request"]
    worker = _worker()
    hook(worker, None, {}, None)
    assert worker.alive is False
    assert "restarting after this request" in worker.log.messages[0]


def test_a_worker_under_the_memory_limit_keeps_serving(monkeypatch):
    hook = gunicorn_settings(monkeypatch)["post_request"]
    worker = _worker()
    hook(worker, None, {}, None)
    assert worker.alive is True and worker.log.messages == []


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": "localhost", **(headers or {})})
        return connection.getresponse().status
    finally:
        connection.close()


def test_live_gunicorn_refuses_oversized_requests_and_recycles_workers_without_failing_any(
    tmp_path,
):
    port = free_port()
    environment = development_environment(
        tmp_path,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_MAX_WORKER_MEMORY_MB="1",  # every request exceeds it: a new worker each time
        PYTHONPATH=str(REPO),
    )
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(GUNICORN_CONFIG)],
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: _healthy(port), timeout=60, what="gunicorn")
            statuses = []
            for _ in range(4):
                statuses.append(_get(port, "/healthz"))
                time.sleep(0.3)
            long_line = _get(port, "/healthz?" + "a" * 9000)
            many_headers = _get(port, "/healthz", {f"X-H{index}": "1" for index in range(80)})
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert statuses == [200] * 4
    assert long_line in (400, 414)
    assert many_headers in (400, 431)
    assert log_path.read_text().count("restarting after this request") >= 3


def _healthy(port: int) -> bool:
    try:
        return _get(port, "/healthz") == 200
    except OSError:
        return False


# roles.sql ----------------------------------------------------------------------------------


def _psql(database: dict, *arguments: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PGPASSWORD": database.get("PASSWORD") or ""}
    command = [
        "psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", database["HOST"] or "127.0.0.1",
        "-p", str(database["PORT"] or 5432), "-U", database["USER"], "-d", database["NAME"],
        *arguments,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=environment, check=False)


@postgres_only
def test_roles_sql_without_a_password_keeps_the_existing_one(tmp_path):
    """Run on a throwaway role name, so the real application role is never touched."""
    owner_url = os.environ.get("DATABASE_OWNER_URL")
    if not owner_url:
        pytest.skip("needs DATABASE_OWNER_URL (a superuser) to create roles")
    database = {**dj_database_url.parse(owner_url), "NAME": "postgres"}  # roles are per cluster
    role = f"podium_app_{uuid.uuid4().hex[:8]}"
    script = tmp_path / "roles.sql"
    script.write_text(ROLES_SQL.read_text().replace("podium_app", role))
    try:
        first = _psql(database, "-v", "app_password='secret-one'", "-f", str(script))
        assert first.returncode == 0, first.stderr
        stored = _password_of(database, role)
        assert stored

        again = _psql(database, "-f", str(script))  # no password given, as the README shows
        assert again.returncode == 0, again.stderr
        assert _password_of(database, role) == stored

        changed = _psql(database, "-v", "app_password='secret-two'", "-f", str(script))
        assert changed.returncode == 0, changed.stderr
        assert _password_of(database, role) not in (None, stored)
    finally:
        _psql(database, "-c", f'DROP ROLE IF EXISTS "{role}"')


def _password_of(database: dict, role: str) -> str | None:
    assert role.isidentifier()  # made here from hex digits; safe inside the literal
    query = f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'"  # noqa: S608
    result = _psql(database, "-At", "-c", query)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() or None


# The production run without Docker (platform/README.md) --------------------------------------

README = REPO / "platform" / "README.md"


def readme_blocks() -> dict[str, str]:
    """The README's code blocks that name their file on the first line, by that file."""
    blocks = {}
    for body in re.findall(r"```\w*\n(.*?)```", README.read_text(), re.DOTALL):
        first = body.splitlines()[0]
        if first.startswith("# /etc/"):
            blocks[first.removeprefix("# ")] = body
        elif first.startswith("env PROXY_LISTEN"):
            blocks["render"] = body
    return blocks


def _for_this_machine(text: str, tmp_path: Path) -> str:
    for server_path, here in (
        ("/srv/podium/app", str(REPO)),
        ("/srv/podium/", f"{tmp_path}/srv/"),
        ("/etc/podium/podium.env", f"{tmp_path}/podium.env"),
        ("/var/log/podium", f"{tmp_path}/log"),
        ("/var/log/nginx", f"{tmp_path}/log"),
        ("/var/cache/nginx/podium", f"{tmp_path}/cache"),
        ("/etc/nginx/conf.d/podium.conf", f"{tmp_path}/podium.conf"),
        ("/etc/ssl/podium", f"{tmp_path}/tls"),
        ("/run/nginx.pid", f"{tmp_path}/nginx.pid"),
    ):
        text = text.replace(server_path, here)
    return text


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
def test_the_readme_s_systemd_units_verify(tmp_path):
    (tmp_path / "podium.env").write_text("")
    units = []
    for path, body in readme_blocks().items():
        if path.startswith("/etc/systemd/system/"):
            unit = tmp_path / Path(path).name
            unit.write_text(_for_this_machine(body, tmp_path))
            units.append(str(unit))
    assert len(units) == 3
    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("nginx", "envsubst", "openssl")),
    reason="needs nginx, envsubst and openssl",
)
def test_the_readme_s_nginx_configuration_passes_nginx_t(tmp_path):
    for directory in ("srv/static", "srv/media", "cache", "log", "tls"):
        (tmp_path / directory).mkdir(parents=True, exist_ok=True)
    blocks = readme_blocks()
    render = _for_this_machine(blocks["render"], tmp_path).replace(
        "nginx -t && systemctl reload nginx", ""
    )
    rendered = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", render],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert "access_log /dev/stdout" not in (tmp_path / "podium.conf").read_text()
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=podium.test", "-keyout", str(tmp_path / "tls" / "privkey.pem"),
            "-out", str(tmp_path / "tls" / "fullchain.pem"),
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    main = _for_this_machine(blocks["/etc/nginx/nginx.conf"], tmp_path)
    if subprocess.run(["id", "www-data"], capture_output=True, check=False).returncode:
        main = main.replace("user www-data;", "")
    (tmp_path / "nginx.conf").write_text(main)
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "log" / "error.log")],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
