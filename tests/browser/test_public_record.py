"""The public record in a real browser, at 390 px and 1280 px, in English and German: times
with their zone on one line, the header on one row, staff rows aligned with or without a photo,
earlier versions reachable by their own anchor, and the microformats as mf2py reads them
(screenshots kept as artifacts in test-artifacts/screenshots/record-*.png)."""

from __future__ import annotations

import re

import mf2py
import pytest
from django.urls import reverse

from feeds import services
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import horizontal_overflow, public_world
from tests.feeds.test_public_pages import correct

pytestmark = pytest.mark.browser

ZONE = re.compile(r"\d{1,2}:\d{2} (?:[A-Z]{2,5}|UTC[+-]\d\d(?::\d\d)?)$")


@pytest.fixture
def world(server):
    world = public_world()
    a = world.cast.a
    world.post = correct(
        world.post,
        a.author,
        a.reviewer,
        "Sports day moved to Monday: bring water and a hat! "
        "Timetable: https://northside.example/sports-day/timetable-for-all-classes #sports",
    )
    return world


def pages(world) -> dict[str, str]:
    return world.paths()


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize(("screen", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_times_headers_and_lists_hold_together_on_every_screen(
    server, world, page, screenshots_dir, language, screen, viewport
):
    page.set_viewport_size(viewport)
    for name, path in pages(world).items():
        assert page.goto(f"{server.url}{path}?lang={language}").status == 200, name
        page.screenshot(
            path=screenshots_dir / f"record-{name}-{language}-{screen}.png", full_page=True
        )
        overflow = horizontal_overflow(page)
        assert overflow["scrollWidth"] <= overflow["width"], (name, overflow)
        times = page.eval_on_selector_all(
            "time",
            """els => els.filter(e => e.offsetParent !== null).map(e => ({
                text: e.textContent.trim(), datetime: e.getAttribute('datetime'),
                lines: e.getClientRects().length,
                height: e.getBoundingClientRect().height,
                lineHeight: parseFloat(getComputedStyle(e).lineHeight) ||
                            parseFloat(getComputedStyle(e).fontSize) * 1.6}))""",
        )
        assert times or name == "staff", name
        for time in times:
            assert ZONE.search(time["text"]), (name, time)
            assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:?\d\d$", time["datetime"])
            assert time["lines"] == 1 and time["height"] < time["lineHeight"] * 1.5, (name, time)
        # The header is one row: the brand and every navigation link share a top line.
        tops = page.eval_on_selector_all(
            ".site-header .brand, .site-header .public-nav a",
            "els => els.map(e => Math.round(e.getBoundingClientRect().top))",
        )
        assert max(tops) - min(tops) <= 8, (name, tops)


@pytest.mark.parametrize(("screen", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_staff_rows_line_up_with_or_without_a_photo(server, world, page, screen, viewport):
    page.set_viewport_size(viewport)
    page.goto(f"{server.url}{world.paths()['staff']}")
    # Each name starts at the same distance from its row's start, photo or not.
    offset = """els => els.map(e => Math.round(e.getBoundingClientRect().left -
                                               e.closest('.member').getBoundingClientRect().left))"""
    names = page.eval_on_selector_all(".member-list .member .p-name", offset)
    assert len(names) >= 2
    assert len(set(names)) == 1, names
    titles = page.eval_on_selector_all(".member-list .member .member__title", offset)
    assert set(titles) <= set(names), titles


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize(("screen", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_an_earlier_version_opens_at_its_own_anchor(
    server, world, page, screenshots_dir, language, screen, viewport
):
    page.set_viewport_size(viewport)
    permalink = world.paths()["permalink"]
    page.goto(f"{server.url}{permalink}?lang={language}#version-1")
    earlier = page.locator("#version-1")
    assert earlier.is_visible()
    # The reader lands on it: its start is within the window, not below the fold.
    top = earlier.bounding_box()["y"]
    assert 0 <= top < viewport["height"], top
    page.screenshot(path=screenshots_dir / f"record-earlier-version-{language}-{screen}.png")
    assert "Sports day is on Friday" in earlier.inner_text()
    until = "until" if language == "en" else "bis"
    assert until in earlier.inner_text()
    for time in earlier.locator("time").all_inner_texts():
        assert ZONE.search(time.strip()), time


# The text of each line an address in a post's text takes on the screen.
ADDRESS_LINES = """els => els.filter(a => /^https?:/.test(a.textContent)).map(a => {
    const lines = [];
    let top = null, line = '';
    const walker = document.createTreeWalker(a, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const rect = range.getBoundingClientRect();
            if (top !== null && rect.top - top > 2) { lines.push(line); line = ''; }
            top = rect.top;
            line += node.data[i];
        }
    }
    lines.push(line);
    return lines;
})"""


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize(("screen", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_addresses_in_a_post_break_only_after_a_slash_dot_or_hyphen(
    server, world, page, language, screen, viewport
):
    page.set_viewport_size(viewport)
    broken = []
    for name in ("permalink", "institution", "profile"):
        page.goto(f"{server.url}{world.paths()[name]}?lang={language}")
        addresses = page.eval_on_selector_all(".e-content a", ADDRESS_LINES)
        assert addresses, name
        for lines in addresses:
            for line in lines[:-1]:
                assert line[-1] in "/.-", (name, lines)
            broken += [lines] if len(lines) > 1 else []
    if screen == "phone":
        assert broken  # the address is longer than a phone's line: it did break, cleanly


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize(("screen", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_retracted_permalink_says_when_and_why_and_nothing_of_the_text(
    server, world, page, screenshots_dir, language, screen, viewport
):
    a = world.cast.a
    reason = "The date was not confirmed by the city."
    services.retract_post(world.post, by=a.reviewer, reason=reason)
    page.set_viewport_size(viewport)
    permalink = world.paths()["permalink"]
    assert page.goto(f"{server.url}{permalink}?lang={language}").status == 200
    page.screenshot(path=screenshots_dir / f"record-retracted-{language}-{screen}.png")
    overflow = horizontal_overflow(page)
    assert overflow["scrollWidth"] <= overflow["width"], overflow
    text = page.inner_text("body")
    assert reason in text
    assert "Sports day" not in text and "timetable" not in text
    assert page.locator("img.u-photo, .post__images img").count() == 0
    times = page.eval_on_selector_all(
        "main time", "els => els.map(e => [e.textContent.trim(), e.getClientRects().length])"
    )
    assert len(times) == 2  # retracted on ..., originally published ...
    for time, lines in times:
        assert ZONE.search(time) and lines == 1, time


def test_microformats_as_mf2py_reads_them(server, world, page):
    a = world.cast.a
    base = server.url
    # The author has a photo: the h-card must still carry its url.
    page.goto(f"{base}{world.paths()['permalink']}")
    parsed = mf2py.parse(doc=page.content(), url=f"{base}{world.paths()['permalink']}")
    (entry,) = [item for item in parsed["items"] if "h-entry" in item["type"]]
    (author,) = entry["properties"]["author"]
    assert author["properties"]["url"] == [f"{base}/{a.institution.slug}/@{a.author.handle}/"]
    assert author["properties"]["photo"]
    assert author["properties"]["org"][0] == a.institution.name
    assert entry["properties"]["uid"] == [f"{base}{world.paths()['permalink']}"]

    page.goto(f"{base}{world.paths()['institution']}")
    parsed = mf2py.parse(doc=page.content(), url=f"{base}{world.paths()['institution']}")
    card = next(item for item in parsed["items"] if "h-card" in item["type"])
    assert card["properties"]["url"] == [f"{base}/{a.institution.slug}/"]
    feed = next(item for item in parsed["items"] if "h-feed" in item["type"])
    for child in feed["children"]:
        (child_author,) = child["properties"]["author"]
        assert child_author["properties"]["url"][0].startswith(f"{base}/{a.institution.slug}/@")

    page.goto(f"{base}{world.paths()['profile']}")
    parsed = mf2py.parse(doc=page.content(), url=f"{base}{world.paths()['profile']}")
    card = next(item for item in parsed["items"] if "h-card" in item["type"])
    assert card["properties"]["url"][0] == f"{base}/{a.institution.slug}/@{a.author.handle}/"


def test_the_institution_page_has_sharing_cards_and_official_marks(server, world, page):
    a = world.cast.a
    page.goto(f"{server.url}{reverse('feeds:institution', args=[a.institution.slug])}")
    assert page.locator('meta[name="twitter:card"]').get_attribute("content") == "summary"
    page.goto(f"{server.url}{world.paths()['profile']}")
    assert "Official profile at" in page.locator(".profile__org").inner_text()
