"""Bad input found by probing a live server from outside (issue 11), answered with a 400 at every
entry point, never a 500: a NUL in the path or in any query parameter (public pages, members'
pages, the API; PostgreSQL text cannot hold one), and days out of range in the web forms that
take a day (the audit log's filters and exports, the token form)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.accounts.api_client import call, institution_url, token_for
from tests.feeds.test_public_pages import publish, url

pytestmark = pytest.mark.django_db


# A NUL in the address ---------------------------------------------------------------------------


def _public_addresses(cast) -> list[str]:
    a = cast.a
    post = publish(a.author, a.reviewer)
    return [
        url(a.institution, "media/x%00.png"),
        url(a.institution, "media/%00"),
        url(a.institution) + "?lang=%00",
        url(a.institution, "staff/") + "?after=1%00",
        url(a.institution, f"posts/{post.id}/") + "?x%00=1",
        url(a.institution, "feed.atom") + "?before=%00",
        "/?lang=de%00",
    ]


def test_a_nul_in_a_public_address_is_a_400_cached_page_or_not(cast, client, settings):
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 3600
    for address in _public_addresses(cast):
        for _attempt in (1, 2):  # the second finds the canonical page in the server cache
            client.get(address.split("?", 1)[0])
            response = client.get(address)
            assert response.status_code == 400, address


@pytest.mark.parametrize(
    "tail",
    [
        "review/?flag=a%00b",
        "review/?age=%00",
        "posts/?state=%00",
        "posts/?author=%00",
        "members/?role=%00",
        "audit/?verb=%00",
        "audit/?since=%00",
        "posts/?cursor=%00",
        "members/%00/",
        "posts/?x%00y=1",
    ],
)
def test_a_nul_in_an_api_address_is_a_400_in_the_api_s_error_shape(client, cast, tail):
    response = call(
        client, "get", institution_url(cast.a.institution, tail), token=token_for(cast.a.admin)
    )
    assert response.status_code == 400, tail
    assert response.json()["status"] == 400


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("accounts:audit-log", "verb=%00"),
        ("moderation:queue", "flag=%00"),
        ("feeds:my-posts", "state=%00"),
        ("accounts:members", "page=1%00"),
    ],
)
def test_a_nul_in_a_member_page_s_address_is_a_400(client, cast, name, query):
    client.force_login(cast.a.admin.user)
    response = client.get(reverse(name, args=[cast.a.institution.slug]) + "?" + query)
    assert response.status_code == 400


# Days out of range in web forms -----------------------------------------------------------------

FAR_DAYS = ["9999-12-31", "0001-01-01", "1969-12-31", "3000-01-01"]


@pytest.mark.parametrize("day", FAR_DAYS)
@pytest.mark.parametrize("field", ["since", "until"])
@pytest.mark.parametrize(
    ("name", "extra"), [("accounts:audit-log", []), ("accounts:audit-export", ["csv"])]
)
def test_an_audit_filter_day_out_of_range_is_a_400(client, cast, day, field, name, extra):
    client.force_login(cast.a.admin.user)
    response = client.get(reverse(name, args=[cast.a.institution.slug, *extra]), {field: day})
    assert response.status_code == 400
    if name == "accounts:audit-log":
        assert "between 1970 and 2999" in response.content.decode()


@pytest.mark.parametrize("day", ["1970-01-01", "2999-12-31"])
def test_the_first_and_last_day_of_the_range_are_accepted_by_the_audit_log(client, cast, day):
    client.force_login(cast.a.admin.user)
    address = reverse("accounts:audit-log", args=[cast.a.institution.slug])
    assert client.get(address, {"since": day, "until": day}).status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_token_expiry_day_out_of_range_is_refused_by_the_form(client, cast, day):
    client.force_login(cast.a.author.user)
    address = reverse("accounts:tokens", args=[cast.a.institution.slug])
    response = client.post(address, {"name": "x", "scopes": ["read"], "expires_on": day})
    assert response.status_code == 400
    assert response.context["secret"] is None
    assert "expires_on" in response.context["form"].errors


# A NUL in text the web composer reads outside a form field -----------------------------------


@pytest.mark.parametrize("intent", ["save", "submit"])
def test_an_image_description_with_a_nul_is_refused_not_a_500(client, cast, intent):
    from feeds.models import Post
    from feeds.services import upload_media
    from tests.feeds.api_support import image_bytes

    media = upload_media(cast.a.author, image_bytes())
    client.force_login(cast.a.author.user)
    address = reverse("feeds:compose", args=[cast.a.institution.slug])
    data = {
        "body": "Sports day",
        "language": "en",
        "body_format": "text",
        "intent": intent,
        "attachment-0-media": str(media.id),
        "attachment-0-alt": "A dog\x00",
    }
    response = client.post(address, data)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert not Post.unscoped.filter(author=cast.a.author).exists()


# A "next" address that is not a path -------------------------------------------------------------


@pytest.mark.parametrize("target", ["home", "9999-12-31", "²", "a\x00b", "//evil.example/", ""])
def test_the_language_switch_with_a_next_that_is_not_a_path_goes_home(client, cast, target):
    client.force_login(cast.a.author.user)
    response = client.post(reverse("accounts:set-language"), {"language": "de", "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:home")


def test_the_language_switch_returns_to_the_page_it_was_used_on(client, cast):
    client.force_login(cast.a.author.user)
    page = reverse("accounts:profile", args=[cast.a.institution.slug])
    response = client.post(reverse("accounts:set-language"), {"language": "de", "next": page})
    assert response.status_code == 302 and response["Location"] == page
