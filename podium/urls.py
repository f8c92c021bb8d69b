"""Root URLs: global pages and the API first, then /<institution>/... (public and members).

Institution slugs cannot take the names used here (accounts.models.RESERVED_SLUGS).
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from accounts.api.problems import problems_page
from accounts.api.schema import SchemaView
from accounts.urls import passkey_urls
from feeds.public.views import member_post_image
from podium.views import api_docs, healthz

handler400 = "podium.views.bad_request_error"
handler403 = "podium.views.forbidden"
handler404 = "podium.views.not_found"
handler500 = "podium.views.server_failure"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Post images at their stored address: members only (the public address is per post).
    path("media/posts/<path:name>", member_post_image, name="member-post-image"),
    path("ops/", admin.site.urls),
    path("api/v1/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/v1/docs/", api_docs, name="api-docs"),
    # The problem types every API error body names (accounts.api.problems.PROBLEMS_PATH).
    path("api/v1/problems/", problems_page, name="api-problems"),
    path("api/v1/problems/<slug:code>", problems_page, name="api-problem"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("feeds.api_urls")),
    path("api/v1/", include("moderation.api_urls")),
    path("api/v1/", include("crossposting.api_urls")),
    path("accounts/passkeys/", include(passkey_urls)),
    path("", include("accounts.urls")),
    path("", include("crossposting.urls")),
    path("", include("feeds.urls")),
    path("", include("moderation.urls")),
]

if settings.PODIUM_SERVE_MEDIA:
    # Outside production: Django serves uploads; in production the proxy does.
    urlpatterns.insert(
        # Post images are not here: they follow their post (feeds:post-image).
        0,
        re_path(r"^media/(?P<path>(?!posts/).*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    )
