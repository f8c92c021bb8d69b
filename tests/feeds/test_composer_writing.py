"""The composer over HTTP: writing, previewing, saving, submitting, correcting, scheduling."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from feeds import services
from feeds.models import MAX_BODY_LENGTH, Post, PostState
from feeds.services import PostContent


def url(side, name, **kwargs):
    return reverse(f"feeds:{name}", kwargs={"institution_slug": side.institution.slug, **kwargs})


def sign_in(client, member):
    client.force_login(member.user)
    return client


def composer_data(body="Sports day is on Friday. Bring water!", intent="save", **extra):
    return {
        "body": body,
        "body_format": "text",
        "language": "en",
        "publish_at": "",
        "intent": intent,
        **extra,
    }


def posts_of(member):
    with tenant_context(member.institution_id):
        return list(
            Post.objects.filter(author=member).select_related("latest_revision", "public_revision")
        )


def published_post(side, body="Our library opens at eight from Monday."):
    post = services.create_post(side.author, PostContent(body=body, language="en"))
    post = services.submit_post(post, side.author)
    return services.approve_post(post, by=side.reviewer)


def last_sunday(year, month, hour, minute):
    day = datetime(year, month, 31 if month in (3, 10) else 30, hour, minute)
    while day.weekday() != 6:
        day -= timedelta(days=1)
    return day


def test_author_writes_and_saves_a_draft(cast, client):
    sign_in(client, cast.a.author)
    assert client.get(url(cast.a, "compose")).status_code == 200

    response = client.post(url(cast.a, "compose"), composer_data())

    [post] = posts_of(cast.a.author)
    assert response.status_code == 302
    assert response["Location"] == url(cast.a, "edit", post_id=post.id)
    assert post.state == PostState.DRAFT
    assert post.latest_revision.body == "Sports day is on Friday. Bring water!"
    assert post.latest_revision.language == "en"
    page = client.get(response["Location"])
    assert "Draft saved." in page.content.decode()
    assert "Sports day is on Friday. Bring water!" in page.content.decode()


def test_saving_a_draft_again_changes_it_in_place(cast, client):
    sign_in(client, cast.a.author)
    client.post(url(cast.a, "compose"), composer_data())
    [post] = posts_of(cast.a.author)

    response = client.post(url(cast.a, "edit", post_id=post.id), composer_data("Second try."))

    assert response.status_code == 302
    [post] = posts_of(cast.a.author)
    assert post.latest_revision.number == 1
    assert post.latest_revision.body == "Second try."


def test_language_defaults_to_the_institutions_locale(cast, client):
    cast.a.institution.locale = "de"
    cast.a.institution.save()
    sign_in(client, cast.a.author)
    page = client.get(url(cast.a, "compose")).content.decode()
    assert '<option value="de" selected lang="de">' in page


def test_submitting_where_review_is_required_sends_the_post_to_review(cast, client):
    sign_in(client, cast.a.author)
    page = client.get(url(cast.a, "compose")).content.decode()
    assert "Submit for review" in page

    response = client.post(url(cast.a, "compose"), composer_data(intent="submit"))

    [post] = posts_of(cast.a.author)
    assert response.status_code == 302
    assert post.state == PostState.SUBMITTED
    assert post.public_revision_id is None
    assert post.latest_revision.submitted_at is not None


def test_submitting_without_required_review_publishes_on_the_permalink(cast, client):
    cast.a.institution.review_required = False
    cast.a.institution.save()
    sign_in(client, cast.a.author)
    page = client.get(url(cast.a, "compose")).content.decode()
    assert 'id="composer-submit"' in page
    assert ">Publish</button>" in page

    response = client.post(url(cast.a, "compose"), composer_data(intent="submit"))

    [post] = posts_of(cast.a.author)
    assert response.status_code == 302
    assert post.state == PostState.PUBLISHED
    with tenant_context(cast.a.institution.id):
        public = Post.objects.select_related("public_revision").get(id=post.id)
    assert public.is_public
    assert public.public_revision.body == "Sports day is on Friday. Bring water!"
    permalink = Client().get(url(cast.a, "post", post_id=post.id))
    assert permalink.status_code == 200
    assert "Sports day is on Friday. Bring water!" in permalink.content.decode()
    history = client.get(response["Location"]).content.decode()
    assert "Published." in history
    assert url(cast.a, "post", post_id=post.id) in history


def test_a_scheduled_post_without_review_waits_for_its_time(cast, client):
    cast.a.institution.review_required = False
    cast.a.institution.save()
    sign_in(client, cast.a.author)
    when = timezone.localtime(timezone.now() + timedelta(days=3), cast.a.institution.zone)

    client.post(
        url(cast.a, "compose"),
        composer_data(intent="submit", publish_at=when.strftime("%Y-%m-%dT%H:%M")),
    )

    [post] = posts_of(cast.a.author)
    assert post.state == PostState.APPROVED
    assert post.published_at is None


def test_publish_time_is_read_on_the_institutions_clock(cast, client):
    sign_in(client, cast.a.author)
    year = timezone.now().year + 1

    client.post(url(cast.a, "compose"), composer_data(publish_at=f"{year}-06-15T09:30"))

    [post] = posts_of(cast.a.author)
    # Europe/Berlin is UTC+2 in summer.
    assert post.publish_at == datetime(year, 6, 15, 7, 30, tzinfo=UTC)
    page = client.get(url(cast.a, "edit", post_id=post.id)).content.decode()
    assert f'value="{year}-06-15T09:30"' in page
    assert "Europe/Berlin" in page


@pytest.mark.parametrize(
    ("publish_at", "message"),
    [
        ("past", "has passed"),
        ("gap", "does not exist in Europe/Berlin"),
        ("overlap", "happens twice in Europe/Berlin"),
        ("2031-02-30T10:00", "Enter the date and time"),
        ("next week", "Enter the date and time"),
        ("0001-01-01T00:00", "between 1970 and 2999"),
        ("9999-12-31T23:59", "between 1970 and 2999"),
    ],
)
def test_an_impossible_publish_time_is_refused_and_the_text_kept(cast, client, publish_at, message):
    year = timezone.now().year + 1
    value = {
        "past": (timezone.localtime(timezone.now(), cast.a.institution.zone) - timedelta(days=1)),
        "gap": last_sunday(year, 3, 2, 30),
        "overlap": last_sunday(year, 10, 2, 30),
    }.get(publish_at, publish_at)
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%dT%H:%M")
    sign_in(client, cast.a.author)

    for intent in ("save", "submit"):
        response = client.post(
            url(cast.a, "compose"),
            composer_data("Parents' evening, all welcome.", intent=intent, publish_at=value),
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert message in page
        assert "Parents&#x27; evening, all welcome." in page
        assert 'aria-invalid="true"' in page
        assert 'href="#composer-publish_at"' in page
    assert posts_of(cast.a.author) == []


def test_empty_text_is_refused_with_a_message(cast, client):
    sign_in(client, cast.a.author)
    response = client.post(url(cast.a, "compose"), composer_data("   "))
    assert response.status_code == 400
    assert "Write something first" in response.content.decode()
    assert posts_of(cast.a.author) == []


def test_text_over_the_limit_is_refused_and_kept(cast, client):
    sign_in(client, cast.a.author)
    body = "x" * (MAX_BODY_LENGTH + 1)
    response = client.post(url(cast.a, "compose"), composer_data(body))
    page = response.content.decode()
    assert response.status_code == 400
    assert f"the limit is {MAX_BODY_LENGTH}" in page
    assert body in page
    assert "composer-count--over" in page


def test_preview_button_renders_the_text_and_saves_nothing(cast, client):
    sign_in(client, cast.a.author)
    data = composer_data("Read **this** <script>alert(1)</script>", intent="preview")
    data["body_format"] = "markdown"

    response = client.post(url(cast.a, "compose"), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>this</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert posts_of(cast.a.author) == []


def test_live_preview_returns_sanitised_html_with_mention_links(cast, client):
    sign_in(client, cast.a.author)
    handle = cast.a.author2.handle

    response = client.post(
        url(cast.a, "preview"),
        {
            "body": f"Thanks @{handle}! <img src=x onerror=alert(1)> _well_",
            "body_format": "markdown",
        },
    )

    assert response.status_code == 200
    payload = response.json()
    assert f'href="/{cast.a.institution.slug}/@{handle}/"' in payload["html"]
    assert "<em>well</em>" in payload["html"]
    assert "<img" not in payload["html"]
    assert payload["limit"] == MAX_BODY_LENGTH
    assert client.get(url(cast.a, "preview")).status_code == 405


def test_preview_does_not_link_handles_of_another_institution(cast, client):
    sign_in(client, cast.a.author)
    response = client.post(
        url(cast.a, "preview"), {"body": f"Hi @{cast.b.author.handle}", "body_format": "text"}
    )
    assert "<a" not in response.json()["html"]


def test_editing_a_published_post_makes_a_correction_while_the_public_text_stays(cast, client):
    post = published_post(cast.a)
    sign_in(client, cast.a.author)
    page = client.get(url(cast.a, "edit", post_id=post.id)).content.decode()
    assert "Your changes go through review again; the published text stays until approved" in page
    assert 'name="publish_at"' not in page

    response = client.post(
        url(cast.a, "edit", post_id=post.id),
        composer_data("Our library opens at nine from Monday."),
    )

    assert response.status_code == 302
    [post] = posts_of(cast.a.author)
    assert post.latest_revision.number == 2
    assert post.latest_revision.body == "Our library opens at nine from Monday."
    with tenant_context(cast.a.institution.id):
        public = Post.objects.select_related("public_revision").get(id=post.id)
    assert public.public_revision.number == 1
    assert public.public_revision.body == "Our library opens at eight from Monday."

    client.post(
        url(cast.a, "edit", post_id=post.id),
        composer_data("Our library opens at nine from Monday.", intent="submit"),
    )
    [post] = posts_of(cast.a.author)
    assert post.state == PostState.SUBMITTED
    assert post.public_revision.number == 1


def test_editing_a_post_in_review_takes_it_back_to_draft(cast, client):
    sign_in(client, cast.a.author)
    client.post(url(cast.a, "compose"), composer_data(intent="submit"))
    [post] = posts_of(cast.a.author)
    page = client.get(url(cast.a, "edit", post_id=post.id)).content.decode()
    assert "Saving changes takes it out of review" in page

    client.post(url(cast.a, "edit", post_id=post.id), composer_data("Changed my mind."))

    [post] = posts_of(cast.a.author)
    assert post.state == PostState.DRAFT
    assert post.latest_revision.number == 2


def test_a_retracted_post_cannot_be_edited(cast, client):
    post = published_post(cast.a)
    services.retract_post(post, by=cast.a.reviewer, reason="Wrong date.")
    sign_in(client, cast.a.author)

    assert client.get(url(cast.a, "edit", post_id=post.id)).status_code == 409
    response = client.post(url(cast.a, "edit", post_id=post.id), composer_data("Sneaky."))
    assert response.status_code == 409
    assert "can no longer be edited" in response.content.decode()
    assert "Sneaky." in response.content.decode()
