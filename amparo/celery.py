"""The Celery application. Tasks live in each app's ``tasks.py``.

Periodic tasks are defined in code (``settings.CELERY_BEAT_SCHEDULE``). django-celery-beat keeps a
copy of them in the database, which its scheduler reads; the admin shows that copy read-only
(``amparo.admin_site``). When beat starts, ``beat_schedule_from_code`` puts the copy back in line
with the code, so a row changed behind the admin's back (a restored backup, a database shell)
cannot keep the daily reminders switched off or run a task the code does not schedule.

The local default broker, kombu's filesystem transport, expects its folders to exist. When the app
is configured (the first time a process sends a task, or a worker or beat starts), the folders it
names are created, so ``manage.py runserver`` or a worker on a fresh checkout needs no ``make demo``.
"""

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from celery.signals import beat_embedded_init, beat_init, setup_logging, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amparo.settings")

app = Celery("amparo", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# kombu's filesystem transport: its options naming folders, and its defaults (relative to the
# working directory) when an option is not given.
FILESYSTEM_FOLDERS = {
    "data_folder_in": "data_in",
    "data_folder_out": "data_out",
    "processed_folder": "processed",
    "control_folder": "control",
}


def broker_folders(conf: Mapping[str, Any]) -> list[Path]:
    """The folders the filesystem transport needs, if a broker URL of ``conf`` uses it (else none)."""
    urls = [conf.get(key) for key in ("broker_url", "broker_write_url", "broker_read_url")]
    if not any(isinstance(url, str) and urlsplit(url).scheme == "filesystem" for url in urls):
        return []
    options = conf.get("broker_transport_options") or {}
    return sorted({Path(str(options.get(option, default))) for option, default in FILESYSTEM_FOLDERS.items()})


def broker_folders_create(conf: Mapping[str, Any] | None = None) -> list[Path]:
    """Create the filesystem broker's folders (``broker_folders``) that do not exist yet; return them all.

    Idempotent. Side effect: folders on disk (never removed)."""
    folders = broker_folders(app.conf if conf is None else conf)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders


@app.on_after_configure.connect
def _broker_folders_at_configure(sender: Celery, source: Mapping[str, Any], **kwargs: Any) -> None:
    broker_folders_create(source)


# Installed by the database scheduler itself (it cleans up task results), not by our code.
SCHEDULER_OWN_ENTRIES = frozenset({"celery.backend_cleanup"})


def beat_schedule_from_code(schedule: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Make django-celery-beat's rows match ``schedule`` (default: the app's beat schedule); return what was disabled.

    Each entry of the code is written as the code says (task, schedule, arguments, options) and
    enabled, to run for ever (not once, no start or end date). Any other row is disabled (kept, so
    whoever added it can be found) and its name logged as a warning.
    """
    # Imported here: this module is imported by amparo/__init__.py before Django is set up, and these
    # modules define Django models.
    from django_celery_beat.models import PeriodicTask, PeriodicTasks  # noqa: PLC0415 - models, see above
    from django_celery_beat.schedulers import ModelEntry  # noqa: PLC0415 - models, see above

    schedule = app.conf.beat_schedule if schedule is None else schedule
    for name, entry in schedule.items():
        ModelEntry.from_entry(name, app=app, **entry)
    PeriodicTask.objects.filter(name__in=list(schedule)).update(
        enabled=True, one_off=False, start_time=None, expires=None, clocked=None
    )
    strays = PeriodicTask.objects.filter(enabled=True).exclude(name__in=[*schedule, *SCHEDULER_OWN_ENTRIES])
    disabled = sorted(strays.values_list("name", flat=True))
    strays.update(enabled=False)
    if disabled:
        logger.warning("Disabled periodic tasks that the code does not define: %s", ", ".join(disabled))
    PeriodicTasks.update_changed()  # the running scheduler reloads its rows
    return disabled


@beat_init.connect
@beat_embedded_init.connect
def _schedule_from_code_at_beat_start(sender: object = None, **kwargs: Any) -> None:
    beat_schedule_from_code()


@worker_init.connect
def _keys_fit_the_data_at_worker_start(sender: object = None, **kwargs: Any) -> None:
    """A worker, like the web application (``amparo/wsgi.py``), refuses keys that do not fit the stored data."""
    from django.core.exceptions import ImproperlyConfigured  # noqa: PLC0415 - Django is set up only now
    from django.db import connections  # noqa: PLC0415 - see above

    from casework.services.keys import keys_verify  # noqa: PLC0415 - see above

    try:
        keys_verify()
    except ImproperlyConfigured as exc:
        # Celery logs and ignores what a signal handler raises; SystemExit does stop the worker.
        logger.critical("%s", exc)
        raise SystemExit(f"Amparo worker not started: {exc}") from exc
    finally:
        connections.close_all()  # prefork children must not share the parent's connection


@setup_logging.connect
def _django_logging(**kwargs: Any) -> None:
    """Workers log as the web does (settings.LOGGING): tracebacks without exception messages, which may
    hold personal data (``kernel.logs``). Connecting this handler stops Celery from replacing it."""
    from logging.config import dictConfig  # noqa: PLC0415 - only when a worker starts

    from django.conf import settings  # noqa: PLC0415 - see above

    dictConfig(settings.LOGGING)
