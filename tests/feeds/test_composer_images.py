"""Images in the composer: upload (with and without JavaScript), alt text, metadata removal."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image

from accounts.tenancy import tenant_context
from feeds.images import MAX_UPLOAD_BYTES
from feeds.models import MAX_ATTACHMENTS, Attachment, Media, Post


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def url(side, name, **kwargs):
    return reverse(f"feeds:{name}", kwargs={"institution_slug": side.institution.slug, **kwargs})


def sign_in(client, member):
    client.force_login(member.user)
    return client


def photo_with_gps(size=(1200, 900)) -> bytes:
    """A JPEG as a phone makes it: with the camera's make and the GPS position in EXIF."""
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PodiumCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def png(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 200, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_file(name="class-trip.jpg", data=None):
    return SimpleUploadedFile(name, data or photo_with_gps(), content_type="image/jpeg")


def composer_data(body="Our class trip to the museum.", intent="save", **extra):
    return {"body": body, "body_format": "text", "language": "en", "intent": intent, **extra}


def assert_has_no_metadata(field):
    field.open("rb")
    try:
        stored = Image.open(io.BytesIO(field.read()))
        assert not stored.getexif()
        assert "exif" not in stored.info
    finally:
        field.close()


def latest_attachments(member):
    with tenant_context(member.institution_id):
        post = Post.objects.get(author=member)
        return list(
            Attachment.objects.filter(revision=post.latest_revision)
            .select_related("media")
            .order_by("position")
        )


def upload(client, side, data, name="photo.jpg", content_type="image/jpeg"):
    return client.post(
        url(side, "upload-media"),
        {"image": SimpleUploadedFile(name, data, content_type=content_type)},
    )


def test_uploaded_image_is_stored_without_exif_and_attached_with_its_alt_text(cast, client):
    sign_in(client, cast.a.author)

    response = upload(client, cast.a, photo_with_gps())

    assert response.status_code == 201
    payload = response.json()
    assert payload["small_url"].startswith("/media/")
    with tenant_context(cast.a.institution.id):
        media = Media.objects.get(id=payload["id"])
        assert_has_no_metadata(media.image)
        assert_has_no_metadata(media.small)

    response = client.post(
        url(cast.a, "compose"),
        composer_data(
            **{
                "attachment-0-media": payload["id"],
                "attachment-0-alt": "Pupils looking at a dinosaur skeleton.",
            }
        ),
    )

    assert response.status_code == 302
    [attachment] = latest_attachments(cast.a.author)
    assert attachment.media_id == payload["id"]
    assert attachment.alt_text == "Pupils looking at a dinosaur skeleton."


def test_image_chosen_in_the_form_without_javascript_is_attached_without_exif(cast, client):
    sign_in(client, cast.a.author)

    response = client.post(
        url(cast.a, "compose"),
        composer_data(new_image=jpeg_file(), new_image_alt="The museum's front steps."),
    )

    assert response.status_code == 302
    [attachment] = latest_attachments(cast.a.author)
    assert attachment.alt_text == "The museum's front steps."
    with tenant_context(cast.a.institution.id):
        assert_has_no_metadata(attachment.media.image)


def test_add_the_image_button_uploads_and_shows_the_image_without_saving_the_post(cast, client):
    sign_in(client, cast.a.author)

    response = client.post(
        url(cast.a, "compose"),
        composer_data(intent="attach", new_image=jpeg_file(), new_image_alt="Museum hall."),
    )

    page = response.content.decode()
    assert response.status_code == 200
    with tenant_context(cast.a.institution.id):
        media = Media.objects.get(uploaded_by=cast.a.author)
        assert not Post.objects.exists()
    assert f'name="attachment-0-media" value="{media.id}"' in page
    assert ">Museum hall.</textarea>" in page
    assert "Our class trip to the museum." in page


def test_missing_alt_text_is_refused_with_a_message_and_the_text_kept(cast, client):
    sign_in(client, cast.a.author)
    media_id = upload(client, cast.a, png()).json()["id"]

    response = client.post(
        url(cast.a, "compose"),
        composer_data(**{"attachment-0-media": media_id, "attachment-0-alt": "  "}),
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Image 1 needs a description (alt text)" in page
    assert "Our class trip to the museum." in page
    assert f'value="{media_id}"' in page
    assert 'aria-describedby="composer-images-help composer-attachment-0-alt_error"' in page
    with tenant_context(cast.a.institution.id):
        assert not Post.objects.exists()


def test_file_in_the_form_without_alt_text_is_refused_and_the_text_kept(cast, client):
    sign_in(client, cast.a.author)

    response = client.post(url(cast.a, "compose"), composer_data(new_image=jpeg_file()))

    page = response.content.decode()
    assert response.status_code == 400
    assert "Describe the added image" in page
    assert "Our class trip to the museum." in page
    with tenant_context(cast.a.institution.id):
        assert not Post.objects.exists()
        assert not Media.objects.exists()


def test_removing_an_image_detaches_it(cast, client):
    sign_in(client, cast.a.author)
    media_id = upload(client, cast.a, png()).json()["id"]
    client.post(
        url(cast.a, "compose"),
        composer_data(**{"attachment-0-media": media_id, "attachment-0-alt": "A chart."}),
    )
    with tenant_context(cast.a.institution.id):
        post = Post.objects.get()

    client.post(
        url(cast.a, "edit", post_id=post.id),
        composer_data(
            **{
                "attachment-0-media": media_id,
                "attachment-0-alt": "",
                "attachment-0-remove": "1",
            }
        ),
    )

    assert latest_attachments(cast.a.author) == []


@pytest.mark.parametrize(
    ("data", "name", "status", "message"),
    [
        (b"\xff" * (MAX_UPLOAD_BYTES + 1), "huge.jpg", 413, "10 MB"),
        (b"%PDF-1.7 not a picture", "letter.jpg", 400, "not a picture we can use"),
        (b"", "empty.jpg", 400, ""),
    ],
)
def test_unusable_uploads_are_refused_with_a_message(cast, client, data, name, status, message):
    sign_in(client, cast.a.author)

    response = upload(client, cast.a, data, name=name)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]

    response = client.post(
        url(cast.a, "compose"),
        composer_data(
            new_image=SimpleUploadedFile(name, data, content_type="image/jpeg"),
            new_image_alt="Something",
        ),
    )
    page = response.content.decode()
    assert response.status_code == status
    assert message in page
    assert "Our class trip to the museum." in page
    with tenant_context(cast.a.institution.id):
        assert not Media.objects.exists()
        assert not Post.objects.exists()


def test_upload_without_a_file_is_refused(cast, client):
    sign_in(client, cast.a.author)
    response = client.post(url(cast.a, "upload-media"), {})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Choose an image file to upload."


def test_a_post_takes_at_most_four_images(cast, client):
    sign_in(client, cast.a.author)
    ids = [upload(client, cast.a, png()).json()["id"] for _ in range(MAX_ATTACHMENTS + 1)]
    rows = {}
    for index, media_id in enumerate(ids):
        rows[f"attachment-{index}-media"] = media_id
        rows[f"attachment-{index}-alt"] = f"Chart {index}"

    response = client.post(url(cast.a, "compose"), composer_data(**rows))

    assert response.status_code == 400
    assert "at most 4 images" in response.content.decode()


def test_images_uploaded_by_someone_else_cannot_be_attached(cast, client):
    sign_in(client, cast.a.author2)
    other = upload(client, cast.a, png()).json()["id"]
    sign_in(client, cast.a.author)

    client.post(
        url(cast.a, "compose"),
        composer_data(**{"attachment-0-media": other, "attachment-0-alt": "Not mine."}),
    )

    assert latest_attachments(cast.a.author) == []


def test_editing_keeps_the_attached_images_and_their_alt_text(cast, client):
    sign_in(client, cast.a.author)
    media_id = upload(client, cast.a, png()).json()["id"]
    client.post(
        url(cast.a, "compose"),
        composer_data(**{"attachment-0-media": media_id, "attachment-0-alt": "A yellow chart."}),
    )
    with tenant_context(cast.a.institution.id):
        post = Post.objects.get()

    page = client.get(url(cast.a, "edit", post_id=post.id)).content.decode()

    assert f'name="attachment-0-media" value="{media_id}"' in page
    assert ">A yellow chart.</textarea>" in page


def test_an_image_chosen_with_a_refused_post_is_not_kept_and_the_author_is_told(cast, client):
    sign_in(client, cast.a.author)

    response = client.post(
        url(cast.a, "compose"),
        composer_data(
            new_image=jpeg_file(), new_image_alt="The museum.", publish_at="2001-01-01T10:00"
        ),
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "has passed" in page
    assert "choose it again" in page
    assert "The museum.</textarea>" in page
    assert 'name="attachment-0-media"' not in page
    with tenant_context(cast.a.institution.id):
        assert not Media.objects.exists()


def test_an_image_chosen_with_an_unreadable_publish_time_is_not_kept_and_the_author_is_told(
    cast, client
):
    sign_in(client, cast.a.author)

    response = client.post(
        url(cast.a, "compose"),
        composer_data(new_image=jpeg_file(), new_image_alt="The museum.", publish_at="soon"),
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "choose it again" in page
    with tenant_context(cast.a.institution.id):
        assert not Media.objects.exists()
