"""The networks page in Chromium: a member connects a Mastodon account with the keyboard, the
browser goes to the instance (a fake on 127.0.0.1) and back, and the account is listed."""

# The fixtures come from connect_support (imported below); using them as parameters is not a
# redefinition.
# ruff: noqa: F811

from __future__ import annotations

from crossposting import services as crossposting
from tests.browser.helpers import sign_in
from tests.conftest import Cast
from tests.crossposting.connect_support import oauth, oauth_servers  # noqa: F401 (fixtures)


def test_a_member_connects_mastodon_in_the_browser(
    transactional_db,
    server,
    page,
    settings,
    oauth,
    screenshots_dir,
):
    settings.PODIUM_BASE_URL = server.url  # the instance sends the browser back here
    cast = Cast.create()
    crossposting.connect_account(
        cast.a.institution, network="bluesky", handle="northside.bsky.social",
        base_url=oauth["bluesky"].base_url, secrets={"access_jwt": "a"},
        remote_user_id="did:plc:school", profile_url="https://bsky.app/profile/northside",
        default_for_new_posts=True,
    )  # fmt: skip
    mastodon = oauth["mastodon"]
    mastodon.signed_in = "ada"
    sign_in(page, server.url, cast.a.admin)
    page.goto(f"{server.url}/{cast.a.institution.slug}/networks/")
    page.get_by_label("Instance").fill(mastodon.base_url)
    page.get_by_label("Instance").press("Enter")
    page.wait_for_url(f"{server.url}/{cast.a.institution.slug}/networks/")
    status = page.get_by_role("status")
    assert "Mastodon account @ada@" in status.inner_text()
    assert page.get_by_role("link", name="@ada@", exact=False).count() == 1
    page.screenshot(path=str(screenshots_dir / "networks-page.png"), full_page=True)
