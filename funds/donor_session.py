"""How long a donor-portal session lasts (ASVS 7.3.2).

A donor session is not a Django sign-in (``request.user`` stays anonymous), so the staff
session's 12-hour limit (``accounts.middleware.SessionLifetimeMiddleware``) never sees it. The
idle limit is the same (the session cookie's ``SESSION_COOKIE_AGE``, renewed by every request);
on top of it a donor session ends ``DONOR_SESSION_ABSOLUTE_SECONDS`` after the sign-in with the
e-mailed code, however active it has been. A donor session without a recorded start (one opened
before this limit existed) has its limit counted from the first request that sees it.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from funds.services import donor_portal

DONOR_SIGNED_IN_AT = "amparo_donor_signed_in_at"


def donor_session_began(session: SessionBase) -> None:
    """The donor has just signed in (``donor_portal.donor_code_verify``): the limit starts now."""
    session[DONOR_SIGNED_IN_AT] = time.time()


def donor_session_end(session: SessionBase) -> None:
    """Sign the donor out: the donor keys leave the session and its key is rotated."""
    donor_portal.donor_sign_out(session=session)
    session.pop(DONOR_SIGNED_IN_AT, None)


def donor_session_ended_by_limit(session: SessionBase) -> bool:
    """End a donor session past its absolute limit; True if it did (False without a donor session)."""
    if session.get(donor_portal.DONOR_SESSION_KEY) is None:
        return False
    started = session.get(DONOR_SIGNED_IN_AT)
    if not isinstance(started, int | float):
        donor_session_began(session)
        return False
    if 0 <= time.time() - started <= settings.DONOR_SESSION_ABSOLUTE_SECONDS:
        return False
    donor_session_end(session)
    return True
