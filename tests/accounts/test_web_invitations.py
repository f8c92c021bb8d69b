"""Accepting an invitation: new people, existing accounts, and every way a link can be wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Membership, Role, User
from accounts.tenancy import tenant_context
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual passphrase 7"


def invite(side, email: str, role: str = Role.AUTHOR) -> tuple[Invitation, str]:
    return services.invite_member(side.institution, email=email, role=role, invited_by=side.admin)


def url_of(side, secret: str) -> str:
    return reverse("accounts:accept-invitation", args=[side.institution.slug, secret])


def registration(**overrides) -> dict:
    data = {
        "name": "Nina Newcomer",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "handle": "n.newcomer",
        "display_name": "Nina Newcomer",
        "job_title": "Chemistry teacher",
    }
    return data | overrides


def membership_of(side, email: str) -> Membership | None:
    with tenant_context(side.institution.id):
        return Membership.objects.filter(user__email__iexact=email).first()


def test_invitation_page_shows_institution_and_role(client, cast):
    _invitation, secret = invite(cast.a, "nina@example.org", Role.REVIEWER)
    response = client.get(url_of(cast.a, secret))
    assert response.status_code == 200
    html = response.content.decode()
    assert cast.a.institution.name in html
    assert "Reviewer" in html
    assert "nina@example.org" in html
    assert "no-store" in response["Cache-Control"]


def test_new_person_registers_joins_and_is_signed_in(client, cast):
    _invitation, secret = invite(cast.a, "nina@example.org", Role.REVIEWER)
    response = client.post(url_of(cast.a, secret), registration())
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile", args=[cast.a.institution.slug])
    user = User.objects.get(email="nina@example.org")
    assert user.check_password(NEW_PASSWORD)
    assert user.name == "Nina Newcomer"
    assert client.session[SESSION_KEY] == str(user.pk)
    membership = membership_of(cast.a, "nina@example.org")
    assert (membership.role, membership.handle, membership.job_title) == (
        Role.REVIEWER,
        "n.newcomer",
        "Chemistry teacher",
    )
    # The profile page they land on is theirs.
    assert client.get(response["Location"]).status_code == 200


def test_registration_with_mismatched_passwords_keeps_the_other_answers(client, cast):
    _invitation, secret = invite(cast.a, "nina@example.org")
    response = client.post(url_of(cast.a, secret), registration(password2="something else 1"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "password fields didn" in html
    assert 'value="n.newcomer"' in html
    assert 'value="Chemistry teacher"' in html
    assert not User.objects.filter(email="nina@example.org").exists()


def test_registration_with_a_taken_handle_shows_the_error_and_creates_nothing(client, cast):
    _invitation, secret = invite(cast.a, "nina@example.org")
    response = client.post(url_of(cast.a, secret), registration(handle=cast.a.author.handle))
    assert response.status_code == 409
    html = response.content.decode()
    assert "already taken" in html
    assert 'value="Nina Newcomer"' in html  # nothing typed is lost but the passwords
    assert not User.objects.filter(email="nina@example.org").exists()
    assert SESSION_KEY not in client.session
    # The invitation still works: the person picks another handle.
    response = client.post(url_of(cast.a, secret), registration(handle="nina"))
    assert response.status_code == 302


def test_existing_account_is_asked_to_sign_in_first(client, cast):
    person = UserFactory(email="known@example.org")
    _invitation, secret = invite(cast.a, "Known@Example.org")
    url = url_of(cast.a, secret)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sign in to accept" in html
    assert f"{reverse('accounts:login')}?next={url}" in html.replace("%2F", "/")

    # A POST without signing in creates nothing either.
    response = client.post(url, registration())
    assert membership_of(cast.a, person.email) is None


def test_signed_in_invitee_accepts_with_a_profile(client, cast):
    person = UserFactory(email="known@example.org", name="Karl Known")
    _invitation, secret = invite(cast.a, person.email, Role.AUTHOR)
    client.force_login(person)
    response = client.get(url_of(cast.a, secret))
    assert response.status_code == 200
    assert 'value="Karl Known"' in response.content.decode()  # display name suggested
    assert 'name="password1"' not in response.content.decode()
    response = client.post(
        url_of(cast.a, secret), {"handle": "K.Known", "display_name": "Karl Known"}
    )
    assert response.status_code == 302
    membership = membership_of(cast.a, person.email)
    assert (membership.handle, membership.role) == ("k.known", Role.AUTHOR)


def test_member_of_another_institution_joins_with_the_same_account(client, cast):
    person = cast.b.author.user
    _invitation, secret = invite(cast.a, person.email)
    client.force_login(person)
    response = client.post(url_of(cast.a, secret), {"handle": "again", "display_name": "Again"})
    assert response.status_code == 302
    assert membership_of(cast.a, person.email).handle == "again"


def test_signed_in_invitee_with_a_taken_handle_gets_a_form_error(client, cast):
    person = UserFactory(email="known@example.org")
    _invitation, secret = invite(cast.a, person.email)
    client.force_login(person)
    response = client.post(
        url_of(cast.a, secret),
        {"handle": cast.a.admin.handle, "display_name": "Karl", "job_title": "Nurse"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "already taken" in html
    assert 'value="Nurse"' in html
    assert membership_of(cast.a, person.email) is None


def test_wrong_signed_in_person_gets_a_clear_403(client, cast):
    _invitation, secret = invite(cast.a, "nina@example.org")
    client.force_login(cast.a.author2.user)
    for response in (
        client.get(url_of(cast.a, secret)),
        client.post(url_of(cast.a, secret), {"handle": "x", "display_name": "X"}),
    ):
        assert response.status_code == 403
        html = response.content.decode()
        assert "nina@example.org" in html
        assert "Sign out and continue" in html
    assert membership_of(cast.a, "nina@example.org") is None


def _expired(side, invitation, secret) -> str:
    with tenant_context(side.institution.id):
        Invitation.objects.filter(id=invitation.id).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    return secret


def _used(side, invitation, secret) -> str:
    user = UserFactory(email=invitation.email)
    services.accept_invitation(
        side.institution, secret, user=user, handle="first", display_name="First"
    )
    return secret


def _revoked(side, invitation, secret) -> str:
    services.revoke_invitation(invitation)
    return secret


def _replaced(side, invitation, secret) -> str:
    invite(side, invitation.email)  # a new invitation to the same address replaces it
    return secret


@pytest.mark.parametrize("spoil", [_expired, _used, _revoked, _replaced])
def test_unusable_invitation_answers_410_with_an_explanation(client, cast, spoil):
    invitation, secret = invite(cast.a, "nina@example.org")
    url = url_of(cast.a, spoil(cast.a, invitation, secret))
    for response in (client.get(url), client.post(url, registration(handle="late"))):
        assert response.status_code == 410
        assert "can no longer be used" in response.content.decode()
    with tenant_context(cast.a.institution.id):
        assert not Membership.objects.filter(handle="late").exists()


def test_unknown_invitation_link_answers_404(client, cast):
    url = url_of(cast.a, "not-a-real-secret")
    for response in (client.get(url), client.post(url, registration(handle="late"))):
        assert response.status_code == 404
        assert "not valid" in response.content.decode()


def test_reused_link_answers_410_after_acceptance(client, cast):
    _invitation, secret = invite(cast.a, "nina@example.org")
    assert client.post(url_of(cast.a, secret), registration()).status_code == 302
    client.logout()
    assert client.get(url_of(cast.a, secret)).status_code == 410


def test_invitation_of_one_institution_does_not_open_another(client, cast):
    _invitation, secret = invite(cast.a, "nina@example.org")
    response = client.get(url_of(cast.b, secret))
    assert response.status_code == 404  # an unknown link there, like any other
    assert cast.a.institution.name not in response.content.decode()


def test_sign_in_from_the_invitation_returns_to_it(client, cast):
    person = UserFactory(email="known@example.org")
    _invitation, secret = invite(cast.a, person.email)
    url = url_of(cast.a, secret)
    response = client.post(
        f"{reverse('accounts:login')}?next={url}", {"username": person.email, "password": PASSWORD}
    )
    assert response["Location"] == url
