"""Django's PostgreSQL backend, with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django checks a kept connection before the first query of each
request (and of each Celery task) by running ``SELECT 1``: one round trip, and one of only
two or three statements of a cold public page. A connection between requests has nothing to
read: the server sends nothing unasked, except when it drops the session (a restart,
``pg_terminate_backend``, an idle timeout), which it does by sending an error and closing the
socket. So a socket with nothing to read is a live connection, and one with something to read
is replaced (also in the rare case of a harmless message: a new connection costs a few
milliseconds once). A connection lost without a word (a cable pulled) still fails its request,
as it would have failed ``SELECT 1`` only after a timeout.
``tests/platform/test_database_backend.py`` drops a connection and checks that the next
request reconnects, and that the check sends nothing.

Measured (8 Dec 2026, bench.public_read --rounds 3, quiet machine), cold pages against the
trivial view, SELECT 1 then this check: institution page 25% -> 28%, profile 27% -> 31%,
permalink 32% -> 42%, Atom feed 25% -> 29%.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            waiting, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not waiting
