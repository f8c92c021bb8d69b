"""References between feeds' tenant-owned rows (and to members) stay inside one institution."""

from django.db import migrations

from accounts.tenancy import EnforceTenantReferences


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0004_post_tag_id_and_feed_indexes"),
        ("accounts", "0005_tenant_references"),
    ]

    operations = [
        EnforceTenantReferences("post"),
        EnforceTenantReferences("revision"),
        EnforceTenantReferences("media"),
        EnforceTenantReferences("attachment"),
    ]
