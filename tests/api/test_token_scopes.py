"""Each token scope is denied every operation outside it (issue 16, check 3).

``REQUIRED_SCOPE`` names, for every operation of the schema, the one scope a token needs for it;
a reviewer reads the API's access rules here in one table. The operations come from the schema,
so a new operation fails ``test_every_operation_of_the_schema_is_in_the_table`` until it is
listed. Each operation is then called by the institution's administrator (whose role allows
everything, so only the token's scope can refuse) with four tokens, one scope each: the three
outside the operation's scope answer 403 ``permission_denied`` in the problem shape; the one
inside is not refused for lack of scope (it may still fail for the state of the world, such as
resuming publishing that is not paused, but never with that 403).
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from drf_spectacular.generators import SchemaGenerator

from accounts import services as accounts_services
from accounts.permissions import PERMISSION_SCOPE, Permission
from accounts.tenancy import tenant_context
from crossposting.models import NetworkAccount
from feeds import services as feeds_services
from tests.accounts.api_client import assert_error
from tests.images import png_bytes
from tests.integrations.conftest import loopback_only  # noqa: F401 (autouse: loopback only)
from tests.integrations.test_idempotency import BODIES, PREFIX, World

pytestmark = pytest.mark.django_db

SCOPES = ("read", "write", "review", "admin")
ANY = "any"  # every scope may call it (the caller's own data, outside any institution)

# (method, path under /api/v1/institutions/{institution_slug}/, or the whole path) -> scope.
REQUIRED_SCOPE: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/me"): ANY,
    # The institution and its people.
    ("GET", "institution"): "read",
    ("PATCH", "institution"): "admin",
    ("GET", "members/"): "read",
    ("GET", "members/{id}/"): "read",
    ("PATCH", "members/{id}/"): "admin",
    ("POST", "members/{id}/retire"): "admin",
    ("GET", "invitations/"): "admin",
    ("POST", "invitations/"): "admin",
    ("GET", "invitations/{id}/"): "admin",
    ("DELETE", "invitations/{id}/"): "admin",
    ("GET", "me/settings"): "read",
    ("PATCH", "me/settings"): "write",
    ("GET", "notices"): "read",
    ("PATCH", "notices"): "write",
    ("GET", "institution/website-check"): "admin",
    ("POST", "institution/website-check"): "admin",
    ("POST", "members/{id}/trust"): "admin",
    ("POST", "members/{id}/untrust"): "admin",
    ("GET", "profile"): "read",
    ("PATCH", "profile"): "write",
    ("GET", "tokens/"): "admin",
    ("POST", "tokens/"): "admin",
    ("GET", "tokens/{id}/"): "admin",
    ("DELETE", "tokens/{id}/"): "admin",
    # Posts and media.
    ("GET", "posts/"): "read",
    ("POST", "posts/"): "write",
    ("GET", "posts/{id}/"): "read",
    ("PATCH", "posts/{id}/"): "write",
    ("DELETE", "posts/{id}/"): "write",
    ("POST", "posts/{id}/submit/"): "write",
    ("POST", "posts/{id}/withdraw/"): "write",
    ("POST", "posts/{id}/discard-correction/"): "write",
    ("POST", "posts/{id}/retract/"): "review",
    ("GET", "posts/{post_id}/targets/"): "write",
    ("POST", "posts/{post_id}/targets/"): "write",
    ("POST", "media/"): "write",
    ("GET", "media/{id}/"): "read",
    # Review, policy and lexicon, publishing.
    ("GET", "review/"): "review",
    ("GET", "review/{id}/"): "review",
    ("POST", "review/{id}/approve/"): "review",
    ("POST", "review/{id}/reject/"): "review",
    ("POST", "review/{id}/request-changes/"): "review",
    ("POST", "review/{id}/retract/"): "review",
    ("POST", "review/{id}/override/"): "admin",
    ("GET", "policy"): "review",
    ("PATCH", "policy"): "admin",
    ("GET", "lexicon/"): "review",
    ("POST", "lexicon/"): "admin",
    ("DELETE", "lexicon/{id}/"): "admin",
    ("POST", "publishing/pause"): "admin",
    ("POST", "publishing/resume"): "review",
    # Network accounts (crossposting.connect): members connect their own, admins the
    # institution's; the role decides which, the scope is write for all.
    ("GET", "networks/"): "write",
    ("GET", "networks/{id}/"): "write",
    ("POST", "networks/connect/"): "write",
    ("POST", "networks/bluesky/"): "write",
    ("POST", "networks/{id}/reauthorise/"): "write",
    ("POST", "networks/{id}/disconnect/"): "write",
    ("POST", "networks/{id}/default/"): "write",
    # Deliveries to the networks.
    ("GET", "deliveries/"): "read",
    ("GET", "deliveries/{id}/"): "read",
    ("POST", "deliveries/{id}/retry/"): "review",
    # Audit log.
    ("GET", "audit/events/"): "admin",
    ("GET", "audit/export"): "admin",
    ("GET", "audit/verify"): "admin",
    # Webhooks.
    ("GET", "webhooks/endpoints/"): "admin",
    ("POST", "webhooks/endpoints/"): "admin",
    ("GET", "webhooks/endpoints/{id}/"): "admin",
    ("PATCH", "webhooks/endpoints/{id}/"): "admin",
    ("DELETE", "webhooks/endpoints/{id}/"): "admin",
    ("POST", "webhooks/endpoints/{id}/rotate-secret"): "admin",
    ("GET", "webhooks/events/"): "admin",
    ("GET", "webhooks/events/{id}/"): "admin",
    ("POST", "webhooks/events/{id}/send-again"): "admin",
}


def schema_operations() -> dict[tuple[str, str], str]:
    """(method, table key) -> operation id, for every operation of the schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path.removeprefix(PREFIX)): operation["operationId"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


OPERATIONS = schema_operations()


def test_every_operation_of_the_schema_is_in_the_table():
    assert sorted(set(OPERATIONS) - set(REQUIRED_SCOPE)) == [], "add them to REQUIRED_SCOPE"
    assert sorted(set(REQUIRED_SCOPE) - set(OPERATIONS)) == [], "no longer in the schema"


def test_the_table_uses_only_the_scopes_tokens_have():
    assert set(REQUIRED_SCOPE.values()) <= {*SCOPES, ANY}
    # Every scope a permission needs guards at least one operation: none is dead weight.
    assert set(PERMISSION_SCOPE.values()) <= set(REQUIRED_SCOPE.values())
    assert PERMISSION_SCOPE[Permission.MANAGE_OWN_TOKENS] == "admin"


class ScopeWorld(World):
    """The idempotency tests' world (an object for every path) with an image as well."""

    def __init__(self, cast):
        super().__init__(cast)
        self.media = feeds_services.upload_media(cast.a.author, png_bytes())

    def _id(self, method: str, tail: str, operation_id: str) -> int:
        if tail.startswith("media/"):
            return self.media.id
        if tail.startswith("networks/"):
            with tenant_context(self.side.institution.id):
                return NetworkAccount.objects.values_list("id", flat=True).first()
        return super()._id(method, tail, operation_id)

    def url(self, method: str, key: str, operation_id: str) -> str:
        if key.startswith("/"):
            return key
        key = key.replace("{post_id}", str(self.draft.id))
        return self.path_for(method, PREFIX + key, operation_id)


def _send(client, method: str, url: str, secret: str, operation_id: str):
    headers = {"Authorization": f"Bearer {secret}"}
    if operation_id == "institutions_media_create":
        image = SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")
        data = encode_multipart(BOUNDARY, {"file": image})
        return client.generic(
            method, url, data=data, content_type=MULTIPART_CONTENT, headers=headers
        )
    body = None if method in ("GET", "DELETE") else BODIES.get(operation_id, {})
    if operation_id == "institutions_tokens_create":
        # A token grants at most its own scopes: the admin-scoped token makes an admin token.
        body = {**body, "scopes": ["admin"]}
    data = "" if body is None else json.dumps(body)
    return client.generic(method, url, data=data, content_type="application/json", headers=headers)


def _denied_for_scope(response) -> bool:
    if response.status_code != 403:
        return False
    return response.json()["code"] == "permission_denied"


def _check(client, world: ScopeWorld, secrets: dict, method: str, key: str) -> list[str]:
    """Call one operation with each scope's token; what went against the table, if anything."""
    operation_id = OPERATIONS[(method, key)]
    url = world.url(method, key, operation_id)
    required = REQUIRED_SCOPE[(method, key)]
    problems = []
    # The refusals first: they change nothing, so the world is intact for the allowed call.
    outside = [scope for scope in SCOPES if required not in (scope, ANY)]
    for scope in outside:
        response = _send(client, method, url, secrets[scope], operation_id)
        try:
            assert_error(response, 403, "permission_denied")
            assert "needs: " in response.json()["detail"]
        except AssertionError:
            problems.append(f"{method} {key} with {scope}: {response.status_code} (not refused)")
    inside = SCOPES if required == ANY else (required,)
    for scope in inside:
        response = _send(client, method, url, secrets[scope], operation_id)
        if response.status_code >= 500 or _denied_for_scope(response):
            problems.append(f"{method} {key} with {scope}: {response.status_code} (refused)")
    return problems


def _scoped_tokens(cast) -> dict[str, str]:
    """One token per scope, all of the administrator, whose role allows every operation."""
    return {
        scope: accounts_services.create_token(cast.a.admin, name=scope, scopes=[scope])[1]
        for scope in SCOPES
    }


READS = sorted(operation for operation in REQUIRED_SCOPE if operation[0] == "GET")
WRITES = sorted(operation for operation in REQUIRED_SCOPE if operation[0] != "GET")


def test_a_token_is_denied_every_read_outside_its_scope(cast, client):
    """Reads change nothing, so they share one world."""
    world, secrets = ScopeWorld(cast), _scoped_tokens(cast)
    problems = [
        problem for method, key in READS for problem in _check(client, world, secrets, method, key)
    ]
    assert problems == []


@pytest.mark.parametrize(("method", "key"), WRITES, ids=[f"{m} {k}" for m, k in WRITES])
def test_a_token_is_denied_every_write_outside_its_scope(cast, client, method, key):
    """Each write gets a world of its own: the allowed call may change it."""
    world, secrets = ScopeWorld(cast), _scoped_tokens(cast)
    assert _check(client, world, secrets, method, key) == []
