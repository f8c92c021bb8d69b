"""A Mastodon instance's own limit, read when the account was connected, shapes what is sent and
what the reviewer sees alike (the approval is bound to the hash of what is sent)."""

from __future__ import annotations

from accounts.tenancy import tenant_context
from crossposting import services as crossposting
from crossposting.models import Delivery
from feeds import services as feeds
from feeds.services import PostContent
from moderation.renderings import renderings_of

BODY = (
    "Open day on Saturday: the labs, the library and the sports hall are open from ten to four, "
    "and the choir sings at noon in the great hall. Everyone is welcome."
)


def test_the_instance_limit_shapes_the_copy_and_the_review_alike(cast):
    account = crossposting.connect_account(
        cast.a.institution, network="mastodon", handle="@school@small.example",
        base_url="https://small.example", secrets={"access_token": "t"},
        remote_user_id="1", limits={"max_characters": 80},
    )  # fmt: skip
    author = cast.a.author
    post = feeds.create_post(author, PostContent(BODY, "en"))
    crossposting.choose_targets(post, [account], by=author)
    post = feeds.submit_post(post, author)
    with tenant_context(cast.a.institution.id):
        [review] = renderings_of(post, post.latest_revision)
    assert review.limit == 80 and len(review.parts) > 1
    post = feeds.approve_post(post, by=cast.a.reviewer)
    with tenant_context(cast.a.institution.id):
        sent = [d.payload["text"] for d in Delivery.objects.filter(post=post).order_by("part")]
    assert tuple(sent) == review.parts
