"""The review queue's pages: 25 posts each, in urgency order, walked by cursor both ways."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from feeds.models import Post, PostState, Revision
from moderation.models import Flag

PAGE = 25
LINK = re.compile(r'<a href="\?([^"]*)"[^>]*id="queue-(next|previous|first)"')
ROW = re.compile(r'id="queue-post-(\d+)"')


def queue_url(cast) -> str:
    return reverse("moderation:queue", args=[cast.a.institution.slug])


def seed(cast, count: int) -> list[int]:
    """``count`` posts in review, the urgency order known: a third with publish times (some
    equal, so the submission time and id decide), the rest without (they come last); every
    fifth flagged. Returns the ids in the order the queue must show them."""
    institution = cast.a.institution
    now = timezone.now()
    same_time = now + timedelta(days=2)
    with tenant_context(institution.id):
        posts = []
        for i in range(count):
            if i % 3 == 0:
                publish_at = same_time if i % 2 else now + timedelta(days=1, minutes=i)
            else:
                publish_at = None
            posts.append(
                Post(
                    institution=institution,
                    author=cast.a.author if i % 2 else cast.a.author2,
                    state=PostState.SUBMITTED,
                    publish_at=publish_at,
                    updated_at=now - timedelta(minutes=i % 7),
                )
            )
        posts = Post.objects.bulk_create(posts)
        revisions = Revision.objects.bulk_create(
            Revision(
                institution=institution,
                post=post,
                number=1,
                body=f"Queue post {i}",
                body_html=f"<p>Queue post {i}</p>",
                language="en",
                content_hash=f"{i:064d}",
                created_by=post.author,
                submitted_at=now,
            )
            for i, post in enumerate(posts)
        )
        for post, revision in zip(posts, revisions, strict=True):
            post.latest_revision = revision
        Post.objects.bulk_update(posts, ["latest_revision"])
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
            for revision in revisions[::5]
        )
    far = now + timedelta(days=10_000)
    ordered = sorted(posts, key=lambda p: (p.publish_at or far, p.updated_at, p.id))
    return [p.id for p in ordered]


def page(client, path: str, query: str = "") -> tuple[list[int], dict[str, str], int]:
    response = client.get(f"{path}?{query}" if query else path)
    body = response.content.decode()
    links = {kind: html.unescape(href) for href, kind in LINK.findall(body)}
    return [int(n) for n in ROW.findall(body)], links, response.status_code


@pytest.fixture
def reviewer(cast, client):
    client.force_login(cast.a.reviewer.user)
    return client


def test_walking_the_queue_forward_shows_every_post_once_in_urgency_order(cast, reviewer):
    expected = seed(cast, 2 * PAGE + 7)
    seen, query, pages = [], "", []
    while True:
        rows, links, status = page(reviewer, queue_url(cast), query)
        assert status == 200
        pages.append(rows)
        seen += rows
        if "next" not in links:
            break
        query = links["next"]
    assert [len(rows) for rows in pages] == [PAGE, PAGE, 7]
    assert seen == expected


def test_previous_links_lead_back_through_the_same_pages(cast, reviewer):
    expected = seed(cast, 2 * PAGE + 3)
    _rows, links, _status = page(reviewer, queue_url(cast))
    second, links, _status = page(reviewer, queue_url(cast), links["next"])
    third, links, _status = page(reviewer, queue_url(cast), links["next"])
    assert third == expected[2 * PAGE :]
    back, links, _status = page(reviewer, queue_url(cast), links["previous"])
    assert back == second == expected[PAGE : 2 * PAGE]
    first, links, _status = page(reviewer, queue_url(cast), links["previous"])
    assert first == expected[:PAGE]
    assert "previous" not in links
    assert "next" in links


def test_a_decision_between_pages_neither_skips_nor_repeats_a_post(cast, reviewer):
    expected = seed(cast, 2 * PAGE)
    first, links, _status = page(reviewer, queue_url(cast))
    with tenant_context(cast.a.institution.id):
        # Another reviewer decides on a post of the first page meanwhile.
        Post.objects.filter(id=first[3]).update(state=PostState.REJECTED)
    second, _links, _status = page(reviewer, queue_url(cast), links["next"])
    assert second == expected[PAGE:]


def test_filters_carry_over_to_the_next_page(cast, reviewer):
    expected = seed(cast, 6 * PAGE)
    with tenant_context(cast.a.institution.id):
        flagged = set(
            Flag.objects.filter(category="email").values_list("revision__post_id", flat=True)
        )
    wanted = [post_id for post_id in expected if post_id in flagged]
    assert len(wanted) > PAGE  # two pages of flagged posts
    rows, links, _status = page(reviewer, queue_url(cast), "flag=email")
    assert "flag=email" in links["next"]
    more, _links, _status = page(reviewer, queue_url(cast), links["next"])
    assert rows + more == wanted


def test_a_made_up_cursor_is_a_400_showing_the_first_page(cast, reviewer):
    expected = seed(cast, PAGE + 1)
    for cursor in ("nonsense", "MjAyNnwxfDE", "%00"):
        response = reviewer.get(queue_url(cast), {"after": cursor})
        assert response.status_code == 400
        body = response.content.decode()
        assert 'id="queue-error"' in body
        assert [int(n) for n in ROW.findall(body)] == expected[:PAGE]


def test_each_row_shows_its_flags_blocked_terms_and_approvals_so_far(cast, client, reviewer2):
    from moderation import services
    from tests.moderation.conftest import submitted

    services.update_policy(cast.a.institution, cast.a.admin, approvals_required=2)
    services.add_lexicon_term(cast.a.institution, cast.a.admin, term="expelled", kind="blocked")
    plain = submitted(cast.a.author, "Sports day is on Friday.")
    risky = submitted(cast.a.author2, "Tom was expelled, write to tom@example.org.")
    services.approve(plain, reviewer2)
    client.force_login(cast.a.reviewer.user)
    body = client.get(queue_url(cast)).content.decode()
    rows = {int(n): row for n, row in re.findall(r'id="queue-post-(\d+)"(.*?)</tr>', body, re.S)}
    assert "1/2" in rows[plain.id] and "—" in rows[plain.id]
    assert "0/2" in rows[risky.id]
    assert "blocked term" in rows[risky.id]
    assert "email \u00d7 1" in rows[risky.id]  # the multiplication sign
