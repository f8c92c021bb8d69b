"""Atom 1.0, RSS 2.0 and JSON Feed 1.1 of institutions and profiles, as feed readers see them:
parsed with feedparser and validated against a JSON Feed 1.1 schema written from the spec."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import feedparser
import jsonschema
import pytest

from accounts import services as account_services
from feeds import services
from tests.feeds.test_public_pages import bulk_posts, correct, publish, url, with_image

SCHEMA = json.loads((Path(__file__).parent / "jsonfeed-1.1.schema.json").read_text())
BASE = "https://podium.example"
CONTENT_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    settings.PODIUM_BASE_URL = BASE
    settings.PODIUM_TAG_AUTHORITY = "podium.example"


@pytest.fixture
def posts(cast):
    """Three public posts of A (one with two images, one corrected), one retracted, one of B."""
    a = cast.a
    first = publish(a.author, a.reviewer, "First post #welcome")
    pictures = publish(
        a.author2,
        a.reviewer,
        "Hallo zusammen, zwei Bilder.",
        language="de",
        attachments=with_image(a.author2, "A red square") + with_image(a.author2, "Another one"),
    )
    corrected = correct(
        publish(a.author, a.reviewer, "Exam on Monday"), a.author, a.reviewer, "Exam on Tuesday"
    )
    retracted = publish(a.author, a.reviewer, "Retract me")
    services.retract_post(retracted, by=a.reviewer, reason="Wrong")
    publish(cast.b.author, cast.b.reviewer, "Clinic post")
    return {"first": first, "pictures": pictures, "corrected": corrected, "retracted": retracted}


def feed_paths(side):
    slug, handle = side.institution.slug, side.author.handle
    return [
        (fmt, path)
        for fmt in ("atom", "rss", "json")
        for path in (f"/{slug}/feed.{fmt}", f"/{slug}/@{handle}/feed.{fmt}")
    ]


def tag(side, post):
    """The item id: fixed at first publication (posts made in bulk have the earlier form)."""
    if post.tag_id:
        return f"tag:podium.example,{post.published_at:%Y-%m-%d}:post/{post.id}"
    return f"tag:podium.example,{side.institution.created_at:%Y-%m-%d}:post/{post.id}"


def permalink(side, post):
    return f"{BASE}/{side.institution.slug}/posts/{post.id}/"


def test_feeds_have_their_content_types_in_utf8(cast, client, posts):
    for fmt, path in feed_paths(cast.a):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"] == CONTENT_TYPES[fmt], path
        response.content.decode("utf-8")


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_xml_feeds_parse_cleanly_with_ids_links_dates_authors_and_languages(
    cast, client, posts, fmt
):
    a = cast.a
    parsed = feedparser.parse(client.get(url(a.institution, f"feed.{fmt}")).content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == {"atom": "atom10", "rss": "rss20"}[fmt]
    assert parsed.feed.title == "Northside School"
    assert parsed.feed.link == f"{BASE}/{a.institution.slug}/"
    entries = {entry.id: entry for entry in parsed.entries}
    expected = [posts["retracted"], posts["corrected"], posts["pictures"], posts["first"]]
    assert [entry.id for entry in parsed.entries] == [tag(a, post) for post in expected]
    for post in expected:
        entry = entries[tag(a, post)]
        assert entry.link == permalink(a, post)
        assert entry.author == post.author.display_name
        assert entry.published_parsed is not None
    pictures = entries[tag(a, posts["pictures"])]
    # RSS items carry dc:language; Atom entries xml:lang, which feedparser puts on each text.
    assert pictures.get("language", pictures.title_detail.language) == "de"
    assert entries[tag(a, posts["first"])].tags[0].term == "welcome"
    assert "Exam on Tuesday" in entries[tag(a, posts["corrected"])].description
    assert "Retract me" not in str(parsed)
    assert "Clinic post" not in str(parsed)


def test_atom_entries_carry_full_content_updated_dates_and_every_image(cast, client, posts):
    a = cast.a
    parsed = feedparser.parse(client.get(url(a.institution, "feed.atom")).content)
    entries = {entry.id: entry for entry in parsed.entries}
    corrected = entries[tag(a, posts["corrected"])]
    assert corrected.content[0].type == "text/html"
    assert "<p>Exam on Tuesday</p>" in corrected.content[0].value
    assert datetime.fromisoformat(corrected.updated) > datetime.fromisoformat(corrected.published)
    pictures = entries[tag(a, posts["pictures"])]
    enclosures = [link for link in pictures.links if link.rel == "enclosure"]
    assert len(enclosures) == 2
    assert all(
        e.href.startswith(f"{BASE}/{a.institution.slug}/media/posts/") and e.type == "image/png"
        for e in enclosures
    )
    assert 'alt="A red square"' in pictures.content[0].value
    assert 'alt="Another one"' in pictures.content[0].value


def test_rss_items_have_permanent_guids_and_one_enclosure(cast, client, posts):
    a = cast.a
    response = client.get(url(a.institution, "feed.rss"))
    assert b'<guid isPermaLink="false">' in response.content
    parsed = feedparser.parse(response.content)
    pictures = next(e for e in parsed.entries if e.id == tag(a, posts["pictures"]))
    assert len(pictures.enclosures) == 1
    assert int(pictures.enclosures[0].length) > 0
    assert 'alt="Another one"' in pictures.description


def test_json_feed_validates_against_the_json_feed_1_1_schema(cast, client, posts):
    a = cast.a
    for _fmt, path in feed_paths(a):
        if not path.endswith(".json"):
            continue
        document = json.loads(client.get(path).content)
        jsonschema.validate(document, SCHEMA)
    document = json.loads(client.get(url(a.institution, "feed.json")).content)
    assert document["feed_url"] == f"{BASE}/{a.institution.slug}/feed.json"
    items = {item["id"]: item for item in document["items"]}
    assert list(items) == [
        tag(a, posts[k]) for k in ("retracted", "corrected", "pictures", "first")
    ]
    pictures = items[tag(a, posts["pictures"])]
    assert pictures["language"] == "de"
    assert pictures["url"] == permalink(a, posts["pictures"])
    assert [att["title"] for att in pictures["attachments"]] == ["A red square", "Another one"]
    assert all(att["mime_type"] == "image/png" for att in pictures["attachments"])
    assert pictures["image"] == pictures["attachments"][0]["url"]
    assert pictures["authors"] == [
        {"name": a.author2.display_name, "url": f"{BASE}/{a.institution.slug}/@{a.author2.handle}/"}
    ]
    assert items[tag(a, posts["first"])]["tags"] == ["welcome"]
    corrected = items[tag(a, posts["corrected"])]
    assert corrected["date_modified"] > corrected["date_published"]


def test_the_schema_refuses_what_the_spec_forbids():
    valid = {"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": []}
    jsonschema.validate(valid, SCHEMA)
    broken = [
        {**valid, "version": "1.1"},
        {key: value for key, value in valid.items() if key != "title"},
        {**valid, "items": [{"id": 1, "content_text": "x"}]},
        {**valid, "items": [{"id": "1"}]},
        {**valid, "items": [{"id": "1", "content_text": "x", "date_published": "yesterday"}]},
        {**valid, "items": [{"id": "1", "content_text": "x", "attachments": [{"url": "x:y"}]}]},
        {**valid, "authors": [{}]},
        {**valid, "item": []},
    ]
    for document in broken:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, SCHEMA)


def test_profile_feeds_hold_only_that_members_posts(cast, client, posts):
    a = cast.a
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(
            client.get(url(a.institution, f"@{a.author2.handle}/feed.{fmt}")).content
        )
        assert parsed.bozo == 0
        assert [entry.id for entry in parsed.entries] == [tag(a, posts["pictures"])]
        assert parsed.feed.link == f"{BASE}/{a.institution.slug}/@{a.author2.handle}/"
    document = json.loads(client.get(url(a.institution, f"@{a.author.handle}/feed.json")).content)
    assert [item["id"] for item in document["items"]] == [
        tag(a, posts["retracted"]),
        tag(a, posts["corrected"]),
        tag(a, posts["first"]),
    ]
    assert document["authors"][0]["name"] == a.author.display_name


def test_an_items_id_survives_corrections_while_updated_moves(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Version one")
    before = feedparser.parse(client.get(url(a.institution, "feed.atom")).content).entries[0]
    post = correct(post, a.author, a.reviewer, "Version two")
    after = feedparser.parse(client.get(url(a.institution, "feed.atom")).content).entries[0]
    assert after.id == before.id == tag(a, post)
    assert after.link == before.link
    assert after.published == before.published
    assert datetime.fromisoformat(after.updated) > datetime.fromisoformat(before.updated)
    assert "Version two" in after.content[0].value


def test_retracted_posts_stay_in_every_feed_without_their_text(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Soon gone")
    services.retract_post(post, by=a.reviewer, reason="Mistake")
    for _fmt, path in feed_paths(a):
        content = client.get(path).content.decode()
        assert "Soon gone" not in content
        assert f"post/{post.id}" in content
        assert "Mistake" in content


def test_feeds_hold_the_latest_50_posts(cast, client):
    a = cast.a
    posts = bulk_posts(a.institution, a.author, 60)
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(client.get(url(a.institution, f"feed.{fmt}")).content)
        assert [entry.id for entry in parsed.entries] == [tag(a, p) for p in posts[:50]]
    document = json.loads(client.get(url(a.institution, "feed.json")).content)
    assert len(document["items"]) == 50


def test_an_empty_feed_is_valid_and_does_not_change_between_requests(cast, client):
    a = cast.a
    for fmt, path in feed_paths(a):
        first, second = client.get(path), client.get(path)
        assert first.content == second.content, path
        if fmt == "json":
            jsonschema.validate(json.loads(first.content), SCHEMA)
        else:
            assert feedparser.parse(first.content).bozo == 0


def test_links_inside_feed_content_are_absolute(cast, client):
    a = cast.a
    publish(a.author, a.reviewer, f"Ask @{a.author2.handle} about it")
    document = json.loads(client.get(url(a.institution, "feed.json")).content)
    html = document["items"][0]["content_html"]
    assert f'href="{BASE}/{a.institution.slug}/@{a.author2.handle}/"' in html


def test_feed_titles_and_descriptions_follow_the_institution_and_the_profile(cast, client):
    a = cast.a
    account_services.update_institution(a.institution, description="News from Northside.")
    account_services.update_profile(a.author, job_title="Librarian")
    atom = feedparser.parse(client.get(url(a.institution, "feed.atom")).content)
    assert atom.feed.subtitle == "News from Northside."
    profile = json.loads(client.get(url(a.institution, f"@{a.author.handle}/feed.json")).content)
    assert profile["title"] == f"{a.author.display_name} · Northside School"
    assert profile["description"] == "Librarian, Northside School"
