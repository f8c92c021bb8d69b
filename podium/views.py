"""The few views that belong to no app: health check and API docs page."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.publicread import public_view


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability, for the proxy and compose health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


healthz.tenant_access = "public"


@public_view
def api_docs(request: HttpRequest) -> HttpResponse:
    """A self-hosted page that renders the OpenAPI schema (no third-party assets).

    Swagger UI comes from drf-spectacular-sidecar's static files and starts from
    podium/static/podium/api-docs.js, so the page runs under the site-wide CSP unchanged. Public:
    it reads no session; the script picks the CSRF cookie up in the browser.
    """
    context = {"schema_url": reverse("api-schema"), "csrf_cookie_name": settings.CSRF_COOKIE_NAME}
    return render(request, "api_docs.html", context)
