"""Image uploads through the API: what is stored, and what is refused without storing anything."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from accounts.tenancy import tenant_context
from feeds.images import MAX_UPLOAD_BYTES
from feeds.models import Media
from tests.feeds.api_support import client_for, image_bytes, media_url, stored, upload
from tests.images import jpeg_with_gps


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def stored_file(url: str) -> Path:
    """The stored file behind an image address (``<base>/<institution>/media/<stored name>``)."""
    prefix, _, name = url.partition("/media/")
    assert prefix.startswith(settings.PODIUM_BASE_URL + "/"), url
    return Path(settings.MEDIA_ROOT) / name


def test_an_uploaded_photo_is_stored_without_its_exif_and_gps_data(cast):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif()  # the test file does carry EXIF and GPS

    response = client_for(cast.a.author).post(
        media_url(cast.a.institution), upload("holiday.jpg", original, "image/jpeg")
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "url", "small_url", "width", "height", "content_type", "created_at"}
    # The EXIF orientation (turn 90°) is applied to the pixels before the EXIF is dropped.
    assert (body["width"], body["height"], body["content_type"]) == (80, 120, "image/jpeg")
    for url in (body["url"], body["small_url"]):
        data = stored_file(url).read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif()
            assert "exif" not in image.info
        assert b"Podium Test Camera" not in data and b"SERIAL-12345" not in data


def test_an_author_reads_back_their_own_upload(cast):
    client = client_for(cast.a.author)
    created = client.post(media_url(cast.a.institution), upload("a.png", image_bytes())).json()
    response = client.get(media_url(cast.a.institution, created["id"]))
    assert response.status_code == 200
    assert response.json() == created


def test_an_image_larger_than_the_limit_is_refused_with_413_and_not_stored(cast):
    before = stored(cast.a.institution)
    too_big = b"\xff\xd8\xff\xe0" + b"\0" * MAX_UPLOAD_BYTES
    response = client_for(cast.a.author).post(
        media_url(cast.a.institution), upload("huge.jpg", too_big, "image/jpeg")
    )
    assert response.status_code == 413, response.content
    assert response.json()["error"]["code"] == "image_too_large"
    assert "10 MB" in response.json()["error"]["message"]
    assert stored(cast.a.institution) == before


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("notes.txt", b"Dear parents, this is not a picture.", "text/plain"),
        ("fake.png", b"This pretends to be a PNG.", "image/png"),
        ("cut.png", image_bytes()[:60], "image/png"),
        ("drawing.bmp", image_bytes("BMP"), "image/bmp"),
    ],
    ids=["text", "text-named-png", "truncated-png", "bmp"],
)
def test_a_file_that_is_not_an_accepted_image_is_refused_with_400(cast, name, data, content_type):
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).post(
        media_url(cast.a.institution), upload(name, data, content_type)
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "image_invalid"
    assert stored(cast.a.institution) == before


def test_json_instead_of_multipart_is_unsupported(cast):
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).post(
        media_url(cast.a.institution), {"file": "aGVsbG8="}, format="json"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert stored(cast.a.institution) == before


@pytest.mark.parametrize(
    "body",
    [{}, {"file": "just text"}, {"image": io.BytesIO(b"x")}],
    ids=["nothing", "text-field", "wrong-field"],
)
def test_an_upload_without_a_file_in_the_file_field_is_a_400(cast, body):
    before = stored(cast.a.institution)
    response = client_for(cast.a.author).post(media_url(cast.a.institution), body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]
    assert stored(cast.a.institution) == before


def test_a_read_token_cannot_upload(cast):
    response = client_for(cast.a.author, scopes=["read"]).post(
        media_url(cast.a.institution), upload("a.png", image_bytes())
    )
    assert response.status_code == 403
    with tenant_context(cast.a.institution.id):
        assert not Media.objects.exists()
