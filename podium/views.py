"""The few views that belong to no app: health check, API docs page, the 404 handler."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

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


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: JSON in the API's error shape under /api/, the site's page elsewhere."""
    if not request.path_info.startswith("/api/"):
        return page_not_found(request, exception)
    path = request.path_info
    other = path[:-1] if path.endswith("/") else path + "/"
    try:
        resolve(other)
    except Resolver404:
        message = _("There is no API endpoint at this address; see /api/v1/docs/.")
    else:
        message = _("There is no API endpoint at this address; did you mean %(path)s?") % {
            "path": other
        }
    body = {"error": {"code": "not_found", "message": message, "fields": {}}}
    return JsonResponse(body, status=404)
