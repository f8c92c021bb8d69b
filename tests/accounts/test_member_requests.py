"""Members' pages read the session, the person, the membership and the institution afresh on
every request (one query for the last three once the institution is known): a change of role,
a retirement, a password change, a locked account, a moved institution address or an emergency
stop shows on the very next request."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Institution, Role, User
from accounts.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def queue_url(institution: Institution) -> str:
    return reverse("moderation:queue", args=[institution.slug])


def my_posts_url(institution: Institution) -> str:
    return reverse("feeds:my-posts", args=[institution.slug])


def signed_in(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def warm(client: Client, url: str) -> None:
    """Two requests: after them the institution of the address is known to the process."""
    for _request in range(2):
        assert client.get(url).status_code == 200


def test_reviewer_made_author_loses_the_queue_on_the_next_request(cast):
    client = signed_in(cast.a.reviewer)
    warm(client, queue_url(cast.a.institution))
    services.change_role(cast.a.reviewer, Role.AUTHOR)
    assert client.get(queue_url(cast.a.institution)).status_code == 403
    assert client.get(my_posts_url(cast.a.institution)).status_code == 200


def test_author_made_reviewer_sees_the_queue_on_the_next_request(cast):
    client = signed_in(cast.a.author)
    warm(client, my_posts_url(cast.a.institution))
    assert client.get(queue_url(cast.a.institution)).status_code == 403
    services.change_role(cast.a.author, Role.REVIEWER)
    page = client.get(queue_url(cast.a.institution))
    assert page.status_code == 200
    assert 'id="nav-review"' in page.content.decode()


def test_retired_member_gets_not_found_on_the_next_request(cast):
    client = signed_in(cast.a.author)
    warm(client, my_posts_url(cast.a.institution))
    services.retire_member(cast.a.author)
    assert client.get(my_posts_url(cast.a.institution)).status_code == 404


def test_member_of_one_institution_gets_not_found_in_the_other(cast):
    client = signed_in(cast.a.reviewer)
    warm(client, queue_url(cast.a.institution))
    assert signed_in(cast.b.reviewer).get(queue_url(cast.b.institution)).status_code == 200
    assert client.get(queue_url(cast.b.institution)).status_code == 404
    assert client.get(queue_url(cast.a.institution)).status_code == 200


def test_password_changed_elsewhere_signs_the_session_out(cast):
    client = signed_in(cast.a.author)
    warm(client, my_posts_url(cast.a.institution))
    user = User.objects.get(id=cast.a.author.user_id)
    user.set_password("a new and long passphrase")
    user.save()
    response = client.get(my_posts_url(cast.a.institution))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_deactivated_account_is_signed_out(cast):
    client = signed_in(cast.a.author)
    warm(client, my_posts_url(cast.a.institution))
    User.objects.filter(id=cast.a.author.user_id).update(is_active=False)
    response = client.get(my_posts_url(cast.a.institution))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_signed_out_session_reaches_no_member_page(cast):
    client = signed_in(cast.a.author)
    warm(client, my_posts_url(cast.a.institution))
    client.post(reverse("accounts:logout"))
    response = client.get(my_posts_url(cast.a.institution))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_address_given_to_another_institution_shows_that_institution(cast):
    """The institution an address named before is only a guess: when the address now names
    another institution, its members get its pages and the earlier members a 404."""
    slug_a, slug_b = cast.a.institution.slug, cast.b.institution.slug
    a_client, b_client = signed_in(cast.a.author), signed_in(cast.b.author)
    warm(a_client, my_posts_url(cast.a.institution))
    Institution.objects.filter(id=cast.a.institution.id).update(slug="a-moved")
    Institution.objects.filter(id=cast.b.institution.id).update(slug=slug_a)
    assert a_client.get(reverse("feeds:my-posts", args=[slug_a])).status_code == 404
    page = b_client.get(reverse("feeds:my-posts", args=[slug_a]))
    assert page.status_code == 200
    assert cast.b.institution.name in page.content.decode()
    assert a_client.get(reverse("feeds:my-posts", args=["a-moved"])).status_code == 200
    assert b_client.get(reverse("feeds:my-posts", args=[slug_b])).status_code == 404


def test_emergency_stop_shows_on_the_next_member_page(cast):
    client = signed_in(cast.a.author)
    warm(client, my_posts_url(cast.a.institution))
    assert (
        'id="publishing-paused"'
        not in client.get(my_posts_url(cast.a.institution)).content.decode()
    )
    with tenant_context(cast.a.institution.id):
        Institution.objects.filter(id=cast.a.institution.id).update(publishing_paused=True)
    page = client.get(my_posts_url(cast.a.institution)).content.decode()
    assert 'id="publishing-paused"' in page
