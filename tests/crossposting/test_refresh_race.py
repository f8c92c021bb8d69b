"""Token refresh is one request per account however many workers meet the expired token at once:
X and Bluesky rotate refresh tokens (a refresh token is spent by its first use), so a second
refresh with the same token would be refused and the account lost until a member reconnects.

Two workers here are two threads, each with its own PostgreSQL connection, whose sends both meet
the expired access token and then refresh at the same moment; the fake network counts refresh
requests and, like X and Bluesky without a grace period, refuses a spent refresh token."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from accounts.tenancy import tenant_context
from crossposting import services, token_refresh
from crossposting.clients import Account, Result, client_for
from crossposting.models import NetworkAccount
from tests.conftest import Cast, postgres_only

pytestmark = postgres_only


def _expired_account(fakes, network: str, institution) -> tuple[NetworkAccount, str]:
    """An account whose access token the network no longer takes; its refresh token is good."""
    fake = fakes[network]
    if network == "x":
        user_id, access, refresh = fake.add_account()
        fake.expire(access)
        secrets = {"access_token": access, "refresh_token": refresh, "client_id": "c"}
        handle = "school"
    else:
        handle = f"race-{len(fake.passwords)}.test"
        user_id = fake.add_account(handle, "abcd-efgh-ijkl-mnop")
        with fake.lock:
            session = fake._session(user_id, handle)
        fake.expire_access_tokens()
        # No app password: a failed refresh cannot be hidden by a fresh login.
        secrets = {"access_jwt": session["accessJwt"], "refresh_jwt": session["refreshJwt"]}
        refresh = session["refreshJwt"]
    account = services.connect_account(
        institution,
        network=network,
        handle=handle,
        base_url=fake.base_url,
        secrets=secrets,
        remote_user_id=user_id,
    )
    return account, refresh


def _client(account: NetworkAccount):
    """A worker's client for the account, with the credentials as its claim read them."""
    with tenant_context(account.institution_id):
        row = NetworkAccount.objects.get(id=account.id)
    view = Account(
        id=row.id,
        institution_id=row.institution_id,
        network=row.network,
        handle=row.handle,
        base_url=row.base_url,
        remote_user_id=row.remote_user_id,
        credentials=services.account_credentials(row),
    )
    return client_for(view, timeout=5.0), row.credentials_version


def _post(client, network: str, text: str):
    payload = {"text": text, "facets": [], "images": [], "extra": {}, "language": "en"}
    if network == "bluesky":
        at = datetime.now(UTC)
        payload |= {
            "rkey": services.record_key(hashlib.sha256(text.encode()).hexdigest(), at),
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }
    return client.create(payload, key=text, reply_to=None, progress={}, remember=lambda p: None)


@pytest.mark.parametrize("network", ["x", "bluesky"])
def test_two_workers_refreshing_one_account_at_once_send_one_refresh_and_both_get_the_new_token(
    transactional_db, fakes, network
):
    fake = fakes[network]
    cast = Cast.create()
    account, spent = _expired_account(fakes, network, cast.a.institution)
    calls_before = fake.refresh_calls
    fake.refresh_delay = 0.3  # the first refresh is still under way when the second arrives
    if network == "bluesky":
        fake.refresh_grace = False
    both_refused = threading.Barrier(2, timeout=10)
    results: dict[str, dict] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            client, version = _client(account)
            refused = _post(client, network, f"Post of {name} before the refresh")
            assert refused.result == Result.AUTH, (refused.summary, refused.message)
            both_refused.wait()  # both workers hold the expired token and refresh now
            fresh, new_version = token_refresh.refresh_credentials(client, refused_version=version)
            sent = _post(client, network, f"Post of {name} after the refresh")
            results[name] = {"fresh": fresh, "version": new_version, "sent": sent.result}
        except BaseException as error:  # reported in the test's thread
            errors.append(error)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in ("one", "two")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        fake.refresh_delay = 0.0
        if network == "bluesky":
            fake.refresh_grace = True

    assert not errors, errors
    assert fake.refresh_calls - calls_before == 1, "exactly one refresh reached the network"
    one, two = results["one"], results["two"]
    assert one["fresh"] is not None and one["fresh"] == two["fresh"]
    assert one["sent"] == two["sent"] == Result.SENT
    token = "refresh_token" if network == "x" else "refresh_jwt"
    assert one["fresh"][token] != spent, "the rotated refresh token is the one kept"
    with tenant_context(cast.a.institution.id):
        row = NetworkAccount.objects.get(id=account.id)
    assert services.account_credentials(row) == one["fresh"]
    assert row.credentials_version == account.credentials_version + 1 == one["version"]


@pytest.mark.parametrize("network", ["x", "bluesky"])
def test_a_worker_whose_refused_token_was_already_replaced_refreshes_nothing(
    transactional_db, fakes, network
):
    """A worker that meets the expired token after another worker refreshed (its claim read the
    old row) takes the stored pair instead of spending the rotated refresh token again."""
    fake = fakes[network]
    cast = Cast.create()
    account, _spent = _expired_account(fakes, network, cast.a.institution)
    late, late_version = _client(account)
    first, first_version = _client(account)
    fresh, _version = token_refresh.refresh_credentials(first, refused_version=first_version)
    calls = fake.refresh_calls

    assert _post(late, network, "late worker").result == Result.AUTH
    taken, version = token_refresh.refresh_credentials(late, refused_version=late_version)

    assert fake.refresh_calls == calls
    assert taken == fresh and version == late_version + 1
    assert _post(late, network, "late worker after").result == Result.SENT


def test_a_refused_refresh_leaves_the_stored_credentials_as_they_were(transactional_db, fakes):
    fake = fakes["x"]
    cast = Cast.create()
    account, spent = _expired_account(fakes, "x", cast.a.institution)
    with fake.lock:
        fake.refresh.pop(spent)  # revoked on the network
    client, version = _client(account)

    fresh, new_version = token_refresh.refresh_credentials(client, refused_version=version)

    assert fresh is None and new_version == version
    with tenant_context(cast.a.institution.id):
        row = NetworkAccount.objects.get(id=account.id)
    assert row.credentials_version == version
    assert services.account_credentials(row)["refresh_token"] == spent
