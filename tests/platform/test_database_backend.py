"""The database backend's health check (podium/postgresql/base.py): a kept connection the
server dropped is found and replaced before a request uses it, and checking a live one sends
nothing to the server."""

from __future__ import annotations

import time

import pytest
from django.db import close_old_connections, connections
from django.urls import reverse

from tests.conftest import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def _observed(sql: str, params: list):
    """One statement on a connection of its own, as the same role (which may watch and end its
    own sessions): the test's connections stay as the test left them."""
    observer = connections.create_connection("default")
    try:
        observer.ensure_connection()
        return observer.connection.execute(sql, params).fetchone()
    finally:
        observer.close()


def _last_query_start(pid: int):
    row = _observed("SELECT query_start FROM pg_stat_activity WHERE pid = %s", [pid])
    return row[0] if row else None


def _drop(pid: int) -> None:
    """Close the session from the server's side, as a restart or an idle timeout would."""
    assert _observed("SELECT pg_terminate_backend(%s)", [pid])[0]
    for _ in range(200):
        if _last_query_start(pid) is None:
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} did not go")


def test_a_live_connection_passes_without_a_query_and_a_dropped_one_fails():
    wrapper = connections.create_connection("default")
    try:
        wrapper.ensure_connection()
        pid = wrapper.connection.info.backend_pid
        with wrapper.connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        before = _last_query_start(pid)
        assert wrapper.is_usable()
        assert _last_query_start(pid) == before  # the check sent no query
        _drop(pid)
        assert not wrapper.is_usable()
    finally:
        wrapper.close()


def test_a_request_after_the_server_dropped_the_connection_is_served(client, cast, settings):
    # A kept connection, as between requests in production (CONN_MAX_AGE, health checks).
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0  # the page reads the database on every request
    connection = connections["default"]
    connection.health_check_enabled = True
    path = reverse("feeds:institution", args=[cast.a.institution.slug])
    assert client.get(path).status_code == 200
    connection.ensure_connection()
    dropped = connection.connection.info.backend_pid
    _drop(dropped)
    # What Django runs when a request starts (the test client leaves it out): the kept
    # connection is checked before the request's first query.
    close_old_connections()
    response = client.get(path)
    assert response.status_code == 200
    assert connection.connection.info.backend_pid != dropped
