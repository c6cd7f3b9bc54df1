"""The database session store, made to survive a connection that died after the view's work committed.

Django saves the session after the view has answered (``SessionMiddleware.process_response``).
If the database connection was killed in between (a PostgreSQL restart, a killed backend, a
failover), Django's store turns the failed save into ``UpdateError`` and the user sees "Bad
request": yet the work they sent was committed. This store closes the dead connection and saves
once more on a fresh one. If that fails too and the session held nothing new (only its expiry
was being renewed, as ``SESSION_SAVE_EVERY_REQUEST`` does on every request), the save is given up
with a warning: the answer the user gets is the view's, which is true. A session that did hold
something new (a sign-in, a language) still fails as before: losing it silently would be worse.

Use it as ``SESSION_ENGINE = "kernel.sessions"``.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import InterfaceError, OperationalError, connections, router

logger = logging.getLogger(__name__)

CONNECTION_LOST = (OperationalError, InterfaceError)


class SessionStore(DatabaseSessionStore):
    """``django.contrib.sessions.backends.db`` with one retry on a lost connection (see the module)."""

    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create=must_create)
            return
        except UpdateError as exc:
            if not isinstance(exc.__context__, CONNECTION_LOST):
                raise  # the session row is gone (signed out elsewhere): Django's answer stands
        except CONNECTION_LOST:
            pass
        alias = router.db_for_write(self.model)
        connection = connections[alias]
        if connection.in_atomic_block:
            raise UpdateError  # inside someone's transaction a new connection cannot help
        connection.close()
        try:
            super().save(must_create=must_create)
        except (UpdateError, *CONNECTION_LOST) as exc:
            if must_create or self.modified:
                raise
            logger.warning("session expiry not renewed: the database could not be reached (%s)", type(exc).__name__)
            connection.close()
