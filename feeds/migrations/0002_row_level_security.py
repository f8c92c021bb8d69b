"""Row-level security for the tenant-owned tables of feeds (PostgreSQL only)."""

from django.db import migrations

from accounts.tenancy import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("feeds", "0001_initial"), ("accounts", "0002_row_level_security")]

    operations = [
        EnableRowLevelSecurity("post"),
        EnableRowLevelSecurity("revision"),
        EnableRowLevelSecurity("media"),
        EnableRowLevelSecurity("attachment"),
    ]
