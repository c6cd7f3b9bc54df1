"""Receipt tasks: thin, ids in, safe to run twice.

Enqueued by name (``send_task("funds.send_receipt", kwargs={"donation_id": ...})``) when a
donation is fulfilled. Celery's ``autodiscover_tasks()`` imports only ``funds.tasks``, which
must import this module for workers to know the task.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="funds.send_receipt",
    autoretry_for=(OSError,),  # SMTP and storage errors; smtplib.SMTPException is an OSError
    retry_backoff=True,
    retry_kwargs={"max_retries": 8},
)
def send_receipt(*, donation_id: int) -> None:
    from funds.models import Donation
    from funds.services.receipts import donation_send_receipt

    donation = Donation.objects.filter(pk=donation_id, status=Donation.Status.PAID).first()
    if donation is None or donation.receipt_sent_at is not None:
        return  # gone, not paid (or refunded before we got to it), or already sent
    donation_send_receipt(donation=donation)
