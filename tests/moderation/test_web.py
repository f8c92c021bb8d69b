"""The review pages through HTTP: queue, review page, decisions, policy, lexicon, the stop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Institution
from accounts.tenancy import tenant_context
from feeds.models import Post, PostState
from moderation import services
from moderation.models import LexiconTerm, Policy
from tests.moderation.conftest import submitted


def url(name, cast, *args):
    return reverse(f"moderation:{name}", args=[cast.a.institution.slug, *args])


def state(post):
    with tenant_context(post.institution_id):
        return Post.objects.get(id=post.id).state


@pytest.fixture
def as_member(client):
    def sign_in(member):
        client.force_login(member.user)
        return client

    return sign_in


def test_queue_lists_posts_by_urgency_with_their_flags(cast, as_member):
    services.add_lexicon_term(cast.a.institution, cast.a.admin, term="expelled", kind="blocked")
    later = submitted(cast.a.author, "Later post", publish_at=timezone.now() + timedelta(days=3))
    sooner = submitted(cast.a.author2, "Sooner post", publish_at=timezone.now() + timedelta(days=1))
    flagged = submitted(cast.a.author, "Tom was expelled.")
    response = as_member(cast.a.reviewer).get(url("queue", cast))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Sooner post") < body.index("Later post") < body.index("Tom was expelled")
    assert "blocked term" in body
    assert f'id="queue-post-{flagged.id}"' in body
    assert 'id="nav-review-count">3' in body
    filtered = as_member(cast.a.reviewer).get(url("queue", cast), {"author": cast.a.author2.id})
    assert "Sooner post" in filtered.content.decode()
    assert "Later post" not in filtered.content.decode()
    assert sooner.id and later.id


def test_queue_and_review_are_for_reviewers_only(cast, as_member):
    post = submitted(cast.a.author)
    assert as_member(cast.a.author2).get(url("queue", cast)).status_code == 403
    assert as_member(cast.a.author2).get(url("review", cast, post.id)).status_code == 403


def test_review_page_shows_the_post_flags_and_decision_forms(cast, as_member):
    services.add_lexicon_term(cast.a.institution, cast.a.admin, term="expelled", kind="flagged")
    post = submitted(cast.a.author, "Tom was expelled today.")
    response = as_member(cast.a.reviewer).get(url("review", cast, post.id))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<mark" in body and "expelled</mark>" in body
    assert 'id="approve-form"' in body and 'id="reject-form"' in body
    assert 'for="reject-reason"' in body and 'for="changes-comment"' in body


def test_approve_by_form_publishes_and_a_second_try_gets_409(cast, as_member):
    post = submitted(cast.a.author)
    response = as_member(cast.a.reviewer).post(url("approve", cast, post.id))
    assert response.status_code == 302
    assert state(post) == PostState.PUBLISHED
    again = as_member(cast.a.admin).post(url("approve", cast, post.id))
    assert again.status_code == 409
    assert "decided meanwhile" in again.content.decode()


def test_reject_without_reason_is_400_and_changes_nothing(cast, as_member):
    post = submitted(cast.a.author)
    response = as_member(cast.a.reviewer).post(url("reject", cast, post.id), {"reason": ""})
    assert response.status_code == 400
    assert state(post) == PostState.SUBMITTED


def test_author_cannot_decide_on_own_post_by_form(cast, as_member):
    post = submitted(cast.a.reviewer)
    response = as_member(cast.a.reviewer).post(url("approve", cast, post.id))
    assert response.status_code == 403
    assert state(post) == PostState.SUBMITTED


def test_another_institutions_reviewer_gets_404(cast, as_member):
    post = submitted(cast.a.author)
    path = reverse("moderation:approve", args=[cast.b.institution.slug, post.id])
    assert as_member(cast.b.reviewer).post(path).status_code == 404
    assert state(post) == PostState.SUBMITTED


def test_late_approval_asks_for_a_time_then_accepts_it(cast, as_member):
    services.update_policy(cast.a.institution, cast.a.admin, approval_deadline_hours=3)
    post = submitted(cast.a.author, publish_at=timezone.now() + timedelta(hours=1))
    response = as_member(cast.a.reviewer).post(url("approve", cast, post.id))
    assert response.status_code == 409
    assert state(post) == PostState.SUBMITTED
    local = timezone.localtime(timezone.now() + timedelta(hours=6), cast.a.institution.zone)
    response = as_member(cast.a.reviewer).post(
        url("approve", cast, post.id), {"publish_at": local.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    assert state(post) == PostState.APPROVED


def test_request_changes_comment_is_shown_to_the_author(cast, as_member):
    post = submitted(cast.a.author)
    as_member(cast.a.reviewer).post(
        url("request-changes", cast, post.id), {"comment": "Please drop the surname."}
    )
    assert state(post) == PostState.CHANGES_REQUESTED
    history = reverse("feeds:history", args=[cast.a.institution.slug, post.id])
    body = as_member(cast.a.author).get(history).content.decode()
    assert "Please drop the surname." in body
    edit = reverse("feeds:edit", args=[cast.a.institution.slug, post.id])
    assert "Please drop the surname." in as_member(cast.a.author).get(edit).content.decode()


def test_policy_page_saves_for_admins_only(cast, as_member):
    assert as_member(cast.a.reviewer).get(url("policy", cast)).status_code == 403
    page = as_member(cast.a.admin).get(url("policy", cast))
    assert page.status_code == 200
    data = {
        "review_mode": "all",
        "approvals_required": "2",
        "approval_deadline_hours": "4",
        "minimum_lead_minutes": "0",
        "allowed_domains": "",
        "denied_domains": "bad.example\nworse.example",
        "own_contacts": "",
    }
    assert as_member(cast.a.admin).post(url("policy", cast), data).status_code == 302
    with tenant_context(cast.a.institution.id):
        policy = Policy.objects.get()
    assert policy.approvals_required == 2
    assert policy.denied_domains == ["bad.example", "worse.example"]
    bad = {**data, "denied_domains": "not a domain"}
    assert as_member(cast.a.admin).post(url("policy", cast), bad).status_code == 400


def test_lexicon_terms_are_added_and_removed(cast, as_member):
    client = as_member(cast.a.admin)
    response = client.post(url("lexicon", cast), {"term": "geheim*", "kind": "blocked"})
    assert response.status_code == 302
    with tenant_context(cast.a.institution.id):
        term = LexiconTerm.objects.get(term="geheim*")
    duplicate = client.post(url("lexicon", cast), {"term": "geheim*", "kind": "blocked"})
    assert duplicate.status_code == 409
    assert client.post(url("remove-term", cast, term.id)).status_code == 302
    with tenant_context(cast.a.institution.id):
        assert not LexiconTerm.objects.filter(term="geheim*").exists()


def test_pause_shows_on_every_member_page_and_needs_a_second_person(cast, as_member):
    client = as_member(cast.a.admin)
    assert client.post(url("pause", cast), {"reason": "Hacked"}).status_code == 302
    assert Institution.objects.get(id=cast.a.institution.id).publishing_paused
    my_posts = reverse("feeds:my-posts", args=[cast.a.institution.slug])
    assert 'id="publishing-paused"' in as_member(cast.a.author).get(my_posts).content.decode()
    assert as_member(cast.a.admin).post(url("resume", cast)).status_code == 403
    assert as_member(cast.a.reviewer).post(url("resume", cast)).status_code == 302
    assert not Institution.objects.get(id=cast.a.institution.id).publishing_paused
    assert 'id="publishing-paused"' not in as_member(cast.a.author).get(my_posts).content.decode()


def test_pages_work_in_german(cast, as_member):
    cast.a.reviewer.user.language = "de"
    cast.a.reviewer.user.save()
    submitted(cast.a.author)
    body = as_member(cast.a.reviewer).get(url("queue", cast)).content.decode()
    assert 'lang="de"' in body


def test_review_page_explains_flags_in_the_readers_language(cast, as_member):
    services.add_lexicon_term(cast.a.institution, cast.a.admin, term="expelled", kind="flagged")
    post = submitted(cast.a.author, "Tom was expelled today.")
    english = as_member(cast.a.reviewer).get(url("review", cast, post.id)).content.decode()
    cast.a.reviewer.user.language = "de"
    cast.a.reviewer.user.save()
    german = as_member(cast.a.reviewer).get(url("review", cast, post.id)).content.decode()
    assert 'lang="de"' in german
    explanation = english.split('id="flag-1">', 1)[1].split("</li>", 1)[0]
    assert explanation  # the same flag is listed in both languages
    assert 'id="flag-1"' in german


def test_a_decision_asks_a_reviewer_with_a_second_factor_for_a_fresh_code(cast, as_member):
    from accounts import second_factor

    device = second_factor.start_totp(cast.a.reviewer.user)
    second_factor.confirm_totp(cast.a.reviewer.user, device, second_factor.current_code(device))
    post = submitted(cast.a.author)
    response = as_member(cast.a.reviewer).post(url("approve", cast, post.id))
    assert response.status_code == 302
    assert reverse("accounts:second-factor-verify") in response["Location"]
    assert state(post) == PostState.SUBMITTED
