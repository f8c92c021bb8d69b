"""Every model is tenant-owned (column, fail-closed manager, row-level security policy) or
listed here as global with the reason."""

import pytest
from django.apps import apps
from django.db import connection

from accounts.tenancy import TenantManager, TenantModel

GLOBAL_MODELS = {
    "accounts.institution": "the tenant registry itself, resolved from the URL first",
    "accounts.user": "one person can be a member of several institutions",
    "auth.permission": "Django's permission catalogue (code, not data)",
    "auth.group": "operator groups of the installation, not of an institution",
    "contenttypes.contenttype": "Django's model catalogue (code, not data)",
    "sessions.session": "sign-in sessions of users, who are global",
    "admin.logentry": "operators' actions in /ops/, which work across institutions",
    "otp_totp.totpdevice": "a person's authenticator app, global like the person",
    "otp_static.staticdevice": "a person's recovery codes, global like the person",
    "otp_static.statictoken": "a person's recovery codes, global like the person",
    "django_otp_webauthn.webauthncredential": "a person's passkey, global like the person",
    "django_otp_webauthn.webauthnattestation": "a passkey's attestation, global like the person",
    "django_otp_webauthn.webauthnuserhandle": "a person's passkey user id, global like them",
}
# Unique columns that do not start with the institution, and why.
GLOBAL_UNIQUE_COLUMNS = {
    "accounts.apitoken.digest": "a bearer token is looked up by its secret before the "
    "institution is known; a digest of a random secret cannot collide by accident",
}


def tenant_models():
    return [m for m in apps.get_models() if m._meta.label_lower not in GLOBAL_MODELS]


def test_every_model_is_tenant_owned_or_listed_as_global():
    unlisted = [m._meta.label_lower for m in tenant_models() if not issubclass(m, TenantModel)]
    assert unlisted == [], "Make these TenantModels or list them in GLOBAL_MODELS with a reason"


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label_lower)
def test_tenant_model_has_institution_column_and_fail_closed_manager(model):
    field = model._meta.get_field("institution")
    assert field.many_to_one and not field.null
    assert isinstance(model.objects, TenantManager)
    assert model._default_manager.name == "unscoped", "Django internals use the named opt-out"


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label_lower)
def test_tenant_model_unique_constraints_and_indexes_start_with_institution(model):
    for constraint in model._meta.constraints:
        fields = getattr(constraint, "fields", ())
        assert fields and fields[0] == "institution", constraint.name
    for index in model._meta.indexes:
        assert index.fields[0] == "institution", index.name
    for field in model._meta.local_fields:
        if field.unique and not field.primary_key:
            label = f"{model._meta.label_lower}.{field.name}"
            assert label in GLOBAL_UNIQUE_COLUMNS, f"{label} is unique across institutions"


@pytest.mark.postgres_only
@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label_lower)
def test_tenant_table_has_forced_row_level_security_policy(model, db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s",
            [model._meta.db_table],
        )
        assert cursor.fetchone() == (True, True)
        cursor.execute(
            "SELECT qual, with_check FROM pg_policies WHERE tablename = %s "
            "AND policyname = 'tenant_isolation'",
            [model._meta.db_table],
        )
        qual, with_check = cursor.fetchone()
    assert "podium_current_institution()" in qual
    assert "podium_current_institution()" in with_check


@pytest.mark.postgres_only
def test_global_tables_have_no_institution_column(db):
    for label in GLOBAL_MODELS:
        model = apps.get_model(label)
        assert "institution" not in {f.name for f in model._meta.fields}, label


def _tenant_references():
    from accounts.tenancy import tenant_references

    return [(model, field) for model in tenant_models() for field in tenant_references(model)]


def test_tenant_references_are_found():
    labels = {f"{m._meta.label_lower}.{f.name}" for m, f in _tenant_references()}
    assert {"feeds.post.author", "feeds.attachment.media", "accounts.apitoken.membership"} <= labels


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("model", "field"),
    _tenant_references(),
    ids=[f"{m._meta.label_lower}.{f.name}" for m, f in _tenant_references()],
)
def test_every_reference_between_tenant_rows_has_a_composite_foreign_key(model, field, db):
    """(institution_id, x_id) -> target (institution_id, id): the database keeps a reference
    inside one institution even where row-level security does not look (foreign-key checks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_constraint c
            JOIN pg_class source ON source.oid = c.conrelid
            JOIN pg_class target ON target.oid = c.confrelid
            WHERE c.contype = 'f' AND source.relname = %s AND target.relname = %s
              AND (SELECT array_agg(attname::text ORDER BY attname) FROM pg_attribute
                   WHERE attrelid = c.conrelid AND attnum = ANY(c.conkey))
                  = ARRAY[%s, %s]::text[]
            """,
            [
                model._meta.db_table,
                field.related_model._meta.db_table,
                *sorted([field.column, "institution_id"]),
            ],
        )
        assert cursor.fetchone()[0] == 1, (
            f"{model._meta.label_lower}.{field.name} needs EnforceTenantReferences in a migration"
        )
