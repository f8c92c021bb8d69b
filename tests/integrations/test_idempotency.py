"""Idempotency-Key: every write operation of the schema, retried with its key, changes nothing
and answers as the first time; another body under the same key is refused.

The operations come from the OpenAPI schema, so a new POST, PATCH or DELETE is covered the day
it is added; ``World`` knows how to make an object for each path and a body for each operation.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from drf_spectacular.generators import SchemaGenerator

from accounts import services as accounts_services
from accounts import webhooks
from accounts.models import ApiToken, IdempotencyRecord
from accounts.tenancy import tenant_context
from crossposting import services as crossposting_services
from crossposting.models import Delivery, NetworkAccount
from feeds import services as feeds_services
from feeds.services import PostContent
from moderation import services as moderation_services
from tests.accounts.api_client import token_for
from tests.images import png_bytes
from tests.isolation.test_model_inventory import tenant_models

WRITE_METHODS = ("post", "put", "patch", "delete")
PREFIX = "/api/v1/institutions/{institution_slug}/"


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def write_operations() -> list[tuple[str, str, str]]:
    return sorted(
        (method.upper(), path, operation["operationId"])
        for path, operations in _schema()["paths"].items()
        if path.startswith(PREFIX)
        for method, operation in operations.items()
        if method in WRITE_METHODS
    )


# Bodies by operation id; an operation not listed sends {} (or nothing when it takes no body).
BODIES = {
    "institution_update": {"description": "Updated by an integration"},
    "institutions_invitations_create": {"email": "new.person@example.org", "role": "author"},
    "institutions_lexicon_create": {"term": "embargoed", "kind": "flagged"},
    "institutions_members_partial_update": {"role": "reviewer"},
    "institutions_posts_create": {"body": "Open day on Saturday", "language": "en"},
    "institutions_posts_partial_update": {"body": "Open day on Sunday"},
    "institutions_posts_retract_create": {"reason": "Wrong date"},
    "profile_update": {"job_title": "Head of science"},
    "me_settings_update": {"name": "Maria Meier", "language": "de"},
    "notices_update": {"on_deadline": False},
    "institutions_publishing_pause_create": {"reason": "Checking"},
    "institutions_review_approve_create": {},
    "institutions_review_override_create": {"reason": "Checked by hand"},
    "institutions_review_reject_create": {"reason": "Not for us"},
    "institutions_review_request_changes_create": {"comment": "Add the time"},
    "institutions_review_retract_create": {"reason": "Wrong date"},
    "institutions_tokens_create": {"name": "ci", "scopes": ["read"]},
    "institutions_webhooks_endpoints_create": {
        "url": "https://hooks.example.org/in",
        "event_types": ["post.published"],
    },
    "institutions_webhooks_endpoints_partial_update": {"description": "CMS"},
    "institutions_webhooks_endpoints_rotate_secret_create": {"overlap_hours": 1},
    "institutions_policy_partial_update": {"approval_deadline_hours": 12},
    # Network accounts: no request leaves the machine (X is not set up here; the servers are
    # under a reserved name, refused without a lookup).
    "institutions_networks_connect_create": {"network": "x"},
    "institutions_networks_bluesky_create": {
        "identifier": "school.bsky.social",
        "app_password": "abcd-efgh-ijkl-mnop",
        "server": "pds.example",
    },
    "institutions_networks_default_create": {"use": False},
}
# Who calls each kind of operation: authors write posts, reviewers review, admins the rest.
AUTHOR_PATHS = ("posts/", "media/", "profile")
REVIEWER_PATHS = ("review/",)


class World:
    """Institution A with an object for every path the write operations address."""

    def __init__(self, cast):
        a = self.side = cast.a
        self.author, self.reviewer, self.admin = a.author, a.reviewer, a.admin
        crossposting_services.connect_account(
            a.institution, network="mastodon", handle="@podium",
            base_url="https://mastodon.example.org", secrets={"access_token": "x"},
            remote_user_id="1", default_for_new_posts=True,
        )  # fmt: skip
        # A website to check (institution/website-check); the check itself runs after commit,
        # which a test's transaction never reaches, and names resolve only through the stub.
        type(a.institution).objects.filter(id=a.institution.id).update(
            website="https://school.example.org/"
        )
        self.draft = feeds_services.create_post(a.author, PostContent("A draft", "en"))
        submitted = feeds_services.create_post(a.author, PostContent("Submitted", "en"))
        self.submitted = feeds_services.submit_post(submitted, a.author)
        published = feeds_services.create_post(a.author, PostContent("Published", "en"))
        published = feeds_services.submit_post(published, a.author)
        self.published = feeds_services.approve_post(published, by=a.reviewer)
        corrected = feeds_services.create_post(a.author, PostContent("To correct", "en"))
        corrected = feeds_services.submit_post(corrected, a.author)
        corrected = feeds_services.approve_post(corrected, by=a.reviewer)
        self.correction = feeds_services.edit_post(
            corrected, a.author, PostContent("Corrected", "en")
        )
        self.invitation, _secret = accounts_services.invite_member(
            a.institution, email="invitee@example.org", role="author", invited_by=a.admin
        )
        self.spare_token, _secret = accounts_services.create_token(
            a.admin, name="spare", scopes=["read"]
        )
        self.term = moderation_services.add_lexicon_term(
            a.institution, a.admin, term="secretive", kind="flagged"
        )
        self.endpoint, _secret = webhooks.create_endpoint(
            a.institution,
            a.admin,
            url="https://hooks.example.org/w",
            event_types=["member.retired"],
        )
        accounts_services.retire_member(MembershipFactoryLike.make(a.institution))
        with tenant_context(a.institution.id):
            self.webhook_event = self.endpoint.events.get()
        self.tokens = {
            "author": token_for(a.author),
            "reviewer": token_for(a.reviewer),
            "admin": token_for(a.admin),
        }

    def path_for(self, method: str, path: str, operation_id: str) -> str:
        tail = path.removeprefix(PREFIX)
        slug = self.side.institution.slug
        if "{id}" in tail:
            tail = tail.replace("{id}", str(self._id(method, tail, operation_id)))
        return f"/api/v1/institutions/{slug}/{tail}"

    def _id(self, method: str, tail: str, operation_id: str) -> int:
        resource = tail.split("/", 1)[0]
        if resource == "posts":
            if tail.endswith("withdraw/"):
                return self.submitted.id
            if tail.endswith("discard-correction/"):
                return self.correction.id
            if tail.endswith("retract/"):
                return self.published.id
            return self.draft.id
        if resource == "review":
            return self.submitted.id if "retract" not in tail else self.published.id
        known = {
            "members": self.side.author2.id,
            "invitations": self.invitation.id,
            "tokens": self.spare_token.id,
            "lexicon": self.term.id,
        }
        if resource in known:
            return known[resource]
        if resource == "deliveries":
            with tenant_context(self.side.institution.id):
                return Delivery.objects.filter(post=self.published).values_list("id", flat=True)[0]
        if resource == "networks":
            with tenant_context(self.side.institution.id):
                return NetworkAccount.objects.values_list("id", flat=True).get()
        if tail.startswith("webhooks/endpoints/"):
            return self.endpoint.id
        if tail.startswith("webhooks/events/"):
            return self.webhook_event.id
        pytest.skip(f"teach tests/integrations/test_idempotency.py to make a {resource!r}")

    def token_for(self, path: str) -> str:
        tail = path.removeprefix(PREFIX)
        if tail.endswith("override/"):
            return self.tokens["admin"]
        if tail.startswith(REVIEWER_PATHS) or tail.endswith(("retract/", "resume")):
            return self.tokens["reviewer"]
        if tail.startswith(AUTHOR_PATHS):
            return self.tokens["author"]
        return self.tokens["admin"]


class MembershipFactoryLike:
    @staticmethod
    def make(institution):
        from accounts.models import Role
        from tests.factories import MembershipFactory

        return MembershipFactory(institution=institution, role=Role.AUTHOR)


def _snapshot(institution_id: int) -> dict:
    """Every row of the institution, but the idempotency records and token use times."""
    with tenant_context(institution_id):
        rows = {}
        for model in tenant_models():
            if model is IdempotencyRecord:
                continue
            values = list(model.objects.order_by("pk").values())
            if model is ApiToken:
                for row in values:
                    row.pop("last_used_at")
            rows[model._meta.label] = values
        return rows


def _send(client, method: str, path: str, token: str, key: str, body, multipart=None):
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    if multipart is not None:
        return client.generic(method, path, data=multipart[0], content_type=multipart[1],
                              headers=headers)  # fmt: skip
    data = "" if body is None else json.dumps(body)
    return client.generic(method, path, data=data, content_type="application/json", headers=headers)


def _multipart(client, fields: dict):
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    return encode_multipart(BOUNDARY, fields), MULTIPART_CONTENT


def _body_of(response):
    return response.json() if response.content else None


def _code(response) -> str:
    body = response.json()
    return (body.get("error") or body).get("code", "")


@pytest.mark.parametrize(
    ("method", "path", "operation_id"), write_operations(), ids=lambda value: str(value)
)
def test_retried_write_with_same_key_changes_nothing_and_answers_the_same(
    cast, client, settings, method, path, operation_id
):
    settings.PODIUM_WEBHOOKS_ALLOW_PRIVATE = False
    world = World(cast)
    url = world.path_for(method, path, operation_id)
    token = world.token_for(path)
    body = None if method == "DELETE" else BODIES.get(operation_id, {})
    multipart = None
    if operation_id == "institutions_media_create":
        from django.core.files.uploadedfile import SimpleUploadedFile

        image = SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")
        multipart = _multipart(client, {"file": image})
    if operation_id == "institutions_publishing_resume_create":
        moderation_services.pause_publishing(cast.a.institution, cast.a.admin)
    first = _send(client, method, url, token, "key-1", body, multipart)
    assert first.status_code < 500, first.content
    after_first = _snapshot(cast.a.institution.id)
    if multipart is not None:
        image.seek(0)
        multipart = _multipart(client, {"file": image})
    again = _send(client, method, url, token, "key-1", body, multipart)
    assert again.status_code == first.status_code, (first.content, again.content)
    assert _body_of(again) == _body_of(first)
    assert _snapshot(cast.a.institution.id) == after_first
    if first.status_code >= 400:
        # An error keeps nothing, its key included: the retry ran again and failed the same way.
        assert not again.has_header("Idempotent-Replayed")
        return
    assert again["Idempotent-Replayed"] == "true"
    if method != "DELETE":
        other = {**(body or {}), "x-different": True}
        if multipart is not None:
            image.seek(0)
            multipart = _multipart(client, {"file": image, "x-different": "1"})
        refused = _send(client, method, url, token, "key-1", other, multipart)
        assert refused.status_code == 422, refused.content
        assert _code(refused) == "idempotency_key_reused"
        assert _snapshot(cast.a.institution.id) == after_first


def test_same_key_on_another_path_is_refused(cast, client):
    token = token_for(cast.a.author)
    base = f"/api/v1/institutions/{cast.a.institution.slug}/posts/"
    body = {"body": "One", "language": "en"}
    assert _send(client, "POST", base, token, "k", body).status_code == 201
    assert _send(client, "POST", base + "?x=1", token, "k", body).status_code == 422


def test_keys_are_per_token(cast, client):
    base = f"/api/v1/institutions/{cast.a.institution.slug}/posts/"
    body = {"body": "One", "language": "en"}
    first = _send(client, "POST", base, token_for(cast.a.author), "k", body)
    second = _send(client, "POST", base, token_for(cast.a.author), "k", body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert not second.has_header("Idempotent-Replayed")


def test_records_are_kept_at_least_a_day(cast, client):
    base = f"/api/v1/institutions/{cast.a.institution.slug}/posts/"
    _send(client, "POST", base, token_for(cast.a.author), "k", {"body": "One", "language": "en"})
    with tenant_context(cast.a.institution.id):
        record = IdempotencyRecord.objects.get()
    assert record.expires_at - record.created_at >= timedelta(hours=24)


def test_a_malformed_key_is_refused(cast, client):
    base = f"/api/v1/institutions/{cast.a.institution.slug}/posts/"
    response = _send(client, "POST", base, token_for(cast.a.author), "é" * 3, {"body": "x"})
    assert response.status_code == 400


def test_a_write_that_failed_with_a_server_error_runs_again(cast, client, monkeypatch):
    base = f"/api/v1/institutions/{cast.a.institution.slug}/posts/"
    token = token_for(cast.a.author)
    body = {"body": "One", "language": "en"}
    real = feeds_services.create_post

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(feeds_services, "create_post", broken)
    client.raise_request_exception = False
    assert _send(client, "POST", base, token, "k", body).status_code == 500
    monkeypatch.setattr(feeds_services, "create_post", real)
    response = _send(client, "POST", base, token, "k", body)
    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")


@pytest.mark.postgres_only
def test_a_request_still_running_under_the_key_is_refused(cast, client):
    import psycopg
    from django.db import connection

    from accounts.api.idempotency import LOCK_NAMESPACE, lock_key

    secret = token_for(cast.a.author)
    with tenant_context(cast.a.institution.id):
        token = ApiToken.objects.get(membership=cast.a.author)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    other = psycopg.connect(**params, autocommit=True)
    try:
        # Another request holds the key (the lock a running request holds until it commits).
        other.execute(
            "SELECT pg_advisory_lock(%s, %s)",
            [LOCK_NAMESPACE, lock_key(cast.a.institution.id, f"token:{token.id}", "busy")],
        )
        base = f"/api/v1/institutions/{cast.a.institution.slug}/posts/"
        response = _send(client, "POST", base, secret, "busy", {"body": "x", "language": "en"})
        assert response.status_code == 409
        assert _code(response) == "idempotency_key_in_use"
    finally:
        other.close()


def test_a_stored_first_response_does_not_reveal_a_secret(cast, client):
    base = f"/api/v1/institutions/{cast.a.institution.slug}/tokens/"
    token = token_for(cast.a.admin)
    first = _send(client, "POST", base, token, "k", {"name": "ci", "scopes": ["read"]})
    secret = first.json()["token"]
    with tenant_context(cast.a.institution.id):
        record = IdempotencyRecord.objects.get()
    assert secret not in json.dumps(record.response_body)
    again = _send(client, "POST", base, token, "k", {"name": "ci", "scopes": ["read"]})
    assert again.json()["token"] == secret
