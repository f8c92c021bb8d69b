"""References between accounts' tenant-owned rows stay inside one institution (PostgreSQL)."""

from django.db import migrations

from accounts.tenancy import EnforceTenantReferences


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_audit_event")]

    operations = [
        EnforceTenantReferences("invitation"),
        EnforceTenantReferences("apitoken"),
    ]
