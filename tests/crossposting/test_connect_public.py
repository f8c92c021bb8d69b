"""Connected accounts on the public pages: each account's profile address becomes a rel="me"
link on its member's profile (the institution's accounts on the institution's page), and goes
when the account is disconnected. Public pages stay cookie-free."""

from __future__ import annotations

from crossposting import services as crossposting
from crossposting.connect import services


def _connect(cast, handle, url, member=None, network="mastodon"):
    return crossposting.connect_account(
        cast.a.institution, network=network, handle=handle, base_url="https://social.example",
        secrets={"access_token": "t"}, remote_user_id=handle, profile_url=url, member=member,
    )  # fmt: skip


def _page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response and not response.cookies
    return response.content.decode()


def test_a_members_connected_account_is_a_rel_me_link_on_their_profile(
    cast, client, django_capture_on_commit_callbacks
):
    author = cast.a.author
    account = _connect(cast, "@ada@social.example", "https://social.example/@ada", member=author)
    _connect(cast, "@other", "https://social.example/@other", member=cast.a.author2)
    body = _page(client, f"/{cast.a.institution.slug}/@{author.handle}/")
    assert '<link rel="me" href="https://social.example/@ada">' in body
    assert 'rel="me noopener" href="https://social.example/@ada">Mastodon: @ada@social.example' in (
        body
    )
    assert "social.example/@other" not in body
    with django_capture_on_commit_callbacks(execute=True):  # the cached page is renewed
        services.disconnect_account(account, by=author)
    assert "social.example/@ada" not in _page(
        client, f"/{cast.a.institution.slug}/@{author.handle}/"
    )


def test_the_institutions_accounts_are_rel_me_links_on_its_page(cast, client):
    _connect(cast, "@school", "https://social.example/@school")
    _connect(cast, "@ada", "https://social.example/@ada", member=cast.a.author)
    body = _page(client, f"/{cast.a.institution.slug}/")
    assert '<link rel="me" href="https://social.example/@school">' in body
    assert "social.example/@ada" not in body


def test_an_address_that_is_not_https_is_not_linked(cast, client):
    _connect(cast, "@plain", "http://social.example/@plain", member=cast.a.author)
    body = _page(client, f"/{cast.a.institution.slug}/@{cast.a.author.handle}/")
    assert "social.example/@plain" not in body
