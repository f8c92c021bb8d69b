"""Test wiring: PostgreSQL roles, fast hashing, the standard cast of two institutions.

On PostgreSQL (``DATABASE_URL`` set, as in CI) the test database is created and migrated as the
owner (``DATABASE_OWNER_URL``), and every test then runs connected as the application role, so
row-level security is in force exactly as in production.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import setup_databases, teardown_databases

from accounts.models import Role
from tests.factories import InstitutionFactory, MembershipFactory


def pytest_configure(config) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if not settings.REDIS_URL:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    else:
        # Parallel test processes share one Redis: each keeps to its own keys.
        settings.CACHES["default"]["KEY_PREFIX"] = f"podium-test-{_test_process()}"
    _own_broker_queues()


def _test_process() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _own_broker_queues() -> None:
    """Each test process gets its own Celery queues, so a worker started by one test never
    takes the tasks another process's tests sent (xdist may run them side by side)."""
    from podium.celery import app

    options = dict(app.conf.broker_transport_options or {})
    if settings.REDIS_URL:
        options["global_keyprefix"] = f"podium-test-{_test_process()}:"
    else:
        folder = settings.VAR_DIR / f"broker-test-{_test_process()}"
        folder.mkdir(parents=True, exist_ok=True)
        options.update(
            data_folder_in=str(folder), data_folder_out=str(folder), control_folder=str(folder)
        )
    app.conf.broker_transport_options = options


def is_postgres() -> bool:
    return connections["default"].vendor == "postgresql"


postgres_only = pytest.mark.postgres_only


def pytest_collection_modifyitems(config, items) -> None:
    if is_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL and DATABASE_OWNER_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


_skipped_postgres_tests: list[str] = []


def pytest_runtest_logreport(report) -> None:
    if report.skipped and "postgres_only" in report.keywords:
        _skipped_postgres_tests.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus) -> None:
    # CI sets PODIUM_REQUIRE_POSTGRES: there, a skipped PostgreSQL test is a failure.
    if os.environ.get("PODIUM_REQUIRE_POSTGRES") and _skipped_postgres_tests:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line(
            f"FAILED: {len(_skipped_postgres_tests)} PostgreSQL-only tests were skipped:", red=True
        )
        for nodeid in _skipped_postgres_tests:
            reporter.write_line(f"  {nodeid}", red=True)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """Create and migrate the test database as the owner; run the tests as the app role."""
    default = settings.DATABASES["default"]
    owner = settings.DATABASES.get("owner")
    app_credentials = (default.get("USER"), default.get("PASSWORD"))
    owner_credentials = (owner.get("USER"), owner.get("PASSWORD")) if owner else None
    if owner:
        default["USER"], default["PASSWORD"] = owner_credentials
    with django_db_blocker.unblock():
        old_config = setup_databases(verbosity=0, interactive=False, keepdb=False)
        if owner and app_credentials[0]:
            # Test database only: transactional tests flush tables between tests with TRUNCATE.
            # Production never grants TRUNCATE (it ignores row-level security).
            with connections["default"].cursor() as cursor:
                cursor.execute(
                    f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {app_credentials[0]}"
                )
        for connection in connections.all():
            connection.close()
    if owner:
        # The owner alias mirrors default in tests, so both now connect as the app role.
        connections["default"].settings_dict.update(
            USER=app_credentials[0], PASSWORD=app_credentials[1]
        )

    yield

    with django_db_blocker.unblock():
        for connection in connections.all():
            connection.close()
        if owner:
            for connection, _name, _destroy in old_config:
                connection.settings_dict.update(
                    USER=owner_credentials[0], PASSWORD=owner_credentials[1]
                )
        teardown_databases(old_config, verbosity=0)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_lookups_off_loopback(settings):
    """Typed addresses (webhooks, websites, network servers) are looked up only when they are
    loopback names: no test reaches a DNS server, whatever it generates (accounts.outbound)."""
    settings.PODIUM_RESOLVE_LOOPBACK_ONLY = True


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    if settings.REDIS_URL:
        # Not FLUSHDB: the database is shared with other test processes and the Celery broker.
        client = cache._cache.get_client(write=True)
        prefix = settings.CACHES["default"]["KEY_PREFIX"]
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    # The public pages' per-process caches: each test has institutions of its own.
    from accounts import pagecache
    from accounts.middleware import PublicEntries

    PublicEntries.clear_all()
    pagecache.clear()
    yield


@pytest.fixture
def cast(db):
    """Two institutions, A and B, with a member of every role in each."""
    return Cast.create()


class Cast:
    """The standard cast: ``cast.a.admin``, ``cast.b.author2`` and so on (memberships)."""

    class Side:
        def __init__(self, institution, **members):
            self.institution = institution
            self.__dict__.update(members)

    @classmethod
    def create(cls) -> Cast:
        cast = cls()
        for key, name in (("a", "Northside School"), ("b", "Southgate Clinic")):
            institution = InstitutionFactory(slug=f"{key}-{name.split()[0].lower()}", name=name)
            members = {
                "admin": MembershipFactory(institution=institution, role=Role.ADMIN),
                "reviewer": MembershipFactory(institution=institution, role=Role.REVIEWER),
                "author": MembershipFactory(institution=institution, role=Role.AUTHOR),
                "author2": MembershipFactory(institution=institution, role=Role.AUTHOR),
            }
            setattr(cast, key, cls.Side(institution, **members))
        return cast
