"""Token refresh at send time: one refresh per account at a time, stored by compare-and-swap.

X and Bluesky rotate refresh tokens: a refresh token is spent by its first use, and a second
refresh with it is refused (X may then revoke the whole token family). Two workers whose
deliveries of one account both meet an expired access token must therefore not both refresh:
the first refreshes and stores the new pair, the second takes what the first stored.

How: the account row is locked (``SELECT ... FOR UPDATE``) in a short transaction of its own
around read, check, refresh and write. Inside, the worker compares the row's
``credentials_version`` with the version whose token the network refused:

- changed: another worker refreshed (or a member reconnected) meanwhile; use the stored
  credentials, no refresh request;
- unchanged: refresh, and write the new credentials with ``version + 1`` by a conditional UPDATE
  on the old version (the compare-and-swap; under the lock it cannot lose, it guards the SQLite
  development setup, where the lock is a no-op).

Why the refresh request runs inside the lock, against the rule that no transaction is held across
a network call: the rule protects the delivery rows (a held transaction there would block the
sweeper and the claims of every worker); this transaction locks only one account row, for one
request bounded by the network timeout, and nothing else of the account waits on that row except
the other refreshers, which must wait anyway. A compare-and-swap after an unlocked refresh
cannot give the guarantee: both workers would already have spent the same refresh token before
either swap. The post itself, uploads and lookups are never made inside it.
"""

from __future__ import annotations

from django.utils import timezone

from accounts.tenancy import tenant_context
from crossposting import credentials
from crossposting.clients import NetworkClient
from crossposting.models import NetworkAccount


def refresh_credentials(client: NetworkClient, *, refused_version: int) -> tuple[dict | None, int]:
    """New credentials for the client's account after the network refused those of
    ``refused_version``: refreshed here, or taken from the row when another worker refreshed
    first. Returns (credentials, their version); credentials None when the refresh failed (the
    account then needs re-authorisation). The client's account credentials are set as well."""
    account = client.account
    with tenant_context(account.institution_id):
        row = (
            NetworkAccount.objects.select_for_update()
            .only("id", "credentials", "credentials_version")
            .get(id=account.id)
        )
        stored = credentials.unseal(account.institution_id, row.id, row.credentials)
        if row.credentials_version != refused_version:
            client.account.credentials = stored
            return stored, row.credentials_version
        client.account.credentials = stored
        fresh = client.refresh()
        if fresh is None:
            return None, row.credentials_version
        swapped = NetworkAccount.objects.filter(
            id=row.id, credentials_version=refused_version
        ).update(
            credentials=credentials.seal(account.institution_id, row.id, fresh),
            credentials_version=refused_version + 1,
            updated_at=timezone.now(),
        )
        if not swapped:  # only without a real row lock (SQLite): the other worker's pair wins
            row = NetworkAccount.objects.only("credentials", "credentials_version").get(
                id=account.id
            )
            stored = credentials.unseal(account.institution_id, row.id, row.credentials)
            client.account.credentials = stored
            return stored, row.credentials_version
    client.account.credentials = fresh
    return fresh, refused_version + 1
