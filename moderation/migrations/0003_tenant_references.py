"""References between moderation's tenant-owned rows (and to posts and members) stay inside one
institution."""

from django.db import migrations

from accounts.tenancy import EnforceTenantReferences


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0002_row_level_security"),
        ("feeds", "0005_tenant_references"),
        ("accounts", "0005_tenant_references"),
    ]

    operations = [
        EnforceTenantReferences("policy"),
        EnforceTenantReferences("policyversion"),
        EnforceTenantReferences("trustedmember"),
        EnforceTenantReferences("flag"),
        EnforceTenantReferences("decision"),
        EnforceTenantReferences("publishingpause"),
        EnforceTenantReferences("notificationpreference"),
        EnforceTenantReferences("sentnotice"),
    ]
