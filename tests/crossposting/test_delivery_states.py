"""Property test of the delivery lifecycle: random interleavings of claims by several workers,
network answers (good, dropped after committing, 5xx), workers dying mid-send, lease expiry,
retraction and pause never send a post twice and never lose a delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from accounts.models import Institution
from accounts.tenancy import tenant_context
from crossposting import delivery, lifecycle
from crossposting.models import Delivery, DeliveryKind, DeliveryState

NETWORKS = ("mastodon", "x", "bluesky")
WORKERS = ("w1", "w2")
FAULTS = (None, "drop_after_commit", "5xx")


def test_the_state_table_is_validated_at_import():
    for verb, (starts, end) in lifecycle.TRANSITIONS.items():
        assert starts and end, verb
    assert DeliveryState.SENT in lifecycle.FINAL_STATES


def _texts(stage, network: str) -> list[str]:
    fake = stage.fakes[network]
    if network == "mastodon":
        return [s["text"] for s in fake.statuses.values()]
    if network == "x":
        return [t["text"] for t in fake.tweets.values()]
    return [r["value"]["text"] for r in fake.records.values()]


def test_no_interleaving_sends_twice_or_loses_a_delivery(stage, monkeypatch):
    counter = iter(range(10**6))
    # X's duplicate-content check would hide a resend: only our reconciliation may prevent it.
    monkeypatch.setattr(stage.fakes["x"], "duplicate_window", 0)

    class Deliveries(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            Institution.objects.filter(id=stage.institution.id).update(publishing_paused=False)
            self.post = stage.publish(f"Property run {next(counter)}", networks=list(NETWORKS))
            self.ids = [d.id for d in stage.deliveries(self.post)]
            self.claims: dict[str, delivery.Claim] = {}
            self.now = timezone.now()
            self.retracted = False

        def _rows(self) -> list[Delivery]:
            with tenant_context(stage.institution.id):
                return list(Delivery.objects.filter(post=self.post).select_related("account"))

        @rule(worker=st.sampled_from(WORKERS), index=st.integers(0, len(NETWORKS) - 1))
        def claim(self, worker, index):
            if worker in self.claims:
                return
            taken = delivery.claim(self.ids[index], stage.institution.id, worker, now=self.now)
            if taken is not None:
                self.claims[worker] = taken

        @rule(worker=st.sampled_from(WORKERS), fault=st.sampled_from(FAULTS), dies=st.booleans())
        def send(self, worker, fault, dies):
            taken = self.claims.pop(worker, None)
            if taken is None:
                return
            fake = stage.fakes[taken.account.network]
            if fault:
                fake.faults.script.append(fault)
            outcome = delivery.perform(taken)
            fake.faults.script.clear()
            if not dies:  # a worker killed here never records; its lease runs out
                delivery.record(taken, outcome)

        @rule()
        def time_passes(self):
            lease = settings.PODIUM_DELIVERY_LEASE_SECONDS
            self.now += timedelta(seconds=lease + 1)
            delivery.sweep_institution(stage.institution.id, now=self.now, enqueue=False)

        @rule(paused=st.booleans())
        def pause(self, paused):
            Institution.objects.filter(id=stage.institution.id).update(publishing_paused=paused)
            delivery.sweep_institution(stage.institution.id, now=self.now, enqueue=False)

        @rule()
        def retract(self):
            if not self.retracted:
                stage.retract(self.post)
                self.retracted = True
                self.ids = [d.id for d in self._rows()]

        @invariant()
        def never_two_copies(self):
            for d in self._rows():
                if d.kind == DeliveryKind.CREATE:
                    assert _texts(stage, d.network).count(d.payload["text"]) <= 1

        @invariant()
        def every_delivery_has_a_known_state(self):
            for d in self._rows():
                assert d.state in DeliveryState.values
                if d.state == DeliveryState.FAILED:
                    assert d.last_error

        def teardown(self):
            # Let everything finish: the pause lifted, leases expired, everything run.
            Institution.objects.filter(id=stage.institution.id).update(publishing_paused=False)
            far = timezone.now() + timedelta(hours=1)
            delivery.sweep_institution(stage.institution.id, now=far, enqueue=False)
            delivery.sweep_institution(stage.institution.id, enqueue=False)
            stage.run(rounds=40)
            for d in self._rows():
                held = _texts(stage, d.network).count(d.payload.get("text", "\0"))
                if d.kind != DeliveryKind.CREATE:
                    assert d.state in (DeliveryState.SENT, DeliveryState.CANCELLED), d.last_error
                elif self.retracted:
                    assert d.state in lifecycle.FINAL_STATES, (d.state, d.last_error)
                    assert held == 0, "a retracted post leaves no copy"
                else:
                    assert d.state == DeliveryState.SENT, (d.network, d.state, d.last_error)
                    assert held == 1, "exactly one copy per sent delivery"

    run_state_machine_as_test(
        Deliveries,
        settings=hypothesis_settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


@pytest.mark.parametrize("network", NETWORKS)
def test_a_retracted_post_loses_the_copy_a_worker_sent_after_its_lease_ran_out(stage, network):
    """Found by the test above: the worker's clock ran ahead of the network's, so a lookup from
    its first try missed the copy, and the retracted post kept it. Lookups start at the
    delivery's creation."""
    monkey_clock = timezone.now() + timedelta(seconds=settings.PODIUM_DELIVERY_LEASE_SECONDS + 1)
    post = stage.publish("Sent after the lease", networks=list(NETWORKS))
    create = next(d for d in stage.deliveries(post) if d.network == network)
    taken = delivery.claim(create.id, stage.institution.id, "w1", now=monkey_clock)
    stage.retract(post)
    later = monkey_clock + timedelta(seconds=settings.PODIUM_DELIVERY_LEASE_SECONDS + 1)
    delivery.sweep_institution(stage.institution.id, now=later, enqueue=False)
    # The copy reaches the network, but the lease is gone: the answer is not recorded.
    delivery.record(taken, delivery.perform(taken))
    assert _texts(stage, network).count(create.payload["text"]) == 1

    stage.run()

    (create,) = stage.deliveries(post, kind=DeliveryKind.CREATE, network=network)
    assert create.state == DeliveryState.SENT  # found on the network, then deleted
    assert _texts(stage, network).count(create.payload["text"]) == 0
    (delete,) = stage.deliveries(post, kind=DeliveryKind.DELETE)
    assert delete.state == DeliveryState.SENT
