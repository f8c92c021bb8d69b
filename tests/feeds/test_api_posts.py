"""Posts through the API: writing, scheduling, editing, the lifecycle actions, and reading back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tenancy import tenant_context
from feeds import services
from feeds.models import Post, PostState
from tests.feeds.api_support import (
    client_for,
    image_bytes,
    posts_url,
    published,
    stored,
    submitted,
    with_correction,
    write,
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def refused(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    if code is not None:
        assert error["code"] == code
    assert error["message"]
    return error


def next_clock_change(month: int) -> datetime:
    """The next last Sunday of March (clocks go forward) or October (back), at least a day
    ahead: the day Europe/Berlin skips or repeats 02:00-03:00."""
    today = timezone.now().date()
    for year in (today.year, today.year + 1):
        day = datetime(year, month, 31)
        while day.weekday() != 6:
            day -= timedelta(days=1)
        if day.date() > today + timedelta(days=1):
            return day
    raise AssertionError("unreachable")


# Writing ------------------------------------------------------------------------------------


def test_author_writes_a_draft_with_an_image_and_reads_it_back(cast):
    media = services.upload_media(cast.a.author, image_bytes())
    client = client_for(cast.a.author)

    response = client.post(
        posts_url(cast.a.institution),
        {
            "body": "Sports day is on *Friday*.",
            "body_format": "markdown",
            "language": "en",
            "attachments": [{"media_id": media.id, "alt_text": "Children running a relay"}],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    post = response.json()
    assert response["Location"] == posts_url(cast.a.institution, post["id"])
    assert post["state"] == "draft"
    assert post["author"] == {
        "id": cast.a.author.id,
        "handle": cast.a.author.handle,
        "display_name": cast.a.author.display_name,
    }
    assert post["public_url"] is None
    assert post["publish_at"] is None
    latest = post["latest_revision"]
    assert latest["number"] == 1
    assert latest["body_format"] == "markdown"
    assert "<em>Friday</em>" in latest["body_html"]
    assert len(latest["content_hash"]) == 64
    [attachment] = latest["attachments"]
    assert attachment["media_id"] == media.id
    assert attachment["alt_text"] == "Children running a relay"
    assert attachment["url"].startswith(
        f"{settings.PODIUM_BASE_URL}/{cast.a.institution.slug}/media/posts/"
    )
    assert attachment["small_url"].startswith(settings.PODIUM_BASE_URL)
    assert post["revisions"] == [latest]
    assert client.get(posts_url(cast.a.institution, post["id"])).json() == post


def test_an_image_without_alt_text_is_refused_and_nothing_is_stored(cast):
    media = services.upload_media(cast.a.author, image_bytes())
    before = stored(cast.a.institution)

    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution),
        {"body": "Our new garden.", "language": "en", "attachments": [{"media_id": media.id}]},
        format="json",
    )

    error = refused(response, 400, "invalid")
    assert "alt text" in error["message"]
    assert "attachments" in error["fields"]
    assert stored(cast.a.institution) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "   ", "language": "en"}, "body"),
        ({"body": "x" * 5001, "language": "en"}, "body"),
        ({"body": "Hello"}, "language"),
        ({"body": "Hello", "language": "xx"}, "language"),
        ({"body": "Hello", "language": "en", "body_format": "html"}, "body_format"),
        ({"body": "Hello", "language": "en", "publish_at": "next friday"}, "publish_at"),
        ({"body": "Hello", "language": "en", "colour": "red"}, "colour"),
        ({"body": "Hello", "language": "en", "attachments": [{"media_id": 999999}]}, None),
    ],
    ids=[
        "blank",
        "too-long",
        "no-language",
        "unknown-language",
        "unknown-format",
        "unreadable-time",
        "unknown-field",
        "unknown-image",
    ],
)
def test_invalid_content_is_refused_with_the_field_named(cast, body, field):
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).post(posts_url(cast.a.institution), body, format="json")
    error = refused(response, 400)
    assert field is None or field in error["fields"]
    assert stored(cast.a.institution) == before


def test_errors_inside_an_attachment_name_its_path(cast):
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution),
        {"body": "Hi", "language": "en", "attachments": [{"media_id": "one", "alt": "A"}]},
        format="json",
    )
    assert set(refused(response, 400, "invalid")["fields"]) == {"attachments.0.alt"}
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution),
        {"body": "Hi", "language": "en", "attachments": [{"media_id": "one"}]},
        format="json",
    )
    assert set(refused(response, 400, "invalid")["fields"]) == {"attachments.0.media_id"}


def test_another_members_image_cannot_be_attached(cast):
    media = services.upload_media(cast.a.author2, image_bytes())
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution),
        {"body": "Hi", "language": "en", "attachments": [{"media_id": media.id, "alt_text": "A"}]},
        format="json",
    )
    assert "not found among your uploads" in refused(response, 400)["message"]
    assert stored(cast.a.institution) == before


@pytest.mark.parametrize(
    "raw",
    ['{"body": "Hello", "language":', "[1, 2", "not json at all", b'{"body": "\xff"}'],
    ids=["cut-off", "unclosed-list", "prose", "not-utf-8"],
)
def test_malformed_json_is_a_400_and_stores_nothing(cast, raw):
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution), raw, content_type="application/json"
    )
    refused(response, 400, "parse_error")
    assert stored(cast.a.institution) == before


@pytest.mark.parametrize("field", ["body", "alt_text"])
def test_text_that_is_not_unicode_is_a_400_not_a_crash(cast, field):
    media = services.upload_media(cast.a.author, image_bytes())
    content = {"body": "Hello", "language": "en"}
    content["attachments"] = [{"media_id": media.id, "alt_text": "A tree"}]
    target = content if field == "body" else content["attachments"][0]
    target[field] = "Broken SURROGATE text"
    # A lone surrogate is valid JSON escaping but no Unicode text; it must not reach storage.
    raw = json.dumps(content).replace("SURROGATE", "\\ud800")
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution), raw, content_type="application/json"
    )
    refused(response, 400)
    assert stored(cast.a.institution) == before


def test_a_json_array_instead_of_an_object_is_a_400(cast):
    response = client_for(cast.a.author).post(posts_url(cast.a.institution), [1], format="json")
    refused(response, 400, "invalid")


def test_a_form_post_instead_of_json_is_unsupported(cast):
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution), {"body": "Hi", "language": "en"}, format="multipart"
    )
    refused(response, 415, "unsupported_media_type")


# Publish times ------------------------------------------------------------------------------


def test_publish_time_with_an_offset_is_stored_as_that_instant(cast):
    instant = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    local = instant.astimezone(timezone.get_fixed_timezone(330))  # +05:30
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution),
        {"body": "Hi", "language": "en", "publish_at": local.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    with tenant_context(cast.a.institution.id):
        post = Post.objects.get(id=response.json()["id"])
    assert post.publish_at == instant
    assert response.json()["publish_at"] == instant.astimezone(UTC).isoformat().replace(
        "+00:00", "Z"
    )


def test_publish_time_without_an_offset_is_read_on_the_institutions_clock(cast):
    day = (timezone.now() + timedelta(days=5)).date()
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution),
        {"body": "Hi", "language": "en", "publish_at": f"{day.isoformat()}T09:00:00"},
        format="json",
    )
    assert response.status_code == 201, response.content
    with tenant_context(cast.a.institution.id):
        post = Post.objects.get(id=response.json()["id"])
    berlin = post.publish_at.astimezone(cast.a.institution.zone)
    assert (berlin.date(), berlin.hour, berlin.minute) == (day, 9, 0)


@pytest.mark.parametrize(
    ("month", "message"),
    [(3, "does not exist in Europe/Berlin"), (10, "happens twice in Europe/Berlin")],
    ids=["gap", "overlap"],
)
def test_publish_time_that_daylight_saving_skips_or_repeats_is_refused(cast, month, message):
    when = next_clock_change(month).replace(hour=2, minute=30)
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution),
        {"body": "Hi", "language": "en", "publish_at": when.isoformat()},
        format="json",
    )
    error = refused(response, 400, "publish_time_invalid")
    assert message in error["message"]
    assert error["fields"] == {"publish_at": [error["message"]]}
    assert stored(cast.a.institution) == before


def test_publish_time_in_the_past_is_refused(cast):
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution),
        {"body": "Hi", "language": "en", "publish_at": past},
        format="json",
    )
    assert "has passed" in refused(response, 400, "publish_time_invalid")["message"]
    assert stored(cast.a.institution) == before


# Editing ------------------------------------------------------------------------------------


def test_editing_a_draft_merges_the_fields_sent_onto_the_latest_revision(cast):
    media = services.upload_media(cast.a.author, image_bytes())
    client = client_for(cast.a.author)
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    created = client.post(
        posts_url(cast.a.institution),
        {
            "body": "First words.",
            "language": "de",
            "publish_at": when.isoformat(),
            "attachments": [{"media_id": media.id, "alt_text": "A tree"}],
        },
        format="json",
    ).json()

    response = client.patch(
        posts_url(cast.a.institution, created["id"]), {"body": "Better words."}, format="json"
    )

    assert response.status_code == 200, response.content
    post = response.json()
    latest = post["latest_revision"]
    assert latest["number"] == 1  # never submitted: changed in place
    assert latest["body"] == "Better words."
    assert latest["language"] == "de"
    assert [(a["media_id"], a["alt_text"]) for a in latest["attachments"]] == [(media.id, "A tree")]
    assert post["publish_at"] == created["publish_at"]

    cleared = client.patch(
        posts_url(cast.a.institution, created["id"]),
        {"attachments": [], "publish_at": None},
        format="json",
    ).json()
    assert cleared["latest_revision"]["attachments"] == []
    assert cleared["publish_at"] is None
    assert cleared["latest_revision"]["body"] == "Better words."


def test_editing_a_post_in_review_makes_a_new_revision_and_keeps_the_submitted_one(cast):
    post = submitted(cast.a.author)
    response = client_for(cast.a.author).patch(
        posts_url(cast.a.institution, post.id), {"body": "Second thoughts."}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "draft"
    assert [r["number"] for r in body["revisions"]] == [1, 2]
    first, second = body["revisions"]
    assert first["submitted_at"] is not None and first["body"] != "Second thoughts."
    assert second["submitted_at"] is None and second["body"] == "Second thoughts."
    assert body["latest_revision"] == second


def test_an_empty_edit_is_refused(cast):
    post = write(cast.a.author)
    response = client_for(cast.a.author).patch(posts_url(cast.a.institution, post.id), {}, "json")
    assert "at least one field" in refused(response, 400, "invalid")["message"]


def test_a_published_post_keeps_its_publish_time(cast):
    post = published(cast.a.author, cast.a.reviewer)
    before = stored(cast.a.institution)
    later = (timezone.now() + timedelta(days=1)).isoformat()
    response = client_for(cast.a.author).patch(
        posts_url(cast.a.institution, post.id), {"publish_at": later}, format="json"
    )
    assert "publish_at" in refused(response, 400)["fields"]
    assert stored(cast.a.institution) == before


def test_a_retracted_post_cannot_be_edited(cast):
    post = services.retract_post(
        published(cast.a.author, cast.a.reviewer), by=cast.a.reviewer, reason="Wrong."
    )
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).patch(
        posts_url(cast.a.institution, post.id), {"body": "Fixed"}, format="json"
    )
    assert refused(response, 409, "illegal_transition")["message"] == (
        "This post can no longer be edited."
    )
    assert stored(cast.a.institution) == before


def test_a_put_is_not_allowed(cast):
    post = write(cast.a.author)
    response = client_for(cast.a.author).put(
        posts_url(cast.a.institution, post.id), {"body": "x", "language": "en"}, format="json"
    )
    assert response.status_code == 405


# Lifecycle actions --------------------------------------------------------------------------


def test_submitting_without_required_review_publishes_with_a_public_address(cast):
    cast.a.institution.review_required = False
    cast.a.institution.save()
    post = write(cast.a.author)

    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution, post.id, "submit"), {}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "published"
    assert body["published_at"] is not None
    assert body["public_revision"] == 1
    assert body["public_url"] == (
        f"{settings.PODIUM_BASE_URL}/{cast.a.institution.slug}/posts/{post.id}/"
    )
    revision = body["latest_revision"]
    assert revision["submitted_at"] and revision["approved_at"] and revision["published_at"]


def test_submitting_with_required_review_waits_in_review(cast):
    post = write(cast.a.author)
    response = client_for(cast.a.author).post(posts_url(cast.a.institution, post.id, "submit"))
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "submitted"
    assert response.json()["public_url"] is None


def test_submitting_twice_is_a_conflict_and_changes_nothing(cast):
    post = write(cast.a.author)
    client = client_for(cast.a.author)
    url = posts_url(cast.a.institution, post.id, "submit")
    assert client.post(url, {}, format="json").status_code == 200
    before = stored(cast.a.institution)

    error = refused(client.post(url, {}, format="json"), 409, "illegal_transition")

    assert error["message"] == "Only drafts and posts with requested changes can be submitted."
    assert stored(cast.a.institution) == before


def test_an_action_refuses_a_body_it_does_not_take(cast):
    post = write(cast.a.author)
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution, post.id, "submit"), {"force": True}, format="json"
    )
    assert "force" in refused(response, 400)["fields"]


def test_withdrawing_returns_a_post_in_review_to_draft(cast):
    post = submitted(cast.a.author)
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution, post.id, "withdraw"), {}, format="json"
    )
    assert response.json()["state"] == "draft"
    assert response.json()["revisions"][0]["submitted_at"] is not None


def test_discarding_a_correction_keeps_the_public_text(cast):
    post = with_correction(cast.a.author, cast.a.reviewer)
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution, post.id, "discard-correction"), {}, format="json"
    )
    body = response.json()
    assert body["state"] == "published"
    assert body["latest_revision"]["number"] == body["public_revision"] == 1


def test_discarding_a_correction_of_a_never_published_post_is_a_conflict(cast):
    post = write(cast.a.author)
    response = client_for(cast.a.author).post(
        posts_url(cast.a.institution, post.id, "discard-correction"), {}, format="json"
    )
    refused(response, 409, "illegal_transition")


def test_a_reviewer_retracts_with_a_reason_that_the_post_then_shows(cast):
    post = published(cast.a.author, cast.a.reviewer)
    response = client_for(cast.a.reviewer).post(
        posts_url(cast.a.institution, post.id, "retract"),
        {"reason": "The date was wrong."},
        format="json",
    )
    body = response.json()
    assert body["state"] == "retracted"
    assert body["retracted_at"] is not None
    assert body["retraction_reason"] == "The date was wrong."
    assert body["retracted_by"]["id"] == cast.a.reviewer.id
    assert body["public_url"].endswith(f"/posts/{post.id}/")  # the notice stays at the address


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_retracting_needs_a_reason_readers_can_see(cast, reason):
    post = published(cast.a.author, cast.a.reviewer)
    before = stored(cast.a.institution)
    response = client_for(cast.a.reviewer).post(
        posts_url(cast.a.institution, post.id, "retract"), {"reason": reason}, format="json"
    )
    assert "reason" in refused(response, 400)["fields"]
    assert stored(cast.a.institution) == before


def test_an_author_deletes_a_draft_but_not_one_that_was_submitted(cast):
    client = client_for(cast.a.author)
    draft, withdrawn = write(cast.a.author), submitted(cast.a.author)
    services.withdraw_post(withdrawn, cast.a.author)

    assert client.delete(posts_url(cast.a.institution, draft.id)).status_code == 204
    before = stored(cast.a.institution)
    refused(client.delete(posts_url(cast.a.institution, withdrawn.id)), 409, "illegal_transition")
    assert stored(cast.a.institution) == before
    with tenant_context(cast.a.institution.id):
        assert not Post.objects.filter(id=draft.id).exists()


def test_reading_a_post_shows_every_revision_with_its_times(cast):
    post = with_correction(cast.a.author, cast.a.reviewer)
    body = client_for(cast.a.reviewer).get(posts_url(cast.a.institution, post.id)).json()
    first, second = body["revisions"]
    assert body["public_revision"] == 1 and body["latest_revision"]["number"] == 2
    assert first["approved_at"] and first["published_at"]
    assert second["submitted_at"] is None and second["published_at"] is None
    assert body["corrected_at"] is None
    assert body["public_url"] is not None


# Listing ------------------------------------------------------------------------------------


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [post["id"] for post in response.json()["results"]]


def _publish_at(institution, post, when: datetime) -> None:
    with tenant_context(institution.id):
        Post.objects.filter(id=post.id).update(published_at=when)


def test_filters_by_state_author_and_mine(cast):
    client = client_for(cast.a.reviewer)
    draft = write(cast.a.author)
    in_review = submitted(cast.a.author)
    other = published(cast.a.author2, cast.a.reviewer)
    own = write(cast.a.reviewer)
    url = posts_url(cast.a.institution)

    assert _ids(client.get(url, {"state": "draft"})) == [own.id, draft.id]
    assert _ids(client.get(url, {"state": ["submitted", "published"]})) == [other.id, in_review.id]
    assert _ids(client.get(url, {"author": cast.a.author.id})) == [in_review.id, draft.id]
    assert _ids(client.get(url, {"author": cast.a.author2.handle})) == [other.id]
    assert _ids(client.get(url, {"author": "@" + cast.a.author2.handle.upper()})) == [other.id]
    assert _ids(client.get(url, {"author": "nobody"})) == []
    assert _ids(client.get(url, {"mine": "true"})) == [own.id]
    assert _ids(client.get(url, {"mine": "true", "state": "submitted"})) == []
    assert _ids(client.get(url, {"state": "draft", "author": cast.a.author.handle})) == [draft.id]


def test_an_author_filtering_by_someone_else_finds_nothing(cast):
    write(cast.a.author2)
    client = client_for(cast.a.author)
    assert _ids(client.get(posts_url(cast.a.institution), {"author": cast.a.author2.id})) == []


def test_filters_by_publication_date_on_the_institutions_clock(cast):
    client = client_for(cast.a.reviewer)
    january, february, march = (published(cast.a.author, cast.a.reviewer) for _ in range(3))
    _publish_at(cast.a.institution, january, datetime(2025, 1, 10, 12, tzinfo=UTC))
    _publish_at(cast.a.institution, february, datetime(2025, 2, 10, 12, tzinfo=UTC))
    # 23:30 UTC on 28 February is already 1 March in Berlin.
    _publish_at(cast.a.institution, march, datetime(2025, 2, 28, 23, 30, tzinfo=UTC))
    write(cast.a.author)  # never published: outside every publication range
    url = posts_url(cast.a.institution)

    def published_between(after=None, before=None):
        query = {k: v for k, v in (("published_after", after), ("published_before", before)) if v}
        return _ids(client.get(url, query))

    assert published_between("2025-02-01", "2025-03-01") == [february.id]
    assert published_between("2025-03-01") == [march.id]
    assert published_between(before="2025-02-10T13:30:00+01:00") == [february.id, january.id]
    assert published_between(before="2025-02-10T12:00:00Z") == [january.id]  # excludes 12:00
    # A "+" left unencoded in a query string arrives as a space; it is still read as an offset.
    response = client.get(url + "?published_after=2025-02-10T13:00:00+01:00")
    assert _ids(response) == [march.id, february.id]


def test_filters_by_creation_and_change_time(cast):
    client = client_for(cast.a.reviewer)
    old, new = write(cast.a.author), write(cast.a.author)
    with tenant_context(cast.a.institution.id):
        Post.objects.filter(id=old.id).update(
            created_at=datetime(2024, 5, 1, tzinfo=UTC), updated_at=datetime(2024, 6, 1, tzinfo=UTC)
        )
    url = posts_url(cast.a.institution)
    assert _ids(client.get(url, {"created_before": "2025-01-01"})) == [old.id]
    assert _ids(client.get(url, {"created_after": "2025-01-01"})) == [new.id]
    assert _ids(
        client.get(url, {"updated_after": "2024-05-15", "updated_before": "2024-06-02"})
    ) == [old.id]


@pytest.mark.parametrize(
    "query",
    [
        {"published_after": "yesterday"},
        {"created_before": "2025-13-01"},
        {"state": "lost"},
        {"mine": "perhaps"},
    ],
)
def test_an_invalid_filter_value_is_a_400_naming_the_filter(cast, query):
    response = client_for(cast.a.reviewer).get(posts_url(cast.a.institution), query)
    error = refused(response, 400, "invalid")
    assert set(error["fields"]) == set(query)


def test_cursor_pages_walk_every_post_once_newest_first(cast):
    posts = [write(cast.a.author, f"Post {n}") for n in range(7)]
    client = client_for(cast.a.author)
    seen, url = [], posts_url(cast.a.institution) + "?page_size=3"
    pages = 0
    while url:
        response = client.get(url)
        seen += _ids(response)
        url = response.json()["next"]
        pages += 1
        if pages == 1:
            # An edit during the walk does not reorder the pages.
            services.edit_post(
                posts[0], cast.a.author, services.PostContent(body="Edited", language="en")
            )
    assert seen == [post.id for post in reversed(posts)]
    assert pages == 3


def test_a_bad_cursor_is_a_400(cast):
    response = client_for(cast.a.author).get(posts_url(cast.a.institution), {"cursor": "garbage"})
    error = refused(response, 400, "invalid")
    assert "cursor" in error["fields"]


def test_listing_costs_the_same_number_of_queries_for_few_and_many_posts(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast.a.reviewer)

    def queries_for_listing() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(posts_url(cast.a.institution)).status_code == 200
        return len(captured)

    media = services.upload_media(cast.a.author, image_bytes())
    content = services.PostContent(
        body="With picture",
        language="en",
        attachments=[services.AttachmentInput(media.id, "A picture")],
    )
    services.create_post(cast.a.author, content)
    published(cast.a.author2, cast.a.reviewer)
    queries_for_listing()  # the token's first use is recorded once
    few = queries_for_listing()
    for _ in range(6):
        services.create_post(cast.a.author, content)
        published(cast.a.author2, cast.a.reviewer)
    assert queries_for_listing() == few


def test_the_list_shows_each_post_with_its_latest_revision(cast):
    post = with_correction(cast.a.author, cast.a.reviewer)
    [listed] = client_for(cast.a.author).get(posts_url(cast.a.institution)).json()["results"]
    assert listed["id"] == post.id
    assert listed["state"] == PostState.DRAFT
    assert listed["latest_revision"]["number"] == 2
    assert listed["public_revision"] == 1
    assert "revisions" not in listed
