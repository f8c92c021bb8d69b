"""The public pages in a real browser, read anonymously: in German and English, without any
cookie or third-party request, on desktop and phone screens (screenshots kept as artifacts)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import accessibility_problems, german, horizontal_overflow, public_world

# One xdist worker runs every browser test, so that one Chromium serves them all.
pytestmark = pytest.mark.browser

FEEDS = ("atom", "rss", "json")

# A piece of interface text on each page (an English message of the catalogue), and where.
PAGE_TEXTS = {
    "institution": ("#posts-heading", "Latest posts"),
    "staff": ("h1", "Staff of %(name)s"),
    "profile": ("#posts-heading", "Posts"),
    "permalink": (".post__meta .u-url", "Published"),
}


def interface_text(message: str, language: str) -> str:
    """What the page must show: the English message, or its German translation (which must
    exist and differ from the English)."""
    return message if language == "en" else german(message)


@pytest.mark.parametrize("language", ["en", "de"])
def test_public_pages_speak_the_language_asked_for(server, page, language):
    world = public_world()
    for name, path in world.paths().items():
        response = page.goto(f"{server.url}{path}?lang={language}")
        assert response.status == 200, name
        assert page.locator("html").get_attribute("lang") == language, name
        expect(page.locator(".public-nav a").nth(1)).to_have_text(interface_text("Staff", language))
        selector, message = PAGE_TEXTS[name]
        text = interface_text(message, language) % {"name": world.institution.name}
        expect(page.locator(selector).first).to_contain_text(text)
        footer = page.locator(".site-footer")
        expect(footer).to_contain_text(interface_text("Subscribe:", language))
        # The other language is offered as a plain link, never a cookie.
        other = "de" if language == "en" else "en"
        expect(footer.locator(f'a[hreflang="{other}"]')).to_have_attribute("href", f"?lang={other}")
        # What the author wrote keeps its own language whatever the interface speaks.
        if name == "permalink":
            expect(page.locator(".e-content")).to_have_attribute("lang", "en")


def test_anonymous_reader_gets_no_cookie_and_talks_only_to_the_server(server, page, page_log):
    world = public_world()
    slug = world.institution.slug
    handle = world.author.handle
    pages = [
        (reverse("feeds:landing"), 200),
        (reverse("feeds:robots"), 200),
        *[(path, 200) for path in world.paths().values()],
        *[(f"{path}?lang=de", 200) for path in world.paths().values()],
        *[(reverse("feeds:institution-feed", args=[slug, fmt]), 200) for fmt in FEEDS],
        *[(reverse("feeds:profile-feed", args=[slug, handle, fmt]), 200) for fmt in FEEDS],
        (reverse("feeds:sitemap", args=[slug]), 200),
        (reverse("feeds:post", args=[slug, world.post.id + 1000]), 404),
        (reverse("feeds:profile", args=[slug, "nobody-here"]), 404),
        ("/no-such-institution/", 404),
    ]
    for path, status in pages:
        errors_before = len(page_log.errors)
        response = page.goto(server.url + path)
        assert response.status == status, path
        if "xml" in response.header_value("content-type"):
            # Chromium's own XML viewer styles the tree inline, which our CSP refuses: harmless.
            del page_log.errors[errors_before:]
    assert page.context.cookies() == []
    assert page_log.cookie_setters == []
    assert page_log.foreign_requests(server.url) == []
    # Every page's styles and images were fetched too, from the server alone.
    assert any(url.endswith("/podium.css") for url in page_log.requests)
    assert any("/media/" in url for url in page_log.requests)


@pytest.mark.parametrize(
    "name",
    [
        "landing",
        "institution",
        "staff",
        "profile",
        "permalink",
    ],
)
def test_public_pages_pass_the_accessibility_smoke_check(server, page, name):
    world = public_world()
    path = {"landing": reverse("feeds:landing"), **world.paths()}[name]
    for language, scheme in (("en", "light"), ("de", "dark")):
        page.emulate_media(color_scheme=scheme)
        page.goto(f"{server.url}{path}?lang={language}")
        assert accessibility_problems(page) == [], f"{path}?lang={language} ({scheme})"


@pytest.mark.parametrize(
    ("screen", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)], ids=["desktop", "phone"]
)
def test_public_pages_fit_the_screen_without_sideways_scrolling(
    server, page, screenshots_dir, screen, viewport
):
    world = public_world()
    page.set_viewport_size(viewport)
    for language in ("en", "de"):
        for name, path in world.paths().items():
            page.goto(f"{server.url}{path}?lang={language}")
            page.wait_for_function("() => Array.from(document.images).every((img) => img.complete)")
            shot = screenshots_dir / f"{name}-{language}-{screen}.png"
            page.screenshot(path=shot, full_page=True)
            overflow = horizontal_overflow(page)
            assert overflow["scrollWidth"] <= overflow["width"], (name, language, overflow)
