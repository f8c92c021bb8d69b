"""Members through the API: listing with filters and cursors, roles, retiring."""

from __future__ import annotations

import pytest

from accounts import services
from accounts.models import ApiToken, Membership
from tests.accounts.api_client import assert_error, call, in_tenant, institution_url, token_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [member["id"] for member in response.json()["results"]]


def test_members_are_listed_with_their_public_profiles(client, cast):
    response = call(
        client, "get", institution_url(cast.a.institution, "members/"), member=cast.a.author
    )
    body = response.json()
    assert set(_ids(response)) == {
        cast.a.admin.id, cast.a.reviewer.id, cast.a.author.id, cast.a.author2.id,
    }  # fmt: skip
    assert {"next", "previous", "results"} <= set(body)
    member = body["results"][0]
    assert {
        "id", "handle", "display_name", "job_title", "bio", "avatar", "links", "role",
        "status", "joined_at", "left_at", "email",
    } == set(member)  # fmt: skip


def test_only_those_who_manage_members_see_email_addresses(client, cast):
    url = institution_url(cast.a.institution, f"members/{cast.a.author2.id}/")
    as_author = call(client, "get", url, member=cast.a.author).json()
    as_admin = call(client, "get", url, member=cast.a.admin).json()
    assert as_author["email"] is None
    assert as_admin["email"] == cast.a.author2.user.email


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("role=reviewer", {"reviewer"}),
        ("role=author", {"author", "author2"}),
        ("status=former", {"author2"}),
        ("status=active&role=admin", {"admin"}),
        ("status=active&role=author", {"author"}),
    ],
)
def test_members_are_filtered_by_role_and_status(client, cast, query, expected):
    services.retire_member(cast.a.author2)
    response = call(
        client, "get", institution_url(cast.a.institution, f"members/?{query}"),
        member=cast.a.author,
    )  # fmt: skip
    by_id = {getattr(cast.a, name).id: name for name in ("admin", "reviewer", "author", "author2")}
    assert {by_id[member_id] for member_id in _ids(response)} == expected


@pytest.mark.parametrize("query", ["role=owner", "status=gone"])
def test_an_unknown_filter_value_is_400_naming_the_filter(client, cast, query):
    response = call(
        client, "get", institution_url(cast.a.institution, f"members/?{query}"),
        member=cast.a.author,
    )  # fmt: skip
    error = assert_error(response, 400, "invalid")
    assert query.split("=")[0] in error["fields"]


def test_cursor_pages_walk_every_member_once(client, cast):
    for _ in range(3):
        MembershipFactory(institution=cast.a.institution)
    url = institution_url(cast.a.institution, "members/?page_size=3")
    seen: list[int] = []
    while url:
        response = call(client, "get", url, member=cast.a.author)
        seen += _ids(response)
        url = response.json()["next"]
    with in_tenant(cast.a.institution):
        assert sorted(seen) == sorted(Membership.objects.values_list("id", flat=True))
    assert len(seen) == 7


@pytest.mark.parametrize("cursor", ["garbage", "bz1hYmM%3D", "x" * 500])  # o=abc: no offset
def test_a_bad_cursor_is_400_not_404_or_500(client, cast, cursor):
    response = call(
        client, "get", institution_url(cast.a.institution, f"members/?cursor={cursor}"),
        member=cast.a.author,
    )  # fmt: skip
    error = assert_error(response, 400, "invalid")
    assert "cursor" in error["fields"]


# Roles -------------------------------------------------------------------------------------


def test_an_admin_changes_a_members_role(client, cast):
    url = institution_url(cast.a.institution, f"members/{cast.a.author.id}/")
    response = call(client, "patch", url, {"role": "reviewer"}, member=cast.a.admin)
    assert response.status_code == 200
    assert response.json()["role"] == "reviewer"
    with in_tenant(cast.a.institution):
        assert Membership.objects.get(id=cast.a.author.id).role == "reviewer"


def test_the_last_admin_cannot_give_up_the_role(client, cast):
    url = institution_url(cast.a.institution, f"members/{cast.a.admin.id}/")
    response = call(client, "patch", url, {"role": "author"}, member=cast.a.admin)
    assert_error(response, 409, "last_admin")
    with in_tenant(cast.a.institution):
        assert Membership.objects.get(id=cast.a.admin.id).role == "admin"


def test_with_a_second_admin_the_first_may_step_down(client, cast):
    services.change_role(cast.a.reviewer, "admin")
    url = institution_url(cast.a.institution, f"members/{cast.a.admin.id}/")
    response = call(client, "patch", url, {"role": "author"}, member=cast.a.admin)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "owner"}, "role"),
        ({}, "role"),
        ({"role": "reviewer", "handle": "boss"}, "handle"),
        ({"role": None}, "role"),
    ],
)
def test_a_bad_role_change_is_400_and_changes_nothing(client, cast, body, field):
    url = institution_url(cast.a.institution, f"members/{cast.a.author.id}/")
    response = call(client, "patch", url, body, member=cast.a.admin)
    assert field in assert_error(response, 400)["fields"]
    with in_tenant(cast.a.institution):
        assert Membership.objects.get(id=cast.a.author.id).role == "author"


def test_former_staff_have_no_role_to_change(client, cast):
    services.retire_member(cast.a.author)
    url = institution_url(cast.a.institution, f"members/{cast.a.author.id}/")
    assert_error(call(client, "patch", url, {"role": "reviewer"}, member=cast.a.admin), 409)


# Retiring ----------------------------------------------------------------------------------


def test_retiring_a_member_keeps_the_profile_and_revokes_their_tokens(client, cast):
    token_for(cast.a.author, ["read"])
    url = institution_url(cast.a.institution, f"members/{cast.a.author.id}/retire")

    response = call(client, "post", url, member=cast.a.admin)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "former"
    assert response.json()["left_at"]
    with in_tenant(cast.a.institution):
        assert Membership.objects.get(id=cast.a.author.id).is_former
        assert ApiToken.objects.get().revoked_at is not None
    assert_error(call(client, "post", url, member=cast.a.admin), 409)


def test_the_last_admin_cannot_be_retired(client, cast):
    url = institution_url(cast.a.institution, f"members/{cast.a.admin.id}/retire")
    assert_error(call(client, "post", url, member=cast.a.admin), 409, "last_admin")


def test_retire_takes_no_body(client, cast):
    url = institution_url(cast.a.institution, f"members/{cast.a.author.id}/retire")
    response = call(client, "post", url, {"reason": "moved away"}, member=cast.a.admin)
    assert "reason" in assert_error(response, 400)["fields"]
    with in_tenant(cast.a.institution):
        assert Membership.objects.get(id=cast.a.author.id).is_active


def test_a_member_id_beyond_any_row_is_404_not_500(client, cast):
    url = institution_url(cast.a.institution, f"members/{2**70}/")
    assert_error(call(client, "get", url, member=cast.a.admin), 404)


def test_an_unsupported_method_is_405(client, cast):
    url = institution_url(cast.a.institution, f"members/{cast.a.author.id}/")
    response = call(client, "put", url, {"role": "author"}, member=cast.a.admin)
    assert_error(response, 405)
