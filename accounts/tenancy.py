"""Tenancy: the current institution, fail-closed managers, and the tenant transaction.

Three walls keep one institution's rows from another's (DESIGN section 7):

1. Services take the institution explicitly.
2. ``Model.objects`` of every tenant-owned model filters by the institution in the context
   variable and raises ``NoInstitutionSelected`` when none is set. ``Model.unscoped`` is the
   named opt-out; every use of it carries a comment saying why.
3. On PostgreSQL, row-level security: ``tenant_context`` opens a transaction whose first
   statement is ``set_config('app.institution_id', ..., true)``; the policies created by
   ``EnableRowLevelSecurity`` compare each row against it.

The context variable is set only here: by request middleware, the Celery base task and
management commands, all through ``tenant_context`` (or, for the anonymous public pages, which
read only rows that are public by nature, ``public_read_context``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, migrations, models, transaction
from django.db.migrations.operations.base import Operation

_current_institution: ContextVar[int | None] = ContextVar("podium_institution", default=None)
# True inside public_read_context: the institution is selected without its tenant transaction.
_public_rows_only: ContextVar[bool] = ContextVar("podium_public_rows_only", default=False)

# Transaction-local PostgreSQL settings read by the row-level security policies.
INSTITUTION_SETTING = "app.institution_id"
USER_SETTING = "app.user_id"
TOKEN_DIGEST_SETTING = "app.token_digest"  # noqa: S105 (a setting name)


class NoInstitutionSelected(RuntimeError):
    """A tenant-owned model was queried with no institution in context."""


class CrossTenantWrite(RuntimeError):
    """A row of one institution was saved while another institution is in context."""


def current_institution_id() -> int | None:
    """The id of the institution the running code acts for, or None."""
    return _current_institution.get()


def _set_local(using: str, name: str, value: str) -> str | None:
    """Set a transaction-local setting on PostgreSQL; return the previous value."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(%s, true), set_config(%s, %s, true)", [name, name, value]
        )
        return cursor.fetchone()[0] or ""


@contextmanager
def database_settings(using: str = "default", **values: str) -> Iterator[None]:
    """Run the block in a transaction with the given ``app.*`` settings, restored afterwards."""
    connection = connections[using]
    nested = connection.in_atomic_block
    with transaction.atomic(using=using):
        previous = {name: _set_local(using, f"app.{name}", value) for name, value in values.items()}
        yield
        # An outer transaction goes on after this block: hand it back its own settings. (After an
        # exception the savepoint rollback restores them, and this line is never reached.)
        if nested and connection.vendor == "postgresql" and not connection.needs_rollback:
            for name, value in previous.items():
                _set_local(using, f"app.{name}", value or "")


@contextmanager
def tenant_context(institution_id: int, using: str = "default") -> Iterator[None]:
    """Act for one institution: set the context variable and open its tenant transaction."""
    if not isinstance(institution_id, int) or isinstance(institution_id, bool):
        raise TypeError(f"tenant_context needs an institution id, not {institution_id!r}")
    if (
        _current_institution.get() == institution_id
        and connections[using].in_atomic_block
        and not _public_rows_only.get()
    ):
        # Already inside this institution's transaction (a service called from a request or a
        # task, or from another service): the setting is in force, nothing to redo.
        yield
        return
    token = _current_institution.set(institution_id)
    public_token = _public_rows_only.set(False)
    try:
        with database_settings(using, institution_id=str(institution_id)):
            yield
    finally:
        _public_rows_only.reset(public_token)
        _current_institution.reset(token)


@contextmanager
def public_read_context(institution_id: int) -> Iterator[None]:
    """Read an institution's public rows: the context variable alone, no tenant transaction.

    The fail-closed managers filter by the institution as always; on PostgreSQL, with no
    ``app.institution_id`` set, only the ``public_read`` policies (feeds migration 0006) let
    rows through: published posts, their public texts and images, profiles. A draft or any
    other non-public row reads as missing. Used by the anonymous public pages, which thereby
    save the transaction's BEGIN, ``set_config`` and COMMIT (three round trips a request).
    """
    if not isinstance(institution_id, int) or isinstance(institution_id, bool):
        raise TypeError(f"public_read_context needs an institution id, not {institution_id!r}")
    token = _current_institution.set(institution_id)
    public_token = _public_rows_only.set(True)
    try:
        yield
    finally:
        _public_rows_only.reset(public_token)
        _current_institution.reset(token)


class TenantManager(models.Manager):
    """Default manager of tenant-owned models: scoped to the current institution, fails closed."""

    def get_queryset(self) -> models.QuerySet:
        institution_id = _current_institution.get()
        if institution_id is None:
            raise NoInstitutionSelected(
                f"{self.model.__name__}.objects was used with no institution selected. "
                "Run the code inside tenant_context(institution_id), or use "
                f"{self.model.__name__}.unscoped with a comment saying why."
            )
        return super().get_queryset().filter(institution_id=institution_id)


class TenantModel(models.Model):
    """Base of every tenant-owned model: a non-null institution and the fail-closed manager."""

    institution = models.ForeignKey(
        "accounts.Institution", on_delete=models.CASCADE, related_name="+", editable=False
    )

    objects = TenantManager()
    # The named opt-out: unscoped by the application (row-level security still applies).
    unscoped = models.Manager()  # noqa: DJ012 (a manager, not a field)

    class Meta:
        abstract = True
        # Django internals (related managers, admin, serialisation) use the plain manager; they
        # are reached through rows that were themselves fetched within the tenant.
        default_manager_name = "unscoped"
        base_manager_name = "unscoped"

    def save(self, *args, **kwargs) -> None:
        current = _current_institution.get()
        if current is not None and self.institution_id != current:
            raise CrossTenantWrite(
                f"{type(self).__name__} of institution {self.institution_id} saved while "
                f"acting for institution {current}"
            )
        super().save(*args, **kwargs)


CURRENT_INSTITUTION_SQL = "podium_current_institution()"


class EnableRowLevelSecurity(Operation):
    """Migration operation: turn on forced row-level security for a tenant-owned table.

    ``select_also`` adds a second, read-only policy (for example: a user may read their own
    memberships in every institution). It is a SQL condition on the table's columns.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, select_also: str | None = None) -> None:
        self.model_name = model_name
        self.select_also = select_also

    def deconstruct(self):
        kwargs = {"model_name": self.model_name}
        if self.select_also:
            kwargs["select_also"] = self.select_also
        return (self.__class__.__qualname__, [], kwargs)

    def state_forwards(self, app_label, state) -> None:
        pass

    def _table(self, app_label, state) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, to_state))
        condition = f"institution_id = {CURRENT_INSTITUTION_SQL}"
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({condition}) "
            f"WITH CHECK ({condition})"
        )
        if self.select_also:
            schema_editor.execute(
                f"CREATE POLICY tenant_select_also ON {table} FOR SELECT USING ({self.select_also})"
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS tenant_select_also ON {table}")
        schema_editor.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Enable forced row-level security on {self.model_name}"


class RunSQLOnPostgres(migrations.RunSQL):
    """RunSQL that does nothing on other databases (row-level security is PostgreSQL's)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


# Installed by accounts' first migration; the policies call it.
CREATE_CURRENT_INSTITUTION_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {CURRENT_INSTITUTION_SQL} RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('{INSTITUTION_SETTING}', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION podium_current_user() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('{USER_SETTING}', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION podium_current_token_digest() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('{TOKEN_DIGEST_SETTING}', true), '') $$;
"""
DROP_CURRENT_INSTITUTION_FUNCTION = f"""
DROP FUNCTION IF EXISTS {CURRENT_INSTITUTION_SQL};
DROP FUNCTION IF EXISTS podium_current_user();
DROP FUNCTION IF EXISTS podium_current_token_digest();
"""


def tenant_references(model) -> list:
    """The foreign keys of a tenant-owned model that point at another tenant-owned model.

    Works on real models and on migration-state models alike: a model is tenant-owned when it
    has an ``institution`` foreign key.
    """

    def is_tenant(candidate) -> bool:
        return any(f.name == "institution" and f.many_to_one for f in candidate._meta.fields)

    if not is_tenant(model):
        return []
    return [
        field
        for field in model._meta.fields
        if field.many_to_one and field.name != "institution" and is_tenant(field.related_model)
    ]


def tenant_reference_name(table: str, column: str) -> str:
    """The name of the composite foreign key of ``table.column`` (PostgreSQL's 63-byte limit)."""
    import hashlib

    name = f"{table}_{column}_same_tenant"
    if len(name) > 63:
        name = f"{name[:50]}_{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    return name


class EnforceTenantReferences(Operation):
    """Migration operation: every reference from this tenant-owned table to another tenant-owned
    table must stay inside one institution, as a composite foreign key
    ``(institution_id, x_id) -> target (institution_id, id)`` beside Django's own.

    Row-level security does not apply to foreign-key checks, so without this an institution's
    row could name another institution's row by id. Each target gets a unique
    ``(institution_id, id)`` key for the foreign key to reference. PostgreSQL only.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {"model_name": self.model_name})

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        quote = schema_editor.quote_name
        table = model._meta.db_table
        for field in tenant_references(model):
            target = field.related_model._meta.db_table
            key = f"{target}_tenant_key"[:63]
            # Names come from the models, not from input.
            schema_editor.execute(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = "  # noqa: S608
                f"'{key}') THEN ALTER TABLE {quote(target)} ADD CONSTRAINT {quote(key)} "
                f"UNIQUE (institution_id, id); END IF; END $$"
            )
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT "
                f"{quote(tenant_reference_name(table, field.column))} FOREIGN KEY "
                f"(institution_id, {quote(field.column)}) REFERENCES {quote(target)} "
                f"(institution_id, id) DEFERRABLE INITIALLY DEFERRED"
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        for field in tenant_references(model):
            name = tenant_reference_name(table, field.column)
            schema_editor.execute(
                f"ALTER TABLE {schema_editor.quote_name(table)} DROP CONSTRAINT IF EXISTS "
                f"{schema_editor.quote_name(name)}"
            )

    def describe(self) -> str:
        return f"Keep the references of {self.model_name} inside one institution"
