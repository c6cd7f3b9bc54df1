"""The database session store, made to survive a connection that died after the view's work committed.

Django saves the session after the view has answered (``SessionMiddleware.process_response``).
If the database connection was killed in between (a PostgreSQL restart, a killed backend, a
failover), Django's store turns the failed save into ``UpdateError`` and the user sees "Bad
request": yet the work they sent was committed. This store closes the dead connection and saves
once more on a fresh one. If that fails too and the session held nothing new (only its expiry
was being renewed, as ``SESSION_SAVE_EVERY_REQUEST`` does on every request), the save is given up
with a warning: the answer the user gets is the view's, which is true. A session that did hold
something new (a sign-in, a language) still fails as before: losing it silently would be worse.

It also renews a session's expiry at most once every ``SESSION_RENEW_SECONDS`` (a minute) rather
than on every request: with ``SESSION_SAVE_EVERY_REQUEST`` Django would write the session row on
every page even when nothing in it changed, only to push its expiry a few seconds further. A
session whose data changed is saved at once, as always. The idle limit (``SESSION_COOKIE_AGE``)
is therefore never longer, at most ``SESSION_RENEW_SECONDS`` shorter: a session ends between
29 and 30 idle minutes after its last page. Ending a session (signing out, an administrator's
"sign out everywhere", a deactivation) deletes its row, which the next request's read misses:
nothing is cached here.

Use it as ``SESSION_ENGINE = "kernel.sessions"``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import InterfaceError, OperationalError, connections, router

logger = logging.getLogger(__name__)

CONNECTION_LOST = (OperationalError, InterfaceError)


class SessionStore(DatabaseSessionStore):
    """``django.contrib.sessions.backends.db`` with one retry on a lost connection (see the module)."""

    # The expiry of the session's row as this store last read or wrote it (None: not known).
    _stored_expiry: datetime | None = None

    def _get_session_from_db(self) -> Any:
        row = super()._get_session_from_db()  # type: ignore[misc]  # Django has it; the stubs do not
        self._stored_expiry = row.expire_date if row is not None else None
        return row

    def _renewal_due(self) -> bool:
        """Whether saving now would move the row's expiry by ``SESSION_RENEW_SECONDS`` or more."""
        if self._stored_expiry is None:
            return True
        renew_every = timedelta(seconds=settings.SESSION_RENEW_SECONDS)
        return self.get_expiry_date() - self._stored_expiry >= renew_every

    def save(self, must_create: bool = False) -> None:
        if not must_create and not self.modified and self.session_key is not None and not self._renewal_due():
            return  # nothing new, and the expiry is recent enough: no write (see the module)
        self._save_once_more_on_a_lost_connection(must_create=must_create)
        self._stored_expiry = self.get_expiry_date()

    def _save_once_more_on_a_lost_connection(self, *, must_create: bool) -> None:
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
