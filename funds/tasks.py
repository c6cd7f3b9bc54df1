"""Thin Celery tasks for funds: ids in, call a service. Safe to run twice.

Services queue these by their explicit names (``kernel.enqueue``), never by importing this module.
"""

from __future__ import annotations

from celery import shared_task

from funds.models import Donation
from funds.services.donor_portal import donor_code_send
from funds.services.receipts import donation_send_receipt
from funds.services.stripe_events import MAX_ATTEMPTS, stripe_event_process, stripe_events_requeue_stale


@shared_task(
    name="funds.tasks.process_stripe_event",
    autoretry_for=(Exception,),
    # 30 s, 1, 2 and 4 minutes: MAX_ATTEMPTS runs in about 8 minutes, time enough for the event an
    # early one waits for; after the last, the service parks the event for finance instead.
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=False,
    retry_kwargs={"max_retries": MAX_ATTEMPTS - 1},
)
def process_stripe_event(*, stripe_event_id: int) -> None:
    """Apply one stored Stripe webhook event (``StripeEvent`` id). Retried with backoff on any error
    (Stripe unreachable, or an event that overtook the one it depends on); the service records the
    error on the event, skips events already processed or parked, and parks the event after
    ``MAX_ATTEMPTS`` failed runs."""
    stripe_event_process(stripe_event_id=stripe_event_id)


@shared_task(name="funds.tasks.requeue_stale_stripe_events")
def requeue_stale_stripe_events() -> int:
    """Beat, every 15 minutes: events left unprocessed (and not parked) for 30 minutes go back on the queue."""
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


@shared_task(
    name="funds.tasks.send_donor_code",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 3},
)
def send_donor_code(*, donor_id: int, salt: str, language: str | None = None) -> bool:
    """E-mail a donor's one-time code, worked out here from its salt (the code is never in a message)."""
    return donor_code_send(donor_id=donor_id, salt=salt, language=language)
