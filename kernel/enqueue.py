"""Queue a Celery task after the current transaction commits, by the task's name, through an outbox.

Services enqueue work and tasks call services. If services imported their app's ``tasks``
module, the two would import each other; naming the task instead keeps the dependency one
way (``tasks`` → ``services``). Every task therefore has an explicit ``name=``.

**The outbox.** ``enqueue_on_commit`` writes an ``OutboxMessage`` row in the caller's transaction
and sends it to the broker from the commit hook. Work and the request to finish it therefore commit
together: if the broker is down or hung at that moment, the row stays unsent and ``outbox_sweep``
(a beat task, every minute) sends it once the broker is back; if the transaction rolls back, there
is no row and nothing is sent. A message can be sent twice (the hook's send succeeded but marking
the row failed, or a sweep overlapped a slow hook): every task is safe to run twice.

After a failed send the process stops trying from its commit hooks for ``OUTBOX_BACKOFF_SECONDS``,
so a hung broker costs one request its connection timeout, not every request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta
from typing import Any

from celery import Task, current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kernel.models import OutboxMessage

logger = logging.getLogger(__name__)

_DISCOVERY = threading.Lock()
_broker_failed_at = 0.0  # monotonic time of this process's last failed send; 0 when none


def enqueue_on_commit(task_name: str, /, **kwargs: Any) -> None:
    """Queue ``task_name`` with keyword arguments ``kwargs`` once the transaction commits.

    The request is an outbox row written now, in the current transaction (outside one, it is
    committed at once and sent). The task is looked up in the app's registry (not sent blindly by
    name), so eager mode and task routes apply as for ``.delay()``. Arguments must be JSON: ids and
    plain values, never model instances.
    """
    registered_task(task_name)  # an unknown name fails here, in the request, not in a sweep later
    message = OutboxMessage.objects.create(task_name=task_name, arguments=json.dumps(kwargs, sort_keys=True))
    transaction.on_commit(lambda: _send_from_hook(message))


def enqueue_now(task_name: str, /, **kwargs: Any) -> None:
    """Queue ``task_name`` now, straight to the broker (for callers that are themselves tasks and are
    retried or swept if the broker refuses)."""
    registered_task(task_name).delay(**kwargs)


def registered_task(task_name: str) -> Task:
    """The task called ``task_name``; ``KeyError`` if no app defines it.

    A worker imports every app's ``tasks`` module at start; a web process has not, so the
    first look-up runs Celery's autodiscovery (``import_default_modules``) once.
    """
    app = current_app
    if task_name not in app.tasks:
        # One thread at a time: a second thread arriving while the first is still importing the
        # tasks modules would otherwise find them half-registered.
        with _DISCOVERY:
            if task_name not in app.tasks:
                app.loader.import_default_modules()
    return app.tasks[task_name]


def _send_from_hook(message: OutboxMessage) -> None:
    backoff = float(settings.OUTBOX_BACKOFF_SECONDS)
    if _broker_failed_at and time.monotonic() - _broker_failed_at < backoff:
        return  # the broker failed moments ago: the sweep sends it
    outbox_send(message)


def outbox_send(message: OutboxMessage) -> bool:
    """Hand one outbox message to the broker and mark it sent; ``False`` (kept for the sweep) if the
    broker refused. Only the exception's class is logged and kept: a message could quote arguments."""
    global _broker_failed_at  # one flag per process, read by every commit hook
    try:
        registered_task(message.task_name).apply_async(kwargs=json.loads(message.arguments))
    except KeyError:
        _record_failure(message, "UnknownTask")
        logger.error("Outbox message %s names no task: %s", message.pk, message.task_name)
        return False
    except Exception as exc:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise  # the task itself failed, in-process: tests see it as they did before the outbox
        _broker_failed_at = time.monotonic()
        _record_failure(message, type(exc).__name__)
        logger.warning("Outbox message %s (%s) not sent: %s", message.pk, message.task_name, type(exc).__name__)
        return False
    _broker_failed_at = 0.0
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now(), attempts=message.attempts + 1)
    return True


def _record_failure(message: OutboxMessage, error: str) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1, last_error=error[:200])


def outbox_sweep(*, older_than_seconds: int = 30, batch: int = 500) -> dict[str, int]:
    """Send outbox messages left unsent for ``older_than_seconds``, oldest first; drop sent ones kept
    past ``OUTBOX_KEEP_DAYS``. Returns counts ``{"sent", "failed", "deleted"}``.

    Rows are taken with ``SKIP LOCKED`` so two sweeps never send the same row at once; each row is
    sent in its own short transaction. Stops at the first broker failure (the rest would fail too).
    """
    global _broker_failed_at  # a sweep that reached the broker clears the flag
    _broker_failed_at = 0.0
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    counts = {"sent": 0, "failed": 0, "deleted": 0}
    ids = list(
        OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in ids:
        with transaction.atomic():
            message = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=pk, sent_at__isnull=True)
            found = message.first()
            if found is None:
                continue
            if outbox_send(found):
                counts["sent"] += 1
            else:
                counts["failed"] += 1
                break
    keep = timedelta(days=settings.OUTBOX_KEEP_DAYS)
    counts["deleted"], _ = OutboxMessage.objects.filter(sent_at__lt=timezone.now() - keep).delete()
    if counts["sent"] or counts["failed"]:
        logger.info("Outbox sweep: %(sent)d sent, %(failed)d failed, %(deleted)d old rows deleted", counts)
    return counts


def outbox_backlog(*, older_than_seconds: int = 300) -> int:
    """How many messages have waited longer than ``older_than_seconds`` (``/healthz`` and the admin show it)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=cutoff).count()
