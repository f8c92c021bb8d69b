"""The project as a newcomer meets it: imports, settings, migrations, layering."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "PODIUM_ENV": "production",
    "PODIUM_SECRET_KEY": "x" * 20 + "-production-test-key-with-enough-entropy-0123456789",
    "PODIUM_ALLOWED_HOSTS": "podium.example",
    "PODIUM_BASE_URL": "https://podium.example",
    "DATABASE_URL": "postgres://podium_app@127.0.0.1:5432/podium",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PODIUM_CREDENTIALS_KEYS": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
}


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("PODIUM_", "DATABASE_", "REDIS_"))
    }
    return subprocess.run(
        args, cwd=ROOT, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120
    )


def test_standard_library_platform_module_is_not_shadowed():
    result = run([sys.executable, "-c", "import uuid, platform; print(platform.system())"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Linux"
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_production_settings_pass_the_deployment_check_without_warnings():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "PODIUM_SECRET_KEY",
        "PODIUM_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "PODIUM_CREDENTIALS_KEYS",
    ],
)
def test_production_refuses_to_start_without_required_settings(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_debug():
    result = run([sys.executable, "manage.py", "check"], {**PRODUCTION_ENV, "PODIUM_DEBUG": "true"})
    assert result.returncode != 0 and "PODIUM_DEBUG" in result.stderr


def test_models_and_migrations_agree():
    result = run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_apps_depend_one_way():
    result = run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_class_level_messages_are_translated_lazily():
    """A message fixed at import time would always be English; they must be lazy."""
    from django.utils.functional import Promise

    from accounts.errors import DomainError

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    import accounts.api.views  # noqa: F401 (load every module that defines errors)
    import feeds.api
    import feeds.public.views  # noqa: F401

    eager = [
        c.__qualname__
        for c in subclasses(DomainError)
        if not isinstance(c.default_message, Promise)
    ]
    assert eager == []
