"""The production-like stack as declared: docker-compose.yml, the Dockerfile, .env.example and the
files they reference (Docker itself cannot run here, so these read the declarations)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from crossposting.queues import worker_queues
from tests.platform.servers import PROXY_TEMPLATE, REPO, template_placeholders

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = ["postgres", "redis", "web", "worker", "beat", "proxy"]
APP_PROCESSES = ["web", "worker", "beat"]
ENTRYPOINT = (REPO / "platform" / "entrypoint.sh").read_text()
DOCKERFILE = (REPO / "platform" / "Dockerfile").read_text()


def documented_variables() -> set[str]:
    """Names in .env.example, set or shown commented out with their default."""
    text = (REPO / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def settings_variables() -> set[str]:
    text = (REPO / "podium" / "settings.py").read_text()
    calls = re.findall(r"\benv(?:_bool|_list)?\(\s*\"([A-Z][A-Z0-9_]*)\"", text)
    environ = re.findall(r"os\.environ(?:\.get)?[\(\[]\s*\"([A-Z][A-Z0-9_]*)\"", text)
    return set(calls) | set(environ)


def entrypoint_branch(name: str) -> str:
    match = re.search(rf"^\s+{name}\)\n(.*?)^\s+;;", ENTRYPOINT, flags=re.MULTILINE | re.DOTALL)
    assert match, f"entrypoint.sh has no `{name}` subcommand"
    return match.group(1)


def dockerfile_instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def instruction(name: str) -> list[str]:
    return [value for keyword, value in dockerfile_instructions() if keyword == name]


def image_path(path: str) -> Path:
    """A path inside the image (/app/...) as a file of this repository."""
    assert path.startswith("/app/"), path
    return REPO / path.removeprefix("/app/")


def named_volumes_of(service: dict) -> set[str]:
    sources = {str(entry).split(":", 1)[0] for entry in service.get("volumes", [])}
    return {source for source in sources if not source.startswith((".", "/"))}


def test_stack_has_every_service():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat", "proxy"}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_service_is_health_checked_or_waits_for_healthy_dependencies(name: str):
    service = SERVICES[name]
    healthcheck = service.get("healthcheck", {})
    checked = bool(healthcheck.get("test")) and not healthcheck.get("disable")
    conditions = {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
    waits_for_healthy = "service_healthy" in conditions.values() and all(
        SERVICES[dep].get("healthcheck", {}).get("test")
        for dep, condition in conditions.items()
        if condition == "service_healthy"
    )

    assert checked or waits_for_healthy
    assert service.get("restart") == "unless-stopped"


def test_health_checks_use_the_right_probe():
    def probe(name: str) -> str:
        return " ".join(SERVICES[name]["healthcheck"]["test"])

    assert "pg_isready" in probe("postgres")
    assert "redis-cli ping" in probe("redis")
    assert "entrypoint.sh healthcheck" in probe("web")
    assert "/healthz" in entrypoint_branch("healthcheck")
    assert "celery --app podium inspect ping" in probe("worker")
    assert "/_proxy/health" in probe("proxy")


def test_application_processes_start_in_order():
    for name in APP_PROCESSES:
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_application_services_run_the_podium_image_through_its_entrypoint():
    for name, subcommand in [
        ("web", "web"),
        ("worker", "worker"),
        ("beat", "beat"),
        ("migrate", "migrate"),
    ]:
        service = SERVICES[name]
        assert service["build"]["dockerfile"] == "platform/Dockerfile"
        assert service["command"] == [subcommand]
        assert "entrypoint" not in service  # the image's ENTRYPOINT runs the subcommand


def test_entrypoint_runs_gunicorn_celery_and_migrations():
    assert re.search(
        r"exec gunicorn --config \"\$APP_DIR/platform/gunicorn.conf.py\"", entrypoint_branch("web")
    )
    worker = entrypoint_branch("worker")
    assert "celery --app podium worker" in worker
    # The default queue and every network's deliveries queue (crossposting.queues).
    queues = re.search(r'--queues "\$\{CELERY_WORKER_QUEUES:-([^}]+)\}"', worker).group(1)
    assert queues.split(",") == worker_queues()
    beat = entrypoint_branch("beat")
    assert "celery --app podium beat" in beat
    assert "--schedule" in beat
    assert "manage.py migrate --database owner" in entrypoint_branch("migrate")


def test_beat_keeps_its_schedule_in_a_volume():
    assert "beat-schedule:/srv/beat" in SERVICES["beat"]["volumes"]
    assert "CELERY_BEAT_SCHEDULE_DIR=/srv/beat" in DOCKERFILE


def test_only_migrate_holds_the_owner_database_url():
    migrate = SERVICES["migrate"]["environment"]
    assert migrate["DATABASE_OWNER_URL"].startswith("postgres://postgres:")
    assert migrate["DATABASE_URL"].startswith("postgres://podium_app:")
    for name in APP_PROCESSES:
        environment = SERVICES[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://podium_app:")
        assert environment["DATABASE_OWNER_URL"] == ""
        assert environment["POSTGRES_PASSWORD"] == ""


def test_only_the_proxy_publishes_a_port():
    publishing = {name for name, service in SERVICES.items() if service.get("ports")}

    assert publishing == {"proxy"}


def test_named_volumes_are_declared_and_each_one_is_used():
    used = set().union(*(named_volumes_of(service) for service in SERVICES.values()))

    assert used == set(COMPOSE["volumes"])
    assert {"postgres-data", "media", "static", "beat-schedule"} <= used


def test_proxy_and_web_share_static_and_media_and_the_proxy_only_reads_them():
    proxy = SERVICES["proxy"]["volumes"]
    assert "static:/srv/static:ro" in proxy
    assert "media:/srv/media:ro" in proxy
    assert {"static", "media"} <= named_volumes_of(SERVICES["web"])
    assert "media" in named_volumes_of(SERVICES["worker"])


def test_bind_mounted_files_exist():
    for service in SERVICES.values():
        for entry in service.get("volumes", []):
            source = str(entry).split(":", 1)[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), source


def test_postgres_applies_the_roles_at_initialisation():
    volumes = SERVICES["postgres"]["volumes"]
    init_script = REPO / "platform" / "postgres" / "init-roles.sh"
    assert any(
        v.startswith("./platform/postgres/init-roles.sh:/docker-entrypoint-initdb.d/")
        for v in volumes
    )
    assert "./platform/postgres/roles.sql:/podium/roles.sql:ro" in volumes
    assert "/podium/roles.sql" in init_script.read_text()
    assert init_script.stat().st_mode & 0o111, "init-roles.sh must be executable"
    assert "PODIUM_DB_APP_PASSWORD" in SERVICES["postgres"]["environment"]


def test_proxy_environment_fills_every_template_placeholder():
    environment = SERVICES["proxy"]["environment"]
    placeholders = template_placeholders(PROXY_TEMPLATE.read_text())

    assert placeholders
    assert placeholders <= set(environment)
    assert all(re.search(environment["NGINX_ENVSUBST_FILTER"], name) for name in placeholders)
    assert "./platform/nginx/templates:/etc/nginx/templates:ro" in SERVICES["proxy"]["volumes"]
    assert environment["PROXY_UPSTREAM"] == "web:8000"


def test_every_compose_variable_is_documented_in_env_example():
    text = (REPO / "docker-compose.yml").read_text().replace("$$", "")
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))

    assert used
    assert used - documented_variables() == set()


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    names = settings_variables()

    assert {"PODIUM_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names
    assert names - documented_variables() == set()


def test_every_process_tunable_is_documented_in_env_example():
    gunicorn = (REPO / "platform" / "gunicorn.conf.py").read_text()
    names = set(re.findall(r"\"((?:GUNICORN|WEB)_[A-Z0-9_]+)\"", gunicorn))
    names |= set(re.findall(r"\$\{(CELERY_[A-Z_]+):-", ENTRYPOINT)) - {"CELERY_BEAT_SCHEDULE_DIR"}

    assert "GUNICORN_WORKERS" in names
    assert names - documented_variables() == set()


def test_env_example_is_ready_for_production():
    text = (REPO / ".env.example").read_text()

    assert re.search(r"^PODIUM_ENV=production$", text, flags=re.MULTILINE)
    assert re.search(r"^REDIS_URL=redis://redis:6379/", text, flags=re.MULTILINE)
    assert re.search(r"^# DATABASE_URL=postgres://podium_app:", text, flags=re.MULTILINE)


def test_dockerfile_builds_a_non_root_python_image_with_static_files():
    assert instruction("FROM") == ["python:3.11-slim"]
    user = instruction("USER")
    assert user and not user[-1].startswith(("root", "0"))
    runs = " ".join(instruction("RUN"))
    assert "pip install" in runs and "pyproject.toml" in runs
    assert "collectstatic --noinput" in runs
    assert instruction("HEALTHCHECK")


def test_dockerfile_entrypoint_command_and_copied_files_exist():
    entrypoint = yaml.safe_load(instruction("ENTRYPOINT")[-1])
    command = yaml.safe_load(instruction("CMD")[-1])
    healthcheck = instruction("HEALTHCHECK")[-1]

    assert image_path(entrypoint[0]).is_file()
    assert command == ["web"]
    assert image_path(re.search(r"CMD \[\"([^\"]+)\"", healthcheck).group(1)).is_file()
    for copy in instruction("COPY"):
        *sources, _target = copy.split()
        for source in sources:
            assert source == "." or (REPO / source).exists(), source


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set((REPO / ".dockerignore").read_text().split())

    assert {".env", ".git", ".venv", "var"} <= ignored
    assert "platform" not in ignored and "locale" not in ignored


def test_platform_folder_never_shadows_the_standard_library():
    assert not list((REPO / "platform").rglob("__init__.py"))
    result = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.__file__)"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )

    assert not result.stdout.strip().startswith(str(REPO / "platform"))
    assert result.stdout.strip().endswith("platform.py")
