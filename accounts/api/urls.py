"""URLs of the accounts API under /api/v1/ (podium.urls adds the prefix).

Collections and their items end in a slash (``members/``, ``members/<id>/``); singletons and
actions do not (``me``, ``institution``, ``profile``, ``members/<id>/retire``).
"""

from django.urls import path

from accounts.api.audit import AuditEventViewSet
from accounts.api.views import (
    AccountSettingsView,
    InstitutionView,
    InvitationViewSet,
    MemberViewSet,
    MeView,
    ProfileView,
    TokenViewSet,
    WebsiteCheckView,
)
from accounts.api.webhooks import WebhookEndpointViewSet, WebhookEventViewSet

app_name = "accounts_api"

INSTITUTION = "institutions/<slug:institution_slug>/"

urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    path(f"{INSTITUTION}me/settings", AccountSettingsView.as_view(), name="me-settings"),
    path(f"{INSTITUTION}institution", InstitutionView.as_view(), name="institution"),
    path(
        f"{INSTITUTION}institution/website-check",
        WebsiteCheckView.as_view(),
        name="institution-website-check",
    ),
    path(
        f"{INSTITUTION}members/",
        MemberViewSet.as_view({"get": "list"}),
        name="member-list",
    ),
    path(
        f"{INSTITUTION}members/<int:id>/",
        MemberViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="member-detail",
    ),
    path(
        f"{INSTITUTION}members/<int:id>/retire",
        MemberViewSet.as_view({"post": "retire"}),
        name="member-retire",
    ),
    path(f"{INSTITUTION}profile", ProfileView.as_view(), name="profile"),
    path(
        f"{INSTITUTION}invitations/",
        InvitationViewSet.as_view({"get": "list", "post": "create"}),
        name="invitation-list",
    ),
    path(
        f"{INSTITUTION}invitations/<int:id>/",
        InvitationViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="invitation-detail",
    ),
    path(
        f"{INSTITUTION}audit/events/",
        AuditEventViewSet.as_view({"get": "list"}),
        name="audit-event-list",
    ),
    path(
        f"{INSTITUTION}audit/verify",
        AuditEventViewSet.as_view({"get": "verify"}),
        name="audit-verify",
    ),
    path(
        f"{INSTITUTION}audit/export",
        AuditEventViewSet.as_view({"get": "export"}),
        name="audit-export",
    ),
    path(
        f"{INSTITUTION}tokens/",
        TokenViewSet.as_view({"get": "list", "post": "create"}),
        name="token-list",
    ),
    path(
        f"{INSTITUTION}tokens/<int:id>/",
        TokenViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="token-detail",
    ),
    path(
        f"{INSTITUTION}webhooks/endpoints/",
        WebhookEndpointViewSet.as_view({"get": "list", "post": "create"}),
        name="webhook-endpoint-list",
    ),
    path(
        f"{INSTITUTION}webhooks/endpoints/<int:id>/",
        WebhookEndpointViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="webhook-endpoint-detail",
    ),
    path(
        f"{INSTITUTION}webhooks/endpoints/<int:id>/rotate-secret",
        WebhookEndpointViewSet.as_view({"post": "rotate_secret"}),
        name="webhook-endpoint-rotate-secret",
    ),
    path(
        f"{INSTITUTION}webhooks/events/",
        WebhookEventViewSet.as_view({"get": "list"}),
        name="webhook-event-list",
    ),
    path(
        f"{INSTITUTION}webhooks/events/<int:id>/",
        WebhookEventViewSet.as_view({"get": "retrieve"}),
        name="webhook-event-detail",
    ),
    path(
        f"{INSTITUTION}webhooks/events/<int:id>/send-again",
        WebhookEventViewSet.as_view({"post": "send_again"}),
        name="webhook-event-send-again",
    ),
]
