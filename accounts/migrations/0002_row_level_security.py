"""Row-level security for the tenant-owned tables of accounts (PostgreSQL only)."""

from django.db import migrations

from accounts.tenancy import (
    CREATE_CURRENT_INSTITUTION_FUNCTION,
    DROP_CURRENT_INSTITUTION_FUNCTION,
    EnableRowLevelSecurity,
    RunSQLOnPostgres,
)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        RunSQLOnPostgres(CREATE_CURRENT_INSTITUTION_FUNCTION, DROP_CURRENT_INSTITUTION_FUNCTION),
        # A person may read their own memberships in every institution (app.user_id).
        EnableRowLevelSecurity("membership", select_also="user_id = podium_current_user()"),
        EnableRowLevelSecurity("invitation"),
        # A bearer token's row is readable by whoever presents its digest (app.token_digest).
        EnableRowLevelSecurity("apitoken", select_also="digest = podium_current_token_digest()"),
    ]
