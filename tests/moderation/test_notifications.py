"""Notices by e-mail: reviewers on submissions and deadlines, authors on decisions, each once."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.tenancy import tenant_context
from moderation import services, tasks
from moderation.models import Decision, SentNotice
from tests.moderation.conftest import submitted


def test_reviewers_hear_of_a_submission_once_even_when_the_task_runs_twice(cast):
    post = submitted(cast.a.author)
    institution_id = cast.a.institution.id
    sent = tasks.notify_submission(institution_id=institution_id, post_id=post.id, revision=1)
    assert sent == 2  # the reviewer and the admin, never the author
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([cast.a.reviewer.user.email, cast.a.admin.user.email])
    assert "/review/" in mail.outbox[0].body
    again = tasks.notify_submission(institution_id=institution_id, post_id=post.id, revision=1)
    assert again == 0 and len(mail.outbox) == 2


def test_preferences_silence_a_kind_of_notice(cast):
    services.set_preferences(cast.a.reviewer, on_submission=False)
    post = submitted(cast.a.author)
    tasks.notify_submission(institution_id=cast.a.institution.id, post_id=post.id, revision=1)
    assert [m.to[0] for m in mail.outbox] == [cast.a.admin.user.email]


def test_the_author_hears_of_a_decision_with_its_reason(cast):
    post = submitted(cast.a.author)
    services.request_changes(post, cast.a.reviewer, "Please drop the surname.")
    with tenant_context(cast.a.institution.id):
        decision = Decision.objects.get()
    for _attempt in range(2):
        tasks.notify_decision(institution_id=cast.a.institution.id, decision_id=decision.id)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [cast.a.author.user.email]
    assert "Please drop the surname." in mail.outbox[0].body


def test_a_passed_deadline_is_escalated_to_admins_once(cast):
    services.update_policy(cast.a.institution, cast.a.admin, approval_deadline_hours=3)
    post = submitted(cast.a.author, publish_at=timezone.now() + timedelta(hours=1))
    institution_id = cast.a.institution.id
    tasks.escalate_deadlines_of(institution_id=institution_id)
    tasks.escalate_deadlines_of(institution_id=institution_id)
    assert [m.to[0] for m in mail.outbox] == [cast.a.admin.user.email]
    with tenant_context(institution_id):
        assert AuditEvent.objects.filter(verb="review.escalate").count() == 1
        assert SentNotice.objects.filter(kind="deadline_passed").count() == 1
    assert post.id


def test_an_approaching_deadline_warns_reviewers(cast):
    services.update_policy(cast.a.institution, cast.a.admin, approval_deadline_hours=1)
    submitted(cast.a.author, publish_at=timezone.now() + timedelta(hours=2))
    tasks.escalate_deadlines_of(institution_id=cast.a.institution.id)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.a.reviewer.user.email, cast.a.admin.user.email]
    )
