"""Sign-in with an e-mail address, case-insensitively."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from accounts.models import User

# The signed-in person's row, read by TenantMiddleware in the same query as their membership.
_preloaded_user: ContextVar[User | None] = ContextVar("podium_preloaded_user", default=None)


@contextmanager
def preloaded_user(user: User) -> Iterator[None]:
    """Let ``EmailBackend.get_user`` take this row, read in this request, instead of reading it
    again. Django's ``get_user`` still checks the session against it (password hash, active)."""
    token = _preloaded_user.set(user)
    try:
        yield
    finally:
        _preloaded_user.reset(token)


class EmailBackend(ModelBackend):
    def get_user(self, user_id):
        user = _preloaded_user.get()
        if user is None or user.pk != user_id:
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = (email or username or "").strip()
        if not email or password is None:
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


# Sign-in throttling: after SIGN_IN_LIMIT failed attempts for one address within the window,
# further attempts are refused until it passes (a password reset still works).
SIGN_IN_LIMIT = 10
SIGN_IN_WINDOW_SECONDS = 15 * 60


def _failures_key(email: str) -> str:
    return "sign-in-failures:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def sign_in_blocked(email: str) -> bool:
    """Whether an address has used up its failed sign-in attempts for now."""
    return (cache.get(_failures_key(email)) or 0) >= SIGN_IN_LIMIT


def record_sign_in_failure(email: str) -> None:
    key = _failures_key(email)
    cache.add(key, 0, SIGN_IN_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, SIGN_IN_WINDOW_SECONDS)


def clear_sign_in_failures(email: str) -> None:
    cache.delete(_failures_key(email))
