"""Thin Celery tasks for funds: ids in, call a service. Safe to run twice.

Services queue these by their explicit names (``kernel.enqueue``), never by importing this module.
Tasks that do one piece of work retry on passing faults (``kernel.retry``: a database restart, a
killed connection, SMTP or the broker away) with backoff; the beat sweeps below pick up what is left.
"""

from __future__ import annotations

from datetime import datetime

from celery import Task, shared_task

from funds.models import Donation
from funds.services.checkout import refund_retry, refunds_retry_stale
from funds.services.donor_portal import donor_code_send
from funds.services.ledger_check import ledger_check_run
from funds.services.receipts import (
    ReceiptSentNotRecorded,
    donation_receipt_mark_sent,
    donation_send_receipt,
    receipts_requeue_unsent,
)
from funds.services.stripe_events import MAX_ATTEMPTS, stripe_event_process, stripe_events_requeue_stale
from kernel.retry import TRANSIENT_RETRY, transient_retry

RECEIPT_RETRIES = TRANSIENT_RETRY["retry_kwargs"]["max_retries"]


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
    (Stripe unreachable, the database restarting, or an event that overtook the one it depends on);
    the service records the error on the event, skips events already processed or parked, and parks
    the event after ``MAX_ATTEMPTS`` failed runs."""
    stripe_event_process(stripe_event_id=stripe_event_id)


@shared_task(name="funds.tasks.requeue_stale_stripe_events")
def requeue_stale_stripe_events() -> int:
    """Beat, every 15 minutes: events left unprocessed (and not parked) for 30 minutes go back on the queue."""
    return stripe_events_requeue_stale()


# Named before the "app.tasks.name" convention; kept, so receipts queued at a deploy still run.
@shared_task(name="funds.send_receipt", bind=True, **TRANSIENT_RETRY)
def send_receipt(self: Task, *, donation_id: int, sent_at: str | None = None) -> None:
    """Number, store and e-mail a paid donation's receipt, once (``donation_send_receipt``).

    Retried on passing faults (SMTP, storage, the database). When the e-mail went out but the
    database did not take it, the retry carries ``sent_at`` and only records it: never a second e-mail.
    """
    if sent_at is not None:
        donation_receipt_mark_sent(donation_id=donation_id, sent_at=datetime.fromisoformat(sent_at))
        return
    donation = Donation.objects.filter(pk=donation_id, status=Donation.Status.PAID).first()
    if donation is None or donation.receipt_sent_at is not None:
        return  # gone, not paid (or refunded before we got to it), or already sent
    try:
        donation_send_receipt(donation=donation)
    except ReceiptSentNotRecorded as exc:
        raise self.retry(
            kwargs={"donation_id": donation_id, "sent_at": exc.sent_at.isoformat()},
            exc=exc,
            countdown=min(600, 5 * 2**self.request.retries),
            max_retries=RECEIPT_RETRIES,
        ) from exc


@shared_task(name="funds.tasks.requeue_unsent_receipts")
def requeue_unsent_receipts() -> int:
    """Beat, every 15 minutes: receipts of paid donations never sent (task lost or out of retries) are queued again."""
    return receipts_requeue_unsent()


@shared_task(name="funds.tasks.retry_refund", **transient_retry(max_retries=3))
def retry_refund(*, refund_id: int) -> None:
    """Ask Stripe again for a refund left *requested* with no answer, with its own idempotency key."""
    refund_retry(refund_id=refund_id)


@shared_task(name="funds.tasks.retry_stale_refunds")
def retry_stale_refunds() -> int:
    """Beat, every 5 minutes: refunds Stripe never answered go back to Stripe, or are marked failed."""
    return refunds_retry_stale()


@shared_task(name="funds.tasks.send_donor_code", **transient_retry(max_retries=3))
def send_donor_code(*, donor_id: int, salt: str, language: str | None = None) -> bool:
    """E-mail a donor's one-time code, worked out here from its salt (the code is never in a message)."""
    return donor_code_send(donor_id=donor_id, salt=salt, language=language)


@shared_task(name="funds.tasks.ledger_check", **transient_retry(max_retries=2))
def ledger_check() -> int:
    """Beat, every 10 minutes: re-sum the whole ledger and record the result the finance and audit
    pages show (``ledger_check_run``); returns how many problems it found."""
    return ledger_check_run().problems
