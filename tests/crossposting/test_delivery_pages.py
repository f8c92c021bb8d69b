"""What people see of deliveries: the dashboard, one post's copies, retrying from the web and the
API, and who may do which."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_context
from crossposting.models import Delivery, DeliveryState


@pytest.fixture
def failed(stage):
    """A post whose Mastodon copy failed (too long for the instance) and whose X copy was sent."""
    stage.fakes["mastodon"].max_characters = 10
    post = stage.publish("A text longer than ten characters", networks=["mastodon", "x"])
    stage.run()
    stage.fakes["mastodon"].max_characters = 500
    return post


def _get(client, member, url):
    client.force_login(member.user)
    return client.get(url)


def test_the_dashboard_lists_failed_deliveries_with_counts_and_the_reason(stage, failed, client):
    slug = stage.institution.slug
    response = _get(client, stage.cast.a.reviewer, f"/{slug}/deliveries/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "character limit of 10 exceeded" in body
    assert "(1)" in body
    assert "Try again" in body


def test_an_author_cannot_open_the_dashboard_but_sees_the_copies_of_their_own_post(
    stage, failed, client
):
    slug = stage.institution.slug
    assert _get(client, stage.cast.a.author, f"/{slug}/deliveries/").status_code == 403
    response = _get(client, stage.cast.a.author, f"/{slug}/deliveries/posts/{failed.id}/")
    assert response.status_code == 200
    body = response.content.decode()
    sent = next(d for d in stage.deliveries(failed) if d.state == DeliveryState.SENT)
    assert sent.remote_url in body
    assert "Try again" not in body
    assert (
        _get(client, stage.cast.a.author2, f"/{slug}/deliveries/posts/{failed.id}/").status_code
        == 404
    )


def test_a_reviewer_retries_a_failed_delivery_from_the_web(stage, failed, client, enqueued):
    slug = stage.institution.slug
    broken = next(d for d in stage.deliveries(failed) if d.state == DeliveryState.FAILED)
    client.force_login(stage.cast.a.reviewer.user)
    response = client.post(f"/{slug}/deliveries/{broken.id}/retry")
    assert response.status_code == 302
    stage.run()
    with tenant_context(stage.institution.id):
        assert Delivery.objects.get(id=broken.id).state == DeliveryState.SENT


def test_the_api_lists_a_posts_deliveries_and_retries_one(stage, failed, client):
    slug = stage.institution.slug
    client.force_login(stage.cast.a.reviewer.user)
    listed = client.get(f"/api/v1/institutions/{slug}/deliveries/?post={failed.id}").json()
    states = {row["network"]: row["state"] for row in listed["results"]}
    assert states == {"mastodon": "failed", "x": "sent"}
    broken = next(row for row in listed["results"] if row["state"] == "failed")

    detail = client.get(f"/api/v1/institutions/{slug}/deliveries/{broken['id']}/").json()
    assert detail["attempts_made"][0]["error"].startswith("Mastodon refused the post")

    retried = client.post(f"/api/v1/institutions/{slug}/deliveries/{broken['id']}/retry/")
    assert retried.status_code == 200 and retried.json()["state"] == "pending"
    again = client.post(f"/api/v1/institutions/{slug}/deliveries/{broken['id']}/retry/")
    assert again.status_code == 409


def test_an_author_may_not_retry_through_the_api(stage, failed, client):
    slug = stage.institution.slug
    broken = next(d for d in stage.deliveries(failed) if d.state == DeliveryState.FAILED)
    client.force_login(stage.cast.a.author.user)
    assert (
        client.post(f"/api/v1/institutions/{slug}/deliveries/{broken.id}/retry/").status_code == 403
    )


@pytest.mark.parametrize("query", ["state=AAA", "state=", "post=abc", "post=%C2%B2", "post=0"])
def test_the_api_refuses_filters_it_does_not_know(stage, failed, client, query):
    client.force_login(stage.cast.a.reviewer.user)
    slug = stage.institution.slug
    response = client.get(f"/api/v1/institutions/{slug}/deliveries/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
