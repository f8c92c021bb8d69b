"""Privileges of the application's database role on PostgreSQL.

Migrations run as the owner role; the application connects as a role that owns no table, so
``FORCE ROW LEVEL SECURITY`` policies bind it. ``platform/postgres/roles.sql`` creates the roles.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections

# Tables the application may only append to and read: the audit log is never rewritten.
APPEND_ONLY_TABLES = ("accounts_auditevent",)


def grant_application_role(sender, using: str = "default", **kwargs) -> None:
    """Grant the application role use of every table and sequence the owner has created."""
    connection = connections[using]
    role = settings.DATABASE_APP_ROLE
    if connection.vendor != "postgresql" or not role:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            return  # migrating as the application role itself: nothing to grant
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return
        quoted = connection.ops.quote_name(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        for table in APPEND_ONLY_TABLES:
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is not None:
                cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}")
