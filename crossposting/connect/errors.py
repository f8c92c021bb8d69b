"""Why connecting an account failed, in words the member can act on (shown on the page, and
rendered by the API's one error handler with the status and code of each class)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.errors import Conflict, DomainError


class ConnectFailed(DomainError):
    """The network or server did not let the account be connected."""

    status = 400
    code = "connect_failed"
    default_message = _("The account could not be connected.")


class ServerUnreachable(ConnectFailed):
    code = "server_unreachable"


class NotThatKindOfServer(ConnectFailed):
    code = "server_not_recognised"


class InvalidServerAddress(ConnectFailed):
    code = "invalid_server_address"


class AuthorisationRefused(ConnectFailed):
    code = "authorisation_refused"


class StateInvalid(ConnectFailed):
    code = "state_invalid"
    default_message = _(
        "This authorisation link is not valid (expired, already used, or started elsewhere). "
        "Start connecting the account again."
    )


class NotConfigured(ConnectFailed):
    status = 409
    code = "network_not_configured"


class AccountTaken(Conflict):
    code = "account_taken"
    default_message = _("This account is already connected by someone else in the institution.")
