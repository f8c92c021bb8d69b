"""Who reaches which composer page, my posts, a post's history and its actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from feeds import services
from feeds.models import Post, PostState
from feeds.services import PostContent


def url(side, name, **kwargs):
    return reverse(f"feeds:{name}", kwargs={"institution_slug": side.institution.slug, **kwargs})


def sign_in(client, member):
    client.force_login(member.user)
    return client


def draft(member, body="Choir rehearsal moves to room 12."):
    return services.create_post(member, PostContent(body=body, language="en"))


def published(side, body="The canteen serves soup today."):
    post = services.submit_post(draft(side.author, body), side.author)
    return services.approve_post(post, by=side.reviewer)


def reload(post):
    with tenant_context(post.institution_id):
        return (
            Post.objects.select_related("latest_revision", "public_revision")
            .filter(id=post.id)
            .first()
        )


# Routes of A's composer: (name, method, extra kwargs needing a post).
ROUTES = [
    ("my-posts", "get", False),
    ("compose", "get", False),
    ("compose", "post", False),
    ("preview", "post", False),
    ("upload-media", "post", False),
    ("edit", "get", True),
    ("edit", "post", True),
    ("history", "get", True),
    ("post-action", "post", True),
]


def route_url(side, name, post):
    if name == "post-action":
        return url(side, name, post_id=post.id, action="withdraw")
    if name in ("edit", "history"):
        return url(side, name, post_id=post.id)
    return url(side, name)


@pytest.mark.parametrize(("name", "method", "_needs_post"), ROUTES)
@pytest.mark.parametrize("role", ["author", "reviewer", "admin"])
def test_members_of_another_institution_get_404_on_the_composer(
    cast, client, name, method, _needs_post, role
):
    post = services.submit_post(draft(cast.a.author), cast.a.author)
    sign_in(client, getattr(cast.b, role))

    response = getattr(client, method)(route_url(cast.a, name, post), {"body": "x"})

    assert response.status_code == 404
    assert reload(post).state == PostState.SUBMITTED


@pytest.mark.parametrize(("name", "method", "_needs_post"), ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(cast, client, name, method, _needs_post):
    post = draft(cast.a.author)
    response = getattr(client, method)(route_url(cast.a, name, post))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(
    ("name", "method"),
    [("edit", "get"), ("edit", "post"), ("history", "get"), ("post-action", "post")],
)
def test_an_author_cannot_reach_another_authors_post(cast, client, name, method):
    post = services.submit_post(draft(cast.a.author2), cast.a.author2)
    sign_in(client, cast.a.author)

    response = getattr(client, method)(
        route_url(cast.a, name, post), {"body": "Hijacked", "intent": "save"}
    )

    assert response.status_code == 404
    assert reload(post).state == PostState.SUBMITTED
    assert reload(post).latest_revision.body == "Choir rehearsal moves to room 12."


def test_reviewers_read_the_history_of_other_peoples_posts_without_author_actions(cast, client):
    post = services.submit_post(draft(cast.a.author), cast.a.author)
    sign_in(client, cast.a.reviewer)

    page = client.get(url(cast.a, "history", post_id=post.id)).content.decode()

    assert "Choir rehearsal moves to room 12." in page
    assert 'id="history-withdraw"' not in page
    assert 'id="history-edit"' not in page
    assert client.get(url(cast.a, "edit", post_id=post.id)).status_code == 404
    response = client.post(url(cast.a, "post-action", post_id=post.id, action="withdraw"))
    assert response.status_code == 403
    assert reload(post).state == PostState.SUBMITTED


def test_my_posts_lists_only_my_own_posts_with_their_state(cast, client):
    mine = services.submit_post(draft(cast.a.author, "Mine, in review."), cast.a.author)
    draft(cast.a.author, "Mine, a draft.")
    draft(cast.a.author2, "Somebody else's.")
    sign_in(client, cast.a.author)

    page = client.get(url(cast.a, "my-posts")).content.decode()

    assert "Mine, in review." in page
    assert "Mine, a draft." in page
    assert "Somebody else" not in page
    assert "In review" in page
    assert url(cast.a, "history", post_id=mine.id) in page

    filtered = client.get(url(cast.a, "my-posts"), {"state": "submitted"}).content.decode()
    assert "Mine, in review." in filtered
    assert "Mine, a draft." not in filtered

    assert client.get(url(cast.a, "my-posts"), {"state": "bogus"}).status_code == 400


def test_my_posts_links_the_public_page_of_published_posts(cast, client):
    post = published(cast.a)
    sign_in(client, cast.a.author)
    page = client.get(url(cast.a, "my-posts")).content.decode()
    assert url(cast.a, "post", post_id=post.id) in page
    assert "Published" in page


def test_history_shows_every_revision_of_a_corrected_post(cast, client):
    post = published(cast.a, "Soup today.")
    services.edit_post(post, cast.a.author, PostContent(body="Stew today.", language="en"))
    sign_in(client, cast.a.author)

    page = client.get(url(cast.a, "history", post_id=post.id)).content.decode()

    assert 'id="revision-1"' in page
    assert 'id="revision-2"' in page
    assert "Soup today." in page
    assert "Stew today." in page
    assert 'id="history-discard"' in page


# Actions -------------------------------------------------------------------------------------


def test_author_submits_withdraws_and_deletes_a_draft_from_its_history(cast, client):
    post = draft(cast.a.author)
    sign_in(client, cast.a.author)
    action = lambda verb: client.post(  # noqa: E731
        url(cast.a, "post-action", post_id=post.id, action=verb)
    )

    assert action("submit").status_code == 302
    assert reload(post).state == PostState.SUBMITTED
    assert action("withdraw").status_code == 302
    assert reload(post).state == PostState.DRAFT
    # Submitted once: it stays on record.
    response = action("delete")
    assert response.status_code == 409
    assert "never submitted" in response.content.decode()

    fresh = draft(cast.a.author, "Throwaway")
    response = client.post(url(cast.a, "post-action", post_id=fresh.id, action="delete"))
    assert response.status_code == 302
    assert response["Location"] == url(cast.a, "my-posts")
    assert reload(fresh) is None


def test_discarding_a_correction_keeps_the_published_text(cast, client):
    post = published(cast.a, "Soup today.")
    services.edit_post(post, cast.a.author, PostContent(body="Stew today.", language="en"))
    sign_in(client, cast.a.author)

    response = client.post(url(cast.a, "post-action", post_id=post.id, action="discard_correction"))

    assert response.status_code == 302
    post = reload(post)
    assert post.state == PostState.PUBLISHED
    assert post.latest_revision_id == post.public_revision_id


def test_an_illegal_transition_is_a_409_with_a_message(cast, client):
    post = draft(cast.a.author)
    sign_in(client, cast.a.author)

    response = client.post(url(cast.a, "post-action", post_id=post.id, action="withdraw"))

    assert response.status_code == 409
    assert "Only posts in review can be withdrawn." in response.content.decode()
    assert reload(post).state == PostState.DRAFT


def test_an_unknown_action_is_404_and_actions_need_post(cast, client):
    post = draft(cast.a.author)
    sign_in(client, cast.a.author)
    assert (
        client.post(url(cast.a, "post-action", post_id=post.id, action="approve")).status_code
        == 404
    )
    assert (
        client.get(url(cast.a, "post-action", post_id=post.id, action="submit")).status_code == 405
    )


def test_submitting_from_history_with_a_passed_publish_time_is_refused(cast, client):
    post = draft(cast.a.author)
    with tenant_context(cast.a.institution.id):
        Post.objects.filter(id=post.id).update(publish_at=timezone.now() - timedelta(days=1))
    sign_in(client, cast.a.author)

    response = client.post(url(cast.a, "post-action", post_id=post.id, action="submit"))

    assert response.status_code == 400
    assert "has passed" in response.content.decode()
    assert reload(post).state == PostState.DRAFT


# Retraction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "reason", "status", "retracted"),
    [
        ("reviewer", "The date was wrong; see the new post.", 302, True),
        ("admin", "Published by mistake.", 302, True),
        ("reviewer", "   ", 400, False),
        ("reviewer", "", 400, False),
        ("author", "I regret it.", 403, False),
        ("author2", "Not mine anyway.", 404, False),
    ],
)
def test_retraction_needs_a_reviewer_and_a_reason(cast, client, role, reason, status, retracted):
    post = published(cast.a)
    sign_in(client, getattr(cast.a, role))

    response = client.post(
        url(cast.a, "post-action", post_id=post.id, action="retract"), {"reason": reason}
    )

    assert response.status_code == status
    post = reload(post)
    assert post.is_retracted is retracted
    if retracted:
        assert post.retraction_reason == reason
        assert post.state == PostState.RETRACTED
    if status == 400:
        assert "Give the reason that readers will see." in response.content.decode()


def test_the_retract_form_shows_only_to_reviewers_on_public_posts(cast, client):
    post = published(cast.a)
    sign_in(client, cast.a.author)
    assert (
        'id="retract-form"'
        not in client.get(url(cast.a, "history", post_id=post.id)).content.decode()
    )
    sign_in(client, cast.a.reviewer)
    assert (
        'id="retract-form"' in client.get(url(cast.a, "history", post_id=post.id)).content.decode()
    )
    unpublished = services.submit_post(draft(cast.a.author), cast.a.author)
    page = client.get(url(cast.a, "history", post_id=unpublished.id)).content.decode()
    assert 'id="retract-form"' not in page


def test_retracting_twice_is_a_409(cast, client):
    post = published(cast.a)
    services.retract_post(post, by=cast.a.reviewer, reason="First time.")
    sign_in(client, cast.a.admin)

    response = client.post(
        url(cast.a, "post-action", post_id=post.id, action="retract"), {"reason": "Again."}
    )

    assert response.status_code == 409
    assert reload(post).retraction_reason == "First time."
