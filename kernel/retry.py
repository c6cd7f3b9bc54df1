"""Which errors a task retries, and how long it waits: one rule for every app's tasks.

A task that fails on a passing fault (a database restart or a killed connection, a broker or SMTP
hiccup, a network timeout) is retried with exponential backoff; any other error is a bug and fails
at once, logged. The sweeps (report runs, Stripe events, refunds, the outbox) recover what is still
left after the last retry.

Use it as ``@shared_task(name=..., **TRANSIENT_RETRY)``, or ``**transient_retry(max_retries=3)``.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError

# What a lost database connection raises (PostgreSQL restarted, a backend killed): Django's
# OperationalError and InterfaceError, and psycopg's own where Django does not wrap the call
# (closing a server-side cursor, as ``QuerySet.iterator()`` and form choices use, raises
# ``psycopg.errors.AdminShutdown`` as it is).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
# OSError covers socket, SMTP (smtplib.SMTPException) and storage errors.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, OSError, TimeoutError)


def transient_retry(*, max_retries: int = 8, backoff: int = 5, backoff_max: int = 600) -> dict[str, Any]:
    """Celery task options: retry ``TRANSIENT_ERRORS`` up to ``max_retries`` times, waiting
    ``backoff`` seconds, then twice as long each time (with jitter), at most ``backoff_max``."""
    return {
        "autoretry_for": TRANSIENT_ERRORS,
        "retry_backoff": backoff,
        "retry_backoff_max": backoff_max,
        "retry_jitter": True,
        "retry_kwargs": {"max_retries": max_retries},
    }


TRANSIENT_RETRY = transient_retry()
