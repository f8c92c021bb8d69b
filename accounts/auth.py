"""Sign-in with an e-mail address, case-insensitively."""

import hashlib

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from accounts.models import User


class EmailBackend(ModelBackend):
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
