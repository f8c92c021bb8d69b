"""A member edits their own public profile: handle, names, bio, photo and rel=me links."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.images import MAX_UPLOAD_BYTES
from accounts.models import Membership
from accounts.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def profile_url(side) -> str:
    return reverse("accounts:profile", args=[side.institution.slug])


def reload(membership: Membership) -> Membership:
    with tenant_context(membership.institution_id):
        return Membership.objects.get(id=membership.id)


def form_data(membership: Membership, **overrides) -> dict:
    data = {
        "handle": membership.handle,
        "display_name": membership.display_name,
        "job_title": membership.job_title,
        "bio": membership.bio,
    }
    return data | overrides


def jpeg_with_location(size=(1600, 900)) -> bytes:
    image = Image.new("RGB", size, "orange")
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera"  # Model
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"taken at home")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_profile_page_needs_sign_in(client, cast):
    response = client.get(profile_url(cast.a))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_member_of_another_institution_gets_404(client, cast):
    client.force_login(cast.b.author.user)
    assert client.get(profile_url(cast.a)).status_code == 404


def test_member_sees_their_profile_form(client, cast):
    client.force_login(cast.a.author.user)
    response = client.get(profile_url(cast.a))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{cast.a.author.handle}"' in html
    assert 'for="id_link_url_4"' in html  # five link rows, each labelled
    assert 'enctype="multipart/form-data"' in html


def test_member_changes_names_bio_and_links(client, cast):
    me = cast.a.author
    client.force_login(me.user)
    data = form_data(
        me,
        handle="New.Handle",
        display_name="Dr. Ada Lovelace",
        job_title="Maths teacher",
        bio="I teach maths.",
        link_label_0="Mastodon",
        link_url_0="https://social.example/@ada",
        link_url_2="https://ada.example/",
    )
    response = client.post(profile_url(cast.a), data)
    assert response.status_code == 302
    me = reload(me)
    assert (me.handle, me.display_name, me.job_title, me.bio) == (
        "new.handle",
        "Dr. Ada Lovelace",
        "Maths teacher",
        "I teach maths.",
    )
    assert me.links == [
        {"label": "Mastodon", "url": "https://social.example/@ada"},
        {"label": "ada.example/", "url": "https://ada.example/"},
    ]
    # The page shows the saved links again.
    html = client.get(profile_url(cast.a)).content.decode()
    assert 'value="https://social.example/@ada"' in html


def test_taken_handle_is_a_form_error_and_nothing_changes(client, cast):
    me = cast.a.author
    client.force_login(me.user)
    response = client.post(
        profile_url(cast.a),
        form_data(me, handle=cast.a.author2.handle, display_name="Changed Name"),
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "already taken" in html
    assert 'value="Changed Name"' in html  # what was typed is still there
    assert reload(me).display_name == cast.a.author.display_name


def test_handle_of_the_other_institution_is_free_here(client, cast):
    me = cast.a.author
    client.force_login(me.user)
    response = client.post(profile_url(cast.a), form_data(me, handle=cast.b.author.handle))
    assert response.status_code == 302
    assert reload(me).handle == cast.b.author.handle


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"handle": "no spaces"}, "lowercase letters"),
        ({"handle": ""}, "required"),
        ({"display_name": ""}, "required"),
        ({"link_url_0": "http://insecure.example/"}, "https://"),
        ({"link_url_0": "not a link"}, "valid URL"),
        ({"link_label_1": "Label without address"}, "Give the address"),
        ({"bio": "x" * 1001}, "at most 1000"),
    ],
)
def test_bad_profile_input_is_refused_with_a_message(client, cast, changes, message):
    me = cast.a.author
    client.force_login(me.user)
    response = client.post(profile_url(cast.a), form_data(me, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert reload(me).handle == cast.a.author.handle


def test_photo_is_shrunk_and_stripped_of_location_and_camera_data(client, cast):
    me = cast.a.author
    client.force_login(me.user)
    data = form_data(me, avatar=upload("holiday.jpg", jpeg_with_location()))
    response = client.post(profile_url(cast.a), data)
    assert response.status_code == 302
    me = reload(me)
    assert me.avatar.name.startswith("avatars/")
    assert "holiday" not in me.avatar.name
    with me.avatar.open("rb") as stored:
        data = stored.read()
    image = Image.open(io.BytesIO(data))
    assert max(image.size) <= 800
    assert not image.getexif()
    assert b"Secret Camera" not in data
    assert b"taken at home" not in data


def test_transparent_png_stays_a_png(client, cast):
    me = cast.a.author
    client.force_login(me.user)
    buffer = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 128, 0, 100)).save(buffer, "PNG")
    response = client.post(
        profile_url(cast.a),
        form_data(me, avatar=upload("logo.png", buffer.getvalue(), "image/png")),
    )
    assert response.status_code == 302
    assert reload(me).avatar.name.endswith(".png")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.png", b"this is not a picture at all", "not a picture"),
        ("photo.jpg", jpeg_with_location()[:200], "not a picture"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "not a picture"),
        ("huge.jpg", b"\xff\xd8" + b"0" * (MAX_UPLOAD_BYTES + 1), "at most 5"),
    ],
    ids=["text", "truncated", "svg", "too-large"],
)
def test_bad_photo_is_refused_and_the_old_one_kept(client, cast, name, content, message):
    me = cast.a.author
    client.force_login(me.user)
    assert (
        client.post(
            profile_url(cast.a), form_data(me, avatar=upload("first.jpg", jpeg_with_location()))
        ).status_code
        == 302
    )
    before = reload(me).avatar.name

    response = client.post(profile_url(cast.a), form_data(me, avatar=upload(name, content)))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert reload(me).avatar.name == before


def test_member_removes_their_photo(client, cast):
    me = cast.a.author
    client.force_login(me.user)
    client.post(profile_url(cast.a), form_data(me, avatar=upload("a.jpg", jpeg_with_location())))
    response = client.post(profile_url(cast.a), form_data(me, remove_avatar="on"))
    assert response.status_code == 302
    assert not reload(me).avatar


def test_former_staff_cannot_edit_their_profile(client, cast):
    from accounts.services import retire_member

    retire_member(cast.a.author)
    client.force_login(cast.a.author.user)
    assert client.get(profile_url(cast.a)).status_code == 404
