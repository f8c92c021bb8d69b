"""Feed ids are tag URIs fixed when a post is first published, from PODIUM_TAG_AUTHORITY: never
from the request's host, unchanged by corrections, retraction or a later move to another
domain; the migration that introduced them kept the ids feeds had already given out."""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import feedparser
import pytest
from django.apps import apps
from django.db import connection

from accounts.tenancy import tenant_context
from feeds import services
from feeds.models import Post
from tests.feeds.test_public_pages import bulk_posts, correct, publish, url

migration = importlib.import_module("feeds.migrations.0004_post_tag_id_and_feed_indexes")


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    settings.PODIUM_BASE_URL = "https://podium.example"
    settings.PODIUM_TAG_AUTHORITY = "podium.example"
    settings.ALLOWED_HOSTS = ["podium.example", "elsewhere.example", "testserver"]


def test_a_post_gets_its_tag_id_when_first_published(cast):
    a = cast.a
    post = publish(a.author, a.reviewer)
    assert post.tag_id == f"tag:podium.example,{post.published_at:%Y-%m-%d}:post/{post.id}"


def test_the_tag_id_survives_corrections_retraction_and_a_new_authority(cast, client, settings):
    a = cast.a
    post = publish(a.author, a.reviewer, "One")
    first = post.tag_id
    settings.PODIUM_TAG_AUTHORITY = "news.example.org,2027-01-01"
    settings.PODIUM_BASE_URL = "https://news.example.org"
    post = correct(post, a.author, a.reviewer, "Two")
    assert post.tag_id == first
    services.retract_post(post, by=a.reviewer, reason="Wrong")
    document = json.loads(client.get(url(a.institution, "feed.json")).content)
    assert [item["id"] for item in document["items"]] == [first]


def test_a_configured_authority_with_its_own_date_is_used_as_given(cast, settings):
    settings.PODIUM_TAG_AUTHORITY = "example.org,2026-01-01"
    post = publish(cast.a.author, cast.a.reviewer)
    assert post.tag_id == f"tag:example.org,2026-01-01:post/{post.id}"


def test_feed_ids_never_depend_on_the_requests_host(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer)
    for host in ("podium.example", "elsewhere.example"):
        parsed = feedparser.parse(
            client.get(url(a.institution, "feed.atom"), HTTP_HOST=host).content
        )
        assert [entry.id for entry in parsed.entries] == [post.tag_id]
        assert "elsewhere" not in parsed.feed.id


def test_the_migration_keeps_the_ids_feeds_gave_before(cast, settings):
    a = cast.a
    posts = bulk_posts(a.institution, a.author, 3)  # published before ids were stored
    settings.PODIUM_TAG_AUTHORITY = "something.else"  # the migration must not use it
    # The data step reads only the editor's connection (a schema editor cannot open inside
    # the test's transaction on SQLite).
    migration.keep_existing_feed_ids(apps, SimpleNamespace(connection=connection))
    with tenant_context(a.institution.id):
        stored = dict(Post.objects.filter(id__in=[p.id for p in posts]).values_list("id", "tag_id"))
    day = f"{a.institution.created_at:%Y-%m-%d}"
    assert stored == {p.id: f"tag:podium.example,{day}:post/{p.id}" for p in posts}
