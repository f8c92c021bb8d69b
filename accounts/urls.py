"""Web pages of accounts: the person's own pages under /accounts/, the rest per institution."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn.views import (
    BeginCredentialRegistrationView,
    CompleteCredentialRegistrationView,
)

from accounts import second_factor, views

# Passkey ceremonies (JSON endpoints of django-otp-webauthn's scripts), under the namespace its
# template tags reverse; podium.urls mounts them at /accounts/passkeys/.
passkey_urls = (
    [
        path(
            "registration/begin/",
            BeginCredentialRegistrationView.as_view(),
            name="credential-registration-begin",
        ),
        path(
            "registration/complete/",
            CompleteCredentialRegistrationView.as_view(),
            name="credential-registration-complete",
        ),
        path(
            "authentication/begin/",
            second_factor.PasskeyBeginAuthentication.as_view(),
            name="credential-authentication-begin",
        ),
        path(
            "authentication/complete/",
            second_factor.PasskeyCompleteAuthentication.as_view(),
            name="credential-authentication-complete",
        ),
        path(
            "jsi18n/",
            JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
            name="js-i18n-catalog",
        ),
    ],
    "otp_webauthn",
)

app_name = "accounts"

urlpatterns = [
    # The signed-in person, outside any institution ("accounts" is a reserved slug).
    path("accounts/", views.home, name="home"),
    path("accounts/sign-in/", views.SignInView.as_view(), name="login"),
    path("accounts/sign-out/", views.SignOutView.as_view(), name="logout"),
    path("accounts/settings/", views.account_settings, name="settings"),
    path("accounts/second-factor/", views.second_factor_settings, name="second-factor"),
    path(
        "accounts/second-factor/verify/",
        views.second_factor_verify,
        name="second-factor-verify",
    ),
    path("accounts/language/", views.set_language, name="set-language"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "accounts/password/reset/sent/",
        views.PasswordResetSentView.as_view(),
        name="password-reset-sent",
    ),
    path(
        "accounts/password/reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    # Inside an institution (TenantMiddleware resolves institution_slug).
    path(
        "<slug:institution_slug>/invitations/<str:secret>/",
        views.accept_invitation,
        name="accept-invitation",
    ),
    path("<slug:institution_slug>/profile/", views.profile, name="profile"),
    path("<slug:institution_slug>/tokens/", views.tokens, name="tokens"),
    path(
        "<slug:institution_slug>/tokens/<int:token_id>/revoke/",
        views.revoke_token,
        name="revoke-token",
    ),
    path("<slug:institution_slug>/manage/members/", views.members, name="members"),
    path(
        "<slug:institution_slug>/manage/members/<int:membership_id>/role/",
        views.change_role,
        name="change-role",
    ),
    path(
        "<slug:institution_slug>/manage/members/<int:membership_id>/retire/",
        views.retire_member,
        name="retire-member",
    ),
    path(
        "<slug:institution_slug>/manage/invitations/<int:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke-invitation",
    ),
    path("<slug:institution_slug>/manage/audit/", views.audit_log, name="audit-log"),
    path(
        "<slug:institution_slug>/manage/audit/export.<str:export_format>",
        views.export_audit_log,
        name="audit-export",
    ),
    path(
        "<slug:institution_slug>/manage/settings/",
        views.institution_settings,
        name="institution-settings",
    ),
    path(
        "<slug:institution_slug>/manage/settings/website-check/",
        views.check_website,
        name="website-check",
    ),
    path("<slug:institution_slug>/manage/webhooks/", views.webhooks, name="webhooks"),
    path(
        "<slug:institution_slug>/manage/webhooks/<int:endpoint_id>/",
        views.webhook_endpoint,
        name="webhook-endpoint",
    ),
    path(
        "<slug:institution_slug>/manage/webhooks/<int:endpoint_id>/rotate/",
        views.rotate_webhook_secret,
        name="webhook-rotate-secret",
    ),
    path(
        "<slug:institution_slug>/manage/webhooks/<int:endpoint_id>/delete/",
        views.delete_webhook_endpoint,
        name="webhook-delete",
    ),
    path(
        "<slug:institution_slug>/manage/webhooks/events/<int:event_id>/send-again/",
        views.send_webhook_event_again,
        name="webhook-send-again",
    ),
]
