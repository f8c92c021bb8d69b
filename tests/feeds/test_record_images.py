"""Images follow their post: public (and shared-cacheable) only while a public revision shows
them; images of drafts, posts in review, pending corrections and retracted posts reach only
members who may see such a post, privately; in production the file is handed to the proxy with
X-Accel-Redirect after the check, in development Django sends it."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_context
from feeds import services
from feeds.models import Media
from feeds.services import PostContent
from tests.feeds.test_public_pages import correct, publish, url, with_image


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 3600
    settings.PODIUM_SERVE_MEDIA = True


def image_name(side, post) -> str:
    with tenant_context(side.institution.id):
        media = Media.objects.filter(uploaded_by=post.author).order_by("-id").first()
        return media.image.name


def public_address(side, name) -> str:
    return url(side.institution, f"media/{name}")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_published_image_is_public_and_shared_cacheable(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer, "Look", attachments=with_image(a.author))
    name = image_name(a, post)
    page = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    assert f'src="{public_address(a, name)}"' in page
    assert "/media/posts/" not in page.replace(public_address(a, ""), "")

    response = client.get(public_address(a, name))
    assert response.status_code == 200
    assert body(response).startswith(b"\x89PNG")
    assert "public" in response["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    assert "cookie" not in response.get("Vary", "").lower()


def test_in_production_the_proxy_sends_the_file_after_the_check(cast, client, settings):
    settings.PODIUM_SERVE_MEDIA = False
    a = cast.a
    post = publish(a.author, a.reviewer, "Look", attachments=with_image(a.author))
    name = image_name(a, post)
    for _attempt in (1, 2):  # the second answer comes from the server cache
        response = client.get(public_address(a, name))
        assert response.status_code == 200
        assert response["X-Accel-Redirect"] == f"/_media/{name}"
        assert response.content == b""
        assert response["Content-Type"] == "image/png"


@pytest.mark.parametrize("state", ["draft", "in review", "retracted", "replaced by a correction"])
def test_an_image_no_public_text_shows_is_not_public(cast, client, state):
    a = cast.a
    content = PostContent(body="Photo", language="en", attachments=with_image(a.author))
    post = services.create_post(a.author, content)
    if state != "draft":
        post = services.submit_post(post, a.author)
    name = image_name(a, post)
    if state == "retracted":
        post = services.approve_post(post, by=a.reviewer)
        client.get(public_address(a, name))  # public, and now in the server cache
        services.retract_post(post, by=a.reviewer, reason="Wrong photo")
    if state == "replaced by a correction":
        post = services.approve_post(post, by=a.reviewer)
        client.get(public_address(a, name))
        correct(post, a.author, a.reviewer, "Photo removed")
    assert client.get(public_address(a, name)).status_code == 404
    assert client.get(f"/media/{name}").status_code == 404


@pytest.mark.parametrize(
    ("who", "sees"),
    [("author", True), ("reviewer", True), ("admin", True), ("author2", False), ("b", False)],
)
def test_members_who_may_see_the_post_get_its_image_privately(cast, client, who, sees):
    a = cast.a
    content = PostContent(body="Draft photo", language="en", attachments=with_image(a.author))
    post = services.submit_post(services.create_post(a.author, content), a.author)
    name = image_name(a, post)
    member = cast.b.author if who == "b" else getattr(a, who)
    client.force_login(member.user)
    for address in (public_address(a, name), f"/media/{name}"):
        response = client.get(address)
        assert (response.status_code == 200) is sees, address
        if sees:
            assert response["Cache-Control"] == "private, no-store"
            assert body(response).startswith(b"\x89PNG")


def test_avatars_stay_ordinary_public_files(cast, client):
    from accounts import services as account_services
    from tests.feeds.test_public_pages import png

    a = cast.a
    account_services.update_profile(a.author, avatar=_upload(png()))
    page = client.get(url(a.institution, f"@{a.author.handle}/")).content.decode()
    avatar = page.split('class="u-photo avatar avatar--large" src="', 1)[1].split('"', 1)[0]
    assert avatar.startswith("/media/avatars/")


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("face.png", data, content_type="image/png")
