"""Two reviewers deciding on one post at the same moment, on real PostgreSQL connections: one
outcome, one audit event; the other reviewer gets the 409 conflict."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from accounts.errors import Conflict
from accounts.models import AuditEvent, Role
from accounts.tenancy import tenant_context
from feeds.models import Post, PostState
from moderation import services
from moderation.models import Decision
from tests.conftest import Cast
from tests.factories import MembershipFactory
from tests.moderation.conftest import submitted

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race(*decisions):
    barrier = threading.Barrier(len(decisions))
    outcomes: list[str] = []

    def run(decide):
        try:
            barrier.wait()
            decide()
            outcomes.append("ok")
        except Conflict as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(d,)) for d in decisions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(outcomes)


@pytest.mark.parametrize(
    "second",
    [
        lambda post, r: services.approve(post, r),
        lambda post, r: services.reject(post, r, "No."),
        lambda post, r: services.request_changes(post, r, "Change it."),
    ],
    ids=["approve", "reject", "request_changes"],
)
def test_two_reviewers_deciding_at_once_give_one_outcome(second):
    cast = Cast.create()
    other = MembershipFactory(institution=cast.a.institution, role=Role.REVIEWER)
    post = submitted(cast.a.author)
    outcomes = _race(lambda: services.approve(post, cast.a.reviewer), lambda: second(post, other))
    assert outcomes == ["already_decided", "ok"]
    with tenant_context(cast.a.institution.id):
        assert Decision.objects.filter(post_id=post.id).count() == 1
        review_events = AuditEvent.objects.filter(verb__startswith="review.")
        assert review_events.count() == 1
        assert Post.objects.get(id=post.id).state != PostState.SUBMITTED
