"""Every API error is problem details (RFC 9457) as ``application/problem+json``, whichever
part of the stack answers it, and the schema documents it on every operation.

The table below provokes one error from each source that writes one: URL resolution, the tenant
middleware, authentication, the permission map, DRF's method and media-type checks, the parsers,
validation, Django's request-size guards, the throttle, Idempotency-Key, If-Match, domain
errors, Django's 500 handler, the API's public pages and the composer's JSON endpoints.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from accounts import services as accounts_services
from accounts.api import problems
from accounts.api.parsers import MAX_JSON_BYTES
from accounts.errors import DomainError
from tests.accounts.api_client import PROBLEM_MEMBERS, call, institution_url, token_for

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Source:
    name: str
    status: int
    code: str
    provoke: Callable


def _unknown_address(client, cast, monkeypatch):
    return client.get("/api/v1/no/such/endpoint")


def _unknown_institution(client, cast, monkeypatch):
    secret = token_for(cast.a.admin)
    return call(client, "get", "/api/v1/institutions/no-such/members/", token=secret)


def _stranger(client, cast, monkeypatch):
    secret = token_for(cast.b.admin)
    return call(client, "get", institution_url(cast.a.institution, "members/"), token=secret)


def _anonymous(client, cast, monkeypatch):
    return call(client, "get", institution_url(cast.a.institution, "members/"))


def _bad_token(client, cast, monkeypatch):
    url = institution_url(cast.a.institution, "members/")
    return call(client, "get", url, token="pdm_not-a-real-token")


def _scope(client, cast, monkeypatch):
    secret = token_for(cast.a.admin, scopes=("read",))
    url = institution_url(cast.a.institution, "institution")
    return call(client, "patch", url, {"name": "Renamed"}, token=secret)


def _method(client, cast, monkeypatch):
    secret = token_for(cast.a.admin)
    return call(client, "put", institution_url(cast.a.institution, "institution"), {}, token=secret)


def _docs_page_method(client, cast, monkeypatch):
    return client.post("/api/v1/docs/")


def _media_type(client, cast, monkeypatch):
    secret = token_for(cast.a.admin)
    url = institution_url(cast.a.institution, "institution")
    return call(client, "patch", url, token=secret, raw="<a/>", content_type="application/xml")


def _malformed(client, cast, monkeypatch):
    secret = token_for(cast.a.admin)
    url = institution_url(cast.a.institution, "institution")
    return call(client, "patch", url, token=secret, raw="{not json")


def _invalid(client, cast, monkeypatch):
    secret = token_for(cast.a.author)
    return call(client, "post", institution_url(cast.a.institution, "posts/"), {}, token=secret)


def _too_large(client, cast, monkeypatch):
    secret = token_for(cast.a.admin)
    raw = json.dumps({"name": "x" * MAX_JSON_BYTES})
    url = institution_url(cast.a.institution, "institution")
    return call(client, "patch", url, token=secret, raw=raw)


def _too_many_parameters(client, cast, monkeypatch):
    secret = token_for(cast.a.admin)
    query = "&".join(f"p{index}=1" for index in range(1100))
    url = institution_url(cast.a.institution, f"members/?{query}")
    return call(client, "get", url, token=secret)


def _throttled(client, cast, monkeypatch):
    rates = {"user": "1/hour", "anon": "1/hour"}
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)
    secret = token_for(cast.a.admin)
    url = institution_url(cast.a.institution, "members/")
    call(client, "get", url, token=secret)
    return call(client, "get", url, token=secret)


def _idempotency_key_invalid(client, cast, monkeypatch):
    secret = token_for(cast.a.author)
    return client.post(
        institution_url(cast.a.institution, "posts/"),
        data=json.dumps({"body": "Hello", "language": "en"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "ä" * 3},
    )


def _idempotency_key_reused(client, cast, monkeypatch):
    secret = token_for(cast.a.author)
    url = institution_url(cast.a.institution, "posts/")
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "k-1"}
    for body in ("First", "Second"):
        response = client.post(
            url,
            data=json.dumps({"body": body, "language": "en"}),
            content_type="application/json",
            headers=headers,
        )
    return response


def _stale_if_match(client, cast, monkeypatch):
    secret = token_for(cast.a.admin)
    url = institution_url(cast.a.institution, "institution")
    return client.patch(
        url,
        data=json.dumps({"description": "New"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}", "If-Match": '"stale"'},
    )


def _domain_conflict(client, cast, monkeypatch):
    secret = token_for(cast.a.admin)
    url = institution_url(cast.a.institution, "invitations/")
    body = {"email": cast.a.author.user.email, "role": "author"}
    return call(client, "post", url, body, token=secret)


def _domain_gone(client, cast, monkeypatch):
    invitation, _secret = accounts_services.invite_member(
        cast.a.institution, email="gone@example.org", role="author", invited_by=cast.a.admin
    )
    secret = token_for(cast.a.admin)
    url = institution_url(cast.a.institution, f"invitations/{invitation.id}/")
    call(client, "delete", url, token=secret)
    return call(client, "delete", url, token=secret)


def _server_error(client, cast, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("internals")

    monkeypatch.setattr("accounts.api.views.MemberViewSet.list", explode)
    secret = token_for(cast.a.admin)
    url = institution_url(cast.a.institution, "members/")
    return call(Client(raise_request_exception=False), "get", url, token=secret)


def _unknown_problem_type(client, cast, monkeypatch):
    return client.get("/api/v1/problems/no_such_code")


def _composer_upload(client, cast, monkeypatch):
    client.force_login(cast.a.author.user)
    return client.post(f"/{cast.a.institution.slug}/posts/media/", {})


SOURCES = [
    Source("unknown API address (handler404)", 404, "not_found", _unknown_address),
    Source("unknown institution (tenant middleware)", 404, "not_found", _unknown_institution),
    Source("another institution's token (access)", 404, "not_found", _stranger),
    Source("no credentials", 401, "not_authenticated", _anonymous),
    Source("unknown token", 401, "authentication_failed", _bad_token),
    Source("scope missing (permission map)", 403, "permission_denied", _scope),
    Source("method the endpoint lacks (DRF)", 405, "method_not_allowed", _method),
    Source("method a public API page lacks", 405, "method_not_allowed", _docs_page_method),
    Source("unsupported content type", 415, "unsupported_media_type", _media_type),
    Source("malformed JSON (parser)", 400, "parse_error", _malformed),
    Source("invalid input (serializer)", 400, "invalid", _invalid),
    Source("body over the limit (parser)", 413, "too_large", _too_large),
    Source("too many query parameters (Django)", 413, "too_many_fields", _too_many_parameters),
    Source("throttle", 429, "throttled", _throttled),
    Source("malformed Idempotency-Key", 400, "invalid_idempotency_key", _idempotency_key_invalid),
    Source("Idempotency-Key reused", 422, "idempotency_key_reused", _idempotency_key_reused),
    Source("stale If-Match", 412, "precondition_failed", _stale_if_match),
    Source("domain conflict", 409, "already_member", _domain_conflict),
    Source("domain error, gone", 410, "invitation_invalid", _domain_gone),
    Source("unexpected exception (handler500)", 500, "server_error", _server_error),
    Source("unknown problem type", 404, "not_found", _unknown_problem_type),
    Source("composer upload (web JSON endpoint)", 400, "image_invalid", _composer_upload),
]


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.name)
def test_every_error_source_answers_problem_details(client, cast, monkeypatch, source):
    response = source.provoke(client, cast, monkeypatch)
    assert response.status_code == source.status, response.content
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert set(body) == PROBLEM_MEMBERS
    assert body["status"] == response.status_code
    assert body["code"] == source.code
    assert body["type"] == problems.problem_type(source.code)
    assert body["type"].startswith(("https://", "http://"))
    assert body["title"] == str(problems.TITLES[source.code][1])
    assert body["detail"]
    assert isinstance(body["fields"], dict)
    # The v1 body stays, as a deprecated member repeating the same facts.
    assert body["error"] == {
        "code": body["code"],
        "message": body["detail"],
        "fields": body["fields"],
    }
    if response.status_code == 429:
        assert int(response["Retry-After"]) > 0
    if response.status_code == 405:
        assert response["Allow"]


def test_field_errors_name_the_fields(client, cast):
    response = _invalid(client, cast, None)
    body = response.json()
    assert "body" in body["fields"] and body["fields"]["body"][0]


def test_the_title_is_the_same_for_every_error_of_a_code_and_the_detail_says_what_happened(
    client, cast
):
    secret = token_for(cast.a.admin)
    first = call(client, "get", "/api/v1/no/such/endpoint").json()
    second = call(client, "get", "/api/v1/institutions/no-such/members/", token=secret).json()
    assert first["title"] == second["title"] == "Not found"
    assert first["detail"] != second["detail"]


def test_each_type_address_leads_to_a_page_describing_the_code(client, settings):
    code = "precondition_failed"
    address = f"{problems.PROBLEMS_PATH}{code}"
    assert problems.problem_type(code) == settings.PODIUM_BASE_URL + address
    response = client.get(address)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f'id="{code}"' in page and "412" in page and "Resource changed" in page
    listing = client.get(problems.PROBLEMS_PATH).content.decode()
    assert all(f'id="{problem.code}"' in listing for problem in problems.catalogue())


def _import_every_module() -> None:
    """A domain error class is found only once its module is imported: import them all."""
    for package in ("accounts", "feeds", "crossposting", "moderation"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if ".migrations" not in info.name and ".management" not in info.name:
                importlib.import_module(info.name)


def _domain_error_classes() -> list[type[DomainError]]:
    _import_every_module()
    found, pending = [], [DomainError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_domain_error_code_has_a_title_of_its_own():
    """A new domain error gets a title (in TITLES or as its class's ``title``) before it ships;
    the HTTP reason phrase is only the fallback that keeps a forgotten one answering."""
    untitled = sorted(
        f"{cls.__module__}.{cls.__name__} ({cls.code})"
        for cls in _domain_error_classes()
        if cls.code not in problems.TITLES and not getattr(cls, "title", None)
    )
    assert untitled == []


def test_a_code_keeps_one_status_in_the_catalogue():
    statuses: dict[str, set[int]] = {}
    for cls in _domain_error_classes():
        statuses.setdefault(cls.code, set()).add(cls.status)
    for code, (status, _title) in problems.TITLES.items():
        statuses.setdefault(code, set()).add(status)
    # "invalid" is DomainError's default: each subclass that keeps it is a 400 too.
    assert {code: found for code, found in statuses.items() if len(found) > 1} == {}


def test_the_problem_media_type_is_written_in_one_module_only():
    """No view, middleware or handler answers an API error by hand: they call error_body."""
    root = Path(__file__).resolve().parents[2]
    writers = sorted(
        str(path.relative_to(root))
        for folder in ("accounts", "feeds", "podium", "crossposting", "moderation")
        for path in (root / folder).rglob("*.py")
        if '"application/problem+json"' in path.read_text()
    )
    assert writers == ["accounts/api/errors.py", "accounts/api/schema.py"]


# The schema ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return Client().get("/api/v1/schema/?format=json").json()


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation, operations


def test_the_problem_component_has_every_member_and_marks_error_deprecated(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == PROBLEM_MEMBERS
    assert set(problem["properties"]) == PROBLEM_MEMBERS
    assert problem["properties"]["status"]["type"] == "integer"
    assert problem["properties"]["type"]["format"] == "uri"
    assert problem["properties"]["error"]["deprecated"] is True
    assert "application/problem+json" in schema["info"]["description"]
    assert "/api/v1/problems/" in schema["info"]["description"]


def test_every_operation_documents_its_problem_responses(schema):
    """Each operation lists the errors that apply to it, every one a Problem in
    application/problem+json and nothing else."""
    problem = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    missing = []
    for path, method, operation, operations in _operations(schema):
        responses = operation["responses"]
        expected = {"401", "413", "429"}
        if "{institution_slug}" in path:
            expected |= {"403", "404"}
        if method in ("post", "put", "patch", "delete"):
            expected |= {"400", "409", "422"}  # input or Idempotency-Key, still running, reused
        if method in ("post", "put", "patch") and "requestBody" in operation:
            expected.add("415")
        if (
            method in ("put", "patch", "delete")
            and "get" in operations
            and ({"patch", "put"} & set(operations))
        ):
            expected.add("412")  # If-Match on an editable resource
        if not expected <= set(responses):
            missing.append((method.upper(), path, sorted(expected - set(responses))))
        for code, response in responses.items():
            if code[0] in "45":
                assert response["content"] == problem, (method, path, code)
                assert response["description"], (method, path, code)
    assert missing == []


def test_the_idempotency_key_documents_that_a_failed_request_runs_again(schema):
    operation = schema["paths"]["/api/v1/institutions/{institution_slug}/posts/"]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert "Only a successful answer (2xx) is kept and replayed" in header["description"]
    assert "runs again" in header["description"]
