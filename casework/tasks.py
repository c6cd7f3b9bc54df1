"""Thin Celery tasks: ids in, call a service; safe to run twice.

Every task retries passing faults (``kernel.retry``: a database restart or killed connection, SMTP
or the network away) with backoff. The daily and hourly scans retry a few times only: the next scan
covers what is left.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from casework.services import oversight, workload
from casework.services.reminders import reminder_recipients, reminder_send_digest
from casework.services.retention import retention_erase_due
from kernel.enqueue import enqueue_on_commit
from kernel.retry import TRANSIENT_RETRY, transient_retry

SCAN_RETRY = transient_retry(max_retries=3)


@shared_task(name="casework.tasks.caseload_recount", **SCAN_RETRY)
def caseload_recount() -> int:
    """Every few minutes: recount every attorney's caseload for the workload page."""
    return workload.caseload_recount()


@shared_task(name="casework.tasks.scan_reminders", **SCAN_RETRY)
def scan_reminders() -> int:
    """The daily beat scan: queue one digest per attorney with something coming up.

    Through the outbox, in one transaction: a broker away at that moment delays the digests (the
    outbox sweep sends them), it does not lose them; a scan run twice sends no item twice
    (``reminder_send_digest``)."""
    today = timezone.localdate().isoformat()
    recipients = reminder_recipients()
    with transaction.atomic():
        for user_id in recipients:
            enqueue_on_commit("casework.tasks.send_reminder_digest", user_id=user_id, day=today)
    return len(recipients)


@shared_task(name="casework.tasks.send_reminder_digest", **TRANSIENT_RETRY)
def send_reminder_digest(*, user_id: int, day: str) -> bool:
    return reminder_send_digest(user_id=user_id, today=date.fromisoformat(day))


@shared_task(name="casework.tasks.retention_erase", **SCAN_RETRY)
def retention_erase() -> int:
    """The daily beat run: erase the personal data of closed cases past the retention period."""
    return retention_erase_due()


@shared_task(name="casework.tasks.read_alerts_scan", **SCAN_RETRY)
def read_alerts_scan() -> int:
    """The hourly beat scan of the access log for unusual reading; returns how many alerts it raised."""
    return len(oversight.read_alerts_scan())


@shared_task(name="casework.tasks.send_read_alert_email", **TRANSIENT_RETRY)
def send_read_alert_email(*, alert_id: int) -> bool:
    """E-mail one read alert to the administrators (nothing if the alert is gone)."""
    return oversight.read_alert_send_email(alert_id=alert_id)
