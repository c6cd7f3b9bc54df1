"""Thin Celery tasks: ids in, call a service; safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from casework.services.reminders import reminder_recipients, reminder_send_digest


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
