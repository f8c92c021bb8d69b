"""Posts through their lifecycle, as services (the composer and the API call these)."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.errors import DomainError, PermissionDenied
from accounts.tenancy import tenant_context
from feeds import services
from feeds.lifecycle import IllegalTransition
from feeds.models import PostState
from feeds.scheduling import PublishTimeInvalid
from feeds.services import PostContent


def write(author, body="Hello parents! Sports day is on Friday.", **kwargs):
    return services.create_post(author, PostContent(body=body, language="en"), **kwargs)


def test_submitting_without_required_review_publishes_at_once(cast):
    cast.a.institution.review_required = False
    cast.a.institution.save()
    post = services.submit_post(write(cast.a.author), cast.a.author)
    assert post.state == PostState.PUBLISHED
    assert post.public_revision_id == post.latest_revision_id
    assert post.published_at is not None


def test_submitting_with_required_review_waits_for_a_reviewer(cast):
    post = services.submit_post(write(cast.a.author), cast.a.author)
    assert post.state == PostState.SUBMITTED
    assert post.public_revision_id is None


def test_author_cannot_approve_own_post(cast):
    post = services.submit_post(write(cast.a.reviewer), cast.a.reviewer)
    with pytest.raises(PermissionDenied):
        services.approve_post(post, by=cast.a.reviewer)


def test_correction_keeps_the_published_text_until_approved(cast):
    post = services.submit_post(write(cast.a.author), cast.a.author)
    post = services.approve_post(post, by=cast.a.reviewer)
    first_public = post.public_revision_id
    post = services.edit_post(
        post, cast.a.author, PostContent(body="Sports day moved to Monday.", language="en")
    )
    assert post.public_revision_id == first_public
    post = services.submit_post(post, cast.a.author)
    post = services.approve_post(post, by=cast.a.reviewer)
    assert post.public_revision_id != first_public
    assert post.corrected_at is not None
    assert post.state == PostState.PUBLISHED


def test_scheduled_post_is_published_by_the_sweeper_when_due(cast):
    when = timezone.now() + timedelta(hours=2)
    post = services.submit_post(write(cast.a.author, publish_at=when), cast.a.author)
    post = services.approve_post(post, by=cast.a.reviewer)
    assert post.state == PostState.APPROVED
    assert services.publish_due_posts_of(cast.a.institution) == 0
    assert services.publish_due_posts_of(cast.a.institution, when + timedelta(seconds=1)) == 1
    with tenant_context(cast.a.institution.id):
        post.refresh_from_db()
    assert post.state == PostState.PUBLISHED


def test_publish_time_in_a_daylight_saving_gap_is_refused(cast):
    year = timezone.now().year + 1
    # Europe/Berlin skips 02:00-03:00 on the last Sunday of March.
    gap = datetime(year, 3, 31, 2, 30)
    while gap.weekday() != 6:
        gap -= timedelta(days=1)
    with pytest.raises(PublishTimeInvalid, match="does not exist"):
        write(cast.a.author, publish_at=gap)


def test_publish_time_in_the_past_is_refused(cast):
    with pytest.raises(PublishTimeInvalid, match="has passed"):
        write(cast.a.author, publish_at=timezone.now() - timedelta(hours=1))


def test_empty_text_is_refused(cast):
    with pytest.raises(DomainError, match="empty"):
        write(cast.a.author, body="   ")


def test_retracting_needs_a_reason_and_a_published_post(cast):
    post = services.submit_post(write(cast.a.author), cast.a.author)
    with pytest.raises(IllegalTransition):
        services.retract_post(post, by=cast.a.reviewer, reason="Wrong date")
    post = services.approve_post(post, by=cast.a.reviewer)
    with pytest.raises(DomainError, match="reason"):
        services.retract_post(post, by=cast.a.reviewer, reason=" ")
    post = services.retract_post(post, by=cast.a.reviewer, reason="Wrong date")
    assert post.is_retracted and not post.is_public
