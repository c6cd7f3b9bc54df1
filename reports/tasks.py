"""Thin Celery tasks for reports: ids in, call a service. Safe to run twice.

Services queue these by their explicit names (``kernel.enqueue``), never by importing this module.
Passing faults (``kernel.retry``: storage, a database restart or a killed connection) are retried
with backoff; the sweep below recovers the runs a lost task or a dead worker left behind.
"""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from kernel.retry import TRANSIENT_ERRORS, transient_retry
from reports.models import ReportRun
from reports.services import (
    ReportRunBusy,
    report_fail,
    report_generate,
    report_runs_sweep,
    reports_delete_expired,
)

MAX_RETRIES = 5


@shared_task(
    name="reports.tasks.generate_report",
    bind=True,
    # The hard limit stays below the broker's visibility timeout (see settings, "resilience: tasks").
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT_SECONDS,
    time_limit=settings.REPORT_TIME_LIMIT_SECONDS,
    **transient_retry(max_retries=MAX_RETRIES),
)
def generate_report(self: Task, *, run_id: int) -> None:
    """Produce a report run's files. A run already done or failed is left alone.

    Passing faults are retried with exponential backoff (``autoretry_for``); when the retries are
    spent, the run is marked failed with the reason rather than left waiting. A run another worker
    still holds is tried again when that worker's lease ends (it has finished by then, or died).
    """
    try:
        report_generate(run_id=run_id)
    except ReportRunBusy as busy:
        if self.request.retries < MAX_RETRIES:
            raise self.retry(countdown=busy.retry_in) from None
        # Out of retries: the sweep recovers the run if that worker is gone.
    except TRANSIENT_ERRORS as exc:
        if self.request.retries < MAX_RETRIES:
            raise  # retried by autoretry_for, with backoff
        database = isinstance(exc, OperationalError | InterfaceError)
        failure = ReportRun.Failure.DATABASE if database else ReportRun.Failure.STORAGE
        report_fail(run_id=run_id, failure=failure, error=type(exc).__name__)


@shared_task(name="reports.tasks.sweep_stuck_runs", **transient_retry(max_retries=3))
def sweep_stuck_runs() -> dict[str, int]:
    """Every 5 minutes: runs waiting with no worker taking them up, or running with a dead worker,
    are sent again, and failed after a few tries."""
    return report_runs_sweep()


@shared_task(name="reports.tasks.delete_expired_reports", **transient_retry(max_retries=3))
def delete_expired_reports() -> None:
    """Daily: delete report files older than ``REPORT_RETENTION_DAYS`` (runs and hashes stay)."""
    reports_delete_expired()
