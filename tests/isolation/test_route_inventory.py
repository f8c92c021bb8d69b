"""Every route inside an institution, every method, as every role of institution B, with
institution A's ids: 404 (or the 405 the route gives anyone), no change to A's rows, and no
trace of A in the response.

The inventory walks the URLconf, so a new route is covered the day it is added; a route whose
parameters this file cannot fill fails the suite until it is taught how.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts import services as accounts_services
from accounts import webhooks
from accounts.middleware import INSTITUTION_KWARG, view_access
from accounts.models import Role
from accounts.tenancy import tenant_context
from feeds import services as feeds_services
from feeds.services import AttachmentInput, PostContent
from moderation import services as moderation_services
from tests.conftest import Cast
from tests.factories import MembershipFactory
from tests.images import png_bytes
from tests.isolation.test_model_inventory import tenant_models

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MARKERS = ("MARKER-A-POST", "MARKER-A-PERSON", "marker-a-invitee", "MARKER-A-TOKEN")
ROLES_OF_B = ("author", "reviewer", "admin")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def tenant_routes() -> list[tuple[str, URLPattern]]:
    return [
        (route, pattern)
        for route, pattern in _walk(get_resolver().url_patterns)
        if f"<slug:{INSTITUTION_KWARG}>" in route
    ]


class WorldOfA:
    """Institution A with one row of everything, each carrying a marker text."""

    def __init__(self, cast: Cast):
        a = cast.a
        self.cast = cast
        self.person = MembershipFactory(
            institution=a.institution, role=Role.AUTHOR, display_name="MARKER-A-PERSON"
        )
        media = feeds_services.upload_media(self.person, png_bytes())
        content = PostContent(
            "MARKER-A-POST with an image",
            "en",
            attachments=[AttachmentInput(media.id, "MARKER-A-POST image")],
        )
        post = feeds_services.create_post(self.person, content)
        post = feeds_services.submit_post(post, self.person)
        self.post = feeds_services.approve_post(post, by=a.reviewer)
        self.draft = feeds_services.create_post(
            self.person, PostContent("MARKER-A-POST draft", "en")
        )
        self.media = media
        self.invitation, self.secret = accounts_services.invite_member(
            a.institution, email="marker-a-invitee@example.org", role="author", invited_by=a.admin
        )
        self.token, _ = accounts_services.create_token(
            self.person, name="MARKER-A-TOKEN", scopes=["read"]
        )
        self.term = moderation_services.add_lexicon_term(
            a.institution, a.admin, term="marker-a-term", kind="flagged"
        )
        self.webhook_endpoint, _secret = webhooks.create_endpoint(
            a.institution,
            a.admin,
            url="https://marker-a-hooks.example.org/in",
            description="MARKER-A-POST hooks",
            event_types=["post.published"],
        )
        # Published after the endpoint exists: one outbox event for it.
        published = feeds_services.create_post(self.person, PostContent("MARKER-A-POST 2", "en"))
        published = feeds_services.submit_post(published, self.person)
        feeds_services.approve_post(published, by=a.reviewer)
        with tenant_context(a.institution.id):
            self.webhook_event = self.webhook_endpoint.events.get()
        self.delivery = _delivery_of(self.post)

    def kwargs_for(self, route: str, slug: str, missing: bool = False) -> list[dict]:
        """Every way to fill the route's parameters with A's ids, or with ids nobody has."""
        variants = [{INSTITUTION_KWARG: slug}]
        for name in parameters(route):
            if name == INSTITUTION_KWARG:
                continue
            values = self._missing(name, route) if missing else self._values(name, route)
            variants = [{**v, name: value} for v in variants for value in values]
        return variants

    def _missing(self, name: str, route: str) -> list:
        if name in ("fmt", "action", "export_format"):
            return self._values(name, route)
        if name == "handle":
            return ["nobody-here"]
        if name == "secret":
            return ["no-such-invitation-secret"]
        if name == "name":
            return ["posts/no-such-image.png"]
        self._values(name, route)  # the same names are known
        return [2_000_000_000]

    def _values(self, name: str, route: str) -> list:
        if name == "handle":
            return [self.person.handle]
        if name == "secret":
            return [self.secret]
        if name == "fmt":
            return ["atom", "rss", "json"]
        if name == "name":  # a post image's stored name (feeds:post-image)
            return [self.media.image.name, self.media.small.name or self.media.image.name]
        if name == "action":
            return ["submit", "withdraw", "delete", "discard_correction", "retract"]
        if name == "export_format":
            return ["jsonl", "csv"]
        if name == "post_id" or (name == "id" and "/posts/" in route):
            return [self.post.id, self.draft.id]
        if name in ("membership_id",) or (name == "id" and "/members/" in route):
            return [self.person.id]
        if name == "invitation_id" or (name == "id" and "/invitations/" in route):
            return [self.invitation.id]
        if name == "token_id" or (name == "id" and "/tokens/" in route):
            return [self.token.id]
        if name == "id" and "/media/" in route:
            return [self.media.id]
        if name == "id" and "/review/" in route:
            return [self.post.id, self.draft.id]
        if name == "term_id" or (name == "id" and "/lexicon/" in route):
            return [self.term.id]
        if name == "endpoint_id" or (name == "id" and "/webhooks/endpoints/" in route):
            return [self.webhook_endpoint.id]
        if name == "event_id" or (name == "id" and "/webhooks/events/" in route):
            return [self.webhook_event.id]
        if name == "delivery_id" or (name == "id" and "/deliveries/" in route):
            return [self.delivery.id]
        if name == "account_id" or (name == "id" and "/networks/" in route):
            return [self.delivery.account_id]
        raise AssertionError(f"Teach test_route_inventory how to fill <{name}> in {route}")


def _delivery_of(post):
    """A delivery of A's published post to a Mastodon account of A (its payload has the marker)."""
    from django.utils import timezone

    from crossposting import services as crossposting_services
    from crossposting.models import PostTarget

    account = crossposting_services.connect_account(
        post.institution, network="mastodon", handle="@marker", base_url="https://a.example.org",
        secrets={"access_token": "MARKER-A-TOKEN"},
    )  # fmt: skip
    with tenant_context(post.institution_id):
        PostTarget.objects.create(
            institution=post.institution, post=post, revision=post.public_revision, account=account
        )
        [delivery] = crossposting_services.deliveries_for_publication(
            post, post.public_revision, timezone.now()
        )
    return delivery


def parameters(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route)


def _path(route: str, kwargs: dict) -> str:
    def fill(match):
        return str(kwargs[match.group(1)])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, route)


def _snapshot(institution_id: int) -> dict:
    with tenant_context(institution_id):
        return {m._meta.label: list(m.objects.order_by("id").values()) for m in tenant_models()}


def _request(client: Client, member, method: str, path: str):
    client.force_login(member.user)
    body = {} if method == "GET" else {"data": "{}", "content_type": "application/json"}
    response = client.generic(method, path, **body)
    client.logout()
    return response


@pytest.fixture
def world(cast):
    return WorldOfA(cast)


@pytest.mark.parametrize(
    ("route", "pattern"), tenant_routes(), ids=[route for route, _ in tenant_routes()]
)
def test_route_gives_institution_b_nothing_of_a(world, client, route, pattern):
    cast = world.cast
    access = view_access(pattern.callback)
    has_ids = any(
        name not in (INSTITUTION_KWARG, "fmt", "action", "export_format")
        for name in parameters(route)
    )
    before = _snapshot(cast.a.institution.id)
    failures = []

    def check(role, method, path, expected):
        response = _request(client, getattr(cast.b, role), method, path)
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode(errors="replace")
        leaked = [marker for marker in MARKERS if marker in body]
        if (expected is not None and response.status_code != expected) or leaked:
            failures.append(
                f"{role} {method} {path}: {response.status_code} (not {expected}) {leaked}"
            )

    for role in ROLES_OF_B:
        for method in METHODS:
            # 1. A's own address: B's people are not members there. Public pages are public.
            if access not in ("public", "open"):
                for kwargs in world.kwargs_for(route, cast.a.institution.slug):
                    check(role, method, _path(route, kwargs), 404)
            # 2. B's address with A's ids: exactly what an id that exists nowhere gets.
            b_slug = cast.b.institution.slug
            if has_ids:
                missing = world.kwargs_for(route, b_slug, missing=True)[0]
                expected = _request(client, getattr(cast.b, role), method, _path(route, missing))
                assert expected.status_code >= 400, (
                    f"{route} answers {expected.status_code} for a missing id"
                )
                for kwargs in world.kwargs_for(route, b_slug):
                    check(role, method, _path(route, kwargs), expected.status_code)
            else:
                # B's own resource: whatever it answers, nothing of A may appear in it.
                for kwargs in world.kwargs_for(route, b_slug):
                    with transaction.atomic():
                        check(role, method, _path(route, kwargs), None)
                        transaction.set_rollback(True)
    assert failures == []
    assert _snapshot(cast.a.institution.id) == before
