"""The few views that belong to no app: health check and API docs page."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability, for the proxy and compose health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


healthz.tenant_access = "public"


def api_docs(request: HttpRequest) -> HttpResponse:
    """A self-hosted page that renders the OpenAPI schema (no third-party assets)."""
    return render(request, "api_docs.html")


api_docs.tenant_access = "public"
