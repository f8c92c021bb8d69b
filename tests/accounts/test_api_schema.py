"""The OpenAPI schema of the accounts API and the self-hosted docs page."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

ACCOUNTS_OPERATIONS = {
    ("/api/v1/me", "get"),
    ("/api/v1/institutions/{institution_slug}/institution", "get"),
    ("/api/v1/institutions/{institution_slug}/institution", "patch"),
    ("/api/v1/institutions/{institution_slug}/institution/website-check", "get"),
    ("/api/v1/institutions/{institution_slug}/institution/website-check", "post"),
    ("/api/v1/institutions/{institution_slug}/me/settings", "get"),
    ("/api/v1/institutions/{institution_slug}/me/settings", "patch"),
    ("/api/v1/institutions/{institution_slug}/members/", "get"),
    ("/api/v1/institutions/{institution_slug}/members/{id}/", "get"),
    ("/api/v1/institutions/{institution_slug}/members/{id}/", "patch"),
    ("/api/v1/institutions/{institution_slug}/members/{id}/retire", "post"),
    ("/api/v1/institutions/{institution_slug}/profile", "get"),
    ("/api/v1/institutions/{institution_slug}/profile", "patch"),
    ("/api/v1/institutions/{institution_slug}/invitations/", "get"),
    ("/api/v1/institutions/{institution_slug}/invitations/", "post"),
    ("/api/v1/institutions/{institution_slug}/invitations/{id}/", "get"),
    ("/api/v1/institutions/{institution_slug}/invitations/{id}/", "delete"),
    ("/api/v1/institutions/{institution_slug}/tokens/", "get"),
    ("/api/v1/institutions/{institution_slug}/tokens/", "post"),
    ("/api/v1/institutions/{institution_slug}/tokens/{id}/", "get"),
    ("/api/v1/institutions/{institution_slug}/tokens/{id}/", "delete"),
    ("/api/v1/institutions/{institution_slug}/audit/events/", "get"),
    ("/api/v1/institutions/{institution_slug}/audit/verify", "get"),
    ("/api/v1/institutions/{institution_slug}/audit/export", "get"),
    ("/api/v1/institutions/{institution_slug}/webhooks/endpoints/", "get"),
    ("/api/v1/institutions/{institution_slug}/webhooks/endpoints/", "post"),
    ("/api/v1/institutions/{institution_slug}/webhooks/endpoints/{id}/", "get"),
    ("/api/v1/institutions/{institution_slug}/webhooks/endpoints/{id}/", "patch"),
    ("/api/v1/institutions/{institution_slug}/webhooks/endpoints/{id}/", "delete"),
    ("/api/v1/institutions/{institution_slug}/webhooks/endpoints/{id}/rotate-secret", "post"),
    ("/api/v1/institutions/{institution_slug}/webhooks/events/", "get"),
    ("/api/v1/institutions/{institution_slug}/webhooks/events/{id}/", "get"),
    ("/api/v1/institutions/{institution_slug}/webhooks/events/{id}/send-again", "post"),
}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    """The schema as served at /api/v1/schema/ (generation needs no database)."""
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def _operations(schema: dict):
    for route, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield route, method, operation


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_the_schema_lists_every_accounts_endpoint(schema):
    listed = {(route, method) for route, method, _operation in _operations(schema)}
    assert listed >= ACCOUNTS_OPERATIONS


def test_bearer_tokens_are_declared_and_required_by_every_accounts_endpoint(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "pdm_…",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for route, method, operation in _operations(schema):
        if (route, method) in ACCOUNTS_OPERATIONS:
            assert {"bearerAuth": []} in operation["security"], (route, method)
            assert {} not in operation["security"], (route, method)  # never anonymous


def test_every_accounts_operation_is_tagged_and_documents_its_errors(schema):
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for route, method, operation in _operations(schema):
        if (route, method) not in ACCOUNTS_OPERATIONS:
            continue
        assert operation["tags"], (route, method)
        responses = operation["responses"]
        assert "401" in responses
        if "{institution_slug}" in route:
            assert {"403", "404"} <= set(responses), (route, method)
        if method in {"post", "patch"}:
            assert {"400", "415"} <= set(responses), (route, method)
        for code, response in responses.items():
            if code.startswith("4"):
                assert response["content"] == problem


def test_request_and_response_bodies_have_their_schemas(schema):
    paths = schema["paths"]
    prefix = "/api/v1/institutions/{institution_slug}/"
    token_create = paths[prefix + "tokens/"]["post"]
    assert token_create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenCreated"
    }
    assert "token" in schema["components"]["schemas"]["TokenCreated"]["properties"]
    assert "token" not in schema["components"]["schemas"]["Token"]["properties"]
    assert set(paths[prefix + "profile"]["patch"]["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }
    members = paths[prefix + "members/"]["get"]
    assert {p["name"] for p in members["parameters"]} >= {"role", "status", "cursor"}
    assert paths[prefix + "members/{id}/"]["patch"]["responses"]["409"]
    institution = schema["components"]["schemas"]["PatchedInstitutionRequest"]["properties"]
    assert "slug" not in institution
    assert "publishing_paused" not in institution


def test_the_accounts_endpoints_generate_without_warnings():
    """What ``manage.py spectacular --fail-on-warn`` checks, for the accounts URLs alone."""
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("accounts.api.urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS, "drf-spectacular emitted warnings; run manage.py spectacular"
    validate_schema(schema)
    assert {(r, m) for r, m, _o in _operations(schema)} == ACCOUNTS_OPERATIONS


# The docs page -----------------------------------------------------------------------------


def test_the_docs_page_is_public_self_hosted_and_under_the_strict_csp(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    assert "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")
    assert "public" in response["Cache-Control"]
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe" not in csp

    html = response.content.decode()
    assert "<script>" not in html
    assert " style=" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), f"third-party asset: {asset}"
    static = [a.removeprefix("/static/") for a in assets if a.startswith("/static/")]
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in static
    assert "podium/api-docs.js" in static
    for name in static:
        assert finders.find(name), f"missing static file {name}"
    assert 'data-schema-url="/api/v1/schema/?format=json"' in html


def test_the_docs_page_speaks_the_requested_language(client):
    response = client.get("/api/v1/docs/?lang=de")
    assert response.status_code == 200
    assert '<html lang="de">' in response.content.decode()


@pytest.mark.browser
def test_swagger_ui_renders_every_operation_without_csp_violations(live_server):
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: problems.append(message.text) if "CSP" in message.text else None,
            )
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation', e => console.error("
                "'CSP violation', e.violatedDirective, e.blockedURI))"
            )
            page.goto(f"{live_server.url}/api/v1/docs/")
            page.wait_for_selector(".opblock", timeout=20_000)
            operations = page.locator(".opblock").count()
            page.locator(".opblock-summary-control").first.click()
            page.wait_for_selector(".opblock-body", timeout=5_000)
            page.locator(".btn.authorize").click()
            page.wait_for_selector(".modal-ux", timeout=5_000)
        finally:
            browser.close()
    assert operations >= len(ACCOUNTS_OPERATIONS)
    assert problems == []
