"""Which view answers a path, looked up once per path and process.

Every request is resolved by Django's handler; Podium's middleware needs the answer earlier
(the server cache asks whether a public view answers, TenantMiddleware which institution and
access level). Resolving walks the URL patterns in order (about 80 for a review page): kept
per path, the middleware's lookups cost a dict hit instead (0.2 of about 3 ms of Python on a
kept review queue page, ``bench.queue``).
"""

from __future__ import annotations

from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import Resolver404, ResolverMatch, resolve


@lru_cache(maxsize=4096)
def match_of(path: str) -> ResolverMatch | None:
    """``resolve(path)``, or None where nothing answers. The match is shared: read it only."""
    try:
        return resolve(path)
    except Resolver404:
        return None


@receiver(setting_changed)
def _forget_matches(*, setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        match_of.cache_clear()
