"""Every visible time on the public pages and the members' pages names its zone, in both
languages, with the ISO time (and its offset) in ``datetime``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from accounts import services as account_services
from accounts.localtime import local_time_text, zone_name
from accounts.tenancy import tenant_context
from feeds.models import Post
from tests.feeds.test_public_pages import bulk_posts, correct, publish, url

WINTER = datetime(2026, 12, 7, 15, 49, tzinfo=UTC)  # 16:49 in Berlin (CET)
SUMMER = datetime(2026, 7, 7, 14, 49, tzinfo=UTC)  # 16:49 in Berlin (CEST)
# A visible time without a zone: "7 Dec 2026, 16:49" not followed by a zone name.
TIME_WITHOUT_ZONE = re.compile(r"\d{1,2}:\d{2}(?!:| ?(?:[A-Z]{2,5}|UTC[+-]\d\d))")


@pytest.fixture(autouse=True)
def _no_server_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0


def visible_text(page: str) -> str:
    """The page's text as a reader sees it (no tags, no attribute values)."""
    body = page.split("<body", 1)[1]
    return re.sub(r"<[^>]+>", " ", body)


@pytest.mark.parametrize(
    ("when", "language", "expected"),
    [
        (WINTER, "en", "7 Dec 2026, 16:49 CET"),
        (WINTER, "de", "7. Dez. 2026, 16:49 CET"),
        (SUMMER, "en", "7 Jul 2026, 16:49 CEST"),
        (SUMMER, "de", "7. Juli 2026, 16:49 CEST"),
    ],
)
def test_a_time_is_written_with_its_zone_in_both_languages(when, language, expected, settings):
    from zoneinfo import ZoneInfo

    from django.utils import translation

    with translation.override(language):
        assert local_time_text(when, ZoneInfo("Europe/Berlin")) == expected


def test_zones_without_an_abbreviation_are_named_by_their_offset():
    from zoneinfo import ZoneInfo

    assert zone_name(WINTER.astimezone(ZoneInfo("Asia/Dubai"))) == "UTC+04"
    assert zone_name(WINTER.astimezone(ZoneInfo("Asia/Kolkata"))) == "IST"
    assert zone_name(WINTER.astimezone(ZoneInfo("America/St_Johns"))) == "NST"
    assert zone_name(WINTER.astimezone(ZoneInfo("Asia/Kathmandu"))) == "UTC+05:45"


@pytest.mark.parametrize(
    ("language", "published", "corrected"),
    [
        ("en", "7 Dec 2026, 16:49 CET", "Corrected on"),
        ("de", "7. Dez. 2026, 16:49 CET", "Korrigiert am"),
    ],
)
def test_permalink_and_lists_show_times_with_their_zone(
    cast, client, language, published, corrected
):
    a = cast.a
    (post,) = bulk_posts(a.institution, a.author, 1, start=WINTER)
    pages = [
        url(a.institution, f"posts/{post.id}/"),
        url(a.institution),
        url(a.institution, f"@{a.author.handle}/"),
    ]
    for page in pages:
        html = client.get(page, {"lang": language}).content.decode()
        assert f'datetime="2026-12-07T16:49:00+0100">{published}</time>' in html, page
        assert not TIME_WITHOUT_ZONE.search(visible_text(html)), page


def test_correction_and_retraction_times_name_their_zone(cast, client):
    a = cast.a
    post = correct(publish(a.author, a.reviewer, "One"), a.author, a.reviewer, "Two")
    page = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    text = visible_text(page)
    assert "Corrected on" in text
    assert "Shown from" in text and "until" in text
    assert not TIME_WITHOUT_ZONE.search(text)
    from feeds import services

    services.retract_post(post, by=a.reviewer, reason="Wrong")
    page = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    assert "Retracted on" in page
    assert not TIME_WITHOUT_ZONE.search(visible_text(page))


def test_times_follow_the_institutions_zone(cast, client):
    a = cast.a
    account_services.update_institution(a.institution, timezone="America/New_York")
    (post,) = bulk_posts(a.institution, a.author, 1, start=WINTER)
    page = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    assert 'datetime="2026-12-07T10:49:00-0500">7 Dec 2026, 10:49 EST</time>' in page


def test_members_pages_show_times_with_their_zone(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Mine")
    with tenant_context(a.institution.id):
        Post.objects.filter(id=post.id).update(published_at=WINTER)
    client.force_login(a.author.user)
    for page in (
        url(a.institution, "posts/mine/"),
        url(a.institution, f"posts/{post.id}/history/"),
    ):
        html = client.get(page).content.decode()
        assert "7 Dec 2026, 16:49 CET</time>" in html, page
        assert 'datetime="2026-12-07T16:49:00+01:00"' in html, page
