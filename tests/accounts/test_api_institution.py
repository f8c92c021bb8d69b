"""The institution's settings and the caller's own profile through the API."""

from __future__ import annotations

import io

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from PIL import Image

from accounts.models import Institution, Membership
from tests.accounts.api_client import assert_error, call, in_tenant, institution_url
from tests.images import jpeg_with_gps, png_bytes

pytestmark = pytest.mark.django_db


# Institution -------------------------------------------------------------------------------


def test_every_member_reads_the_institution(client, cast):
    response = call(
        client, "get", institution_url(cast.a.institution, "institution"), member=cast.a.author
    )
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == cast.a.institution.slug
    assert body["name"] == cast.a.institution.name
    assert {
        "kind", "locale", "timezone", "description", "contact", "branding", "review_required",
        "search_indexing", "publishing_paused",
    } <= set(body)  # fmt: skip
    assert set(body["contact"]) == {"email", "phone", "website", "address"}
    assert set(body["branding"]) == {"accent_color", "logo"}


def test_an_admin_changes_settings_including_nested_ones(client, cast):
    changes = {
        "name": "Northside Grammar",
        "timezone": "Europe/Vienna",
        "review_required": False,
        "contact": {"email": "office@northside.example"},
        "branding": {"accent_color": "#112233"},
    }
    response = call(
        client, "patch", institution_url(cast.a.institution, "institution"), changes,
        member=cast.a.admin,
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["contact"]["email"] == "office@northside.example"
    institution = Institution.objects.get(id=cast.a.institution.id)
    assert institution.name == "Northside Grammar"
    assert institution.timezone == "Europe/Vienna"
    assert institution.review_required is False
    assert institution.contact_email == "office@northside.example"
    assert institution.contact_phone == ""  # untouched
    assert institution.accent_color == "#112233"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slug": "elsewhere"}, "slug"),
        ({"publishing_paused": True}, "publishing_paused"),
        ({"colour": "#000000"}, "colour"),
        ({"contact": {"fax": "123"}}, "contact.fax"),
        ({"branding": {"logo": "x.png"}}, "branding.logo"),
        ({"contact": {"email": "not an address"}}, "contact.email"),
        ({"branding": {"accent_color": "red"}}, "branding.accent_color"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"kind": "castle"}, "kind"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"contact": "office@example.org"}, "contact"),
    ],
)
def test_a_bad_settings_change_is_400_naming_the_field_and_changes_nothing(
    client, cast, changes, field
):
    before = Institution.objects.filter(id=cast.a.institution.id).values().get()
    response = call(
        client, "patch", institution_url(cast.a.institution, "institution"),
        {"name": "Changed too", **changes} if "name" not in changes else changes,
        member=cast.a.admin,
    )  # fmt: skip
    error = assert_error(response, 400)
    assert field in error["fields"], error
    assert Institution.objects.filter(id=cast.a.institution.id).values().get() == before


# The caller's profile ----------------------------------------------------------------------


def test_a_member_reads_and_changes_their_own_profile(client, cast):
    url = institution_url(cast.a.institution, "profile")
    assert call(client, "get", url, member=cast.a.author).json()["id"] == cast.a.author.id

    links = [{"label": "Blog", "url": "https://blog.example/"}, {"url": "https://x.example/me"}]
    response = call(
        client, "patch", url,
        {"display_name": "Ms Meier", "handle": "M.Meier", "bio": "Maths.", "links": links},
        member=cast.a.author,
    )  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["handle"] == "m.meier"
    assert body["links"][1] == {"label": "x.example/me", "url": "https://x.example/me"}
    with in_tenant(cast.a.institution):
        stored = Membership.objects.get(id=cast.a.author.id)
    assert (stored.display_name, stored.bio) == ("Ms Meier", "Maths.")
    with in_tenant(cast.a.institution):
        assert Membership.objects.get(id=cast.a.author2.id).display_name != "Ms Meier"


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"role": "admin"}, "role", 400),
        ({"id": 1}, "id", 400),
        ({"status": "former"}, "status", 400),
        ({"links": [{"url": "http://insecure.example/"}]}, "links", 400),
        ({"links": [{"url": "https://a.example/"}] * 6}, "links", 400),
        ({"links": [{"url": "https://a.example/", "rel": "me"}]}, "links.0.rel", 400),
        ({"links": "https://a.example/"}, "links", 400),
        ({"handle": "Not A Handle!"}, "handle", 400),
        ({"display_name": ""}, "display_name", 400),
        ({"avatar": "photo.jpg"}, "avatar", 400),
    ],
)
def test_a_bad_profile_change_is_4xx_naming_the_field(client, cast, changes, field, status):
    response = call(
        client, "patch", institution_url(cast.a.institution, "profile"), changes,
        member=cast.a.author,
    )  # fmt: skip
    assert field in assert_error(response, status)["fields"]
    with in_tenant(cast.a.institution):
        assert Membership.objects.get(id=cast.a.author.id).handle == cast.a.author.handle


def test_a_handle_taken_in_the_institution_is_409(client, cast):
    response = call(
        client, "patch", institution_url(cast.a.institution, "profile"),
        {"handle": cast.a.author2.handle}, member=cast.a.author,
    )  # fmt: skip
    assert_error(response, 409, "handle_taken")


def test_a_handle_taken_only_in_another_institution_is_free(client, cast):
    response = call(
        client, "patch", institution_url(cast.a.institution, "profile"),
        {"handle": cast.b.author.handle}, member=cast.a.author,
    )  # fmt: skip
    assert response.status_code == 200


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_photo_is_uploaded_as_multipart_and_loses_its_location_data(client, cast, media_root):
    client.force_login(cast.a.author.user)
    upload = io.BytesIO(jpeg_with_gps())
    upload.name = "me.jpg"
    response = client.patch(
        institution_url(cast.a.institution, "profile"),
        data=encode_multipart(
            BOUNDARY,
            {
                "avatar": upload,
                "job_title": "Head of maths",
                "links[0]label": "Blog",
                "links[0]url": "https://blog.example/",
            },
        ),
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 200, response.content
    assert response.json()["avatar"].startswith("http://testserver/media/avatars/")
    with in_tenant(cast.a.institution):
        stored = Membership.objects.get(id=cast.a.author.id)
    assert stored.job_title == "Head of maths"
    assert stored.links == [{"label": "Blog", "url": "https://blog.example/"}]
    with Image.open(stored.avatar.path) as image:
        assert not image.getexif().get_ifd(0x8825)

    removed = call(
        client, "patch", institution_url(cast.a.institution, "profile"), {"avatar": None},
        member=cast.a.author,
    )  # fmt: skip
    assert removed.status_code == 200
    assert removed.json()["avatar"] is None


def test_a_file_that_is_not_a_picture_is_refused(client, cast, media_root):
    client.force_login(cast.a.author.user)
    upload = io.BytesIO(b"%PDF-1.4 not a picture")
    upload.name = "me.png"
    response = client.patch(
        institution_url(cast.a.institution, "profile"),
        data=encode_multipart(BOUNDARY, {"avatar": upload}),
        content_type=MULTIPART_CONTENT,
    )
    assert "avatar" in assert_error(response, 400)["fields"]
    assert png_bytes()  # the helper works: only the content above was wrong
