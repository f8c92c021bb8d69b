"""Row-level security for the tenant-owned tables of moderation (PostgreSQL only)."""

from django.db import migrations

from accounts.tenancy import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("policy"),
        EnableRowLevelSecurity("policyversion"),
        EnableRowLevelSecurity("trustedmember"),
        EnableRowLevelSecurity("lexiconterm"),
        EnableRowLevelSecurity("flag"),
        EnableRowLevelSecurity("decision"),
        EnableRowLevelSecurity("publishingpause"),
        EnableRowLevelSecurity("notificationpreference"),
        EnableRowLevelSecurity("sentnotice"),
    ]
