"""The public pages, as an anonymous reader sees them: landing page, robots.txt, institution page,
staff directory, profile, post permalink and sitemap.

The helpers at the top (``publish``, ``correct``, ``bulk_posts``, ``bulk_members``, ``png``) are
shared by the other ``test_public_*`` and ``test_syndication`` modules.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from accounts import services as account_services
from accounts.models import Membership, User
from accounts.tenancy import tenant_context
from feeds import services
from feeds.models import Post, PostState, Revision
from feeds.public import syndication
from feeds.services import AttachmentInput, PostContent

# Helpers ---------------------------------------------------------------------------------------


def publish(author, reviewer, body="Sports day is on Friday. #sports", **content):
    """A post written by ``author`` and approved by ``reviewer``: published at once."""
    content.setdefault("language", "en")
    post = services.create_post(author, PostContent(body=body, **content))
    post = services.submit_post(post, author)
    return services.approve_post(post, by=reviewer)


def correct(post, author, reviewer, body, **content):
    """A correction of a published post, approved: the public text changes."""
    content.setdefault("language", "en")
    post = services.edit_post(post, author, PostContent(body=body, **content))
    post = services.submit_post(post, author)
    return services.approve_post(post, by=reviewer)


def png(width=64, height=48, colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def with_image(author, alt_text="A red square on the school yard"):
    media = services.upload_media(author, png())
    return (AttachmentInput(media.id, alt_text),)


def bulk_posts(institution, author, count, *, start=None):
    """``count`` published posts, one minute apart and newest first, made in three queries."""
    start = start or timezone.now() - timedelta(days=1)
    with tenant_context(institution.id):
        posts = Post.objects.bulk_create(
            Post(
                institution=institution,
                author=author,
                state=PostState.PUBLISHED,
                published_at=start - timedelta(minutes=i),
                updated_at=start - timedelta(minutes=i),
            )
            for i in range(count)
        )
        revisions = Revision.objects.bulk_create(
            Revision(
                institution=institution,
                post=post,
                number=1,
                body=f"Bulk post {i}",
                language="en",
                body_html=f'<p>Bulk post {i} <span class="p-category hashtag">#bulk</span></p>\n',
                content_hash=f"{i:064d}",
                created_by=author,
                submitted_at=post.published_at,
                approved_at=post.published_at,
                published_at=post.published_at,
            )
            for i, post in enumerate(posts)
        )
        for post, revision in zip(posts, revisions, strict=True):
            post.latest_revision = post.public_revision = revision
        Post.objects.bulk_update(posts, ["latest_revision", "public_revision"])
    return posts


def bulk_members(institution, count, *, prefix="staff", status=Membership.Status.ACTIVE):
    """``count`` members with public profiles, made in two queries."""
    users = User.objects.bulk_create(
        User(email=f"{prefix}{i}-{institution.slug}@example.org") for i in range(count)
    )
    with tenant_context(institution.id):
        return Membership.objects.bulk_create(
            Membership(
                institution=institution,
                user=user,
                handle=f"{prefix}{i}",
                display_name=f"{prefix.title()} Person {i:03d}",
                job_title="Nurse",
                status=status,
            )
            for i, user in enumerate(users)
        )


def url(institution, rest=""):
    return f"/{institution.slug}/{rest}"


@pytest.fixture(autouse=True)
def _media_and_no_server_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    settings.PODIUM_BASE_URL = "https://podium.example"


# Language --------------------------------------------------------------------------------------


def test_pages_render_for_anonymous_readers_in_english_and_german(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer)
    pages = [
        "/",
        url(a.institution),
        url(a.institution, "staff/"),
        url(a.institution, f"@{a.author.handle}/"),
        url(a.institution, f"posts/{post.id}/"),
    ]
    for page in pages:
        for lang in ("en", "de"):
            response = client.get(page, {"lang": lang})
            assert response.status_code == 200, page
            assert response["Content-Language"] == lang
            assert f'<html lang="{lang}"' in response.content.decode()


def test_public_pages_speak_the_institutions_language_unless_the_reader_chooses(cast, client):
    account_services.update_institution(cast.a.institution, locale="de")
    assert client.get(url(cast.a.institution))["Content-Language"] == "de"
    assert client.get(url(cast.a.institution), {"lang": "en"})["Content-Language"] == "en"


def test_language_switch_is_a_pair_of_plain_links(cast, client):
    page = client.get(url(cast.a.institution)).content.decode()
    assert 'href="?lang=de"' in page
    assert "<form" not in page


# Landing page and robots.txt -------------------------------------------------------------------


def test_landing_page_lists_every_institution_with_kind_and_link(cast, client):
    page = client.get("/").content.decode()
    for side in (cast.a, cast.b):
        assert f'href="/{side.institution.slug}/"' in page
        assert side.institution.name in page
    assert "School" in page


def test_robots_txt_closes_members_areas_and_institutions_that_opt_out(cast, client):
    account_services.update_institution(cast.b.institution, search_indexing=False)
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    for rule in ("/accounts/", "/ops/", "/api/", "/*/posts/mine/", "/*/posts/new/", "/*/manage/"):
        assert f"Disallow: {rule}" in lines
    assert f"Disallow: /{cast.b.institution.slug}/" in lines
    assert f"Sitemap: https://podium.example/{cast.a.institution.slug}/sitemap.xml" in lines
    assert not any(cast.b.institution.slug in line for line in lines if line.startswith("Sitemap"))
    assert f"Disallow: /{cast.a.institution.slug}/" not in lines


# Institution page ------------------------------------------------------------------------------


def test_institution_page_shows_who_they_are_latest_posts_staff_and_feed_links(cast, client):
    a = cast.a
    account_services.update_institution(
        a.institution,
        description="A school by the river.",
        contact_email="office@northside.example",
        contact_phone="+49 30 123456",
        website="https://northside.example",
    )
    post = publish(a.author, a.reviewer, "Welcome back, everyone!")
    page = client.get(url(a.institution)).content.decode()
    assert "A school by the river." in page
    assert 'href="mailto:office@northside.example"' in page
    assert "+49 30 123456" in page
    assert "Welcome back, everyone!" in page
    assert f'href="/{a.institution.slug}/posts/{post.id}/"' in page
    assert "All staff (4)" in page
    for feed_type, fmt in (
        ("application/atom+xml", "atom"),
        ("application/rss+xml", "rss"),
        ("application/feed+json", "json"),
    ):
        assert f'<link rel="alternate" type="{feed_type}" title="Northside School' in page.replace(
            "\n", ""
        )
        assert f'href="/{a.institution.slug}/feed.{fmt}"' in page
    assert f'<link rel="canonical" href="https://podium.example/{a.institution.slug}/">' in page
    assert 'name="robots"' not in page


def test_accent_colour_is_shown_through_a_palette_class_never_a_style_attribute(cast, client):
    account_services.update_institution(cast.a.institution, accent_color="#107a70")
    page = client.get(url(cast.a.institution)).content.decode()
    assert 'class="public accent-teal"' in page
    assert "style=" not in page


def test_pages_ask_search_engines_not_to_index_when_the_institution_opts_out(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer)
    account_services.update_institution(a.institution, search_indexing=False)
    for page in ("", "staff/", f"@{a.author.handle}/", f"posts/{post.id}/"):
        content = client.get(url(a.institution, page)).content.decode()
        assert '<meta name="robots" content="noindex">' in content, page
    assert client.get(url(a.institution, "sitemap.xml")).status_code == 404


def test_posts_page_by_keyset_newest_first_keeping_the_chosen_language(cast, client):
    a = cast.a
    posts = bulk_posts(a.institution, a.author, 25)
    first = client.get(url(a.institution), {"lang": "de"}).content.decode()
    # Links keep the language; the h-entry's uid is the permalink as cited.
    ids = [int(i) for i in re.findall(r'class="u-url" href="/[^/]+/posts/(\d+)/\?lang=de"', first)]
    assert ids == [p.id for p in posts[:20]]
    uids = re.findall(r'class="u-uid" value="https://podium.example/[^/]+/posts/(\d+)/"', first)
    assert [int(i) for i in uids] == ids
    older = re.search(r'href="\?([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "lang=de" in older
    second = client.get(url(a.institution) + "?" + older).content.decode()
    ids = [int(i) for i in re.findall(r'class="u-url" href="/[^/]+/posts/(\d+)/\?lang=de"', second)]
    assert ids == [p.id for p in posts[20:]]
    assert 'rel="next"' not in second
    assert "Neueste Beiträge" in second  # "Newest posts", in the chosen language


@pytest.mark.parametrize(
    "cursor",
    [
        "zz",
        "1-",
        "-1-5",
        "1.5-3",
        "99999999999999999999-99999999999999999999",
        "1700000000000000-99999999999999999999",
        "<script>",
    ],
)
def test_a_bad_cursor_is_a_400_page_with_a_clear_message(cast, client, cursor):
    a = cast.a
    publish(a.author, a.reviewer)
    for page in ("", f"@{a.author.handle}/"):
        response = client.get(url(a.institution, page), {"before": cursor})
        if response.status_code == 200:
            # A well-formed cursor beyond every post is simply an empty page.
            assert re.fullmatch(r"\d+-\d+", cursor)
            continue
        assert response.status_code == 400, (page, cursor)
        assert "This page link is not valid" in response.content.decode()


def test_a_bad_staff_cursor_or_sitemap_page_is_a_400(cast, client):
    assert client.get(url(cast.a.institution, "staff/"), {"after": "x1"}).status_code == 400
    for page in ("0", "x", "-1", "1e3"):
        response = client.get(url(cast.a.institution, "sitemap.xml"), {"page": page})
        assert response.status_code == 400, page


# Staff directory -------------------------------------------------------------------------------


def test_staff_preview_shows_the_first_30_active_members_by_name_with_job_titles(cast, client):
    a = cast.a
    bulk_members(a.institution, 35)
    bulk_members(a.institution, 2, prefix="gone", status=Membership.Status.FORMER)
    page = client.get(url(a.institution)).content.decode()
    preview = page.split('id="staff-heading"', 1)[1]
    names = re.findall(r'class="p-name u-url" href="[^"]+">([^<]+)<', preview)
    assert len(names) == 30
    assert names == sorted(names)
    assert "All staff (39)" in page
    assert "Gone Person" not in preview
    assert '<span class="p-job-title member__title">Nurse</span>' in preview


def test_staff_directory_lists_active_members_and_former_staff_apart(cast, client):
    a = cast.a
    account_services.retire_member(a.author2)
    page = client.get(url(a.institution, "staff/")).content.decode()
    active, former = page.split('id="former-heading"', 1)
    assert a.author.display_name in active
    assert a.author2.display_name not in active
    assert a.author2.display_name in former
    assert "3 people" in active


def test_staff_directory_pages_by_keyset(cast, client):
    a = cast.a
    bulk_members(a.institution, 120)
    first = client.get(url(a.institution, "staff/")).content.decode()
    next_link = re.search(r'href="\?([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(url(a.institution, "staff/") + "?" + next_link).content.decode()
    first_names = re.findall(r'class="p-name u-url" href="[^"]+">([^<]+)<', first)
    second_names = re.findall(r'class="p-name u-url" href="[^"]+">([^<]+)<', second)
    assert len(first_names) == 100
    assert len(second_names) == 24
    assert not set(first_names) & set(second_names)
    assert first_names + second_names == sorted(first_names + second_names)


def test_former_staff_have_their_own_paged_list(cast, client):
    a = cast.a
    bulk_members(a.institution, 3, prefix="gone", status=Membership.Status.FORMER)
    page = client.get(url(a.institution, "staff/"), {"status": "former"}).content.decode()
    assert "Former staff of Northside School" in page
    assert page.count('class="h-card member"') == 3
    assert a.author.display_name not in page


# Profiles --------------------------------------------------------------------------------------


def test_profile_is_an_h_card_with_rel_me_links_and_the_members_posts(cast, client):
    a = cast.a
    account_services.update_profile(
        a.author,
        job_title="Head of Physics",
        bio="I teach physics.\nAnd astronomy.",
        links=[{"label": "Mastodon", "url": "https://social.example/@meier"}],
        avatar=_upload("avatar.png"),
    )
    mine = publish(a.author, a.reviewer, "My own post")
    other = publish(a.author2, a.reviewer, "Someone else's post")
    page = client.get(url(a.institution, f"@{a.author.handle}/")).content.decode()
    assert 'class="profile h-card"' in page
    assert f'class="p-name">{a.author.display_name}<' in page
    assert '<p class="p-job-title">Head of Physics</p>' in page
    assert '<p class="p-note profile__bio">I teach physics.<br>And astronomy.</p>' in page
    assert re.search(r'<img class="u-photo avatar avatar--large" src="/media/avatars/', page)
    assert f'class="u-url u-uid" href="https://podium.example/{a.institution.slug}/@' in page
    assert '<a class="u-url" rel="me noopener" href="https://social.example/@meier">' in page
    assert '<link rel="me" href="https://social.example/@meier">' in page
    assert f"/posts/{mine.id}/" in page
    assert f"/posts/{other.id}/" not in page
    assert f'href="/{a.institution.slug}/@{a.author.handle}/feed.atom"' in page
    assert "Former staff" not in page


def test_profile_addresses_ignore_case_and_name_one_canonical_address(cast, client):
    a = cast.a
    response = client.get(url(a.institution, f"@{a.author.handle.upper()}/"), {"lang": "de"})
    assert response.status_code == 200
    canonical = f"https://podium.example/{a.institution.slug}/@{a.author.handle}/"
    assert f'<link rel="canonical" href="{canonical}">' in response.content.decode()


def _upload(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, png(), content_type="image/png")


def test_former_staff_profile_shows_a_banner_and_keeps_the_posts(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Written before leaving")
    account_services.retire_member(a.author)
    page = client.get(url(a.institution, f"@{a.author.handle}/")).content.decode()
    assert 'class="notice notice--former"' in page
    assert "no longer works at Northside School" in page
    assert f"/posts/{post.id}/" in page
    assert (
        "Written before leaving"
        in client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    )


# Permalinks ------------------------------------------------------------------------------------


def test_permalink_is_an_h_entry_with_open_graph_and_twitter_cards(cast, client):
    a = cast.a
    post = publish(
        a.author,
        a.reviewer,
        "Bonjour à tous! #rentrée",
        language="fr",
        attachments=with_image(a.author, alt_text="The new library"),
    )
    response = client.get(url(a.institution, f"posts/{post.id}/"))
    assert response.status_code == 200
    page = response.content.decode()
    permalink = f"https://podium.example/{a.institution.slug}/posts/{post.id}/"
    assert 'class="h-entry post post--permalink"' in page
    assert 'class="p-author h-card post__author"' in page
    assert re.search(
        r'<time class="dt-published" datetime="\d{4}-\d\d-\d\dT[\d:]{8}[+-]\d{4}">', page
    )
    assert '<div class="e-content post__content post__content--large" lang="fr">' in page
    assert f'class="u-url u-uid" href="{permalink}"' in page
    assert '<span class="p-category hashtag">#rentrée</span>' in page
    # Post images have the post's institution in their address: they follow the post.
    image = (
        rf'<img class="u-photo" src="/{a.institution.slug}/media/posts/[^"]+" alt="The new library"'
    )
    assert re.search(image, page)
    assert f'<link rel="canonical" href="{permalink}">' in page
    assert f'<meta property="og:url" content="{permalink}">' in page
    assert '<meta property="og:type" content="article">' in page
    assert '<meta property="og:description" content="Bonjour à tous! #rentrée">' in page
    assert re.search(
        rf'<meta property="og:image" content="https://podium.example/{a.institution.slug}/media/posts/',
        page,
    )
    assert '<meta property="og:image:alt" content="The new library">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert 'class="dt-updated"' not in page


def test_dates_show_in_the_institutions_time_zone(cast, client):
    a = cast.a
    account_services.update_institution(a.institution, timezone="America/New_York")
    post = publish(a.author, a.reviewer)
    local = timezone.localtime(post.published_at, a.institution.zone)
    page = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    assert f'datetime="{local:%Y-%m-%dT%H:%M:%S%z}"' in page
    assert local.strftime("%z") in ("-0500", "-0400")


def test_corrected_post_shows_the_notice_and_keeps_earlier_texts_in_details(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Sports day is on Friday.")
    post = correct(post, a.author, a.reviewer, "Sports day moved to Monday.")
    page = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    assert "Corrected on" in page
    assert 'class="dt-updated"' in page
    content = page.split('class="e-content', 1)[1].split("</div>", 1)[0]
    assert "Sports day moved to Monday." in content
    details = page.split('<details class="corrections">', 1)[1].split("</details>", 1)[0]
    assert "Sports day is on Friday." in details
    assert "Sports day moved to Monday." not in details


def test_retracted_post_shows_the_notice_and_reason_but_never_the_text(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Secret exam answers")
    post = correct(post, a.author, a.reviewer, "Still the secret exam answers")
    services.retract_post(post, by=a.reviewer, reason="Published by mistake.")
    response = client.get(url(a.institution, f"posts/{post.id}/"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Retracted post" in page
    assert "Published by mistake." in page
    assert "secret exam answers" not in page.lower()
    assert '<meta name="robots" content="noindex">' in page
    assert "h-entry" not in page


@pytest.mark.parametrize(
    "case",
    [
        "unknown post",
        "draft post",
        "post in review",
        "post of another institution",
        "unknown handle",
        "member of another institution",
        "unknown institution",
        "unknown institution feed",
        "unknown handle feed",
        "unknown path",
    ],
)
def test_unknown_or_unpublished_things_are_404(cast, client, case):
    a, b = cast.a, cast.b
    draft = services.create_post(a.author, PostContent(body="Draft", language="en"))
    review = services.submit_post(
        services.create_post(a.author, PostContent(body="In review", language="en")), a.author
    )
    foreign = publish(b.author, b.reviewer, "Clinic news")
    path = {
        "unknown post": url(a.institution, "posts/999999/"),
        "draft post": url(a.institution, f"posts/{draft.id}/"),
        "post in review": url(a.institution, f"posts/{review.id}/"),
        "post of another institution": url(a.institution, f"posts/{foreign.id}/"),
        "unknown handle": url(a.institution, "@nobody/"),
        "member of another institution": url(a.institution, f"@{b.author.handle}/"),
        "unknown institution": "/no-such-place/",
        "unknown institution feed": "/no-such-place/feed.atom",
        "unknown handle feed": url(a.institution, "@nobody/feed.json"),
        "unknown path": url(a.institution, "nothing/here/"),
    }[case]
    response = client.get(path)
    assert response.status_code == 404
    assert "Clinic news" not in response.content.decode()


def test_what_authors_type_is_escaped_never_run(cast, client):
    a = cast.a
    account_services.update_profile(a.author, display_name="<b>Bold</b> Name", bio="<img src=x>")
    post = publish(a.author, a.reviewer, "Look: <script>alert('x')</script> **done**")
    for page in (f"posts/{post.id}/", f"@{a.author.handle}/", ""):
        content = client.get(url(a.institution, page)).content.decode()
        assert "<script>alert" not in content, page
        assert "<b>Bold</b>" not in content
        assert "&lt;b&gt;Bold&lt;/b&gt; Name" in content
        assert "<img src=x>" not in content
    content = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in content or (
        "&lt;script&gt;alert('x')&lt;/script&gt;" in content
    )


# Sitemap ---------------------------------------------------------------------------------------

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _locations(response):
    root = ET.fromstring(response.content)  # noqa: S314 (our own sitemap, not untrusted input)
    return root.tag, {
        element.findtext(f"{SITEMAP}loc"): element.findtext(f"{SITEMAP}lastmod") for element in root
    }


def test_sitemap_lists_the_institution_staff_profiles_and_public_posts(cast, client):
    a = cast.a
    public = publish(a.author, a.reviewer)
    corrected = correct(publish(a.author, a.reviewer), a.author, a.reviewer, "Fixed")
    retracted = publish(a.author, a.reviewer)
    services.retract_post(retracted, by=a.reviewer, reason="Wrong")
    draft = services.create_post(a.author, PostContent(body="Draft", language="en"))
    account_services.retire_member(a.author2)
    response = client.get(url(a.institution, "sitemap.xml"))
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    tag, locations = _locations(response)
    assert tag == f"{SITEMAP}urlset"
    base = f"https://podium.example/{a.institution.slug}/"
    assert base in locations
    assert base + "staff/" in locations
    for member in (a.admin, a.reviewer, a.author, a.author2):
        assert f"{base}@{member.handle}/" in locations
    assert base + f"posts/{public.id}/" in locations
    assert locations[base + f"posts/{corrected.id}/"] == corrected.corrected_at.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert base + f"posts/{retracted.id}/" not in locations
    assert base + f"posts/{draft.id}/" not in locations
    assert len(locations) == 2 + 4 + 2


def test_a_large_sitemap_becomes_an_index_of_pages(cast, client, monkeypatch):
    a = cast.a
    monkeypatch.setattr(syndication, "SITEMAP_LIMIT", 5)
    posts = bulk_posts(a.institution, a.author, 7)
    tag, pages = _locations(client.get(url(a.institution, "sitemap.xml")))
    assert tag == f"{SITEMAP}sitemapindex"
    base = f"https://podium.example/{a.institution.slug}/sitemap.xml"
    assert list(pages) == [f"{base}?page=1", f"{base}?page=2", f"{base}?page=3"]
    seen = []
    for page in (1, 2, 3):
        tag, locations = _locations(client.get(url(a.institution, "sitemap.xml"), {"page": page}))
        assert tag == f"{SITEMAP}urlset"
        assert len(locations) <= 5
        seen.extend(locations)
    assert len(seen) == len(set(seen)) == 2 + 4 + 7
    assert all(f"/posts/{post.id}/" in " ".join(seen) for post in posts)
    assert client.get(url(a.institution, "sitemap.xml"), {"page": 4}).status_code == 404


def test_one_process_serving_two_institutions_keeps_their_posts_apart(cast, client, settings):
    """The public reads reuse compiled queries per institution; B's page never shows A's."""
    from feeds import services as feed_services
    from feeds.services import PostContent as Content

    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0
    for side, text in ((cast.a, "Only for A readers"), (cast.b, "Only for B readers")):
        post = feed_services.create_post(side.author, Content(text, "en"))
        post = feed_services.submit_post(post, side.author)
        feed_services.approve_post(post, by=side.reviewer)
    for _round in range(2):
        for side, mine, theirs in (
            (cast.a, "Only for A readers", "Only for B readers"),
            (cast.b, "Only for B readers", "Only for A readers"),
        ):
            for path in ("", "feed.atom", f"@{side.author.handle}/"):
                body = client.get(f"/{side.institution.slug}/{path}").content.decode()
                assert mine in body and theirs not in body, (side.institution.slug, path)
