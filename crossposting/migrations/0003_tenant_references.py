"""References between cross-posting's tenant-owned rows (and to posts and members) stay inside
one institution."""

from django.db import migrations

from accounts.tenancy import EnforceTenantReferences


class Migration(migrations.Migration):
    dependencies = [
        ("crossposting", "0002_row_level_security"),
        ("feeds", "0005_tenant_references"),
        ("accounts", "0005_tenant_references"),
    ]

    operations = [
        EnforceTenantReferences("networkaccount"),
        EnforceTenantReferences("crosspostsettings"),
        EnforceTenantReferences("posttarget"),
        EnforceTenantReferences("delivery"),
        EnforceTenantReferences("deliveryattempt"),
    ]
