"""Throttling per token, and the remaining budget in every API response's headers.

Each token has its own budget (``PODIUM_API_USER_RATE``, 1200 requests a minute by default); a
session counts per user, anonymous callers per address (``PODIUM_API_ANON_RATE``, 60 a minute).
Every response carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
(seconds until the window frees a request, draft-ietf-httpapi-ratelimit-headers); a request
over the budget gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from accounts.models import ApiToken


def _note(request, limit: int, remaining: int, reset: float) -> None:
    """Keep the tightest budget of the request's throttles for the response headers."""
    django_request = getattr(request, "_request", request)
    current = getattr(django_request, "podium_rate_limit", None)
    if current is None or remaining < current[1]:
        django_request.podium_rate_limit = (limit, max(remaining, 0), max(math.ceil(reset), 0))


class _BudgetMixin:
    def allow_request(self, request, view) -> bool:
        allowed = super().allow_request(request, view)
        if self.key is not None and self.rate is not None:
            oldest = self.history[-1] if self.history else self.now
            _note(
                request,
                self.num_requests,
                self.num_requests - len(self.history),
                self.duration - (self.now - oldest),
            )
        return allowed


class TokenRateThrottle(_BudgetMixin, UserRateThrottle):
    """A budget per API token; per user for a session (DRF's user throttle, keyed by token)."""

    scope = "user"
    key: str | None = None

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None  # anonymous: AnonymousRateThrottle counts by address
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(_BudgetMixin, AnonRateThrottle):
    """A budget per address for callers without a token or session."""

    key: str | None = None


class RateLimitHeaders:
    """API view mixin: the remaining budget in every response."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        budget = getattr(getattr(request, "_request", request), "podium_rate_limit", None)
        if budget is not None:
            limit, remaining, reset = budget
            response["RateLimit-Limit"] = str(limit)
            response["RateLimit-Remaining"] = str(remaining)
            response["RateLimit-Reset"] = str(reset)
        return response


def document_rate_limits(result: dict, generator, request, public) -> dict:
    """Schema post-processing hook: the figures in the description, the headers on 429."""
    rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
    info = result.setdefault("info", {})
    info["description"] = (
        info.get("description", "")
        + "\n\n"
        + str(
            _(
                "Rate limits: %(token)s requests per token (per user for a session), %(anon)s "
                "per address without one. Every response carries RateLimit-Limit, "
                "RateLimit-Remaining and RateLimit-Reset (seconds); over the limit the answer "
                "is 429 with Retry-After (seconds)."
            )
        )
        % {"token": rates.get("user", "?"), "anon": rates.get("anon", "?")}
    )
    headers = {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": str(_("Seconds to wait before the next request.")),
        },
        "RateLimit-Limit": {"schema": {"type": "integer"}},
        "RateLimit-Remaining": {"schema": {"type": "integer"}},
        "RateLimit-Reset": {"schema": {"type": "integer"}},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "429" in operation.get("responses", {}):
                operation["responses"]["429"].setdefault("headers", {}).update(headers)
    return result
