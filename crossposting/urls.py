"""Web pages of cross-posting, inside an institution."""

from django.urls import path

from crossposting import views
from crossposting.connect import views as connect

app_name = "crossposting"

urlpatterns = [
    path("<slug:institution_slug>/deliveries/", views.dashboard, name="dashboard"),
    path(
        "<slug:institution_slug>/deliveries/posts/<int:post_id>/",
        views.post_deliveries,
        name="post",
    ),
    path(
        "<slug:institution_slug>/posts/<int:post_id>/targets/",
        views.targets,
        name="targets",
    ),
    path(
        "<slug:institution_slug>/deliveries/<int:delivery_id>/retry",
        views.retry,
        name="retry",
    ),
    # Network accounts (crossposting.connect).
    path("<slug:institution_slug>/networks/", connect.networks, name="networks"),
    path("<slug:institution_slug>/networks/connect/", connect.connect, name="connect"),
    path(
        "<slug:institution_slug>/networks/bluesky/",
        connect.connect_bluesky,
        name="connect-bluesky",
    ),
    path(
        "<slug:institution_slug>/networks/<int:account_id>/reauthorise/",
        connect.reauthorise,
        name="account-reauthorise",
    ),
    path(
        "<slug:institution_slug>/networks/<int:account_id>/disconnect/",
        connect.disconnect,
        name="account-disconnect",
    ),
    path(
        "<slug:institution_slug>/networks/<int:account_id>/default/",
        connect.set_default,
        name="account-default",
    ),
    # Bluesky's AT Protocol OAuth client_id address (public, no cookies).
    path(
        "accounts/networks/bluesky/client-metadata.json",
        connect.bluesky_client_metadata,
        name="bluesky-client-metadata",
    ),
    # Every network sends the browser back here (one address to register per network); the
    # signed state names the institution.
    path(
        "accounts/networks/<str:network>/callback/",
        connect.callback,
        name="connect-callback",
    ),
]
