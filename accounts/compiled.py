"""Compiled reads: the few reads every signed-in page runs, compiled by the ORM once, then run
with new values.

Django builds and compiles a queryset's SQL every time it runs it; for a small read that costs
more than the database does (a membership lookup: about 1.5 ms of Python, the query itself well
under 0.5 ms). A compiled read is the ORM's own SQL, kept per shape, institution (the tenant
manager's filter is part of the SQL, so the key holds the institution in context) and database;
``Param`` marks the values that change from one run to the next. The rows are the queryset's
``values_list`` rows, through the database's value converters, as the ORM would return them.

Used by the signed-in pages (``accounts.middleware``, ``accounts.sessions``) and by the public
pages' reads (``feeds.public.queries``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, Field, Model, QuerySet

from accounts.tenancy import current_institution_id


class Param(Expression):
    """A value given when a compiled read runs: compiles to a placeholder."""

    def __init__(self, name: str, output_field: Field) -> None:
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        return "%s", [self]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # values, and Params to fill in
    converters: tuple  # (position, functions, column) for the columns that need converting


_compiled: dict[tuple, _Compiled] = {}


def _cursor(connection: BaseDatabaseWrapper):
    """``connection.cursor()``, but on PostgreSQL one that binds values on the server, so that
    psycopg prepares a statement the connection runs often (``prepare_threshold`` in
    ``podium.settings``) and the server keeps its plan instead of planning it on every run.

    Planning the public reads costs far more than running them, since the row-level security
    policies add their subqueries to every table (100,000 posts, no institution selected:
    institution page 21 ms planning and 1.6 ms execution, permalink 7.7 ms and 1.4 ms). Only
    compiled reads are prepared: Django's own cursors bind on the client and never prepare.
    Measured in one process against not preparing (7 Dec 2026, 7 alternating rounds, loaded
    machine): institution page +36%, permalink +48%, atom feed +48%, profile page +1%.
    tests/feeds/test_public_prepared.py holds the pages equal byte for byte.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg  # PostgreSQL only

    # What connection.cursor() does (health check, connect, wrap), with psycopg's
    # server-binding cursor in place of Django's client-binding one.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(psycopg.Cursor(connection.connection))


def _compile(build: Callable[[], QuerySet], connection: BaseDatabaseWrapper) -> _Compiled:
    compiler = build().query.get_compiler(connection=connection)  # the manager fails closed
    sql, params = compiler.as_sql()
    converters = []
    for position, (column, _sql, _alias) in enumerate(compiler.select[: compiler.col_count]):
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((position, tuple(functions), column))
    return _Compiled(sql, tuple(params), tuple(converters))


def compiled_rows(shape: Hashable, build: Callable[[], QuerySet], **values: Any) -> list:
    """The rows of ``build()`` (a ``values_list`` queryset), with ``values`` for its Params:
    tuples as the database gives them, or lists where a column needed converting."""
    connection = connections[DEFAULT_DB_ALIAS]
    key = (connection.alias, connection.vendor, current_institution_id(), shape)
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compiled[key] = _compile(build, connection)
    params = [
        p.output_field.get_db_prep_value(values[p.name], connection) if isinstance(p, Param) else p
        for p in compiled.params
    ]
    with _cursor(connection) as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    if compiled.converters:
        rows = [list(row) for row in rows]
        for row in rows:
            for position, functions, column in compiled.converters:
                for function in functions:
                    row[position] = function(row[position], column, connection)
    return rows


def columns_of(model: type[Model], prefix: str = "") -> list[str]:
    """The ``values_list`` names of a model's concrete fields (``prefix`` for a related one)."""
    return [prefix + field.attname for field in model._meta.concrete_fields]


def instance_of(model: type[Model], values: list) -> Model:
    """A model instance from the values of ``columns_of(model)``, as if the ORM had loaded it."""
    return model.from_db(DEFAULT_DB_ALIAS, columns_of(model), values)
