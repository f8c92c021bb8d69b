"""One image budget for all five places that take pictures: small files that decode big are
refused from their header with a message a person can act on, large photos are decoded small."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts import images
from tests.accounts.test_web_manage import settings_data, settings_url
from tests.accounts.test_web_profile import form_data
from tests.api.bad_bodies import image_bombs
from tests.feeds.api_support import client_for

pytestmark = pytest.mark.django_db

REFUSED = ("1 x 39,999,999 grey", "6300 x 6300 16-bit RGBA", "5000 x 5000 RGB")
PROCESSED = ("6300 x 6300 one-bit", "24-megapixel JPEG")


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return image_bombs()


def _file(data: bytes) -> SimpleUploadedFile:
    is_jpeg = data.startswith(b"\xff\xd8")
    name, kind = ("p.jpg", "image/jpeg") if is_jpeg else ("p.png", "image/png")
    return SimpleUploadedFile(name, data, content_type=kind)


def post_image_api(client, cast, data):
    return client_for(cast.a.author).post(
        f"/api/v1/institutions/{cast.a.institution.slug}/media/", {"file": _file(data)}
    )


def post_image_web(client, cast, data):
    client.force_login(cast.a.author.user)
    address = reverse("feeds:upload-media", kwargs={"institution_slug": cast.a.institution.slug})
    return client.post(address, {"image": _file(data)})


def avatar_api(client, cast, data):
    return client_for(cast.a.author).patch(
        f"/api/v1/institutions/{cast.a.institution.slug}/profile",
        {"avatar": _file(data)},
        format="multipart",
    )


def avatar_web(client, cast, data):
    client.force_login(cast.a.author.user)
    address = reverse("accounts:profile", args=[cast.a.institution.slug])
    return client.post(address, form_data(cast.a.author, avatar=_file(data)))


def logo_web(client, cast, data):
    client.force_login(cast.a.admin.user)
    return client.post(settings_url(cast.a), settings_data(cast.a.institution, logo=_file(data)))


PLACES = [post_image_api, post_image_web, avatar_api, avatar_web, logo_web]


@pytest.mark.parametrize("place", PLACES, ids=lambda place: place.__name__)
@pytest.mark.parametrize("bomb", REFUSED)
def test_a_picture_over_the_memory_budget_is_refused_with_a_clear_message(
    client, cast, bombs, place, bomb
):
    response = place(client, cast, bombs[bomb])
    assert response.status_code in (200, 400, 413), response.status_code
    text = response.content.decode()
    assert "pixels" in text  # says what is wrong with the picture
    assert response.status_code != 201 and response.status_code != 302


@pytest.mark.parametrize("place", PLACES, ids=lambda place: place.__name__)
@pytest.mark.parametrize("bomb", PROCESSED)
def test_a_large_picture_within_the_budget_is_decoded_small_and_kept(
    client, cast, bombs, place, bomb
):
    response = place(client, cast, bombs[bomb])
    assert response.status_code in (200, 201, 302), response.content[:500]


def test_the_budget_counts_decoded_bytes_not_only_pixels():
    assert images.decoded_bytes((6300, 6300), "1") == 6300 * 6300
    assert images.decoded_bytes((100, 100), "I;16") == 100 * 100 * 2
    assert images.decoded_bytes((100, 100), "RGB") == 100 * 100 * 4


def test_a_jpeg_is_decoded_at_the_smallest_size_that_still_covers_the_display(bombs):
    clean = images.clean_image(bombs["24-megapixel JPEG"], max_bytes=10**7, max_side=2048)
    assert max(clean.pixels.size) == 2048


def test_the_documented_limits_are_the_code_s_limits(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    upload = schema["paths"]["/api/v1/institutions/{institution_slug}/media/"]["post"]
    text = upload["responses"]["413"]["description"]
    assert f"{images.MAX_SOURCE_PIXELS // 1_000_000} megapixels" in text
    assert f"{images.MAX_DECODED_BYTES // 4 // 1_000_000} megapixels" in text
    assert "50 megapixels" not in str(schema)


def test_a_palette_picture_larger_than_the_display_keeps_its_transparency():
    buffer = io.BytesIO()
    picture = Image.new("P", (5000, 300), 0)
    picture.info["transparency"] = 0
    picture.save(buffer, "PNG", transparency=0)
    clean = images.clean_image(buffer.getvalue(), max_side=1200)
    assert clean.pixels.mode == "RGBA" and clean.lossless
    assert max(clean.pixels.size) == 1200
