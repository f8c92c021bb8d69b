"""?lang= persists across the links of the public pages, every page names its alternates in
each language (hreflang), and both languages stay shared-cacheable without Vary: Cookie."""

from __future__ import annotations

import re

import pytest

from tests.feeds.test_public_pages import publish, url

BASE = "https://podium.example"


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_BASE_URL = BASE


def pages(side, post) -> list[str]:
    return [
        url(side.institution),
        url(side.institution, "staff/"),
        url(side.institution, f"@{side.author.handle}/"),
        url(side.institution, f"posts/{post.id}/"),
    ]


def internal_page_links(html: str, slug: str) -> list[str]:
    """The addresses of links to public pages (not feeds, files or the language switch)."""
    links = re.findall(r'<a [^>]*href="(/[^"]*)"', html)
    return [
        link.replace("&amp;", "&")
        for link in links
        if link.startswith((f"/{slug}/", "/?", '/"'))
        and "/feed." not in link
        and "/media/" not in link
        and "sitemap" not in link
    ]


def test_the_chosen_language_is_kept_by_every_link_to_a_public_page(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, f"Ask @{a.author2.handle}")
    for page in pages(a, post):
        html = client.get(page, {"lang": "de"}).content.decode()
        links = internal_page_links(html, a.institution.slug)
        assert links, page
        # Mentions inside a post's text are part of the stored text and keep their address.
        kept = [link for link in links if "lang=de" in link]
        dropped = [link for link in links if "lang=de" not in link and "@" not in link]
        assert kept, page
        assert not dropped, (page, dropped)
        assert re.search(r'<a class="brand" href="/\?lang=de"', html), page


def test_without_a_chosen_language_links_stay_plain(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer)
    html = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    assert "?lang=" not in "".join(internal_page_links(html, a.institution.slug))


def test_every_page_names_its_alternates_in_each_language(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer)
    for page in pages(a, post):
        html = client.get(page, {"lang": "de"}).content.decode()
        canonical = f"{BASE}{page}"
        assert f'<link rel="canonical" href="{canonical}">' in html, page
        for code in ("en", "de"):
            assert (
                f'<link rel="alternate" hreflang="{code}" href="{canonical}?lang={code}">' in html
            )
        assert f'<link rel="alternate" hreflang="x-default" href="{canonical}">' in html, page


def test_both_languages_are_shared_cacheable_without_vary_cookie(cast, client, settings):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 3600
    a = cast.a
    post = publish(a.author, a.reviewer)
    for page in pages(a, post):
        answers = {lang: client.get(page, {"lang": lang}) for lang in ("en", "de")}
        for lang, response in answers.items():
            assert response["Content-Language"] == lang, page
            assert "public" in response["Cache-Control"], page
            assert "cookie" not in response.get("Vary", "").lower(), page
        assert answers["en"]["ETag"] != answers["de"]["ETag"], page
