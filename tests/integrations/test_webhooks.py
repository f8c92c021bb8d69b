"""Webhooks: the outbox in the change's transaction, signatures, retries, SSRF refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
import standardwebhooks
from django.core import mail
from django.db import transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts import services as accounts_services
from accounts import webhooks
from accounts.models import AuditEvent, WebhookAttempt, WebhookEndpoint, WebhookEvent
from accounts.tenancy import tenant_context
from feeds import services as feeds_services
from feeds.services import PostContent

ALL_EVENTS = list(webhooks.EVENT_TYPES)


def _endpoint(side, url: str, events: list[str] | None = None) -> tuple[WebhookEndpoint, str]:
    return webhooks.create_endpoint(
        side.institution, side.admin, url=url, event_types=events or ALL_EVENTS
    )


def _events(institution) -> list[WebhookEvent]:
    with tenant_context(institution.id):
        return list(WebhookEvent.objects.order_by("id"))


def _deliver_all(institution, rounds: int = 1) -> list[str]:
    outcomes = []
    for _round in range(rounds):
        for event in _events(institution):
            outcomes.append(webhooks.deliver(event.id, institution.id))
    return outcomes


def _publish(side) -> None:
    post = feeds_services.create_post(side.author, PostContent("Open day on Saturday", "en"))
    post = feeds_services.submit_post(post, side.author)
    feeds_services.approve_post(post, by=side.reviewer)


def _documented_verify(secret: str, headers: dict, body: bytes) -> bool:
    """The recipe of docs/api-quickstart.md, word for word."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, candidate.split(",", 1)[1])
        for candidate in headers["webhook-signature"].split()
    )


# The outbox ----------------------------------------------------------------------------------


def test_committed_change_writes_one_event_per_subscribed_endpoint(cast, allow_private):
    webhooks.create_endpoint(
        cast.a.institution, cast.a.admin, url="http://127.0.0.1:1/a", event_types=["post.published"]
    )
    webhooks.create_endpoint(
        cast.a.institution, cast.a.admin, url="http://127.0.0.1:1/b", event_types=["member.retired"]
    )
    _publish(cast.a)
    events = _events(cast.a.institution)
    assert [event.event_type for event in events] == ["post.published"]
    assert events[0].payload["data"]["institution"] == cast.a.institution.slug
    assert _events(cast.b.institution) == []


def test_rolled_back_change_writes_no_event_and_enqueues_nothing(
    cast, allow_private, django_capture_on_commit_callbacks
):
    _endpoint(cast.a, "http://127.0.0.1:1/a", ["member.retired"])
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        accounts_services.retire_member(cast.a.author)
        transaction.set_rollback(True)
    assert _events(cast.a.institution) == []
    assert callbacks == []


def test_committed_change_enqueues_its_delivery_on_commit(
    cast, allow_private, django_capture_on_commit_callbacks
):
    _endpoint(cast.a, "http://127.0.0.1:1/a", ["member.retired"])
    with django_capture_on_commit_callbacks() as callbacks:
        accounts_services.retire_member(cast.a.author)
    assert [event.event_type for event in _events(cast.a.institution)] == ["member.retired"]
    assert [c for c in callbacks if c.__qualname__.startswith("_enqueue")] != []
    assert len([c for c in callbacks if c.__qualname__.startswith("_enqueue")]) == 1


def test_audit_verbs_the_apps_record_map_to_every_event_type():
    assert set(webhooks.AUDIT_VERBS.values()) == set(webhooks.EVENT_TYPES)


def test_change_without_subscribed_endpoint_costs_one_query(cast, django_assert_num_queries):
    event = AuditEvent(institution_id=cast.a.institution.id, verb="post.publish", sequence=1)
    event.created_at = timezone.now()
    with tenant_context(cast.a.institution.id), django_assert_num_queries(1):
        assert webhooks.emit_for_audit_event(event) == []
    with django_assert_num_queries(0):
        event.verb = "post.edit"
        assert webhooks.emit_for_audit_event(event) == []


# Signatures ----------------------------------------------------------------------------------


def test_signature_verifies_with_documented_recipe_and_standardwebhooks(
    cast, allow_private, receiver
):
    _endpoint_row, secret = _endpoint(cast.a, receiver.url)
    _publish(cast.a)
    assert set(_deliver_all(cast.a.institution)) == {"delivered"}
    assert [event["type"] for event in receiver.events()] == [
        "post.submitted",
        "post.approved",
        "post.published",
    ]
    for item in receiver.requests:
        assert _documented_verify(secret, item.headers, item.body)
        payload = standardwebhooks.Webhook(secret).verify(item.body, item.headers)
        assert payload["type"].startswith("post.")
        assert item.headers["webhook-id"].startswith("msg_")


def test_rotated_secret_signs_with_old_and_new_during_overlap(cast, allow_private, receiver):
    endpoint, old = _endpoint(cast.a, receiver.url)
    new = webhooks.rotate_secret(endpoint, cast.a.admin, overlap=timedelta(hours=1))
    accounts_services.retire_member(cast.a.author2)
    _deliver_all(cast.a.institution)
    (item,) = receiver.requests
    assert len(item.headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        standardwebhooks.Webhook(secret).verify(item.body, item.headers)
        assert _documented_verify(secret, item.headers, item.body)


def test_old_secret_stops_signing_after_overlap(cast, allow_private, receiver):
    endpoint, old = _endpoint(cast.a, receiver.url)
    new = webhooks.rotate_secret(endpoint, cast.a.admin, overlap=timedelta(0))
    accounts_services.retire_member(cast.a.author2)
    _deliver_all(cast.a.institution)
    (item,) = receiver.requests
    standardwebhooks.Webhook(new).verify(item.body, item.headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(item.body, item.headers)


def test_secret_is_stored_sealed_and_bound_to_its_row(cast, allow_private):
    first, secret = _endpoint(cast.a, "http://127.0.0.1:1/a")
    second, _other = _endpoint(cast.a, "http://127.0.0.1:1/b")
    assert secret.encode() not in bytes(first.secret_sealed)
    second.secret_sealed = first.secret_sealed  # a ciphertext copied to another row
    with pytest.raises(webhooks.SecretUnreadable):
        webhooks.signing_secrets(second)


# Retries -------------------------------------------------------------------------------------


def test_receiver_failing_twice_then_succeeding_gets_each_event_exactly_once(
    cast, allow_private, receiver
):
    _endpoint(cast.a, receiver.url, ["member.retired"])
    receiver.script = [(500, {}), (503, {})]
    accounts_services.retire_member(cast.a.author2)
    assert _deliver_all(cast.a.institution, rounds=5) == [
        "retry",
        "retry",
        "delivered",
        "skipped",
        "skipped",
    ]
    ids = [item.headers["webhook-id"] for item in receiver.requests]
    assert len(ids) == 3 and len(set(ids)) == 1
    assert receiver.accepted == ids[:1]
    with tenant_context(cast.a.institution.id):
        (event,) = WebhookEvent.objects.all()
        attempts = list(WebhookAttempt.objects.filter(event=event).order_by("number"))
    assert event.state == WebhookEvent.State.DELIVERED
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 503), (3, 200)]


def test_retry_waits_for_its_backoff(cast, allow_private, receiver, settings):
    settings.PODIUM_WEBHOOKS_BACKOFF_SECONDS = 600
    _endpoint(cast.a, receiver.url, ["member.retired"])
    receiver.script = [(500, {})]
    accounts_services.retire_member(cast.a.author2)
    assert _deliver_all(cast.a.institution, rounds=2) == ["retry", "skipped"]
    (event,) = _events(cast.a.institution)
    later = event.next_attempt_at + timedelta(seconds=1)
    assert webhooks.deliver(event.id, cast.a.institution.id, now=later) == "delivered"
    assert event.next_attempt_at - timezone.now() >= timedelta(seconds=290)


def test_send_again_delivers_the_same_event_id_once_more(cast, allow_private, receiver):
    _endpoint(cast.a, receiver.url, ["member.retired"])
    accounts_services.retire_member(cast.a.author2)
    _deliver_all(cast.a.institution)
    (event,) = _events(cast.a.institution)
    webhooks.send_again(event, cast.a.admin)
    assert _deliver_all(cast.a.institution) == ["delivered"]
    assert len({item.headers["webhook-id"] for item in receiver.requests}) == 1
    assert len(receiver.requests) == 2


def test_endpoint_that_keeps_failing_is_switched_off_and_admins_are_told(
    cast, allow_private, receiver, settings
):
    settings.PODIUM_WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    settings.PODIUM_WEBHOOKS_DISABLE_AFTER_HOURS = 0
    endpoint, _secret = _endpoint(cast.a, receiver.url, ["member.retired"])
    receiver.script = [(500, {})] * 5
    accounts_services.retire_member(cast.a.author2)
    assert _deliver_all(cast.a.institution, rounds=3) == ["retry", "retry", "skipped"]
    with tenant_context(cast.a.institution.id):
        endpoint.refresh_from_db()
        assert AuditEvent.objects.filter(verb="webhook.disable").count() == 1
    assert not endpoint.is_active and endpoint.disabled_at is not None
    webhooks._tell_admins(cast.a.institution.id, endpoint.id)  # what on_commit sends
    assert mail.outbox[-1].to == [cast.a.admin.user.email]
    assert endpoint.url in mail.outbox[-1].body


# The SSRF guard ------------------------------------------------------------------------------

UNSAFE_LITERALS = [
    "http://127.0.0.1:8080/hook",
    "http://[::1]:8080/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
]


@pytest.mark.parametrize("url", UNSAFE_LITERALS)
def test_unsafe_address_is_refused_at_registration(cast, url):
    with pytest.raises(webhooks.UnsafeAddress):
        _endpoint(cast.a, url)


# Private addresses (0.0.0.0 and multicast are refused even when private ones are allowed).
@pytest.mark.parametrize("url", UNSAFE_LITERALS[:5])
def test_unsafe_address_is_refused_at_delivery_before_any_connection(
    cast, settings, loopback_only, url
):
    settings.PODIUM_WEBHOOKS_ALLOW_PRIVATE = True
    _endpoint(cast.a, url, ["member.retired"])
    settings.PODIUM_WEBHOOKS_ALLOW_PRIVATE = False  # registered while allowed, then forbidden
    accounts_services.retire_member(cast.a.author2)
    assert _deliver_all(cast.a.institution) == ["retry"]
    assert loopback_only == []
    with tenant_context(cast.a.institution.id):
        (attempt,) = WebhookAttempt.objects.all()
    assert attempt.status_code is None and "loopback" in attempt.error


@pytest.mark.parametrize(
    "answers",
    [["127.0.0.1"], ["::1"], ["10.1.2.3"], ["169.254.169.254"], ["93.184.216.34", "10.0.0.7"]],
    ids=["loopback", "loopback6", "private", "metadata", "mixed"],
)
def test_name_resolving_to_unsafe_address_is_refused_before_any_connection(
    cast, stub_resolver, loopback_only, answers
):
    stub_resolver["hooks.example.org"] = answers
    _endpoint(cast.a, "https://hooks.example.org/in", ["member.retired"])
    accounts_services.retire_member(cast.a.author2)
    assert _deliver_all(cast.a.institution) == ["retry"]
    assert loopback_only == []


def test_name_that_does_not_resolve_is_a_failed_attempt(cast, loopback_only):
    _endpoint(cast.a, "https://nowhere.example.org/in", ["member.retired"])
    accounts_services.retire_member(cast.a.author2)
    assert _deliver_all(cast.a.institution) == ["retry"]
    assert loopback_only == []


def test_redirect_is_not_followed(cast, allow_private, receiver, loopback_only):
    receiver.script = [(307, {"Location": "http://169.254.169.254/latest/meta-data/"})]
    _endpoint(cast.a, receiver.url, ["member.retired"])
    accounts_services.retire_member(cast.a.author2)
    assert _deliver_all(cast.a.institution) == ["retry"]
    assert len(receiver.requests) == 1
    assert {address[0] for address in loopback_only} == {"127.0.0.1"}
    with tenant_context(cast.a.institution.id):
        (attempt,) = WebhookAttempt.objects.all()
    assert attempt.status_code == 307 and "Redirects" in attempt.error


def test_request_goes_to_the_checked_address_with_the_endpoint_host(
    cast, allow_private, receiver, stub_resolver
):
    port = receiver.url.split(":")[2].split("/")[0]
    stub_resolver["hooks.example.org"] = ["127.0.0.1"]
    _endpoint(cast.a, f"http://hooks.example.org:{port}/in", ["member.retired"])
    accounts_services.retire_member(cast.a.author2)
    assert _deliver_all(cast.a.institution) == ["delivered"]
    assert receiver.requests[0].headers["host"] == f"hooks.example.org:{port}"


# The sweeper ---------------------------------------------------------------------------------


def test_sweeper_takes_back_expired_leases_and_forgets_expired_keys(
    cast, allow_private, receiver, django_capture_on_commit_callbacks
):
    from accounts.models import IdempotencyRecord

    _endpoint(cast.a, receiver.url, ["member.retired"])
    accounts_services.retire_member(cast.a.author2)
    now = timezone.now()
    with tenant_context(cast.a.institution.id):
        # A worker died while sending: its lease ran out.
        WebhookEvent.objects.update(state=WebhookEvent.State.SENDING, lease_owner="gone",
                                    lease_until=now - timedelta(seconds=1))  # fmt: skip
        IdempotencyRecord.objects.create(
            institution=cast.a.institution, owner="token:1", key="old", fingerprint="x",
            method="POST", path="/", response_status=201, expires_at=now - timedelta(seconds=1),
        )  # fmt: skip
    with django_capture_on_commit_callbacks() as callbacks:
        result = webhooks.sweep_institution(cast.a.institution.id, now=now)
    assert result == {"reclaimed": 1, "enqueued": 1, "forgotten": 1}
    assert [c for c in callbacks if c.__qualname__.startswith("_enqueue")]
    assert _deliver_all(cast.a.institution) == ["delivered"]
    assert len(receiver.accepted) == 1


def test_the_webhook_tasks_are_declared_and_the_sweeper_is_on_the_beat_schedule():
    from accounts import tasks
    from podium.celery import app

    entry = app.conf.beat_schedule["accounts.sweep_webhooks"]
    assert entry["task"] == tasks.sweep_webhooks.name and entry["schedule"] <= 60
    for task in (tasks.deliver_webhook, tasks.sweep_webhooks_of):
        assert task.queue == "default" and task.acks_late
    with pytest.raises(TypeError):
        tasks.deliver_webhook(1)  # no institution_id: refused before anything runs
    with pytest.raises(TypeError):
        tasks.sweep_webhooks_of()


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    message_id=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1),
    timestamp=st.integers(min_value=0, max_value=2**33),
    body=st.text(),
)
def test_our_signature_matches_the_standardwebhooks_library(message_id, timestamp, body):
    from datetime import UTC, datetime

    secret = webhooks.new_secret()
    ours = webhooks.sign([secret], message_id, timestamp, body.encode())
    theirs = standardwebhooks.Webhook(secret).sign(
        message_id, datetime.fromtimestamp(timestamp, tz=UTC), body
    )
    assert ours == theirs
