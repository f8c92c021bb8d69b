"""Signing in and out, passwords, the dashboard, account settings and the shared layout."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_in_page_asks_for_email_and_password(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="email"' in html
    assert 'type="password"' in html
    assert 'for="id_username"' in html


def test_member_signs_in_with_email_in_any_case_and_lands_on_the_dashboard(client, cast):
    user = cast.a.author.user
    response = client.post(
        reverse("accounts:login"), {"username": user.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:home")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_wrong_password_is_refused_with_a_clear_message_and_400(client, cast):
    response = client.post(
        reverse("accounts:login"), {"username": cast.a.author.user.email, "password": "nope"}
    )
    assert response.status_code == 400
    assert "do not match an account" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_sign_in_follows_a_safe_next_address_only(client, cast):
    user = cast.a.author.user
    url = reverse("accounts:login")
    profile = reverse("accounts:profile", args=[cast.a.institution.slug])
    response = client.post(f"{url}?next={profile}", {"username": user.email, "password": PASSWORD})
    assert response["Location"] == profile
    client.logout()
    response = client.post(
        f"{url}?next=https://evil.example/", {"username": user.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("accounts:home")


def test_sign_out_works_by_post_only(client, cast):
    client.force_login(cast.a.author.user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert SESSION_KEY not in client.session


def test_dashboard_needs_sign_in(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_dashboard_lists_the_members_institutions_with_links_by_role(client, cast):
    from accounts.services import add_member

    # The same person is an author at A and an administrator at B.
    person = cast.a.author.user
    add_member(cast.b.institution, person, role="admin", handle="twohats", display_name="Two Hats")
    client.force_login(person)
    html = client.get(reverse("accounts:home")).content.decode()
    assert cast.a.institution.name in html
    assert cast.b.institution.name in html
    assert reverse("accounts:profile", args=[cast.a.institution.slug]) in html
    assert reverse("accounts:members", args=[cast.b.institution.slug]) in html
    assert reverse("accounts:members", args=[cast.a.institution.slug]) not in html


def test_dashboard_explains_what_to_do_without_any_membership(client):
    client.force_login(UserFactory())
    html = client.get(reverse("accounts:home")).content.decode()
    assert "not a member of any institution yet" in html


def test_password_reset_sends_an_email_with_a_working_link(client, cast, mailoutbox, settings):
    settings.PODIUM_BASE_URL = "https://podium.example"
    user = cast.a.author.user
    response = client.post(reverse("accounts:password-reset"), {"email": user.email.upper()})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password-reset-sent")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [user.email]
    assert "\n" not in mail.subject
    link = re.search(r"https://podium\.example(/\S+)", mail.body).group(1)

    # The link leads to a form that sets the new password.
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a fresh long secret 42", "new_password2": "a fresh long secret 42"},
    )
    assert response["Location"] == reverse("accounts:password-reset-complete")
    user.refresh_from_db()
    assert user.check_password("a fresh long secret 42")


def test_password_reset_for_an_unknown_address_reveals_nothing(client, mailoutbox):
    response = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password-reset-sent")
    assert mailoutbox == []


def test_member_changes_their_password(client, cast):
    user = cast.a.author.user
    client.force_login(user)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another long secret 99",
            "new_password2": "another long secret 99",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another long secret 99")
    # Still signed in afterwards.
    assert client.get(reverse("accounts:home")).status_code == 200


def test_password_change_with_the_wrong_old_password_is_refused(client, cast):
    client.force_login(cast.a.author.user)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": "wrong",
            "new_password1": "x y z 1234 abc",
            "new_password2": "x y z 1234 abc",
        },
    )
    assert response.status_code == 400


def test_chosen_language_is_saved_and_used_for_pages(client, cast):
    user = cast.a.author.user
    client.force_login(user)
    response = client.post(reverse("accounts:settings"), {"name": "Ada Author", "language": "de"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.name, user.language) == ("Ada Author", "de")
    response = client.get(reverse("accounts:home"))
    assert response["Content-Language"] == "de"
    assert '<html lang="de"' in response.content.decode()


def test_unknown_language_is_refused(client, cast):
    client.force_login(cast.a.author.user)
    response = client.post(reverse("accounts:settings"), {"name": "", "language": "fr"})
    assert response.status_code == 400
    assert User.objects.get(pk=cast.a.author.user.pk).language == ""


def test_language_switch_in_the_footer_returns_to_the_page(client, cast):
    client.force_login(cast.a.author.user)
    page = reverse("accounts:profile", args=[cast.a.institution.slug])
    response = client.post(reverse("accounts:set-language"), {"language": "de", "next": page})
    assert response["Location"] == page
    assert User.objects.get(pk=cast.a.author.user.pk).language == "de"
    response = client.post(
        reverse("accounts:set-language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("accounts:home")


def test_lang_parameter_switches_the_sign_in_page(client):
    response = client.get(reverse("accounts:login") + "?lang=de")
    assert response["Content-Language"] == "de"
    assert '<html lang="de"' in response.content.decode()


def test_pages_share_one_layout_with_skip_link_and_stylesheet(client, cast):
    client.force_login(cast.a.admin.user)
    html = client.get(reverse("accounts:members", args=[cast.a.institution.slug])).content.decode()
    assert 'href="#main"' in html
    assert 'id="main"' in html
    assert "podium/podium.css" in html
    assert 'name="viewport"' in html
    assert "style=" not in html  # the Content Security Policy forbids inline styles
    assert "<script>" not in html


def test_not_found_page_for_anonymous_readers_sets_no_cookie(client):
    response = client.get("/no-such-institution/nothing-here/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.parametrize("template", ["500.html", "403_csrf.html", "400.html", "403.html"])
def test_error_pages_render_without_a_request(template):
    from django.template import loader

    html = loader.get_template(template).render()
    assert '<html lang="en"' in html
    assert "podium/podium.css" in html


def test_role_without_permission_sees_the_403_page(client, cast):
    client.force_login(cast.a.author.user)
    response = client.get(reverse("accounts:members", args=[cast.a.institution.slug]))
    assert response.status_code == 403
    assert "Your role does not allow this page" in response.content.decode()


def test_repeated_failed_sign_ins_are_refused_for_a_while(client, cast):
    from accounts.auth import SIGN_IN_LIMIT

    email = cast.a.author.user.email
    url = reverse("accounts:login")
    for _ in range(SIGN_IN_LIMIT):
        assert client.post(url, {"username": email, "password": "wrong"}).status_code == 400
    blocked = client.post(url, {"username": email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    # Other people are not affected.
    other = client.post(url, {"username": cast.a.admin.user.email, "password": PASSWORD})
    assert other.status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(client, cast):
    from accounts.auth import SIGN_IN_LIMIT

    email = cast.a.author.user.email
    url = reverse("accounts:login")
    for _ in range(SIGN_IN_LIMIT - 1):
        client.post(url, {"username": email, "password": "wrong"})
    assert client.post(url, {"username": email, "password": PASSWORD}).status_code == 302
    client.logout()
    for _ in range(SIGN_IN_LIMIT - 1):
        client.post(url, {"username": email, "password": "wrong"})
    assert client.post(url, {"username": email, "password": PASSWORD}).status_code == 302
