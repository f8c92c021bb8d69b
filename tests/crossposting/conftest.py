"""Fixtures of the delivery tests: the five fake networks on 127.0.0.1, an institution with one
connected account on each, and a way to publish, correct and retract posts and let deliveries run
in the test process."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from crossposting import delivery, services
from crossposting.models import Delivery, DeliveryState, NetworkAccount
from feeds import services as feeds
from feeds.models import Post, PostState
from feeds.services import PostContent
from tests.conftest import Cast
from tests.crossposting.fakes.networks import FAKES


@pytest.fixture(scope="session")
def network_servers():
    """One fake server per network for the whole session (state is per account, so tests that
    make their own accounts do not see each other's posts)."""
    started = {name: cls() for name, cls in FAKES.items()}
    for fake in started.values():
        fake.start()
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def fakes(network_servers):
    for fake in network_servers.values():
        fake.faults.__init__()
    yield network_servers
    for fake in network_servers.values():
        fake.faults.__init__()


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.PODIUM_DELIVERY_BACKOFF_SECONDS = 0.01
    settings.PODIUM_NETWORK_TIMEOUT = 3.0


def connect(institution, fake, network: str, name: str = "podium", **extra) -> NetworkAccount:
    """Create the account on the fake network and connect it in the institution."""
    base = fake.base_url
    if network == "mastodon":
        user_id, token = fake.add_account(name)
        secrets, handle = {"access_token": token}, f"@{name}"
    elif network == "bluesky":
        handle = f"{name}.test"
        user_id = fake.add_account(handle, "abcd-efgh-ijkl-mnop")
        secrets = {"identifier": handle, "password": "abcd-efgh-ijkl-mnop"}
    elif network == "x":
        user_id, access, refresh = fake.add_account()
        secrets, handle = {"access_token": access, "refresh_token": refresh, "client_id": "c"}, name
    elif network == "linkedin":
        user_id, token = fake.add_account()
        secrets, handle = {"access_token": token}, name
    else:
        user_id, token = fake.add_account(name)
        secrets, handle = {"access_token": token}, name
    options = {"default_for_new_posts": True} | extra
    return services.connect_account(
        institution,
        network=network,
        handle=handle,
        base_url=base,
        secrets=secrets,
        remote_user_id=user_id,
        **options,
    )


@dataclass
class Stage:
    """An institution with an account on every fake network."""

    cast: Cast
    fakes: dict
    accounts: dict[str, NetworkAccount]

    @property
    def institution(self):
        return self.cast.a.institution

    def publish(self, body: str = "Concert tonight in the hall", networks=None) -> Post:
        side = self.cast.a
        post = feeds.create_post(side.author, PostContent(body, "en"))
        chosen = [self.accounts[n] for n in (networks or self.accounts)]
        services.choose_targets(post, chosen, by=side.author)
        post = feeds.submit_post(post, side.author)
        if post.state == PostState.SUBMITTED:
            post = feeds.approve_post(post, by=side.reviewer)
        return post

    def correct(self, post: Post, body: str) -> Post:
        side = self.cast.a
        post = feeds.edit_post(post, side.author, PostContent(body, "en"))
        post = feeds.submit_post(post, side.author)
        if post.state == PostState.SUBMITTED:
            post = feeds.approve_post(post, by=side.reviewer)
        return post

    def retract(self, post: Post) -> Post:
        return feeds.retract_post(post, by=self.cast.a.reviewer, reason="Wrong date")

    def deliveries(self, post: Post | None = None, **filters) -> list[Delivery]:
        with tenant_context(self.institution.id):
            rows = Delivery.objects.filter(**filters).order_by("id")
            if post is not None:
                rows = rows.filter(post=post)
            return list(rows.select_related("account", "revision"))

    def run(self, rounds: int = 30) -> None:
        """Let every due delivery run in this process until nothing is left to do; waiting
        (back-off, unknown) is skipped by making what waits due at once, except a rate limit,
        which is waited for when it ends within two seconds."""
        for _round in range(rounds):
            with tenant_context(self.institution.id):
                rows = list(
                    Delivery.objects.filter(
                        state__in=(DeliveryState.PENDING, DeliveryState.UNKNOWN)
                    ).values_list("id", "last_error_kind", "next_attempt_at")
                )
                if not rows:
                    return
                Delivery.objects.filter(
                    id__in=[i for i, kind, _at in rows if kind != "rate_limited"]
                ).update(next_attempt_at=timezone.now())
            answers = [delivery.deliver(i, self.institution.id) for i, _kind, _at in rows]
            if all(answer == "not claimed" for answer in answers):
                soonest = min(at for _i, _kind, at in rows)
                wait = (soonest - timezone.now()).total_seconds()
                if wait > 2:
                    return
                time.sleep(max(wait, 0.01))


@pytest.fixture
def stage(transactional_db, fakes):
    cast = Cast.create()
    accounts = {
        network: connect(cast.a.institution, fake, network) for network, fake in fakes.items()
    }
    return Stage(cast=cast, fakes=fakes, accounts=accounts)


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    """The broker seam: deliveries handed to Celery are collected here instead (the tests run
    them in-process with ``Stage.run``; the worker tests use a real broker)."""
    from crossposting import tasks

    sent: list[tuple] = []
    monkeypatch.setattr(
        tasks.deliver,
        "apply_async",
        lambda args=(), kwargs=None, **options: sent.append((args, kwargs)),
    )
    return sent
