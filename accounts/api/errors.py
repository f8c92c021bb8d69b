"""One error shape for the whole API: problem details (RFC 9457) as ``application/problem+json``.

A body is ``{"type", "title", "status", "detail", "code", "fields", "error"}``:

- ``type``: the URI of the code's problem type (``accounts.api.problems``), ``title``: its short
  translated title, ``status``: the HTTP status of the response, ``detail``: what went wrong
  for a person to read;
- extension members: ``code`` (the stable machine-readable code) and ``fields`` (messages per
  input field, nested fields as dotted paths);
- ``error``: the v1 body before problem details, ``{"code", "message", "fields"}``, kept so no
  integrator breaks. Deprecated: read the members above.

``error_body`` is the one function that writes it; everything else (the DRF exception handler,
the 400/403/404/405/500 handlers under ``/api/``, the tenant middleware, the composer's JSON
endpoints) calls it through ``json_error`` or ``problem_response``. Every string that can echo
what a caller sent goes through ``safe_text`` there, and the body is bounded: at most
``MAX_ERROR_FIELDS`` fields, ``MAX_MESSAGES_PER_FIELD`` messages each, ``MAX_MESSAGE_LENGTH``
characters per message, so an error never grows with the request that caused it.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.api.problems import problem_title, problem_type
from accounts.errors import DomainError
from accounts.tenancy import NoInstitutionSelected

PROBLEM_CONTENT_TYPE = "application/problem+json"

MAX_ERROR_FIELDS = 50
MAX_MESSAGES_PER_FIELD = 5
MAX_MESSAGE_LENGTH = 500
MAX_FIELD_NAME_LENGTH = 200

# Lone surrogates cannot be encoded as UTF-8 (the JSON renderer fails on them); control
# characters other than tab and newline only confuse whoever reads the message.
_UNSAFE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def safe_text(value: object, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """``value`` as text that can always be rendered and echoed: at most ``limit`` characters,
    lone surrogates and control characters replaced by U+FFFD."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _UNSAFE.sub("\ufffd", text)


def error_body(
    code: str, message: str, fields: dict | None = None, *, status: int, title: object = None
) -> dict:
    """The API's error body (problem details). The one place that writes it."""
    bounded: dict[str, list[str]] = {}
    for name, messages in list((fields or {}).items())[:MAX_ERROR_FIELDS]:
        items = messages if isinstance(messages, list | tuple) else [messages]
        bounded[safe_text(name, MAX_FIELD_NAME_LENGTH)] = [
            safe_text(item) for item in items[:MAX_MESSAGES_PER_FIELD]
        ]
    code = safe_text(code, 64)
    detail = safe_text(message)
    return {
        "type": problem_type(code),
        "title": problem_title(code, status, title),
        "status": status,
        "detail": detail,
        "code": code,
        "fields": bounded,
        # Deprecated: the v1 body before problem details, kept for the integrators that read it.
        "error": {"code": code, "message": detail, "fields": bounded},
    }


def problem_response(
    status_code: int, code: str, message: str, fields: dict | None = None, *, title=None
) -> Response:
    """An error response of a DRF view."""
    body = error_body(code, message, fields, status=status_code, title=title)
    return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def json_error(
    status_code: int, code: str, message: str, fields: dict | None = None
) -> JsonResponse:
    """An error response outside DRF's views (URL resolution, middleware, Django's handlers)."""
    response = JsonResponse(
        error_body(code, message, fields, status=status_code),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _flatten(detail) -> dict[str, list[str]]:
    """Messages per field; nested fields and list items by dotted path (links.1.url)."""
    fields: dict[str, list[str]] = {}

    def walk(value, path: str) -> None:
        if len(fields) >= MAX_ERROR_FIELDS:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                # A nested serializer's own errors belong to the field that holds it.
                is_own = key == api_settings.NON_FIELD_ERRORS_KEY and path
                walk(item, path if is_own else f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
            for index, item in enumerate(value):
                walk(item, f"{path}.{index}" if path else str(index))
        else:
            items = value if isinstance(value, list) else [value]
            if items:
                key = path or api_settings.NON_FIELD_ERRORS_KEY
                fields.setdefault(key, []).extend(str(item) for item in items)

    walk(detail, "")
    return fields


def _request_too_large(exc: SuspiciousOperation) -> tuple[int, str, str] | None:
    """Status, code and message for Django's request-size guards, None for other exceptions."""
    if isinstance(exc, RequestDataTooBig):
        return (
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            "too_large",
            _("The request body is larger than this endpoint accepts."),
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return (
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            "too_many_fields",
            _("The request has more fields or files than this endpoint accepts."),
        )
    return None


def exception_handler(exc, context) -> Response | None:
    """DRF's exception handler: every error of an API view in the one shape."""
    if isinstance(exc, DomainError):
        fields = {exc.field: [exc.message]} if exc.field else {}
        title = getattr(exc, "title", None)
        return problem_response(exc.status, exc.code, exc.message, fields, title=title)
    if isinstance(exc, SuspiciousOperation) and (too_large := _request_too_large(exc)):
        return problem_response(*too_large)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, NoInstitutionSelected):
        raise exc  # a programming error, never the caller's fault
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.values()), [_("Invalid input.")])[0]
        body = error_body("invalid", first, fields, status=response.status_code)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        body = error_body(code, str(detail), status=response.status_code)
    # DRF's response keeps its headers (Allow, Retry-After, WWW-Authenticate).
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def error_for_django(request: HttpRequest, status_code: int, exception=None) -> JsonResponse:
    """Django's 400/403/404/500 handlers under /api/: the same shape as every other error."""
    if isinstance(exception, SuspiciousOperation) and (too_large := _request_too_large(exception)):
        return json_error(*too_large)
    if status_code == 400:
        return json_error(400, "bad_request", _("The request could not be understood."))
    if status_code == 403:
        return json_error(403, "permission_denied", _("You may not do this."))
    if status_code == 404:
        return json_error(404, "not_found", _("Not found."))
    return json_error(
        500,
        "server_error",
        _("Something went wrong on our side. It has been logged; please try again later."),
    )
