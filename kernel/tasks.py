"""The kernel's beat tasks: sending what the outbox still holds, forgetting old one-time keys, counting
orphaned files."""

from __future__ import annotations

import logging

from celery import shared_task

from kernel.enqueue import outbox_sweep as outbox_sweep_service
from kernel.once import submission_keys_expire as submission_keys_expire_service
from kernel.storage import orphaned_files

logger = logging.getLogger(__name__)


@shared_task(name="kernel.tasks.outbox_sweep", ignore_result=True)
def outbox_sweep() -> dict[str, int]:
    """Every minute: send outbox messages the commit hook could not (the broker was down or hung)."""
    return outbox_sweep_service()


@shared_task(name="kernel.tasks.submission_keys_expire", ignore_result=True)
def submission_keys_expire() -> int:
    """Daily: forget forms' one-time keys older than ``SUBMISSION_KEY_DAYS``."""
    return submission_keys_expire_service()


@shared_task(name="kernel.tasks.orphaned_files_check", ignore_result=True)
def orphaned_files_check() -> int:
    """Weekly: log how many files in private storage no row references (``manage.py orphaned_files`` lists them)."""
    found = orphaned_files()
    if found:
        logger.warning(
            "%d orphaned files in private storage (%d bytes): run `manage.py orphaned_files` to list them, "
            "`--delete` to remove those older than an hour",
            len(found),
            sum(stored.size for stored in found),
        )
    else:
        logger.info("no orphaned files in private storage")
    return len(found)
