"""Invitations through the API: create, list pending, revoke; the secret travels only by e-mail."""

from __future__ import annotations

import re

import pytest

from accounts import services
from accounts.models import Invitation
from tests.accounts.api_client import assert_error, call, in_tenant, institution_url

pytestmark = pytest.mark.django_db


def _invite(client, cast, body):
    return call(
        client, "post", institution_url(cast.a.institution, "invitations/"), body,
        member=cast.a.admin,
    )  # fmt: skip


def test_an_admin_invites_someone_and_only_the_email_carries_the_secret(
    client, cast, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, cast, {"email": "New.Teacher@Example.org", "role": "reviewer"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at",
        "revoked_at",
    }  # fmt: skip
    assert (body["email"], body["role"], body["invited_by"]) == (
        "new.teacher@example.org", "reviewer", cast.a.admin.id,
    )  # fmt: skip
    with in_tenant(cast.a.institution):
        invitation = Invitation.objects.get(id=body["id"])
    assert invitation.digest not in response.content.decode()

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.teacher@example.org"]
    secret = re.search(r"/invitations/([^/\s]+)/", mailoutbox[0].body).group(1)
    assert services.digest(secret) == invitation.digest
    assert secret not in response.content.decode()


def test_the_role_defaults_to_author(client, cast):
    response = _invite(client, cast, {"email": "someone@example.org"})
    assert response.json()["role"] == "author"


def test_inviting_an_active_member_is_409(client, cast):
    response = _invite(client, cast, {"email": cast.a.author.user.email.upper()})
    error = assert_error(response, 409, "already_member")
    assert "email" in error["fields"]
    with in_tenant(cast.a.institution):
        assert not Invitation.objects.exists()


def test_a_member_of_another_institution_can_be_invited(client, cast):
    response = _invite(client, cast, {"email": cast.b.author.user.email})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({}, "email"),
        ({"email": "x@example.org", "role": "owner"}, "role"),
        ({"email": "x@example.org", "secret": "chosen"}, "secret"),
        ({"email": ["x@example.org"]}, "email"),
    ],
)
def test_a_bad_invitation_is_400_naming_the_field(client, cast, body, field):
    error = assert_error(_invite(client, cast, body), 400)
    assert field in error["fields"]


def test_only_pending_invitations_are_listed(client, cast):
    replaced = _invite(client, cast, {"email": "one@example.org"}).json()
    pending = _invite(client, cast, {"email": "one@example.org"}).json()  # replaces the first
    revoked = _invite(client, cast, {"email": "two@example.org"}).json()
    with in_tenant(cast.a.institution):
        services.revoke_invitation(Invitation.objects.get(id=revoked["id"]))

    response = call(
        client, "get", institution_url(cast.a.institution, "invitations/"), member=cast.a.admin
    )

    assert response.status_code == 200
    listed = [invitation["id"] for invitation in response.json()["results"]]
    assert listed == [pending["id"]]
    assert replaced["id"] not in listed


def test_revoking_an_invitation_twice_is_410_the_second_time(client, cast):
    invitation = _invite(client, cast, {"email": "one@example.org"}).json()
    url = institution_url(cast.a.institution, f"invitations/{invitation['id']}/")

    assert call(client, "delete", url, member=cast.a.admin).status_code == 204
    assert_error(call(client, "delete", url, member=cast.a.admin), 410, "invitation_invalid")
    detail = call(client, "get", url, member=cast.a.admin).json()
    assert detail["revoked_at"] is not None
