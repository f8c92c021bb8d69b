"""The problem types of the API (RFC 9457): one stable ``type`` URI and one title per error code.

Every error body names its code's type, ``<PODIUM_BASE_URL>/api/v1/problems/<code>``, and that
address answers a page describing the code, so the URI an integrator sees in a body leads to its
meaning. ``TITLES`` holds the short, stable, translated title of each code; a domain error of
another app whose code is not listed here may carry its own ``title`` class attribute instead.
A code with neither falls back to the HTTP status's reason phrase (and the catalogue test
fails, so it gets a title before it ships).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from http import HTTPStatus

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.addresses import absolute_url
from accounts.errors import DomainError
from accounts.publicread import public_view

# Code -> (usual HTTP status, title). The status is the one the code normally comes with; a
# body's ``status`` is always the status of the response it is in.
TITLES: dict[str, tuple[int, str]] = {
    # Input and protocol (DRF, parsers, Django's guards).
    "invalid": (400, _("Invalid input")),
    "parse_error": (400, _("Malformed request body")),
    "bad_request": (400, _("Bad request")),
    "bad_cursor": (400, _("Invalid page link")),
    "image_invalid": (400, _("Unreadable image")),
    "publish_time_invalid": (400, _("Invalid publication time")),
    "invalid_webhook": (400, _("Invalid webhook endpoint")),
    "unsafe_address": (400, _("Address not allowed")),
    "invalid_idempotency_key": (400, _("Invalid Idempotency-Key")),
    "bad_sitemap_page": (400, _("Invalid sitemap page")),
    # Connecting network accounts (crossposting.connect.errors).
    "connect_failed": (400, _("Account not connected")),
    "server_unreachable": (400, _("Server unreachable")),
    "server_not_recognised": (400, _("Server not recognised")),
    "invalid_server_address": (400, _("Invalid server address")),
    "authorisation_refused": (400, _("Authorisation refused")),
    "state_invalid": (400, _("Authorisation link not valid")),
    # Who you are and what you may do.
    "not_authenticated": (401, _("Authentication required")),
    "authentication_failed": (401, _("Authentication failed")),
    "permission_denied": (403, _("Permission denied")),
    "not_your_post": (403, _("Not your post")),
    "second_person_required": (403, _("Second person required")),
    "second_factor_required": (403, _("Second factor required")),
    "second_factor_code_required": (403, _("Second-factor code required")),
    "second_factor_code_invalid": (403, _("Second-factor code not accepted")),
    "not_found": (404, _("Not found")),
    "method_not_allowed": (405, _("Method not allowed")),
    "not_acceptable": (406, _("Not acceptable")),
    # State.
    "conflict": (409, _("Conflict with the current state")),
    "handle_taken": (409, _("Handle taken")),
    "already_member": (409, _("Already a member")),
    "last_admin": (409, _("Last administrator")),
    "illegal_transition": (409, _("Not allowed in this state")),
    "already_decided": (409, _("Already decided")),
    "already_approved": (409, _("Already approved")),
    "override_required": (409, _("Override required")),
    "publish_time_needs_confirmation": (409, _("Publication time needs confirmation")),
    "nothing_to_override": (409, _("Nothing to override")),
    "already_paused": (409, _("Publishing already paused")),
    "not_paused": (409, _("Publishing not paused")),
    "not_enough_approvals": (409, _("Not enough approvals")),
    "network_not_configured": (409, _("Network not configured")),
    "account_taken": (409, _("Account already connected")),
    "targets_approved": (409, _("Targets already approved")),
    "idempotency_key_in_use": (409, _("Idempotency-Key in use")),
    "invitation_invalid": (410, _("Invitation no longer valid")),
    "precondition_failed": (412, _("Resource changed")),
    "precondition_required": (428, _("Precondition required")),
    "too_large": (413, _("Request too large")),
    "too_many_fields": (413, _("Too many fields")),
    "image_too_large": (413, _("Image too large")),
    "unsupported_media_type": (415, _("Unsupported media type")),
    "idempotency_key_reused": (422, _("Idempotency-Key reused")),
    "throttled": (429, _("Too many requests")),
    # The server's side.
    "server_error": (500, _("Server error")),
    "error": (500, _("Server error")),
}


# Where the problem types live (podium.urls routes it to ``problems_page``); a constant rather
# than reverse() so an error can be written under any URLconf.
PROBLEMS_PATH = "/api/v1/problems/"


def problem_type(code: str) -> str:
    """The absolute, stable URI naming the problem type of ``code``."""
    return absolute_url(f"{PROBLEMS_PATH}{code}")


def problem_title(code: str, status: int, title: object = None) -> str:
    """The short title of ``code`` in the active language."""
    if code in TITLES:
        return str(TITLES[code][1])
    if title:
        return str(title)
    try:
        return gettext(HTTPStatus(status).phrase)
    except ValueError:
        return gettext("Error")


@dataclass(frozen=True)
class ProblemType:
    code: str
    status: int
    title: str
    type: str


def _domain_error_classes() -> list[type[DomainError]]:
    found: list[type[DomainError]] = []
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def catalogue() -> list[ProblemType]:
    """Every problem type the API can answer: the titled codes and every domain error's code."""
    codes: dict[str, ProblemType] = {}
    for code, (status, title) in TITLES.items():
        codes[code] = ProblemType(code, status, str(title), problem_type(code))
    for cls in _domain_error_classes():
        if cls.code not in codes:
            title = problem_title(cls.code, cls.status, getattr(cls, "title", None))
            codes[cls.code] = ProblemType(cls.code, cls.status, title, problem_type(cls.code))
    return sorted(codes.values(), key=lambda problem: (problem.status, problem.code))


def api_public_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``public_view`` for a page under /api/: other methods get a problem 405, not HTML."""
    cached = public_view(view)

    @wraps(cached)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            from accounts.api.errors import json_error  # errors imports this module

            response = json_error(
                405, "method_not_allowed", gettext("This address only answers GET and HEAD.")
            )
            response["Allow"] = "GET, HEAD"
            return response
        return cached(request, *args, **kwargs)

    return wrapped


@api_public_view
def problems_page(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """The page every ``type`` URI leads to: what each error code means, with its status."""
    problems = catalogue()
    if code is not None and code not in {problem.code for problem in problems}:
        raise Http404(code)
    return render(
        request,
        "accounts/api_problems.html",
        {"problems": problems, "selected": code, "docs_url": reverse("api-docs")},
    )
