"""The sweeper: expired leases become unknown and are looked up, the emergency stop holds what is
not yet sent within one sweep, and lifting it lets the deliveries go."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import Institution
from crossposting import delivery
from crossposting.models import DeliveryState


def test_a_worker_that_died_mid_send_leaves_an_unknown_delivery_that_is_looked_up(stage):
    post = stage.publish("Worker dies", networks=["x"])
    [row] = stage.deliveries(post)
    taken = delivery.claim(row.id, stage.institution.id, "doomed-worker")
    delivery.perform(taken)  # the copy is on X; the worker dies before recording it

    later = timezone.now() + timedelta(hours=1)
    counts = delivery.sweep_institution(stage.institution.id, now=later, enqueue=False)
    assert counts["expired"] == 1
    [row] = stage.deliveries(post)
    assert row.state == DeliveryState.UNKNOWN and row.unconfirmed
    stage.run()

    [row] = stage.deliveries(post)
    assert row.state == DeliveryState.SENT
    assert stage.fakes["x"].created_by_text(row.payload["text"]) == 1


def test_the_emergency_stop_holds_unsent_deliveries_in_one_sweep_and_lifting_it_releases_them(
    stage,
):
    post = stage.publish("Paused", networks=["mastodon", "bluesky"])
    Institution.objects.filter(id=stage.institution.id).update(publishing_paused=True)

    delivery.sweep_institution(stage.institution.id, enqueue=False)
    assert {d.state for d in stage.deliveries(post)} == {DeliveryState.HELD}
    stage.run()
    assert {d.state for d in stage.deliveries(post)} == {DeliveryState.HELD}

    Institution.objects.filter(id=stage.institution.id).update(publishing_paused=False)
    delivery.sweep_institution(stage.institution.id, enqueue=False)
    stage.run()
    assert {d.state for d in stage.deliveries(post)} == {DeliveryState.SENT}


def test_a_duplicate_message_for_a_claimed_delivery_does_nothing(stage):
    post = stage.publish("Twice", networks=["linkedin"])
    [row] = stage.deliveries(post)
    assert delivery.claim(row.id, stage.institution.id, "first") is not None
    assert delivery.deliver(row.id, stage.institution.id) == "not claimed"


def test_a_copy_sent_by_a_stale_worker_after_retraction_is_found_and_deleted(stage):
    post = stage.publish("Retracted mid-send", networks=["mastodon"])
    [row] = stage.deliveries(post)
    taken = delivery.claim(row.id, stage.institution.id, "slow-worker")
    stage.retract(post)
    delivery.sweep_institution(
        stage.institution.id, now=timezone.now() + timedelta(hours=1), enqueue=False
    )
    delivery.record(taken, delivery.perform(taken))  # the copy lands; the lease is gone

    stage.run()

    rows = stage.deliveries(post)
    assert {(d.kind, d.state) for d in rows} == {
        ("create", DeliveryState.SENT),
        ("delete", DeliveryState.SENT),
    }
    assert not stage.fakes["mastodon"].copy_ids() & {d.remote_id for d in rows}
