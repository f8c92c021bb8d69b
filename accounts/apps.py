from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts.database_roles import grant_application_role

        # Wiring, not business logic: after every migrate, the application role gets exactly
        # the table privileges it needs (it owns nothing, so row-level security binds it).
        post_migrate.connect(grant_application_role, dispatch_uid="podium-grant-app-role")
