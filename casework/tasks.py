"""Thin Celery tasks: ids in, call a service; safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from casework.services import oversight
from casework.services.reminders import reminder_recipients, reminder_send_digest
from casework.services.retention import retention_erase_due


@shared_task(name="casework.tasks.scan_reminders")
def scan_reminders() -> int:
    """The daily beat scan: queue one digest per attorney with something coming up."""
    today = timezone.localdate().isoformat()
    recipients = reminder_recipients()
    for user_id in recipients:
        send_reminder_digest.delay(user_id=user_id, day=today)
    return len(recipients)


@shared_task(
    name="casework.tasks.send_reminder_digest",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
)
def send_reminder_digest(*, user_id: int, day: str) -> bool:
    return reminder_send_digest(user_id=user_id, today=date.fromisoformat(day))


@shared_task(name="casework.tasks.retention_erase")
def retention_erase() -> int:
    """The daily beat run: erase the personal data of closed cases past the retention period."""
    return retention_erase_due()


@shared_task(name="casework.tasks.read_alerts_scan")
def read_alerts_scan() -> int:
    """The hourly beat scan of the access log for unusual reading; returns how many alerts it raised."""
    return len(oversight.read_alerts_scan())


@shared_task(
    name="casework.tasks.send_read_alert_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
)
def send_read_alert_email(*, alert_id: int) -> bool:
    """E-mail one read alert to the administrators (nothing if the alert is gone)."""
    return oversight.read_alert_send_email(alert_id=alert_id)
