"""Thin Celery tasks for funds: ids in, call a service. Safe to run twice."""

from __future__ import annotations

from celery import shared_task

# The worker's autodiscovery imports only ``funds.tasks``: importing the receipt task's module
# here registers it too.
from funds import tasks_receipts  # noqa: F401


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=900, retry_kwargs={"max_retries": 10})
def process_stripe_event(*, stripe_event_id: int) -> None:
    """Apply one stored Stripe webhook event (``StripeEvent`` id). Retried with backoff on any error
    (Stripe unreachable, or an event that overtook the one it depends on); the service records the
    error on the event and skips events already processed."""
    from funds.services.stripe_events import stripe_event_process

    stripe_event_process(stripe_event_id=stripe_event_id)


@shared_task
def requeue_stale_stripe_events() -> int:
    """Beat, every 15 minutes: events left unprocessed for 30 minutes go back on the queue."""
    from funds.services.stripe_events import stripe_events_requeue_stale

    return stripe_events_requeue_stale()
