"""The few views that belong to no app: health check, API docs page, the error handlers.

Under ``/api/`` every error Django answers itself (400, 403, 404, 413, 500) comes out in the
API's one error shape (``accounts.api.errors``); elsewhere Django's pages.
"""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error

from accounts.api.errors import error_for_django, json_error
from accounts.api.problems import api_public_view


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability, for the proxy and compose health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


healthz.tenant_access = "public"


@api_public_view
def api_docs(request: HttpRequest) -> HttpResponse:
    """A self-hosted page that renders the OpenAPI schema (no third-party assets).

    Swagger UI comes from drf-spectacular-sidecar's static files and starts from
    podium/static/podium/api-docs.js, so the page runs under the site-wide CSP unchanged. Public:
    it reads no session; the script picks the CSRF cookie up in the browser.
    """
    context = {"schema_url": reverse("api-schema"), "csrf_cookie_name": settings.CSRF_COOKIE_NAME}
    return render(request, "api_docs.html", context)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def bad_request_error(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400 (and 413 for bodies or field counts over the limits)."""
    if _is_api(request):
        return error_for_django(request, 400, exception)
    return bad_request(request, exception)


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403."""
    if _is_api(request):
        return error_for_django(request, 403, exception)
    return permission_denied(request, exception)


def server_failure(request: HttpRequest) -> HttpResponse:
    """500: logged by Django; the caller learns nothing of the cause."""
    if _is_api(request):
        return error_for_django(request, 500)
    return server_error(request)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: JSON in the API's error shape under /api/, the site's page elsewhere."""
    if not _is_api(request):
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
    return json_error(404, "not_found", message)
