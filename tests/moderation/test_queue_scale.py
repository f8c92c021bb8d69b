"""The queue page runs the same number of queries with 20 or 10,000 posts in review."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from feeds.models import Post, PostState, Revision
from moderation.models import Flag


def pending(cast, count: int) -> None:
    """``count`` posts in review by two authors, every tenth with a flag (bulk, for speed)."""
    institution = cast.a.institution
    now = timezone.now()
    with tenant_context(institution.id):
        authors = [cast.a.author, cast.a.author2]
        posts = Post.objects.bulk_create(
            Post(institution=institution, author=authors[i % 2], state=PostState.SUBMITTED)
            for i in range(count)
        )
        revisions = Revision.objects.bulk_create(
            Revision(
                institution=institution,
                post=post,
                number=1,
                body=f"Post number {i}\nwith a second line",
                body_html=f"<p>Post number {i}</p>",
                language="en",
                content_hash=f"{i:064d}",
                created_by=post.author,
                submitted_at=now,
            )
            for i, post in enumerate(posts)
        )
        for post, revision in zip(posts, revisions, strict=True):
            post.latest_revision = revision
        Post.objects.bulk_update(posts, ["latest_revision"], batch_size=1000)
        Flag.objects.bulk_create(
            Flag(
                institution=institution,
                revision=revision,
                check_name="email",
                category="email",
                start=0,
                end=4,
                severity="warning",
            )
            for revision in revisions[::10]
        )


def queries_of_queue(client, cast) -> int:
    client.force_login(cast.a.reviewer.user)
    path = reverse("moderation:queue", args=[cast.a.institution.slug])
    client.get(path)  # warm: session, policy
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {"flag": "email"})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.slow
def test_queue_queries_do_not_grow_with_the_number_of_posts(cast, client, settings):
    # The page as rendered: the posts below enter review without an audit event (bulk rows, not
    # submissions), which a kept page (accounts.pagecache) would not notice.
    settings.PODIUM_MEMBER_PAGE_CACHE_SECONDS = 0
    pending(cast, 20)
    small = queries_of_queue(client, cast)
    pending(cast, 10_000)
    large = queries_of_queue(client, cast)
    assert large == small
