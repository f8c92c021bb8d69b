"""A hypothesis state machine drives random sequences of submit, edit, approve, reject, request
changes, correct, retract, pause and resume by random roles, and checks the review rules after
every step."""

from __future__ import annotations

import contextlib

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from accounts import audit
from accounts.errors import DomainError
from accounts.models import Role
from accounts.tenancy import tenant_context
from feeds import services as feeds_services
from feeds.models import Post
from feeds.services import PostContent
from moderation import services
from moderation.models import Decision, Verdict
from tests.factories import MembershipFactory

TEXTS = st.sampled_from(["Sports day on Friday.", "Sports day moved.", "Concert at 7.", "Hi."])


@pytest.mark.slow
def test_review_rules_hold_in_any_sequence(cast):
    institution = cast.a.institution
    reviewer2 = MembershipFactory(institution=institution, role=Role.REVIEWER)
    authors = [cast.a.author, cast.a.author2, cast.a.reviewer]
    deciders = [cast.a.reviewer, reviewer2, cast.a.admin, cast.a.author]

    class ReviewMachine(RuleBasedStateMachine):
        posts = Bundle("posts")

        def __init__(self):
            super().__init__()
            # Each example starts from the same database: its work is rolled back at teardown.
            self.example = transaction.atomic()
            self.example.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.example.__exit__(None, None, None)

        @initialize(approvals=st.sampled_from([1, 2]))
        def choose_policy(self, approvals):
            services.update_policy(institution, cast.a.admin, approvals_required=approvals)
            self.required = approvals

        @rule(target=posts, author=st.sampled_from(authors), text=TEXTS)
        def write_and_submit(self, author, text):
            post = feeds_services.create_post(author, PostContent(text, "en"))
            return feeds_services.submit_post(post, author).id

        def _post(self, post_id):
            with tenant_context(institution.id):
                return Post.objects.select_related("author", "institution").get(id=post_id)

        def _try(self, action):
            with contextlib.suppress(DomainError):
                action()

        @rule(post_id=posts, text=TEXTS)
        def edit_or_correct(self, post_id, text):
            post = self._post(post_id)
            self._try(lambda: feeds_services.edit_post(post, post.author, PostContent(text, "en")))

        @rule(post_id=posts)
        def submit(self, post_id):
            post = self._post(post_id)
            self._try(lambda: feeds_services.submit_post(post, post.author))

        @rule(post_id=posts, by=st.sampled_from(deciders))
        def approve(self, post_id, by):
            self._try(lambda: services.approve(self._post(post_id), by))

        @rule(post_id=posts, by=st.sampled_from(deciders))
        def reject(self, post_id, by):
            self._try(lambda: services.reject(self._post(post_id), by, "No."))

        @rule(post_id=posts, by=st.sampled_from(deciders))
        def request_changes(self, post_id, by):
            self._try(lambda: services.request_changes(self._post(post_id), by, "Change."))

        @rule(post_id=posts, by=st.sampled_from(deciders))
        def retract(self, post_id, by):
            self._try(lambda: services.retract(self._post(post_id), by, "Mistake."))

        @rule(by=st.sampled_from(deciders))
        def pause(self, by):
            self._try(lambda: services.pause_publishing(institution, by))

        @rule(by=st.sampled_from(deciders))
        def resume(self, by):
            self._try(lambda: services.resume_publishing(institution, by))

        @invariant()
        def rules_hold(self):
            with tenant_context(institution.id):
                decisions = list(Decision.objects.select_related("post"))
                assert all(d.reviewer_id != d.post.author_id for d in decisions), (
                    "somebody decided on their own post"
                )
                for post in Post.objects.select_related("public_revision").filter(
                    public_revision__isnull=False
                ):
                    revision = post.public_revision
                    assert revision.approved_at is not None, "an unapproved revision is public"
                    approvers = {
                        d.reviewer_id
                        for d in decisions
                        if d.verdict == Verdict.APPROVE
                        and d.revision_id == revision.id
                        and d.content_hash == revision.content_hash
                        and d.created_at >= revision.submitted_at
                    }
                    assert len(approvers) >= self.required, "public without enough approvals"
                    assert post.author_id not in approvers
            assert audit.verify(institution.id).ok

    run_state_machine_as_test(
        ReviewMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
