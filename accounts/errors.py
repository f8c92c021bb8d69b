"""Domain errors. Each carries its HTTP status and a stable code; one handler renders them.

Other apps subclass ``DomainError`` for their own errors.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message = _("The request could not be carried out.")

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = str(message or self.default_message)
        self.field = field
        super().__init__(self.message)


class NotFound(DomainError):
    """Missing, or belonging to another institution: the two are indistinguishable."""

    status = 404
    code = "not_found"
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    default_message = _("You do not have permission to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("This conflicts with the current state; reload and try again.")


class InvitationInvalid(DomainError):
    status = 410
    code = "invitation_invalid"
    default_message = _("This invitation has expired, was revoked or has already been used.")


class HandleTaken(Conflict):
    code = "handle_taken"
    default_message = _("This handle is already taken in this institution.")


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = _("This person is already a member of the institution.")


class LastAdmin(Conflict):
    code = "last_admin"
    default_message = _("The institution needs at least one active administrator.")
