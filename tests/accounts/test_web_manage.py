"""Institution administration pages: members, invitations, roles, former staff, settings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Institution, Invitation, Membership, Role
from accounts.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def members_url(side) -> str:
    return reverse("accounts:members", args=[side.institution.slug])


def settings_url(side) -> str:
    return reverse("accounts:institution-settings", args=[side.institution.slug])


def role_url(side, membership) -> str:
    return reverse("accounts:change-role", args=[side.institution.slug, membership.id])


def retire_url(side, membership) -> str:
    return reverse("accounts:retire-member", args=[side.institution.slug, membership.id])


def reload(membership: Membership) -> Membership:
    with tenant_context(membership.institution_id):
        return Membership.objects.get(id=membership.id)


def pending_invitations(side) -> list[Invitation]:
    with tenant_context(side.institution.id):
        return [i for i in Invitation.objects.all() if i.is_pending]


def settings_data(institution: Institution, **overrides) -> dict:
    data = {
        "name": institution.name,
        "kind": institution.kind,
        "locale": institution.locale,
        "timezone": institution.timezone,
        "description": institution.description,
        "contact_email": institution.contact_email,
        "contact_phone": institution.contact_phone,
        "website": institution.website,
        "address": institution.address,
        "accent_color": institution.accent_color,
        "review_required": "on" if institution.review_required else "",
        "search_indexing": "on" if institution.search_indexing else "",
    }
    return data | overrides


# Who may open the pages --------------------------------------------------------------------

ADMIN_PAGES = [
    ("get", lambda s: members_url(s)),
    ("post", lambda s: members_url(s)),
    ("get", lambda s: settings_url(s)),
    ("post", lambda s: settings_url(s)),
    ("post", lambda s: role_url(s, s.author)),
    ("get", lambda s: retire_url(s, s.author)),
    ("post", lambda s: retire_url(s, s.author)),
]


@pytest.mark.parametrize("role", ["author", "reviewer"])
@pytest.mark.parametrize(("method", "url"), ADMIN_PAGES)
def test_members_without_the_admin_role_get_403_and_change_nothing(client, cast, role, method, url):
    client.force_login(getattr(cast.a, role).user)
    response = getattr(client, method)(url(cast.a), {"role": "admin", "email": "x@example.org"})
    assert response.status_code == 403
    assert reload(cast.a.author).role == Role.AUTHOR
    assert reload(cast.a.author).is_active
    assert pending_invitations(cast.a) == []


@pytest.mark.parametrize(("method", "url"), ADMIN_PAGES)
def test_admin_of_the_other_institution_gets_404(client, cast, method, url):
    client.force_login(cast.b.admin.user)
    response = getattr(client, method)(url(cast.a), {"role": "admin", "email": "x@example.org"})
    assert response.status_code == 404
    assert cast.a.institution.name not in response.content.decode()
    assert reload(cast.a.author).role == Role.AUTHOR


@pytest.mark.parametrize(
    "url",
    [
        lambda a, b: role_url(a, b.author),
        lambda a, b: retire_url(a, b.author),
    ],
)
def test_member_ids_of_the_other_institution_are_not_found(client, cast, url):
    client.force_login(cast.a.admin.user)
    response = client.post(url(cast.a, cast.b), {"role": "admin"})
    assert response.status_code == 404
    assert reload(cast.b.author).role == Role.AUTHOR
    assert reload(cast.b.author).is_active


def test_anonymous_visitor_is_sent_to_sign_in(client, cast):
    response = client.get(members_url(cast.a))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# Members -----------------------------------------------------------------------------------


def test_admin_sees_members_former_staff_and_pending_invitations(client, cast):
    services.retire_member(cast.a.author2)
    services.invite_member(
        cast.a.institution, email="pending@example.org", role=Role.REVIEWER, invited_by=None
    )
    client.force_login(cast.a.admin.user)
    html = client.get(members_url(cast.a)).content.decode()
    for member in (cast.a.admin, cast.a.reviewer, cast.a.author, cast.a.author2):
        assert f"@{member.handle}" in html
    former_staff_section = html.rsplit("Former staff", 1)[1]
    assert f"@{cast.a.author2.handle}" in former_staff_section
    assert "pending@example.org" in html
    assert cast.b.admin.handle not in html


def test_admin_invites_someone_by_email(
    client, cast, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(cast.a.admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            members_url(cast.a), {"email": "New@Example.org", "role": "reviewer"}
        )
    assert response.status_code == 302
    [invitation] = pending_invitations(cast.a)
    assert (invitation.email, invitation.role) == ("new@example.org", Role.REVIEWER)
    assert invitation.invited_by_id == cast.a.admin.id
    [mail] = mailoutbox
    assert mail.to == ["new@example.org"]
    assert cast.a.institution.name in mail.subject
    assert f"/{cast.a.institution.slug}/invitations/" in mail.body
    assert "Reviewer" in mail.body
    assert "{%" not in mail.body and "&#" not in mail.body
    # The page confirms it.
    assert "new@example.org" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"email": "not-an-address", "role": "author"}, 400, "valid email"),
        ({"email": "x@example.org", "role": "owner"}, 400, "valid choice"),
        ({"email": "", "role": "author"}, 400, "required"),
    ],
)
def test_bad_invitation_input_is_refused(client, cast, data, status, message):
    client.force_login(cast.a.admin.user)
    response = client.post(members_url(cast.a), data)
    assert response.status_code == status
    assert message in response.content.decode()
    assert pending_invitations(cast.a) == []


def test_inviting_an_active_member_is_a_form_error(client, cast):
    client.force_login(cast.a.admin.user)
    response = client.post(
        members_url(cast.a), {"email": cast.a.author.user.email, "role": "author"}
    )
    assert response.status_code == 409
    assert "already a member" in response.content.decode()


def test_admin_withdraws_an_invitation(client, cast):
    invitation, _secret = services.invite_member(
        cast.a.institution, email="pending@example.org", role=Role.AUTHOR, invited_by=None
    )
    client.force_login(cast.a.admin.user)
    url = reverse("accounts:revoke-invitation", args=[cast.a.institution.slug, invitation.id])
    response = client.post(url)
    assert response.status_code == 302
    assert pending_invitations(cast.a) == []
    # Twice: the page says it is no longer pending, with 410.
    response = client.post(url)
    assert response.status_code == 410
    assert "was revoked or has already been used" in response.content.decode()


def test_invitation_of_the_other_institution_cannot_be_withdrawn(client, cast):
    invitation, _secret = services.invite_member(
        cast.b.institution, email="pending@example.org", role=Role.AUTHOR, invited_by=None
    )
    client.force_login(cast.a.admin.user)
    url = reverse("accounts:revoke-invitation", args=[cast.a.institution.slug, invitation.id])
    assert client.post(url).status_code == 404
    assert len(pending_invitations(cast.b)) == 1


def test_admin_changes_a_members_role(client, cast):
    client.force_login(cast.a.admin.user)
    response = client.post(role_url(cast.a, cast.a.author), {"role": "reviewer"})
    assert response.status_code == 302
    assert reload(cast.a.author).role == Role.REVIEWER


def test_unknown_role_is_refused(client, cast):
    client.force_login(cast.a.admin.user)
    response = client.post(role_url(cast.a, cast.a.author), {"role": "owner"})
    assert response.status_code == 400
    assert reload(cast.a.author).role == Role.AUTHOR


def test_last_admin_cannot_give_up_the_role(client, cast):
    client.force_login(cast.a.admin.user)
    response = client.post(role_url(cast.a, cast.a.admin), {"role": "author"})
    assert response.status_code == 409
    assert "at least one active administrator" in response.content.decode()
    assert reload(cast.a.admin).role == Role.ADMIN


def test_admin_who_gives_up_the_role_while_another_stays_goes_to_the_dashboard(client, cast):
    services.change_role(cast.a.reviewer, Role.ADMIN)
    client.force_login(cast.a.admin.user)
    response = client.post(role_url(cast.a, cast.a.admin), {"role": "author"})
    assert response["Location"] == reverse("accounts:home")
    assert reload(cast.a.admin).role == Role.AUTHOR


def test_retiring_asks_for_confirmation_first(client, cast):
    client.force_login(cast.a.admin.user)
    response = client.get(retire_url(cast.a, cast.a.author))
    assert response.status_code == 200
    html = response.content.decode()
    assert cast.a.author.display_name in html
    assert "former staff" in html
    assert reload(cast.a.author).is_active


def test_admin_retires_a_member_who_becomes_former_staff(client, cast):
    client.force_login(cast.a.admin.user)
    response = client.post(retire_url(cast.a, cast.a.author))
    assert response.status_code == 302
    retired = reload(cast.a.author)
    assert retired.is_former
    assert retired.left_at is not None
    assert retired.handle == cast.a.author.handle  # the profile stays as a record
    # The retired member can no longer open the institution's pages.
    client.force_login(cast.a.author.user)
    assert (
        client.get(reverse("accounts:profile", args=[cast.a.institution.slug])).status_code == 404
    )


def test_last_admin_cannot_be_retired(client, cast):
    client.force_login(cast.a.admin.user)
    response = client.post(retire_url(cast.a, cast.a.admin))
    assert response.status_code == 409
    assert "at least one active administrator" in response.content.decode()
    assert reload(cast.a.admin).is_active


def test_retiring_former_staff_again_is_a_conflict(client, cast):
    services.retire_member(cast.a.author)
    client.force_login(cast.a.admin.user)
    assert client.get(retire_url(cast.a, cast.a.author)).status_code == 404
    response = client.post(retire_url(cast.a, cast.a.author))
    assert response.status_code == 409
    assert "already former staff" in response.content.decode()


# Settings ----------------------------------------------------------------------------------


def test_admin_sees_the_settings_with_a_time_zone_list(client, cast):
    client.force_login(cast.a.admin.user)
    response = client.get(settings_url(cast.a))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<select name="timezone"' in html
    assert '<option value="Europe/Berlin" selected>' in html
    assert '<option value="America/Argentina/Buenos_Aires">' in html


def test_admin_changes_the_institution_settings(client, cast):
    institution = cast.a.institution
    client.force_login(cast.a.admin.user)
    data = settings_data(
        institution,
        name="Northside Grammar School",
        timezone="America/New_York",
        locale="de",
        website="northside.example",
        accent_color="#aa3300",
        review_required="",
        search_indexing="",
    )
    response = client.post(settings_url(cast.a), data)
    assert response.status_code == 302
    institution.refresh_from_db()
    assert institution.name == "Northside Grammar School"
    assert institution.timezone == "America/New_York"
    assert institution.locale == "de"
    assert institution.website == "https://northside.example"
    assert institution.accent_color == "#aa3300"
    assert not institution.review_required
    assert not institution.search_indexing
    assert institution.slug == cast.a.institution.slug


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "valid choice"),
        ({"timezone": "+02:00"}, "valid choice"),
        ({"accent_color": "red"}, "#1f6feb"),
        ({"name": ""}, "required"),
        ({"kind": "castle"}, "valid choice"),
        ({"contact_email": "nope"}, "valid email"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(client, cast, changes, message):
    client.force_login(cast.a.admin.user)
    response = client.post(
        settings_url(cast.a), settings_data(cast.a.institution, **({"name": "Changed"} | changes))
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Institution.objects.get(id=cast.a.institution.id).name == "Northside School"


def test_admin_uploads_a_logo(client, cast):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (3000, 1000), "navy").save(buffer, "PNG")
    logo = SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")
    client.force_login(cast.a.admin.user)
    response = client.post(settings_url(cast.a), settings_data(cast.a.institution, logo=logo))
    assert response.status_code == 302
    institution = Institution.objects.get(id=cast.a.institution.id)
    assert institution.logo.name.startswith("logos/")
    with institution.logo.open("rb") as stored:
        assert max(Image.open(stored).size) <= 1200
