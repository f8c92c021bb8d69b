"""The review queue kept between requests (accounts.pagecache): shown again only while true.

A reviewer who reloads the queue gets the page rendered before, unless anything in the
institution changed since (a submission, a decision, a pause), a deadline on it passed, or it
is older than PODIUM_MEMBER_PAGE_CACHE_SECONDS. It is never shown to anyone else, and its
forms carry valid, freshly masked tokens.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from feeds.models import Post
from moderation import services
from tests.moderation.conftest import submitted

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def queue_url(cast) -> str:
    return reverse("moderation:queue", args=[cast.a.institution.slug])


def signed_in(member, **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(member.user)
    return client


def rows(response) -> set[int]:
    return {int(n) for n in re.findall(r'id="queue-post-(\d+)"', response.content.decode())}


def test_an_unchanged_queue_is_shown_again_without_rendering(cast):
    post = submitted(cast.a.author, "Choir practice moves to Thursday.")
    reviewer = signed_in(cast.a.reviewer)
    first = reviewer.get(queue_url(cast))
    with CaptureQueriesContext(connection) as kept_queries:
        kept = reviewer.get(queue_url(cast))
    assert rows(first) == rows(kept) == {post.id}
    assert TOKEN.sub("", first.content.decode()) == TOKEN.sub("", kept.content.decode())
    # Session, membership and the audit chain's head: nothing of the queue is read again.
    assert not any("feeds_post" in q["sql"] for q in kept_queries.captured_queries)


def test_a_submission_shows_at_once_in_a_kept_queue(cast):
    reviewer = signed_in(cast.a.reviewer)
    first = submitted(cast.a.author, "First post.")
    assert rows(reviewer.get(queue_url(cast))) == {first.id}
    second = submitted(cast.a.author2, "Second post.")
    page = reviewer.get(queue_url(cast))
    assert rows(page) == {first.id, second.id}
    assert 'id="nav-review-count">2' in page.content.decode()


def test_another_reviewers_decision_shows_at_once(cast, reviewer2):
    post = submitted(cast.a.author, "Open day on Saturday.")
    reviewer = signed_in(cast.a.reviewer)
    assert rows(reviewer.get(queue_url(cast))) == {post.id}
    services.reject(post, reviewer2, "Please name the time.")
    assert rows(reviewer.get(queue_url(cast))) == set()


def test_the_emergency_stop_shows_at_once(cast):
    reviewer = signed_in(cast.a.reviewer)
    assert "publishing-paused" not in reviewer.get(queue_url(cast)).content.decode()
    services.pause_publishing(cast.a.institution, cast.a.admin, "A wrong date went out.")
    assert 'id="publishing-paused"' in reviewer.get(queue_url(cast)).content.decode()


def test_a_kept_page_is_never_shown_to_another_member(cast, reviewer2):
    submitted(cast.a.author, "Sports day.")
    reviewer = signed_in(cast.a.reviewer)
    admin = signed_in(cast.a.admin)
    reviewer.get(queue_url(cast))
    admin_page = admin.get(queue_url(cast)).content.decode()
    # The administrator's navigation has the policy; the reviewer's has not.
    assert reverse("moderation:policy", args=[cast.a.institution.slug]) in admin_page
    reviewer_page = reviewer.get(queue_url(cast)).content.decode()
    assert reverse("moderation:policy", args=[cast.a.institution.slug]) not in reviewer_page
    other = signed_in(reviewer2)
    assert other.get(queue_url(cast)).status_code == 200
    assert other.session.session_key != reviewer.session.session_key


def test_a_kept_page_follows_the_language(cast):
    reviewer = signed_in(cast.a.reviewer)
    assert "Review queue" in reviewer.get(queue_url(cast)).content.decode()
    user = cast.a.reviewer.user
    user.language = "de"
    user.save(update_fields=["language"])
    assert "Prüfwarteschlange" in reviewer.get(queue_url(cast)).content.decode()


def test_the_forms_of_a_kept_page_carry_fresh_tokens_of_the_browser_asking(cast):
    laptop = signed_in(cast.a.reviewer, enforce_csrf_checks=True)
    first = laptop.get(queue_url(cast)).content.decode()
    # The same reviewer on another device: a CSRF secret of its own, the page kept for the laptop.
    phone = signed_in(cast.a.reviewer, enforce_csrf_checks=True)
    phone.get(reverse("accounts:settings"))  # the phone's own CSRF cookie
    kept = phone.get(queue_url(cast)).content.decode()
    first_tokens, kept_tokens = TOKEN.findall(first), TOKEN.findall(kept)
    assert len(kept_tokens) == len(first_tokens) >= 2  # sign out, language
    assert not set(kept_tokens) & set(first_tokens)  # masked afresh, as Django does
    response = phone.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": kept_tokens[0]})
    assert response.status_code == 302  # signed out, not refused (403)


def test_a_kept_page_turns_when_a_deadline_on_it_passes(cast):
    post = submitted(
        cast.a.author, "Trip to the museum.", publish_at=timezone.now() + timedelta(days=2)
    )
    with tenant_context(cast.a.institution.id):
        hours = services.current_policy(cast.a.institution).approval_deadline_hours
        # Due 1.5 s from now (set on the row: no service moves a deadline this close).
        moment = timezone.now() + timedelta(hours=hours, seconds=1.5)
        Post.objects.filter(id=post.id).update(publish_at=moment)
    reviewer = signed_in(cast.a.reviewer)
    assert "badge--danger" not in reviewer.get(queue_url(cast)).content.decode()
    time.sleep(1.6)
    assert "badge--danger" in reviewer.get(queue_url(cast)).content.decode()


@pytest.mark.parametrize("seconds", [1])
def test_what_changes_without_an_audit_event_shows_within_the_set_time(cast, settings, seconds):
    settings.PODIUM_MEMBER_PAGE_CACHE_SECONDS = seconds
    post = submitted(cast.a.author, "Bake sale.")
    reviewer = signed_in(cast.a.reviewer)
    assert "Bake sale." in reviewer.get(queue_url(cast)).content.decode()
    with tenant_context(cast.a.institution.id):
        # A correction of the row by hand (an operator's repair): no audit event.
        post.latest_revision.__class__.objects.filter(id=post.latest_revision_id).update(
            body="Cake sale."
        )
    assert "Bake sale." in reviewer.get(queue_url(cast)).content.decode()  # still kept
    time.sleep(seconds + 0.1)
    assert "Cake sale." in reviewer.get(queue_url(cast)).content.decode()


def test_switched_off_every_request_renders(cast, settings):
    settings.PODIUM_MEMBER_PAGE_CACHE_SECONDS = 0
    post = submitted(cast.a.author, "Bake sale.")
    reviewer = signed_in(cast.a.reviewer)
    reviewer.get(queue_url(cast))
    with CaptureQueriesContext(connection) as queries:
        assert rows(reviewer.get(queue_url(cast))) == {post.id}
    assert any("feeds_post" in q["sql"] for q in queries.captured_queries)
