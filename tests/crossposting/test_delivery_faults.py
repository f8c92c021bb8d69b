"""Faults on the wire and bad answers from networks: each is recorded with a reason in plain
words, never loops and never leaves a second copy."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_context
from crossposting.models import DeliveryAttempt, DeliveryState, NetworkAccount
from tests.crossposting.conftest import connect
from tests.crossposting.fakes.server import free_port

NETWORKS = ["mastodon", "bluesky", "x", "linkedin", "threads"]


def _copies_of(stage, network, post):
    fake = stage.fakes[network]
    ids = {d.remote_id for d in stage.deliveries(post) if d.network == network}
    return ids & fake.copy_ids()


@pytest.mark.parametrize(
    "fault", ["drop_after_commit", "5xx", "malformed", "drop_after_commit,drop_after_commit"]
)
@pytest.mark.parametrize("network", NETWORKS)
def test_an_uncertain_send_is_looked_up_before_any_resend_and_leaves_one_copy(
    stage, network, fault
):
    fake = stage.fakes[network]
    before = fake.created
    fake.faults.script.extend(fault.split(","))

    post = stage.publish(f"Open day {network} {fault}", networks=[network])
    stage.run()

    [delivery] = stage.deliveries(post)
    assert delivery.state == DeliveryState.SENT, delivery.last_error
    assert fake.created - before == 1, "the network holds exactly one copy"
    assert delivery.remote_id in fake.copy_ids()
    with tenant_context(stage.institution.id):
        outcomes = list(
            DeliveryAttempt.objects.filter(delivery=delivery).values_list("outcome", flat=True)
        )
    assert outcomes[0] == "unknown" and outcomes[-1] == "sent"


def test_a_revoked_token_asks_for_reauthorisation_without_retrying(stage):
    stage.fakes["mastodon"].revoke(
        stage.fakes["mastodon"].tokens
        and next(
            t
            for t, a in stage.fakes["mastodon"].tokens.items()
            if a == stage.accounts["mastodon"].remote_user_id
        )
    )
    first = stage.publish("One", networks=["mastodon"])
    second = stage.publish("Two", networks=["mastodon"])
    stage.run()

    for post in (first, second):
        [delivery] = stage.deliveries(post)
        assert delivery.state == DeliveryState.NEEDS_REAUTHORISATION
        assert delivery.last_error
    with tenant_context(stage.institution.id):
        account = NetworkAccount.objects.get(id=stage.accounts["mastodon"].id)
        attempts = DeliveryAttempt.objects.filter(delivery__account=account).count()
    assert account.status == NetworkAccount.Status.NEEDS_REAUTHORISATION
    assert "access" in account.status_reason
    assert attempts == 1, "the second delivery waits for the account instead of trying"


@pytest.mark.parametrize("network", ["bluesky", "x"])
def test_an_expired_token_is_refreshed_once_and_the_post_goes_out(stage, network):
    fake = stage.fakes[network]
    stage.publish("Warm-up", networks=[network])
    stage.run()
    if network == "bluesky":
        fake.expire_access_tokens()
    else:
        for token, user in list(fake.access.items()):
            if user == stage.accounts[network].remote_user_id:
                fake.expire(token)

    post = stage.publish("After expiry", networks=[network])
    stage.run()

    [delivery] = stage.deliveries(post)
    assert delivery.state == DeliveryState.SENT, delivery.last_error
    with tenant_context(stage.institution.id):
        account = NetworkAccount.objects.get(id=stage.accounts[network].id)
    assert account.status == NetworkAccount.Status.ACTIVE
    assert account.credentials_version >= 2, "the refreshed token was stored"


def test_an_account_deleted_on_the_network_needs_reauthorisation(stage):
    fake = stage.fakes["bluesky"]
    fake.passwords.pop("podium.test")
    fake.expire_access_tokens()
    fake.revoked |= set(fake.refresh)

    post = stage.publish("Gone", networks=["bluesky"])
    stage.run()

    [delivery] = stage.deliveries(post)
    assert delivery.state == DeliveryState.NEEDS_REAUTHORISATION
    assert "Bluesky" in delivery.last_error


def test_an_unknown_instance_fails_after_the_limit_with_the_reason(stage, settings):
    settings.PODIUM_DELIVERY_MAX_ATTEMPTS = 3
    account = connect(stage.institution, stage.fakes["mastodon"], "mastodon", name="nowhere")
    with tenant_context(stage.institution.id):
        NetworkAccount.objects.filter(id=account.id).update(
            base_url=f"http://127.0.0.1:{free_port()}"
        )
    stage.accounts = {"nowhere": account}

    post = stage.publish("Hello", networks=["nowhere"])
    stage.run(rounds=20)

    [delivery] = stage.deliveries(post)
    assert delivery.state == DeliveryState.FAILED
    assert "Could not reach" in delivery.last_error and "3 tries" in delivery.last_error


def test_a_text_the_network_rejects_as_too_long_fails_with_its_words(stage):
    stage.fakes["mastodon"].max_characters = 20
    try:
        post = stage.publish(
            "A sentence that is longer than twenty characters", networks=["mastodon"]
        )
        stage.run()
    finally:
        stage.fakes["mastodon"].max_characters = 500

    [delivery] = stage.deliveries(post)
    assert delivery.state == DeliveryState.FAILED
    assert "character limit of 20 exceeded" in delivery.last_error
    assert delivery.attempts == 1


def test_a_rate_limit_defers_that_account_until_the_reset_and_spares_the_others(stage):
    mastodon = stage.fakes["mastodon"]
    mastodon.rate.limit = 1
    try:
        stage.publish("First", networks=["mastodon", "x"])
        second = stage.publish("Second", networks=["mastodon", "x"])
        stage.run()
    finally:
        mastodon.rate.limit = 10**9
        mastodon.rate.used.clear()

    rows = {d.network: d for d in stage.deliveries(second)}
    assert rows["x"].state == DeliveryState.SENT
    assert rows["mastodon"].state == DeliveryState.PENDING
    assert rows["mastodon"].last_error_kind == "rate_limited"
    assert rows["mastodon"].next_attempt_at > rows["x"].sent_at


@pytest.mark.parametrize("network", ["x", "threads"])
def test_the_lookup_pages_through_many_newer_posts(stage, network):
    fake = stage.fakes[network]
    before = fake.created
    fake.faults.script.append("drop_after_commit")
    post = stage.publish(f"Lost among many on {network}", networks=[network])
    [row] = stage.deliveries(post)
    from crossposting import delivery

    delivery.deliver(row.id, stage.institution.id)  # dropped after the network committed it
    user = stage.accounts[network].remote_user_id
    with fake.lock:  # 250 newer posts by the same account
        for number in range(250):
            key = f"9{number:08d}{row.id}"
            if network == "x":
                fake.tweets[key] = {"user": user, "text": f"newer {number}", "at": 4e9}
            else:
                fake.media[key] = {
                    "user": user,
                    "text": f"newer {number}",
                    "at": 4e9,
                    "permalink": "",
                    "timestamp": "",
                }
    stage.run()

    [row] = stage.deliveries(post)
    assert row.state == DeliveryState.SENT, row.last_error
    assert fake.created - before == 1, "no resend: the one copy was found"
    assert row.remote_id in fake.copy_ids()
