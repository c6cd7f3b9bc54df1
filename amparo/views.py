"""Infrastructure endpoints (no business logic)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from amparo.celery import app, broker_folders
from kernel.enqueue import outbox_backlog

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def _folders_writable(folders: list[Path]) -> bool:
    """Each folder exists and takes a file (created and removed again; no broker reads a ``.tmp``)."""
    try:
        for folder in folders:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-", suffix=".tmp"):
                pass
    except OSError:
        return False
    return True


def _broker_ok() -> bool:
    """Can a task be sent now? Asked of the broker itself, with a short timeout.

    Redis: a fresh connection with the app's own settings (address, password, TLS, database) and a
    PING, each waiting at most ``HEALTHZ_BROKER_TIMEOUT_MS``. The filesystem transport: its folders
    exist and are writable. Any other transport: a connection, tried once.
    """
    timeout = settings.HEALTHZ_BROKER_TIMEOUT_MS / 1000
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "max_retries": 0}
    try:
        with app.connection_for_write(transport_options=options, connect_timeout=timeout) as conn:
            driver = conn.transport.driver_type
            if driver == "filesystem":
                return _folders_writable(broker_folders(app.conf))
            if driver == "redis":
                # kombu's Redis channel PINGs the server as it is made.
                return bool(conn.default_channel.client.ping())
            conn.ensure_connection(max_retries=0, timeout=timeout)
            return True
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        logger.warning("Health check: the broker did not answer (%s)", type(exc).__name__)
        return False


def _outbox_backlog() -> int | None:
    try:
        return outbox_backlog()
    except Exception:  # noqa: BLE001 - the database check reports why
        return None


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Public health check for load balancers and monitoring; answers within a second whatever Redis does.

    ``database`` and ``broker`` are checked for real (a query; a PING to Redis or the filesystem
    broker's folders); 200 when both are fine, else 503 with ``failing`` naming them.
    ``outbox_backlog`` counts tasks waiting more than 5 minutes to be handed to the broker (the
    outbox sweep sends them when the broker is back): shown for monitoring, it does not fail the
    check by itself, which would take every web process out of a load balancer for a queue that
    only the workers can empty. Counts and booleans only: never personal data.
    """
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    failing = [name for name, ok in checks.items() if not ok]
    body: dict[str, object] = {"status": "unavailable" if failing else "ok", **checks}
    if failing:
        body["failing"] = failing
    body["outbox_backlog"] = _outbox_backlog() if checks["database"] else None
    return JsonResponse(body, status=503 if failing else 200)
