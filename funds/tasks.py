"""Thin Celery tasks for funds: ids in, call a service. Safe to run twice.

Services queue these by their explicit names (``kernel.enqueue``), never by importing this module.
"""

from __future__ import annotations

from celery import shared_task

from funds.models import Donation
from funds.services.receipts import donation_send_receipt
from funds.services.stripe_events import stripe_event_process, stripe_events_requeue_stale


@shared_task(
    name="funds.tasks.process_stripe_event",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=900,
    retry_kwargs={"max_retries": 10},
)
def process_stripe_event(*, stripe_event_id: int) -> None:
    """Apply one stored Stripe webhook event (``StripeEvent`` id). Retried with backoff on any error
    (Stripe unreachable, or an event that overtook the one it depends on); the service records the
    error on the event and skips events already processed."""
    stripe_event_process(stripe_event_id=stripe_event_id)


@shared_task(name="funds.tasks.requeue_stale_stripe_events")
def requeue_stale_stripe_events() -> int:
    """Beat, every 15 minutes: events left unprocessed for 30 minutes go back on the queue."""
    return stripe_events_requeue_stale()


# Named before the "app.tasks.name" convention; kept, so receipts queued at a deploy still run.
@shared_task(
    name="funds.send_receipt",
    autoretry_for=(OSError,),  # SMTP and storage errors; smtplib.SMTPException is an OSError
    retry_backoff=True,
    retry_kwargs={"max_retries": 8},
)
def send_receipt(*, donation_id: int) -> None:
    """Number, store and e-mail a paid donation's receipt, once (``donation_send_receipt``)."""
    donation = Donation.objects.filter(pk=donation_id, status=Donation.Status.PAID).first()
    if donation is None or donation.receipt_sent_at is not None:
        return  # gone, not paid (or refunded before we got to it), or already sent
    donation_send_receipt(donation=donation)
