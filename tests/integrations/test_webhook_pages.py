"""The webhook pages under /<institution>/manage/webhooks/ (administrators only)."""

from __future__ import annotations

import pytest

from accounts import services as accounts_services
from accounts import webhooks
from accounts.models import WebhookEndpoint, WebhookEvent
from accounts.tenancy import tenant_context


def _page(side, tail: str = "") -> str:
    return f"/{side.institution.slug}/manage/webhooks/{tail}"


def _form(url: str = "https://hooks.example.org/in", **extra) -> dict:
    return {
        "url": url,
        "event_types": ["post.published", "member.retired"],
        "is_active": "on",
        **extra,
    }


@pytest.mark.parametrize("role", ["author", "reviewer"])
def test_only_administrators_see_the_webhook_pages(cast, client, role):
    client.force_login(getattr(cast.a, role).user)
    assert client.get(_page(cast.a)).status_code == 403


def test_admin_registers_an_endpoint_and_sees_its_secret_once(cast, client):
    client.force_login(cast.a.admin.user)
    response = client.post(_page(cast.a), _form())
    assert response.status_code == 200
    assert b"whsec_" in response.content
    assert response["Cache-Control"].startswith("max-age=0")
    with tenant_context(cast.a.institution.id):
        endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["post.published", "member.retired"]
    listing = client.get(_page(cast.a))
    assert b"hooks.example.org" in listing.content and b"whsec_" not in listing.content
    assert b'aria-current="page">Webhooks</a>' in listing.content  # in the navigation


def test_an_unsafe_address_is_refused_on_the_form(cast, client):
    client.force_login(cast.a.admin.user)
    response = client.post(_page(cast.a), _form("http://169.254.169.254/latest"))
    assert response.status_code == 400
    assert b"loopback" in response.content
    with tenant_context(cast.a.institution.id):
        assert not WebhookEndpoint.objects.exists()


def test_endpoint_page_shows_events_and_sends_one_again(cast, client):
    endpoint, _secret = webhooks.create_endpoint(
        cast.a.institution, cast.a.admin, url="https://hooks.example.org/in",
        event_types=["member.retired"],
    )  # fmt: skip
    accounts_services.retire_member(cast.a.author2)
    with tenant_context(cast.a.institution.id):
        event = endpoint.events.get()
    webhooks.deliver(event.id, cast.a.institution.id)  # the name does not resolve: fails
    client.force_login(cast.a.admin.user)
    page = client.get(_page(cast.a, f"{endpoint.id}/"))
    assert page.status_code == 200
    assert b"member.retired" in page.content and b"does not resolve" in page.content
    response = client.post(_page(cast.a, f"events/{event.id}/send-again/"))
    assert response.status_code == 302
    with tenant_context(cast.a.institution.id):
        assert WebhookEvent.objects.get().state == WebhookEvent.State.PENDING


def test_rotating_shows_the_new_secret_and_edit_saves(cast, client):
    endpoint, old = webhooks.create_endpoint(
        cast.a.institution, cast.a.admin, url="https://hooks.example.org/in",
        event_types=["member.retired"],
    )  # fmt: skip
    client.force_login(cast.a.admin.user)
    rotated = client.post(_page(cast.a, f"{endpoint.id}/rotate/"))
    assert rotated.status_code == 200 and b"whsec_" in rotated.content
    assert old.encode() not in rotated.content
    saved = client.post(_page(cast.a, f"{endpoint.id}/"), _form(description="CMS"))
    assert saved.status_code == 302
    with tenant_context(cast.a.institution.id):
        endpoint.refresh_from_db()
    assert endpoint.description == "CMS"
    assert client.post(_page(cast.a, f"{endpoint.id}/delete/")).status_code == 302
    with tenant_context(cast.a.institution.id):
        assert not WebhookEndpoint.objects.exists()


def test_another_institutions_endpoint_is_not_found(cast, client):
    endpoint, _secret = webhooks.create_endpoint(
        cast.a.institution, cast.a.admin, url="https://hooks.example.org/in",
        event_types=["member.retired"],
    )  # fmt: skip
    client.force_login(cast.b.admin.user)
    for tail, method in ((f"{endpoint.id}/", "get"), (f"{endpoint.id}/rotate/", "post"),
                         (f"{endpoint.id}/delete/", "post")):  # fmt: skip
        assert getattr(client, method)(_page(cast.b, tail)).status_code == 404
    with tenant_context(cast.a.institution.id):
        assert WebhookEndpoint.objects.filter(id=endpoint.id).exists()
