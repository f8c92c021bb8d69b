"""The session store: Django's database sessions, with the read every signed-in request makes
as a compiled read (``accounts.compiled``) instead of a queryset compiled per request."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.compiled import Param, compiled_rows, instance_of


def _current_session():
    fields = Session._meta
    return (
        Session.objects.filter(
            session_key=Param("key", fields.get_field("session_key")),
            expire_date__gt=Param("now", fields.get_field("expire_date")),
        )
        .order_by()
        .values_list(*(field.attname for field in fields.concrete_fields))[:1]
    )


class SessionStore(DatabaseSessionStore):
    """Reads, writes and expiry as Django's ``db`` backend; only the read is compiled once."""

    def _get_session_from_db(self) -> Session | None:
        rows = compiled_rows(
            ("session",), _current_session, key=self.session_key, now=timezone.now()
        )
        if not rows:
            self._session_key = None
            return None
        return instance_of(Session, rows[0])
