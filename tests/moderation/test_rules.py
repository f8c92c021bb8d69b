"""The review rules as services: four eyes, approvals bound to the exact text, late approvals,
blocked terms, and the emergency stop that takes two people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import audit
from accounts.errors import DomainError, NotFound, PermissionDenied
from accounts.models import Institution
from accounts.tenancy import tenant_context
from feeds import services as feeds_services
from feeds.models import Post, PostState
from feeds.services import PostContent
from moderation import services
from moderation.models import Decision, Flag, LexiconTerm, Policy, PolicyVersion, Verdict
from tests.moderation.conftest import submitted


def reload(post):
    with tenant_context(post.institution_id):
        return Post.objects.select_related("latest_revision", "institution").get(id=post.id)


def decisions(post):
    with tenant_context(post.institution_id):
        return list(Decision.objects.filter(post_id=post.id).order_by("id"))


def test_one_approval_publishes_a_post_without_time(cast):
    post = submitted(cast.a.author)
    outcome = services.approve(post, cast.a.reviewer)
    assert outcome.completed
    assert reload(post).state == PostState.PUBLISHED
    (decision,) = decisions(post)
    assert decision.verdict == Verdict.APPROVE
    assert decision.content_hash == reload(post).latest_revision.content_hash
    assert decision.rendered_hashes == {}
    assert decision.policy_version == 0  # the default policy: nobody changed it yet


def test_author_never_approves_own_post(cast):
    post = submitted(cast.a.reviewer)
    with pytest.raises(PermissionDenied):
        services.approve(post, cast.a.reviewer)
    assert reload(post).state == PostState.SUBMITTED
    assert decisions(post) == []


def test_authors_cannot_decide(cast):
    post = submitted(cast.a.author)
    for decide in (
        lambda: services.approve(post, cast.a.author2),
        lambda: services.reject(post, cast.a.author2, "no"),
        lambda: services.request_changes(post, cast.a.author2, "change"),
    ):
        with pytest.raises(PermissionDenied):
            decide()
    assert reload(post).state == PostState.SUBMITTED


def test_two_approvals_come_from_two_different_reviewers(cast, reviewer2):
    services.update_policy(cast.a.institution, cast.a.admin, approvals_required=2)
    post = submitted(cast.a.author)
    first = services.approve(post, cast.a.reviewer)
    assert not first.completed and reload(post).state == PostState.SUBMITTED
    with pytest.raises(services.AlreadyApproved):
        services.approve(post, cast.a.reviewer)
    second = services.approve(post, reviewer2)
    assert second.completed
    assert reload(post).state == PostState.PUBLISHED


def test_changed_text_voids_an_earlier_approval(cast, reviewer2):
    services.update_policy(cast.a.institution, cast.a.admin, approvals_required=2)
    post = submitted(cast.a.author)
    services.approve(post, cast.a.reviewer)
    post = feeds_services.edit_post(
        reload(post), cast.a.author, PostContent("Sports day moved to Monday.", "en")
    )
    post = feeds_services.submit_post(post, cast.a.author)
    outcome = services.approve(post, reviewer2)
    assert outcome.approvals == 1 and not outcome.completed
    assert reload(post).state == PostState.SUBMITTED
    services.approve(post, cast.a.reviewer)
    assert reload(post).state == PostState.PUBLISHED


def test_resubmitting_the_same_revision_voids_earlier_approvals(cast, reviewer2):
    services.update_policy(cast.a.institution, cast.a.admin, approvals_required=2)
    post = submitted(cast.a.author)
    services.approve(post, cast.a.reviewer)
    feeds_services.withdraw_post(reload(post), cast.a.author)
    feeds_services.submit_post(reload(post), cast.a.author)
    assert not services.approve(post, reviewer2).completed


def test_late_approval_waits_for_a_confirmed_time(cast):
    services.update_policy(cast.a.institution, cast.a.admin, approval_deadline_hours=3)
    post = submitted(cast.a.author, publish_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(services.TimeNeedsConfirmation):
        services.approve(post, cast.a.reviewer)
    assert reload(post).state == PostState.SUBMITTED
    assert decisions(post) == []
    new_time = timezone.now() + timedelta(hours=5)
    services.approve(post, cast.a.reviewer, publish_at=new_time)
    post = reload(post)
    assert post.state == PostState.APPROVED
    assert post.publish_at == new_time.replace(microsecond=post.publish_at.microsecond)


def test_a_confirmed_time_of_now_publishes(cast):
    services.update_policy(cast.a.institution, cast.a.admin, approval_deadline_hours=3)
    post = submitted(cast.a.author, publish_at=timezone.now() + timedelta(hours=1))
    services.approve(post, cast.a.reviewer, publish_at=None)
    assert reload(post).state == PostState.PUBLISHED


def test_approval_before_the_deadline_keeps_the_time(cast):
    when = timezone.now() + timedelta(hours=5)
    post = submitted(cast.a.author, publish_at=when)
    services.approve(post, cast.a.reviewer)
    post = reload(post)
    assert post.state == PostState.APPROVED


def _block(cast, term="expelled"):
    services.add_lexicon_term(cast.a.institution, cast.a.admin, term=term, kind="blocked")


def test_blocked_term_needs_an_admins_override_with_reason(cast):
    _block(cast)
    post = submitted(cast.a.author, body="Tom was expelled today.")
    with tenant_context(post.institution_id):
        assert Flag.objects.filter(severity="block").exists()
    with pytest.raises(services.OverrideRequired):
        services.approve(post, cast.a.reviewer)
    with pytest.raises(PermissionDenied):
        services.override(post, cast.a.reviewer, "fine")
    with pytest.raises(DomainError):
        services.override(post, cast.a.admin, "  ")
    services.override(post, cast.a.admin, "The family agreed in writing.")
    services.approve(post, cast.a.reviewer)
    assert reload(post).state == PostState.PUBLISHED


def test_trusted_member_posts_without_review_unless_a_blocked_term_is_found(cast):
    services.update_policy(cast.a.institution, cast.a.admin, review_mode="untrusted")
    services.set_trusted(cast.a.author, cast.a.admin, True)
    assert submitted(cast.a.author).state == PostState.PUBLISHED
    assert submitted(cast.a.author2).state == PostState.SUBMITTED
    _block(cast)
    assert submitted(cast.a.author, body="He was expelled.").state == PostState.SUBMITTED


def test_reject_and_request_changes_need_their_texts(cast):
    post = submitted(cast.a.author)
    with pytest.raises(DomainError) as error:
        services.reject(post, cast.a.reviewer, " ")
    assert error.value.field == "reason"
    with pytest.raises(DomainError) as error:
        services.request_changes(post, cast.a.reviewer, "")
    assert error.value.field == "comment"
    assert decisions(post) == []
    services.request_changes(post, cast.a.reviewer, "Please drop the surname.")
    assert reload(post).state == PostState.CHANGES_REQUESTED
    assert services.comment_for_author(post).reason == "Please drop the surname."


def test_decided_posts_refuse_further_decisions_with_409(cast):
    post = submitted(cast.a.author)
    services.reject(post, cast.a.reviewer, "Not for the public.")
    for decide in (
        lambda: services.approve(post, cast.a.admin),
        lambda: services.reject(post, cast.a.admin, "again"),
        lambda: services.request_changes(post, cast.a.admin, "again"),
    ):
        with pytest.raises(services.AlreadyDecided) as error:
            decide()
        assert error.value.status == 409
    assert len(decisions(post)) == 1


def test_retract_leaves_a_reason_and_refuses_twice(cast):
    post = submitted(cast.a.author)
    services.approve(post, cast.a.reviewer)
    services.retract(post, cast.a.admin, "Published by mistake.")
    post = reload(post)
    assert post.state == PostState.RETRACTED
    assert post.retraction_reason == "Published by mistake."
    with pytest.raises(services.AlreadyDecided):
        services.retract(post, cast.a.reviewer, "again")


def test_another_institutions_reviewer_finds_nothing(cast):
    post = submitted(cast.a.author)
    with pytest.raises(NotFound):
        services.approve(post, cast.b.reviewer)
    with pytest.raises(NotFound):
        services.reject(post, cast.b.admin, "no")
    assert reload(post).state == PostState.SUBMITTED


def test_pause_by_one_admin_resume_by_a_second_person(cast):
    institution = cast.a.institution
    with pytest.raises(PermissionDenied):
        services.pause_publishing(institution, cast.a.reviewer)
    services.pause_publishing(institution, cast.a.admin, "Hacked account")
    assert Institution.objects.get(id=institution.id).publishing_paused
    post = submitted(cast.a.author)
    services.approve(post, cast.a.reviewer)
    assert reload(post).state == PostState.APPROVED  # held, not published
    with pytest.raises(services.SecondPersonRequired):
        services.resume_publishing(institution, cast.a.admin)
    with pytest.raises(PermissionDenied):
        services.resume_publishing(institution, cast.a.author)
    services.resume_publishing(institution, cast.a.reviewer)
    assert not Institution.objects.get(id=institution.id).publishing_paused
    with pytest.raises(services.NotPaused):
        services.resume_publishing(institution, cast.a.reviewer)
    assert audit.verify(institution.id).ok


def test_policy_changes_bump_the_version_and_keep_snapshots(cast):
    institution = cast.a.institution
    services.update_policy(institution, cast.a.admin, approvals_required=2)
    services.add_lexicon_term(institution, cast.a.admin, term="secret", kind="flagged")
    with tenant_context(institution.id):
        policy = Policy.objects.get()
        assert policy.version == 3
        versions = list(PolicyVersion.objects.order_by("number"))
        assert [v.number for v in versions] == [1, 2, 3]
        assert versions[1].snapshot["approvals_required"] == 2
        assert ["flagged", "", "secret", ""] in versions[2].snapshot["lexicon"]
        assert LexiconTerm.objects.filter(language="en").exists()  # the sector's starting terms


@pytest.mark.parametrize(
    "changes",
    [
        {"approvals_required": 3},
        {"approvals_required": True},
        {"review_mode": "sometimes"},
        {"approval_deadline_hours": -1},
        {"approval_deadline_hours": "2"},
        {"allowed_domains": "example.org"},
        {"allowed_domains": ["not a domain"]},
        {"allowed_domains": ["a.org"], "denied_domains": ["a.org"]},
        {"colour": "red"},
    ],
)
def test_malformed_policy_updates_change_nothing(cast, changes):
    services.ensure_policy(cast.a.institution)
    with pytest.raises(DomainError):
        services.update_policy(cast.a.institution, cast.a.admin, **changes)
    with tenant_context(cast.a.institution.id):
        assert Policy.objects.get().version == 1


def test_only_admins_change_the_policy(cast):
    with pytest.raises(PermissionDenied):
        services.update_policy(cast.a.institution, cast.a.reviewer, approvals_required=2)
    with pytest.raises(NotFound):
        services.update_policy(cast.a.institution, cast.b.admin, approvals_required=2)


def _account(cast, network="mastodon", handle="@school@example.social"):
    from crossposting.models import NetworkAccount

    with tenant_context(cast.a.institution.id):
        return NetworkAccount.objects.create(
            institution=cast.a.institution,
            network=network,
            handle=handle,
            base_url="https://example.social",
        )


def test_approval_binds_each_selected_networks_rendering(cast, reviewer2):
    from crossposting import services as crossposting_services

    services.update_policy(cast.a.institution, cast.a.admin, approvals_required=2)
    post = submitted(cast.a.author)
    mastodon = _account(cast)
    crossposting_services.choose_targets(reload(post), [mastodon], by=cast.a.author)
    services.approve(post, cast.a.reviewer)
    (first,) = decisions(post)
    assert list(first.rendered_hashes) == ["mastodon:@school@example.social"]
    # A second network changes what goes out: the earlier approval no longer counts.
    bluesky = _account(cast, "bluesky", "school.example.social")
    crossposting_services.choose_targets(reload(post), [mastodon, bluesky], by=cast.a.author)
    outcome = services.approve(post, reviewer2)
    assert outcome.approvals == 1 and reload(post).state == PostState.SUBMITTED
    services.approve(post, cast.a.reviewer)
    assert reload(post).state == PostState.PUBLISHED


def test_a_direct_approval_in_feeds_meets_the_same_rules(cast, reviewer2):
    services.update_policy(cast.a.institution, cast.a.admin, approvals_required=2)
    post = submitted(cast.a.author)
    with pytest.raises(services.NotEnoughApprovals):
        feeds_services.approve_post(reload(post), by=cast.a.reviewer)
    assert reload(post).state == PostState.SUBMITTED and decisions(post) == []
    services.approve(post, cast.a.reviewer)
    feeds_services.approve_post(reload(post), by=reviewer2)
    assert reload(post).state == PostState.PUBLISHED
    assert {d.reviewer_id for d in decisions(post)} == {cast.a.reviewer.id, reviewer2.id}
