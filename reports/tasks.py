"""Thin Celery tasks for reports: ids in, call a service. Safe to run twice.

Services queue these by their explicit names (``kernel.enqueue``), never by importing this module.
"""

from __future__ import annotations

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.utils.translation import gettext as _

from reports.services import report_fail, report_generate, reports_delete_expired

MAX_RETRIES = 5


@shared_task(name="reports.tasks.generate_report", bind=True, max_retries=MAX_RETRIES)
def generate_report(self, *, run_id: int) -> None:
    """Produce a report run's files. A run already done or failed is left alone.

    Storage errors (``OSError``) are retried with exponential backoff; when the retries are
    spent, the run is marked failed rather than left waiting for ever.
    """
    try:
        report_generate(run_id=run_id)
    except OSError as exc:
        if self.request.retries >= MAX_RETRIES:
            report_fail(run_id=run_id, error=_("The files could not be stored; try again later."))
            return
        countdown = get_exponential_backoff_interval(
            factor=2, retries=self.request.retries, maximum=600, full_jitter=True
        )
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="reports.tasks.delete_expired_reports")
def delete_expired_reports() -> None:
    """Daily: delete report files older than ``REPORT_RETENTION_DAYS`` (runs and hashes stay)."""
    reports_delete_expired()
