"""Bearer-token authentication for the API (``Authorization: Bearer pdm_...``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.queries import token_for_secret
from accounts.services import record_token_use

MAX_TOKEN_LENGTH = 100


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Malformed Authorization header: send “Bearer <token>”.")
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(
                _("The token contains invalid characters.")
            ) from error
        if not secret.startswith(ApiToken.PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
            raise exceptions.AuthenticationFailed(
                _("This is not a Podium API token (they start with “pdm_”).")
            )
        token = token_for_secret(secret)
        if token is None or token.membership is None:
            raise exceptions.AuthenticationFailed(_("Unknown token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if not token.is_usable:
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if not token.membership.is_active or not token.membership.user.is_active:
            raise exceptions.AuthenticationFailed(_("The member of this token has left."))
        record_token_use(token)
        return token.membership.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
