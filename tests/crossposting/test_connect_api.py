"""The network accounts API: who sees which accounts, connecting through the API (the
authorisation address, then the browser), Bluesky with an app password, re-authorising,
disconnecting and the default; errors as problem details; credentials never in an answer."""

# The fixtures come from connect_support (imported below); using them as parameters is not a
# redefinition.
# ruff: noqa: F811

from __future__ import annotations

import json

import pytest

from crossposting import credentials
from crossposting import services as crossposting
from tests.accounts.api_client import assert_error, call, institution_url, token_for
from tests.crossposting.connect_support import (  # noqa: F401 (fixtures)
    accounts_of,
    audit_verbs,
    consent,
    continue_url,
    oauth,
    oauth_servers,
)

MARKER_TOKEN = "SECRET-TOKEN-VALUE"


def _account(cast, handle, member=None, network="x", **extra):
    return crossposting.connect_account(
        cast.a.institution, network=network, handle=handle,
        base_url=extra.pop("base_url", "https://api.x.example"),
        secrets={"access_token": MARKER_TOKEN}, remote_user_id=handle, member=member, **extra,
    )  # fmt: skip


@pytest.fixture
def accounts(cast):
    return {
        "institution": _account(cast, "@school"),
        "author": _account(cast, "@author", member=cast.a.author),
        "author2": _account(cast, "@author2", member=cast.a.author2),
    }


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("author", {"@school", "@author"}),
        ("author2", {"@school", "@author2"}),
        ("admin", {"@school", "@author", "@author2"}),
    ],
)
def test_each_member_lists_the_accounts_they_may_see(cast, client, accounts, role, visible):
    member = getattr(cast.a, role)
    response = call(client, "get", institution_url(cast.a.institution, "networks/"), member=member)
    assert response.status_code == 200
    assert {row["handle"] for row in response.json()} == visible
    assert MARKER_TOKEN not in response.content.decode()
    assert "credentials" not in response.json()[0]


def test_another_members_account_is_a_404(cast, client, accounts):
    url = institution_url(cast.a.institution, f"networks/{accounts['author2'].id}/")
    assert_error(call(client, "get", url, member=cast.a.author), 404)
    other = institution_url(cast.b.institution, f"networks/{accounts['author'].id}/")
    assert_error(call(client, "get", other, member=cast.b.admin), 404)


def test_connecting_through_the_api_gives_the_address_the_browser_finishes(cast, client, oauth):
    token = token_for(cast.a.author)
    oauth["x"].signed_in = "api-user"
    response = call(
        client, "post", institution_url(cast.a.institution, "networks/connect/"),
        {"network": "x"}, token=token,
    )  # fmt: skip
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["expires_in"] == 600
    path = consent(answer["authorization_url"])
    client.force_login(cast.a.author.user)  # the member's browser, signed in to Podium
    page = client.get(path, follow=True).content.decode()
    assert "X account @api-user connected." in page
    [account] = accounts_of(cast.a.institution)
    assert account.member_id == cast.a.author.id


def test_the_browser_of_another_member_cannot_finish_it(cast, client, oauth):
    response = call(
        client, "post", institution_url(cast.a.institution, "networks/connect/"),
        {"network": "x"}, token=token_for(cast.a.author),
    )  # fmt: skip
    path = consent(response.json()["authorization_url"])
    client.force_login(cast.a.author2.user)
    assert "not valid" in client.get(path, follow=True).content.decode()
    assert accounts_of(cast.a.institution) == []


@pytest.mark.parametrize(
    ("member", "body", "status", "code"),
    [
        ("author", {"network": "x", "owner": "institution"}, 403, "permission_denied"),
        ("author", {"network": "mastodon", "instance": "http://127.0.0.1:9"}, 400, None),
        ("author", {"network": "bluesky"}, 400, "invalid"),
        ("admin", {"network": "nowhere"}, 400, None),
    ],
)
def test_connect_errors_are_problems(cast, client, oauth, member, body, status, code):
    before = audit_verbs(cast.a.institution)
    response = call(
        client, "post", institution_url(cast.a.institution, "networks/connect/"), body,
        member=getattr(cast.a, member),
    )  # fmt: skip
    assert_error(response, status, code)
    assert accounts_of(cast.a.institution) == []
    assert audit_verbs(cast.a.institution) == before


def test_an_unreachable_instance_is_a_problem_with_its_reason(cast, client, oauth):
    from tests.crossposting.fakes.server import free_port

    port = free_port()
    response = call(
        client, "post", institution_url(cast.a.institution, "networks/connect/"),
        {"network": "mastodon", "instance": f"http://127.0.0.1:{port}"}, member=cast.a.author,
    )  # fmt: skip
    error = assert_error(response, 400, "server_unreachable")
    assert error["message"] == f"Could not reach 127.0.0.1:{port}. Check the address."


def test_an_unset_network_is_a_conflict(cast, client, oauth, settings):
    settings.PODIUM_LINKEDIN_CLIENT_ID = ""
    response = call(
        client, "post", institution_url(cast.a.institution, "networks/connect/"),
        {"network": "linkedin"}, member=cast.a.author,
    )  # fmt: skip
    assert_error(response, 409, "network_not_configured")


def test_bluesky_through_the_api(cast, client, oauth):
    oauth["bluesky"].add_account("api.test", "wxyz-wxyz-wxyz-wxyz")
    response = call(
        client, "post", institution_url(cast.a.institution, "networks/bluesky/"),
        {"identifier": "api.test", "app_password": "wxyz-wxyz-wxyz-wxyz", "owner": "institution"},
        member=cast.a.admin,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["handle"] == "api.test" and body["owner"] == "institution"
    assert "wxyz" not in json.dumps(body)
    wrong = call(
        client, "post", institution_url(cast.a.institution, "networks/bluesky/"),
        {"identifier": "api.test", "app_password": "aaaa-aaaa-aaaa-aaaa"}, member=cast.a.admin,
    )  # fmt: skip
    assert_error(wrong, 400, "authorisation_refused")


def test_disconnecting_revokes_at_mastodon_deletes_credentials_and_keeps_the_row(
    cast, client, oauth
):
    mastodon = oauth["mastodon"]
    mastodon.signed_in = "leaving"
    client.force_login(cast.a.author.user)
    start = client.post(
        f"/{cast.a.institution.slug}/networks/connect/",
        {"network": "mastodon", "instance": mastodon.base_url},
    )
    client.get(consent(continue_url(start)))
    [account] = accounts_of(cast.a.institution)
    token = credentials.unseal(account.institution_id, account.id, account.credentials)[
        "access_token"
    ]
    assert token in mastodon.tokens
    response = call(
        client, "post",
        institution_url(cast.a.institution, f"networks/{account.id}/disconnect/"),
        member=cast.a.author,
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert token not in mastodon.tokens
    [account] = accounts_of(cast.a.institution)
    assert bytes(account.credentials) == b"" and not account.default_for_new_posts
    assert audit_verbs(cast.a.institution)[-1] == "network_account.disconnect"


def test_an_administrator_may_disconnect_but_not_reauthorise_a_members_account(
    cast, client, accounts
):
    url = institution_url(cast.a.institution, f"networks/{accounts['author'].id}/")
    assert_error(call(client, "post", url + "reauthorise/", member=cast.a.admin), 403)
    assert_error(call(client, "post", url + "default/", {"use": True}, member=cast.a.admin), 403)
    assert call(client, "post", url + "disconnect/", member=cast.a.admin).status_code == 200


def test_the_owner_sets_the_default(cast, client, accounts):
    url = institution_url(cast.a.institution, f"networks/{accounts['author'].id}/default/")
    response = call(client, "post", url, {"use": True}, member=cast.a.author)
    assert response.status_code == 200 and response.json()["default_for_new_posts"] is True
    assert audit_verbs(cast.a.institution)[-1] == "network_account.default"
    assert_error(call(client, "post", url, {"use": "maybe"}, member=cast.a.author), 400)


def test_reauthorising_answers_a_new_authorisation_address(cast, client, oauth, accounts):
    url = institution_url(cast.a.institution, f"networks/{accounts['author'].id}/reauthorise/")
    response = call(client, "post", url, member=cast.a.author)
    assert response.status_code == 200
    assert response.json()["authorization_url"].startswith(oauth["x"].base_url)
