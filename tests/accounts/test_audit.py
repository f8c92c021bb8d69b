"""The audit log: one event per state change, a hash chain that exposes a changed or missing
event, no rewriting by the application role, verification, export and the admin page."""

from __future__ import annotations

import csv
import inspect
import io
import itertools
import json
import threading
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import audit
from accounts import services as accounts_services
from accounts.models import AuditEvent, Role
from accounts.tenancy import tenant_context
from feeds import services as feeds_services
from feeds.services import PostContent
from tests.conftest import is_postgres, postgres_only
from tests.factories import UserFactory


def _events(institution_id: int) -> list[AuditEvent]:
    with tenant_context(institution_id):
        return list(AuditEvent.objects.order_by("sequence"))


def _owner_connection():
    owner = settings.DATABASES["owner"]
    return psycopg.connect(
        host=owner["HOST"] or "127.0.0.1",
        port=owner["PORT"] or 5432,
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )


def _as_owner(sql: str, params: list) -> None:
    """Run SQL as the table owner (what an intruder with database access could do)."""
    if is_postgres():
        with _owner_connection() as owner:
            owner.execute(sql.replace("%s", "%s"), params)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _record_some(institution_id: int, count: int) -> None:
    with transaction.atomic():
        for number in range(count):
            audit.record(institution_id, "test.event", object_type="test", object_id=number)


# The chain ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_chain_of_untouched_events_verifies(cast):
    _record_some(cast.a.institution.id, 5)
    result = audit.verify(cast.a.institution.id)
    assert result.ok
    assert result.checked >= 5
    events = _events(cast.a.institution.id)
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert all(later.previous_hash == earlier.hash for earlier, later in itertools.pairwise(events))


@pytest.mark.django_db(transaction=True)
def test_changing_one_byte_of_a_stored_event_is_found_and_named(cast):
    institution_id = cast.a.institution.id
    _record_some(institution_id, 6)
    victim = _events(institution_id)[3]
    _as_owner(
        "UPDATE accounts_auditevent SET object_id = %s WHERE id = %s",
        [victim.object_id[:-1] + chr(ord(victim.object_id[-1]) ^ 1), victim.id],
    )
    result = audit.verify(institution_id)
    assert not result.ok
    assert result.first_bad_sequence == victim.sequence
    assert result.first_bad_event_id == victim.id
    assert "changed" in result.problem


@pytest.mark.django_db(transaction=True)
def test_deleting_an_event_is_found_as_a_gap(cast):
    institution_id = cast.a.institution.id
    _record_some(institution_id, 6)
    victim = _events(institution_id)[2]
    _as_owner("DELETE FROM accounts_auditevent WHERE id = %s", [victim.id])
    result = audit.verify(institution_id)
    assert not result.ok
    assert result.first_bad_sequence == victim.sequence
    assert f"Event {victim.sequence} is missing" in result.problem


@pytest.mark.django_db(transaction=True)
def test_chains_of_two_institutions_are_separate(cast):
    _record_some(cast.a.institution.id, 3)
    _record_some(cast.b.institution.id, 2)
    a_events, b_events = _events(cast.a.institution.id), _events(cast.b.institution.id)
    assert {e.institution_id for e in a_events} == {cast.a.institution.id}
    assert b_events[0].sequence == 1
    assert b_events[0].previous_hash == audit.GENESIS_HASH


def test_record_outside_a_transaction_is_refused(cast):
    # pytest-django wraps the test in a transaction; leave it to see the refusal.
    with pytest.raises(audit.NotInTransaction):
        connection.in_atomic_block, saved = False, connection.in_atomic_block
        try:
            audit.record(cast.a.institution.id, "test.event")
        finally:
            connection.in_atomic_block = saved


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_linear_chain(cast):
    institution_id = cast.a.institution.id
    per_thread, threads = 25, 4
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def write() -> None:
        try:
            barrier.wait()
            for number in range(per_thread):
                with transaction.atomic():
                    audit.record(institution_id, "test.concurrent", object_id=number)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=write) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    events = [e for e in _events(institution_id) if e.verb == "test.concurrent"]
    assert len(events) == per_thread * threads
    assert audit.verify(institution_id).ok


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounts_auditevent SET verb = 'forged' WHERE sequence = 1",
        "DELETE FROM accounts_auditevent WHERE sequence = 1",
    ],
)
def test_the_application_role_cannot_rewrite_or_delete_events(cast, statement):
    from django.db.utils import ProgrammingError

    _record_some(cast.a.institution.id, 1)
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        tenant_context(cast.a.institution.id),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert audit.verify(cast.a.institution.id).ok


# Every state change writes exactly one event --------------------------------------------------


def _draft(side, body="A draft"):
    return feeds_services.create_post(side.author, PostContent(body, "en"))


def _submitted(side):
    return feeds_services.submit_post(_draft(side), side.author)


def _published(side):
    return feeds_services.approve_post(_submitted(side), by=side.reviewer)


def _png():
    from tests.images import png_bytes

    return png_bytes()


# service name -> (set-up returning the call, the verb it must record)
SERVICE_CASES = {
    "accounts.create_institution": (
        lambda cast: lambda: accounts_services.create_institution(slug="new-one", name="New"),
        "institution.create",
    ),
    "accounts.update_institution": (
        lambda cast: lambda: accounts_services.update_institution(
            cast.a.institution, name="Renamed"
        ),
        "institution.update",
    ),
    "accounts.add_member": (
        lambda cast: lambda: accounts_services.add_member(
            cast.a.institution, UserFactory(), role=Role.AUTHOR, handle="new.one", display_name="N"
        ),
        "member.join",
    ),
    "accounts.request_website_check": (
        lambda cast: _website_check_call(cast),
        "institution.request_website_check",
    ),
    "accounts.change_role": (
        lambda cast: lambda: accounts_services.change_role(cast.a.author, Role.REVIEWER),
        "member.change_role",
    ),
    "accounts.retire_member": (
        lambda cast: lambda: accounts_services.retire_member(cast.a.author2),
        "member.retire",
    ),
    "accounts.update_profile": (
        lambda cast: lambda: accounts_services.update_profile(cast.a.author, job_title="Chemist"),
        "member.update_profile",
    ),
    "accounts.invite_member": (
        lambda cast: lambda: accounts_services.invite_member(
            cast.a.institution, email="x@example.org", role=Role.AUTHOR, invited_by=cast.a.admin
        ),
        "invitation.create",
    ),
    "accounts.accept_invitation": (
        lambda cast: _accept_invitation_call(cast),
        "invitation.accept",
    ),
    "accounts.revoke_invitation": (
        lambda cast: _revoke_invitation_call(cast),
        "invitation.revoke",
    ),
    "accounts.create_token": (
        lambda cast: lambda: accounts_services.create_token(
            cast.a.author, name="CMS", scopes=["read"]
        ),
        "token.create",
    ),
    "accounts.revoke_token": (
        lambda cast: _revoke_token_call(cast),
        "token.revoke",
    ),
    "feeds.create_post": (lambda cast: lambda: _draft(cast.a), "post.create"),
    "feeds.edit_post": (
        lambda cast: _with(_draft(cast.a), lambda post: feeds_services.edit_post(
            post, cast.a.author, PostContent("Changed", "en")
        )),
        "post.edit",
    ),
    "feeds.submit_post": (
        lambda cast: _with(_draft(cast.a), lambda post: feeds_services.submit_post(
            post, cast.a.author
        )),
        "post.submit",
    ),
    "feeds.withdraw_post": (
        lambda cast: _with(_submitted(cast.a), lambda post: feeds_services.withdraw_post(
            post, cast.a.author
        )),
        "post.withdraw",
    ),
    "feeds.approve_post": (
        lambda cast: _with(_scheduled_later(cast.a), lambda post: feeds_services.approve_post(
            post, by=cast.a.reviewer
        )),
        "post.approve",
    ),
    "feeds.reject_post": (
        lambda cast: _with(_submitted(cast.a), lambda post: feeds_services.reject_post(
            post, by=cast.a.reviewer, reason="Names a pupil."
        )),
        "post.reject",
    ),
    "feeds.request_changes": (
        lambda cast: _with(_submitted(cast.a), lambda post: feeds_services.request_changes(
            post, by=cast.a.reviewer, comment="Shorter, please."
        )),
        "post.request_changes",
    ),
    "feeds.retract_post": (
        lambda cast: _with(_published(cast.a), lambda post: feeds_services.retract_post(
            post, by=cast.a.reviewer, reason="Wrong date."
        )),
        "post.retract",
    ),
    "feeds.discard_correction": (
        lambda cast: _with(_correction(cast.a), lambda post: feeds_services.discard_correction(
            post, cast.a.author
        )),
        "post.discard_correction",
    ),
    "feeds.delete_post": (
        lambda cast: _with(_draft(cast.a), lambda post: feeds_services.delete_post(
            post, cast.a.author
        )),
        "post.delete",
    ),
    "feeds.upload_media": (
        lambda cast: lambda: feeds_services.upload_media(cast.a.author, _png()),
        "media.upload",
    ),
}  # fmt: skip

# The events accounts' and feeds' own services write; others come from the apps that listen.
SERVICE_EVENT_PREFIXES = ("institution.", "member.", "invitation.", "token.", "post.", "media.")

# Functions of the service modules that change nothing an institution's log should hold, and why.
NOT_AUDITED = {
    "accounts.register_user": "a user account is global, not an institution's",
    "accounts.update_account": "a user's own name and language, global, not an institution's",
    "accounts.record_token_use": "a usage timestamp, not a change of state",
}


def _with(post, call):
    return lambda: call(post)


def _scheduled_later(side):
    post = feeds_services.create_post(
        side.author, PostContent("Later", "en"), publish_at=timezone.now() + timedelta(days=2)
    )
    return feeds_services.submit_post(post, side.author)


def _correction(side):
    post = _published(side)
    return feeds_services.edit_post(post, side.author, PostContent("Corrected", "en"))


def _website_check_call(cast):
    accounts_services.update_institution(cast.a.institution, website="https://northside.example")
    return lambda: accounts_services.request_website_check(cast.a.institution, by=cast.a.admin)


def _accept_invitation_call(cast):
    user = UserFactory(email="joiner@example.org")
    _invitation, secret = accounts_services.invite_member(
        cast.a.institution, email=user.email, role=Role.AUTHOR, invited_by=cast.a.admin
    )
    return lambda: accounts_services.accept_invitation(
        cast.a.institution, secret, user=user, handle="joiner", display_name="Joiner"
    )


def _revoke_invitation_call(cast):
    invitation, _secret = accounts_services.invite_member(
        cast.a.institution, email="gone@example.org", role=Role.AUTHOR, invited_by=cast.a.admin
    )
    return lambda: accounts_services.revoke_invitation(invitation)


def _revoke_token_call(cast):
    token, _secret = accounts_services.create_token(cast.a.author, name="Old", scopes=["read"])
    return lambda: accounts_services.revoke_token(token)


def _all_events() -> set[tuple[int, int, str]]:
    """(institution, sequence, verb) of every event, read within each institution."""
    from accounts.models import Institution

    events = set()
    for institution_id in Institution.objects.values_list("id", flat=True):
        with tenant_context(institution_id):
            events |= {
                (institution_id, sequence, verb)
                for sequence, verb in AuditEvent.objects.values_list("sequence", "verb")
            }
    return events


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SERVICE_CASES))
def test_every_state_changing_service_writes_exactly_one_event(cast, name):
    prepare, verb = SERVICE_CASES[name]
    call = prepare(cast)
    before = _all_events()
    call()
    new = [event_verb for _institution, _sequence, event_verb in sorted(_all_events() - before)]
    # Listeners of higher apps (a delivery held, a policy created) add events of their own.
    assert [v for v in new if v.startswith(SERVICE_EVENT_PREFIXES)] == [verb], new


def test_every_service_is_either_audited_or_listed_with_a_reason():
    found = set()
    for prefix, module in (("accounts", accounts_services), ("feeds", feeds_services)):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            if hasattr(function, "__wrapped__"):  # @transaction.atomic: a state change
                found.add(f"{prefix}.{name}")
    missing = found - set(SERVICE_CASES) - set(NOT_AUDITED)
    assert not missing, f"services without an audit test or a listed reason: {sorted(missing)}"


@pytest.mark.django_db
def test_an_automatic_approval_is_recorded_as_the_systems(cast):
    cast.a.institution.review_required = False
    cast.a.institution.save()
    post = _submitted(cast.a)
    with tenant_context(cast.a.institution.id):
        verbs = list(
            AuditEvent.objects.filter(object_id=str(post.id))
            .order_by("sequence")
            .values_list("verb", "actor_kind")
        )
    assert verbs == [
        ("post.create", "member"),
        ("post.submit", "member"),
        ("post.approve", "system"),
        ("post.publish", "system"),
    ]


# The command, the page and the exports ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_verify_audit_command_reports_intact_and_broken_chains(cast, capsys):
    institution = cast.a.institution
    _record_some(institution.id, 3)
    call_command("verify_audit", institution.slug)
    assert "intact" in capsys.readouterr().out
    victim = _events(institution.id)[1]
    _as_owner("UPDATE accounts_auditevent SET verb = 'forged' WHERE id = %s", [victim.id])
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", institution.slug)
    assert exit_info.value.code == 1
    assert f"sequence {victim.sequence}" in capsys.readouterr().err


def _page(client, member, **params):
    client.force_login(member.user)
    return client.get(reverse("accounts:audit-log", args=[member.institution.slug]), params)


@pytest.mark.django_db
def test_admins_see_their_institutions_events_with_filters(client, cast):
    post = _published(cast.a)
    _published(cast.b)
    response = _page(client, cast.a.admin, verb="post.")
    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("private") or "no-cache" in response["Cache-Control"]
    )
    body = response.content.decode()
    assert "post.approve" in body and f"#{post.id}" in body
    assert "member.join" not in body  # filtered out
    events = response.context["events"]
    assert events and {e.institution_id for e in events} == {cast.a.institution.id}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["author", "reviewer"])
def test_members_who_are_not_admins_cannot_see_the_audit_log(client, cast, role):
    assert _page(client, getattr(cast.a, role)).status_code == 403


@pytest.mark.django_db
def test_the_page_verifies_the_chain_on_request(client, cast):
    _published(cast.a)
    response = _page(client, cast.a.admin, verify="1")
    assert response.context["verification"].ok
    assert "The log is intact" in response.content.decode()


@pytest.mark.django_db
def test_exports_stream_every_event_as_json_lines_and_csv(client, cast):
    _published(cast.a)
    client.force_login(cast.a.admin.user)
    with tenant_context(cast.a.institution.id):
        expected = list(AuditEvent.objects.order_by("sequence").values_list("hash", flat=True))
    url = reverse("accounts:audit-export", args=[cast.a.institution.slug, "jsonl"])
    response = client.get(url)
    assert response.streaming and response["Content-Type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert [line["hash"] for line in lines] == expected
    url = reverse("accounts:audit-export", args=[cast.a.institution.slug, "csv"])
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get(url).streaming_content).decode())))
    assert [row["hash"] for row in rows] == expected


@pytest.mark.django_db
def test_operator_changes_in_ops_are_recorded_with_the_operator(client, cast):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    url = reverse("admin:accounts_institution_change", args=[cast.a.institution.id])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data.update(name="Northside Academy")
    for prefix in ("members", "invitations"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(url, data)
    assert response.status_code in (200, 302)
    with tenant_context(cast.a.institution.id):
        event = AuditEvent.objects.filter(verb="institution.update").order_by("-sequence").first()
    assert event is not None, getattr(response, "context", None) and response.context.get("errors")
    assert (event.actor_kind, event.actor_label) == ("operator", operator.email)
    assert event.after == {"name": "Northside Academy"}


# The API ----------------------------------------------------------------------------------------


def _api(cast, member, scopes=("read", "admin")):
    from rest_framework.test import APIClient

    _token, secret = accounts_services.create_token(member, name="Audit", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _api_url(institution, tail):
    return f"/api/v1/institutions/{institution.slug}/audit/{tail}"


@pytest.mark.django_db
def test_the_api_lists_filters_and_verifies_the_chain(cast):
    post = _published(cast.a)
    client = _api(cast, cast.a.admin)
    listed = client.get(_api_url(cast.a.institution, "events/"), {"verb_prefix": "post."})
    assert listed.status_code == 200
    verbs = [event["verb"] for event in listed.json()["results"]]
    assert verbs[:3] == ["post.publish", "post.approve", "post.submit"]
    assert all(e["object_id"] == str(post.id) for e in listed.json()["results"])
    verified = client.get(_api_url(cast.a.institution, "verify"))
    assert verified.status_code == 200 and verified.json()["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_the_api_names_the_first_bad_event(cast):
    client = _api(cast, cast.a.admin)
    _record_some(cast.a.institution.id, 3)
    victim = _events(cast.a.institution.id)[-2]
    _as_owner("UPDATE accounts_auditevent SET after = '{}' WHERE id = %s", [victim.id])
    body = client.get(_api_url(cast.a.institution, "verify")).json()
    assert body["ok"] is False
    assert body["first_bad_sequence"] == victim.sequence


@pytest.mark.django_db
def test_the_api_exports_json_lines_and_csv(cast):
    _published(cast.a)
    client = _api(cast, cast.a.admin)
    response = client.get(_api_url(cast.a.institution, "export"), {"as": "jsonl"})
    lines = b"".join(response.streaming_content).splitlines()
    assert lines and all(json.loads(line)["hash"] for line in lines)
    response = client.get(_api_url(cast.a.institution, "export"), {"as": "csv"})
    assert b"".join(response.streaming_content).startswith(b"sequence,created_at")
    assert client.get(_api_url(cast.a.institution, "export"), {"as": "xml"}).status_code == 400


@pytest.mark.django_db
def test_the_audit_api_is_for_admins_of_the_institution_only(cast):
    reviewer = _api(cast, cast.a.reviewer, scopes=("read", "review"))
    assert reviewer.get(_api_url(cast.a.institution, "events/")).status_code == 403
    admin_of_b = _api(cast, cast.b.admin)
    assert admin_of_b.get(_api_url(cast.a.institution, "events/")).status_code == 404
