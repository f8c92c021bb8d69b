"""The operators' admin at /ops/: institutions with their members, and e-mail based users."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Institution, Invitation, Role, User
from accounts.tenancy import tenant_context
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = User.objects.create_superuser("ops@example.org", "an operator's long password")
    client.force_login(user)
    return user


def hidden_inputs(html: str) -> dict[str, str]:
    """The hidden fields of a page's form (the inlines' management forms), as a browser sends."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def pending_invitations(institution) -> list[Invitation]:
    with tenant_context(institution.id):
        return [i for i in Invitation.objects.all() if i.is_pending]


def test_operator_creates_an_institution_and_invites_its_first_admin(
    client, operator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_institution_add"),
            {
                "slug": "eastfield-college",
                "name": "Eastfield College",
                "kind": "university",
                "locale": "en",
                "timezone": "Europe/London",
                "accent_color": "#1f5fbf",
                "review_required": "on",
                "search_indexing": "on",
                "first_admin_email": "head@eastfield.example",
                # The add form has no inlines; their management forms are not sent.
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    institution = Institution.objects.get(slug="eastfield-college")
    assert (institution.name, institution.timezone) == ("Eastfield College", "Europe/London")
    [invitation] = pending_invitations(institution)
    assert (invitation.email, invitation.role) == ("head@eastfield.example", Role.ADMIN)
    [mail] = mailoutbox
    assert mail.to == ["head@eastfield.example"]


@pytest.mark.parametrize(
    ("slug", "message"),
    [("ops", "reserved"), ("a-northside", "already exists"), ("Bad Slug", "Enter a valid")],
)
def test_institution_with_a_bad_or_taken_address_is_refused(client, operator, cast, slug, message):
    response = client.post(
        reverse("admin:accounts_institution_add"),
        {
            "slug": slug,
            "name": "X",
            "kind": "school",
            "locale": "en",
            "timezone": "Europe/Berlin",
            "accent_color": "#1f5fbf",
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Institution.objects.count() == 2


def test_institution_page_shows_its_members_read_only(client, operator, cast):
    response = client.get(
        reverse("admin:accounts_institution_change", args=[cast.a.institution.id])
    )
    assert response.status_code == 200
    html = response.content.decode()
    for member in (cast.a.admin, cast.a.reviewer, cast.a.author):
        assert member.handle in html
    assert cast.b.admin.handle not in html
    assert 'name="members-0-handle"' not in html  # read-only: no inputs for members


def test_operator_changes_institution_settings_but_not_its_address(client, operator, cast):
    institution = cast.a.institution
    url = reverse("admin:accounts_institution_change", args=[institution.id])
    data = hidden_inputs(client.get(url).content.decode()) | {
        "name": "Renamed School",
        "kind": "school",
        "locale": "de",
        "timezone": "Europe/Vienna",
        "accent_color": "#123456",
        "review_required": "on",
        "slug": "hijacked",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    institution.refresh_from_db()
    assert (institution.name, institution.locale, institution.timezone) == (
        "Renamed School",
        "de",
        "Europe/Vienna",
    )
    assert institution.slug == "a-northside"


def test_operator_invites_an_admin_to_an_existing_institution(
    client, operator, cast, mailoutbox, django_capture_on_commit_callbacks
):
    url = reverse("admin:accounts_institution_invite", args=[cast.a.institution.id])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "deputy@example.org", "role": "admin"})
    assert response.status_code == 302
    [invitation] = pending_invitations(cast.a.institution)
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "deputy@example.org",
        Role.ADMIN,
        None,
    )
    assert len(mailoutbox) == 1


def test_operator_inviting_an_active_member_gets_a_form_error(client, operator, cast):
    url = reverse("admin:accounts_institution_invite", args=[cast.a.institution.id])
    response = client.post(url, {"email": cast.a.author.user.email, "role": "admin"})
    assert response.status_code == 409
    assert "already a member" in response.content.decode()


def test_institutions_cannot_be_deleted_in_the_admin(client, operator, cast):
    url = reverse("admin:accounts_institution_delete", args=[cast.a.institution.id])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Institution.objects.filter(id=cast.a.institution.id).exists()


def test_tenant_owned_models_have_no_admin_of_their_own(client, operator):
    html = client.get(reverse("admin:index")).content.decode()
    assert "/ops/accounts/membership/" not in html
    assert "/ops/accounts/apitoken/" not in html
    assert "/ops/accounts/invitation/" not in html


def test_operator_creates_a_user_by_email(client, operator):
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "Someone@Example.org",
            "name": "Some One",
            "usable_password": "true",
            "password1": "a long new password 1",
            "password2": "a long new password 1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(email="someone@example.org")
    assert user.check_password("a long new password 1")


def test_duplicate_user_email_in_another_case_is_refused(client, operator):
    UserFactory(email="taken@example.org")
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"email": "TAKEN@example.org", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_user_pages_list_and_show_memberships(client, operator, cast):
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    response = client.get(reverse("admin:accounts_user_change", args=[cast.a.author.user.id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert cast.a.author.user.email in html
    assert cast.a.institution.name in html
    assert 'name="username"' not in html


def test_non_operators_cannot_open_the_admin(client, cast):
    client.force_login(cast.a.admin.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/ops/login/" in response["Location"]
