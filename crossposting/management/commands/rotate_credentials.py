"""``manage.py rotate_credentials``: re-encrypt every network account's credentials (and every
Mastodon app's client secret) with the first key of ``PODIUM_CREDENTIALS_KEYS``, so that the keys
after it can be removed.

Rotation without downtime: put the new key first (the old ones stay, so everything still
decrypts), restart, run this command, then drop the old keys. Each row is re-encrypted under a
row lock, so a token refresh running at the same moment is never lost.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Institution
from accounts.tenancy import tenant_context
from crossposting import credentials
from crossposting.models import MastodonApp, NetworkAccount


class Command(BaseCommand):
    help = "Re-encrypt every network account's credentials with the first configured key."

    def handle(self, *args, **options) -> None:
        rotated = checked = 0
        for institution_id in Institution.objects.values_list("id", flat=True):
            with tenant_context(institution_id):
                ids = list(NetworkAccount.objects.values_list("id", flat=True))
            for account_id in ids:
                with transaction.atomic(), tenant_context(institution_id):
                    account = NetworkAccount.objects.select_for_update().get(id=account_id)
                    checked += 1
                    if credentials.is_sealed_with_first_key(
                        institution_id, account.id, account.credentials
                    ):
                        continue
                    plain = credentials.unseal(institution_id, account.id, account.credentials)
                    account.credentials = credentials.seal(institution_id, account.id, plain)
                    account.save(update_fields=["credentials"])
                    rotated += 1
        apps_rotated = self._rotate_mastodon_apps()
        self.stdout.write(
            f"{rotated} of {checked} network accounts re-encrypted with the first key."
        )
        self.stdout.write(f"{apps_rotated} Mastodon app secrets re-encrypted with the first key.")

    def _rotate_mastodon_apps(self) -> int:
        """The client secrets of the apps registered on Mastodon instances, the same way."""
        rotated = 0
        for institution_id in Institution.objects.values_list("id", flat=True):
            with tenant_context(institution_id):
                ids = list(MastodonApp.objects.values_list("id", flat=True))
            for app_id in ids:
                with transaction.atomic(), tenant_context(institution_id):
                    app = MastodonApp.objects.select_for_update().get(id=app_id)
                    table = "mastodon_app"
                    if credentials.is_sealed_with_first_key(
                        institution_id, app.id, app.secret, table=table
                    ):
                        continue
                    plain = credentials.unseal(institution_id, app.id, app.secret, table=table)
                    app.secret = credentials.seal(institution_id, app.id, plain, table=table)
                    app.save(update_fields=["secret"])
                    rotated += 1
        return rotated
