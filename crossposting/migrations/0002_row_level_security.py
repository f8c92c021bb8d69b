"""Row-level security for the tenant-owned tables of cross-posting (PostgreSQL only)."""

from django.db import migrations

from accounts.tenancy import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("crossposting", "0001_initial"), ("accounts", "0002_row_level_security")]

    operations = [
        EnableRowLevelSecurity("networkaccount"),
        EnableRowLevelSecurity("crosspostsettings"),
        EnableRowLevelSecurity("posttarget"),
        EnableRowLevelSecurity("delivery"),
        EnableRowLevelSecurity("deliveryattempt"),
    ]
