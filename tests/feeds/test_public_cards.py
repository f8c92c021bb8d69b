"""What a process keeps for the public pages it renders without the server cache: post cards
and staff list items (``feeds.public.views.post_cards``, keyed by everything they show), staff
previews (``staff_previews``, current as the institution is) and feed entries
(``feeds.public.syndication.feed_entries``). Pages and feeds made with them are the ones made
afresh, and a change shows at once."""

from __future__ import annotations

import pytest

from accounts import services as account_services
from feeds.public import syndication, views
from moderation import services as moderation_services
from tests.feeds.test_public_pages import correct, publish, with_image


@pytest.fixture(autouse=True)
def _media_and_no_server_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    settings.PODIUM_BASE_URL = "https://podium.example"


def _pages(side) -> list[str]:
    slug, handle = side.institution.slug, side.author.handle
    return [
        f"/{slug}/",
        f"/{slug}/?lang=de",
        f"/{slug}/@{handle}/",
        f"/{slug}/@{handle}/?lang=de",
        f"/{slug}/staff/",
    ]


def _fresh(client, path: str) -> bytes:
    views.post_cards.clear()
    views.staff_previews.clear()
    return client.get(path).content


def _posts_of_every_kind(side):
    """A post with an image and a hashtag, a corrected one (returned), one by another author
    with markup to escape."""
    publish(side.author, side.reviewer, "Sports day #news", attachments=with_image(side.author))
    post = publish(side.author, side.reviewer, "First text")
    correct(post, side.author, side.reviewer, "Second text")
    publish(side.author2, side.reviewer, "By someone else, <b>escaped</b> & kept")
    return post


def test_pages_made_with_kept_cards_are_the_pages_made_afresh(cast, client):
    side = cast.a
    post = _posts_of_every_kind(side)
    for path in _pages(side):
        afresh = _fresh(client, path)
        assert client.get(path).content == afresh, path  # every card kept
        assert client.get(path).content == afresh, path
    # Each language, address and page has its own cards, and they do not mix.
    english = client.get(_pages(side)[0]).content.decode()
    german = client.get(_pages(side)[1]).content.decode()
    assert "Corrected" in english and "Korrigiert" in german
    link = f'/posts/{post.id}/?lang=de"'  # a card's permalink keeps the reader's language
    assert link in german and link not in english


def test_a_change_to_what_a_card_or_the_staff_preview_shows_shows_at_once(
    cast, client, django_capture_on_commit_callbacks
):
    side = cast.a
    publish(side.author, side.reviewer, "Sports day #news")
    page = f"/{side.institution.slug}/"
    name = side.author.display_name
    assert f">{name}</a>" in client.get(page).content.decode()  # the card and the staff list
    with django_capture_on_commit_callbacks(execute=True):
        account_services.update_profile(side.author, display_name="Renamed Author")
    after = client.get(page).content.decode()
    assert after.count(">Renamed Author</a>") == 2 and f">{name}</a>" not in after
    assert client.get(page).content == _fresh(client, page)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.update_institution(side.institution, name="Renamed Institution")
    assert "Renamed Institution" in client.get(page).content.decode()
    assert client.get(page).content == _fresh(client, page)


def test_kept_cards_are_bounded(cast, client, monkeypatch):
    monkeypatch.setattr(views.PostCards, "LIMIT", 3)
    side = cast.a
    for number in range(5):
        publish(side.author, side.reviewer, f"Post number {number}")
    page = f"/{side.institution.slug}/"
    afresh = _fresh(client, page)
    assert len(views.post_cards._cards) <= 3
    assert client.get(page).content == afresh


def _feeds(side) -> list[str]:
    slug, handle = side.institution.slug, side.author.handle
    return [
        f"/{slug}/feed.{fmt}{query}"
        for fmt in ("atom", "rss", "json")
        for query in ("", "?lang=de")
    ] + [f"/{slug}/@{handle}/feed.atom"]


def _fresh_feed(client, path: str) -> bytes:
    syndication.feed_entries.clear()
    return client.get(path).content


def test_feeds_made_with_kept_entries_are_the_feeds_made_afresh(cast, client):
    side = cast.a
    _posts_of_every_kind(side)
    for path in _feeds(side):
        afresh = _fresh_feed(client, path)
        assert client.get(path).content == afresh, path  # every entry kept
        assert client.get(path).content == afresh, path


def test_a_correction_retraction_or_rename_reaches_a_kept_feed_at_once(
    cast, client, django_capture_on_commit_callbacks
):
    side = cast.a
    post = publish(side.author, side.reviewer, "Bake sale on Friday")
    feed = f"/{side.institution.slug}/feed.atom"
    assert "Bake sale on Friday" in client.get(feed).content.decode()
    correct(post, side.author, side.reviewer, "Bake sale on Saturday")
    assert "Bake sale on Saturday" in client.get(feed).content.decode()
    assert client.get(feed).content == _fresh_feed(client, feed)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.update_profile(side.author, display_name="Renamed Author")
    assert "<name>Renamed Author</name>" in client.get(feed).content.decode()
    moderation_services.retract(post, side.reviewer, "Wrong day.")
    retracted = client.get(feed).content.decode()
    assert "Bake sale on Saturday" not in retracted and "Wrong day." in retracted
    assert client.get(feed).content == _fresh_feed(client, feed)


def test_kept_feed_entries_are_bounded(cast, client, monkeypatch):
    monkeypatch.setattr(syndication.FeedEntries, "LIMIT", 3)
    side = cast.a
    for number in range(5):
        publish(side.author, side.reviewer, f"Post number {number}")
    feed = f"/{side.institution.slug}/feed.atom"
    afresh = _fresh_feed(client, feed)
    assert len(syndication.feed_entries.items) <= 3
    assert client.get(feed).content == afresh
