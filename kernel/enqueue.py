"""Queue a Celery task after the current transaction commits, by the task's name.

Services enqueue work and tasks call services. If services imported their app's ``tasks``
module, the two would import each other; naming the task instead keeps the dependency one
way (``tasks`` → ``services``). Every task therefore has an explicit ``name=``.
"""

from __future__ import annotations

import threading
from typing import Any

from celery import Task, current_app
from django.db import transaction


def enqueue_on_commit(task_name: str, /, **kwargs: Any) -> None:
    """Queue ``task_name`` with keyword arguments ``kwargs`` once the transaction commits.

    Outside a transaction it is queued at once. The task is looked up in the app's registry
    (not sent blindly by name), so eager mode and task routes apply as for ``.delay()``.
    Arguments must be JSON: ids and plain values, never model instances.
    """
    transaction.on_commit(lambda: enqueue_now(task_name, **kwargs))


def enqueue_now(task_name: str, /, **kwargs: Any) -> None:
    """Queue ``task_name`` now (for callers that are themselves tasks or already committed)."""
    registered_task(task_name).delay(**kwargs)


_DISCOVERY = threading.Lock()


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
