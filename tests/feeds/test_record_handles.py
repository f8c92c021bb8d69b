"""Permanent addresses: a renamed handle's profile and feeds redirect (301) to the member's
handle now, for good; a handle once used is never given to another member of the institution;
mentions in published posts keep pointing at the person; a post's id alone always resolves."""

from __future__ import annotations

import pytest

from accounts import errors
from accounts import services as account_services
from tests.feeds.test_public_pages import publish, url


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PODIUM_PUBLIC_CACHE_SECONDS = 0


@pytest.fixture
def renamed(cast):
    a = cast.a
    account_services.update_profile(a.author, handle="j.schulz")
    publish(a.author, a.reviewer, "Before the rename")
    account_services.update_profile(a.author, handle="jonas.schulz")
    return a


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("@j.schulz/", "@jonas.schulz/"),
        ("@J.Schulz/", "@jonas.schulz/"),
        ("@j.schulz/?lang=de", "@jonas.schulz/?lang=de"),
        ("@j.schulz/feed.atom", "@jonas.schulz/feed.atom"),
        ("@j.schulz/feed.rss", "@jonas.schulz/feed.rss"),
        ("@j.schulz/feed.json", "@jonas.schulz/feed.json"),
    ],
)
def test_an_old_handle_redirects_permanently_to_the_new_one(renamed, client, old, new):
    response = client.get(url(renamed.institution, old))
    assert response.status_code == 301
    assert response["Location"] == url(renamed.institution, new)
    assert "public" in response["Cache-Control"]
    assert client.get(response["Location"]).status_code == 200


def test_redirects_hold_through_several_renames(renamed, client):
    account_services.update_profile(renamed.author, handle="schulz")
    for old in ("j.schulz", "jonas.schulz"):
        response = client.get(url(renamed.institution, f"@{old}/"))
        assert response["Location"] == url(renamed.institution, "@schulz/")


def test_a_handle_once_used_is_never_given_to_another_member(renamed):
    with pytest.raises(errors.HandleTaken):
        account_services.update_profile(renamed.author2, handle="j.schulz")


def test_a_member_may_take_back_their_own_former_handle(renamed, client):
    account_services.update_profile(renamed.author, handle="j.schulz")
    assert client.get(url(renamed.institution, "@j.schulz/")).status_code == 200
    response = client.get(url(renamed.institution, "@jonas.schulz/"))
    assert response["Location"] == url(renamed.institution, "@j.schulz/")


def test_old_handles_of_another_institution_are_not_followed(renamed, client, cast):
    response = client.get(url(cast.b.institution, "@j.schulz/"))
    assert response.status_code == 404


def test_mentions_in_published_posts_keep_pointing_at_the_person(cast, client):
    a = cast.a
    account_services.update_profile(a.author2, handle="m.meier")
    post = publish(a.author, a.reviewer, "Ask @m.meier about the trip")
    account_services.update_profile(a.author2, handle="maria.meier")
    page = client.get(url(a.institution, f"posts/{post.id}/")).content.decode()
    mention = page.split('href="', 2)[0]  # noqa: F841 (read below)
    link = url(a.institution, "@m.meier/")
    assert f'href="{link}"' in page
    followed = client.get(link, follow=True)
    assert followed.redirect_chain[-1][0] == url(a.institution, "@maria.meier/")
    assert a.author2.display_name in followed.content.decode()


def test_a_permalink_is_its_id_alone(cast, client):
    a = cast.a
    post = publish(a.author, a.reviewer)
    account_services.update_profile(a.author, handle="someone.else")
    assert client.get(url(a.institution, f"posts/{post.id}/")).status_code == 200
