"""Targets belong to the revision reviewers approve: a choice changed after an approval needs a
new one, a correction may choose other accounts, and deliveries go to the published revision's
own targets. Through the services, the web page and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from crossposting import services
from crossposting.models import DeliveryKind, DeliveryState, PostTarget
from feeds import services as feeds
from feeds.models import Post, PostState
from feeds.services import PostContent


def _reload(post: Post) -> Post:
    with tenant_context(post.institution_id):
        return Post.objects.select_related("latest_revision", "public_revision").get(id=post.id)


def _draft(stage, body: str, networks: list[str], publish_at=None) -> Post:
    side = stage.cast.a
    post = feeds.create_post(side.author, PostContent(body, "en"), publish_at=publish_at)
    services.choose_targets(post, [stage.accounts[n] for n in networks], by=side.author)
    return post


def _networks_of(stage, post: Post, **filters) -> set[str]:
    return {d.network for d in stage.deliveries(post, **filters)}


def _texts(stage, network: str) -> list[str]:
    """The texts a fake network holds now (Mastodon, X, Bluesky)."""
    fake = stage.fakes[network]
    if network == "mastodon":
        return [s["text"] for s in fake.statuses.values()]
    if network == "x":
        return [t["text"] for t in fake.tweets.values()]
    return [r["value"]["text"] for r in fake.records.values()]


def test_targets_chosen_in_review_replace_the_earlier_choice_of_the_same_revision(stage):
    side = stage.cast.a
    post = _draft(stage, "Open day on Saturday", ["mastodon"])
    post = feeds.submit_post(post, side.author)
    assert post.state == PostState.SUBMITTED
    services.choose_targets(_reload(post), [stage.accounts["bluesky"]], by=side.author)
    feeds.approve_post(_reload(post), by=side.reviewer)

    assert _networks_of(stage, post) == {"bluesky"}


def test_targets_cannot_change_after_approval_without_a_new_review(stage):
    side = stage.cast.a
    later = timezone.now() + timedelta(days=2)
    post = _draft(stage, "Concert next week", ["mastodon"], publish_at=later)
    post = feeds.submit_post(post, side.author)
    post = feeds.approve_post(_reload(post), by=side.reviewer)
    assert post.state == PostState.APPROVED

    with pytest.raises(services.TargetsApproved):
        services.choose_targets(_reload(post), [stage.accounts["x"]], by=side.author)

    # Editing starts a new revision, which may choose again and goes to review again.
    post = feeds.edit_post(_reload(post), side.author, PostContent("Concert next week", "en"))
    services.choose_targets(_reload(post), [stage.accounts["x"]], by=side.author)
    post = feeds.submit_post(_reload(post), side.author)
    assert post.state == PostState.SUBMITTED
    with tenant_context(post.institution_id):
        first, second = post.revisions.order_by("number")
        assert [t.account.network for t in PostTarget.objects.filter(revision=first)] == [
            "mastodon"
        ]
        assert [t.account.network for t in PostTarget.objects.filter(revision=second)] == ["x"]


def test_a_correction_keeps_the_targets_of_the_text_it_corrects_unless_it_chooses(stage):
    post = stage.publish("Sports day on Monday", networks=["mastodon", "linkedin"])
    stage.run()
    post = stage.correct(_reload(post), "Sports day on Tuesday")
    stage.run()

    corrected = {d.network for d in stage.deliveries(post, revision=_reload(post).public_revision)}
    assert corrected == {"mastodon", "linkedin"}
    assert all(d.state == DeliveryState.SENT for d in stage.deliveries(post))


def test_a_correction_may_choose_other_targets_and_leaves_no_copy_on_dropped_ones(stage):
    side = stage.cast.a
    post = stage.publish("Library closed on Friday", networks=["mastodon", "bluesky"])
    stage.run()
    assert "Library closed on Friday" in " ".join(_texts(stage, "bluesky"))

    post = feeds.edit_post(_reload(post), side.author, PostContent("Library closed Friday", "en"))
    services.choose_targets(
        _reload(post), [stage.accounts["mastodon"], stage.accounts["x"]], by=side.author
    )
    post = feeds.submit_post(_reload(post), side.author)
    if post.state == PostState.SUBMITTED:
        post = feeds.approve_post(post, by=side.reviewer)
    stage.run()

    revision = _reload(post).public_revision
    assert _networks_of(stage, post, revision=revision) == {"mastodon", "x"}
    deletes = stage.deliveries(post, kind=DeliveryKind.DELETE)
    assert {d.network for d in deletes} == {"bluesky"}
    assert all(d.state == DeliveryState.SENT for d in stage.deliveries(post))
    assert not any("Library closed" in text for text in _texts(stage, "bluesky"))
    assert sum("Library closed Friday" in text for text in _texts(stage, "x")) == 1


def test_the_targets_page_shows_and_saves_the_choice_of_the_latest_revision(stage, client):
    side = stage.cast.a
    post = _draft(stage, "Choir rehearsal", ["mastodon"])
    client.force_login(side.author.user)
    url = reverse("crossposting:targets", args=[stage.institution.slug, post.id])

    page = client.get(url)
    assert page.status_code == 200
    assert b'id="target-%d" checked' % stage.accounts["mastodon"].id in page.content

    answer = client.post(url, {"accounts": [stage.accounts["threads"].id]})
    assert answer.status_code == 302
    with tenant_context(post.institution_id):
        chosen = PostTarget.objects.filter(revision_id=_reload(post).latest_revision_id)
        assert [t.account.network for t in chosen] == ["threads"]


def test_the_targets_page_of_another_members_post_is_not_found(stage, client):
    post = _draft(stage, "Private draft", ["mastodon"])
    client.force_login(stage.cast.a.author2.user)
    url = reverse("crossposting:targets", args=[stage.institution.slug, post.id])
    assert client.get(url).status_code == 404


def test_the_api_reads_and_chooses_targets_and_refuses_them_after_approval(stage, client):
    side = stage.cast.a
    later = timezone.now() + timedelta(days=2)
    post = _draft(stage, "Exhibition opening", ["mastodon"], publish_at=later)
    client.force_login(side.author.user)
    url = f"/api/v1/institutions/{stage.institution.slug}/posts/{post.id}/targets/"

    read = client.get(url)
    assert read.status_code == 200
    chosen = {a["network"] for a in read.json()["accounts"] if a["chosen"]}
    assert chosen == {"mastodon"} and read.json()["can_choose"] is True

    wanted = [stage.accounts["bluesky"].id, stage.accounts["x"].id]
    answer = client.post(url, {"accounts": wanted}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert {a["network"] for a in answer.json()["accounts"] if a["chosen"]} == {"bluesky", "x"}

    feeds.submit_post(_reload(post), side.author)
    feeds.approve_post(_reload(post), by=side.reviewer)
    refused = client.post(url, {"accounts": wanted[:1]}, content_type="application/json")
    assert refused.status_code == 409
    assert client.get(url).json()["can_choose"] is False
