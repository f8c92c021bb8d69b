"""The benchmark's URLconf: every production route plus one trivial view, the reference.

Served through ``bench.settings`` (production settings with this ROOT_URLCONF), so the
reference passes through exactly the middleware stack the public pages pass through, and
production URLs gain nothing.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

TRIVIAL_PATH = "__bench__/trivial"
TRIVIAL_BODY = b"<!doctype html><title>ok</title><p>ok</p>"


def trivial(request: HttpRequest) -> HttpResponse:
    """No database, no template, no server cache: the floor of a Django response."""
    return HttpResponse(TRIVIAL_BODY, content_type="text/html; charset=utf-8")


# Anonymous and sessionless like the public pages (not public_view: never served from the cache).
trivial.tenant_access = "public"

urlpatterns = [
    # First, so that no "<institution_slug>/" route can take the path.
    path(TRIVIAL_PATH, trivial, name="bench-trivial"),
    path("", include("podium.urls")),
]
