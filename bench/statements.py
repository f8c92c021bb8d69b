"""Statements a public page sends to PostgreSQL, counted at the driver.

Django's query log (``CaptureQueriesContext``) misses what psycopg sends by itself: the
connection's health check (``SELECT 1`` at a request's first query) and a transaction's
``BEGIN`` and ``COMMIT``. ``StatementCounter`` counts every round trip of a statement: each
``execute`` of a psycopg cursor, plus ``BEGIN`` and ``COMMIT`` (or ``ROLLBACK``) of every
transaction that ends while it counts.

``python -m bench.public_read statements`` uses it inside the benchmark's environment; the
tests (tests/feeds/test_public_statements.py) hold the counts to their limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def counting_statements() -> Iterator[Counted]:
    """Count the statements every psycopg connection of this process sends meanwhile."""
    counted = Counted()
    execute = psycopg.Cursor.execute
    commit = psycopg.Connection.commit
    rollback = psycopg.Connection.rollback

    def counted_execute(cursor, query, *args, **kwargs):
        text = query.as_string(cursor) if hasattr(query, "as_string") else str(query)
        connection = cursor.connection
        if not connection.autocommit and connection.info.transaction_status.name == "IDLE":
            counted.statements.append("BEGIN")  # psycopg opens the transaction first
        counted.statements.append(" ".join(text.split())[:120])
        return execute(cursor, query, *args, **kwargs)

    def counted_commit(connection):
        if connection.info.transaction_status.name != "IDLE":
            counted.statements.append("COMMIT")
        return commit(connection)

    def counted_rollback(connection):
        if connection.info.transaction_status.name != "IDLE":
            counted.statements.append("ROLLBACK")
        return rollback(connection)

    psycopg.Cursor.execute = counted_execute
    psycopg.Connection.commit = counted_commit
    psycopg.Connection.rollback = counted_rollback
    try:
        yield counted
    finally:
        psycopg.Cursor.execute = execute
        psycopg.Connection.commit = commit
        psycopg.Connection.rollback = rollback


def cold_page_statements(
    paths: dict[str, str], host: str = "testserver", *, refreshed: bool = False
) -> dict[str, Counted]:
    """{name: statements} of one anonymous GET of each path, through every middleware, in a
    process that has served each page before (its connection open, its per-process entries
    current: a busy worker of a running server). ``refreshed``: with those entries forgotten
    (what a worker pays when they are read again, at most once a second each).
    Needs Django set up, the server cache off."""
    from django.db import connections
    from django.test import Client

    from accounts.middleware import PublicEntries

    client = Client(headers={"X-Forwarded-Proto": "https"}, HTTP_HOST=host)
    found = {}
    for name, path in paths.items():
        for _warm in range(2):
            response = client.get(path, secure=True)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
        for connection in connections.all(initialized_only=True):
            connection.health_check_done = False  # as a new request starts: checked again
        if refreshed:
            PublicEntries.clear_all()
        with counting_statements() as counted:
            response = client.get(path, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        found[name] = counted
    return found
