"""No row is locked, and no transaction is open, while Stripe is asked (issue 11, item 10).

The fake Stripe server holds one request (Stripe being slow); meanwhile a second connection locks
the donation's row with ``NOWAIT`` — which fails at once if anyone holds it — and PostgreSQL is
asked whether any other connection sits idle in a transaction.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from funds.models import Donation, Refund, StripeEvent
from funds.services.checkout import donation_refund, refund_retry
from funds.services.stripe_events import stripe_event_process

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(work) -> tuple[threading.Thread, dict]:
    """Run ``work()`` in a thread with its own database connection; its result or error lands in the dict."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def lock_now(model, pk: int) -> None:
    """Lock one row from this connection with NOWAIT: raises ``OperationalError`` if another holds it."""
    with transaction.atomic():
        model.objects.select_for_update(nowait=True).get(pk=pk)


def others_in_a_transaction() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
        )
        return cursor.fetchone()[0]


def test_the_lock_check_fails_when_a_row_is_locked(paid_gift, fake_stripe):
    """The harness itself: a row locked by another connection is reported, so the tests below can fail."""
    assert connection.vendor == "postgresql"
    gift = paid_gift()
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        with transaction.atomic():
            Donation.objects.select_for_update().get(pk=gift.pk)
            locked.set()
            release.wait(10)

    thread, _outcome = in_thread(hold_the_row)
    assert locked.wait(10)
    try:
        with pytest.raises(OperationalError):
            lock_now(Donation, gift.pk)
        assert others_in_a_transaction() == 1
    finally:
        release.set()
        thread.join(10)


def test_no_row_is_locked_while_stripe_is_asked_for_a_refund(paid_gift, fake_stripe, people):
    gift = paid_gift()

    with fake_stripe.hold("POST", r"/v1/refunds") as stripe_is_slow:
        thread, outcome = in_thread(
            lambda: donation_refund(donation=gift, amount_cents=2000, reason="asked", by=people["finance"])
        )
        assert stripe_is_slow.arrived.wait(10)
        # Stripe is being asked now: the refund row is committed and nothing is locked or open.
        waiting = Refund.objects.get()
        assert (waiting.status, waiting.stripe_refund_id, waiting.attempts) == ("requested", None, 1)
        lock_now(Donation, gift.pk)
        lock_now(Refund, waiting.pk)
        assert others_in_a_transaction() == 0
    thread.join(10)

    assert "error" not in outcome
    assert outcome["result"].status == "succeeded"
    [call] = fake_stripe.calls("POST", "/v1/refunds")
    assert call.idempotency_key == f"refund:{waiting.pk}"


def test_no_row_is_locked_while_the_sweep_asks_stripe_again(paid_gift, fake_stripe, people):
    gift = paid_gift()
    long_ago = timezone.now() - timedelta(minutes=10)
    refund = Refund.objects.create(
        donation=gift, amount_cents=2000, requested_by=people["finance"], attempts=1, last_attempt_at=long_ago
    )
    Refund.objects.filter(pk=refund.pk).update(created_at=long_ago)

    with fake_stripe.hold("POST", r"/v1/refunds") as stripe_is_slow:
        thread, outcome = in_thread(lambda: refund_retry(refund_id=refund.pk))
        assert stripe_is_slow.arrived.wait(10)
        lock_now(Donation, gift.pk)
        lock_now(Refund, refund.pk)
        assert others_in_a_transaction() == 0
        assert Refund.objects.get(pk=refund.pk).attempts == 2  # the attempt was committed before asking
    thread.join(10)

    assert outcome["result"].status == "succeeded"


def test_no_row_is_locked_while_a_webhook_event_asks_stripe(paid_gift, fake_stripe):
    gift = paid_gift()
    fake_stripe.refund(gift.stripe_charge_id, 2000)  # made in the Stripe dashboard
    event = fake_stripe.event("charge.refunded", fake_stripe.objects[gift.stripe_charge_id])
    stored = StripeEvent.objects.create(event_id=event["id"], type=event["type"], payload=event)

    with fake_stripe.hold("GET", rf"/v1/charges/{gift.stripe_charge_id}") as stripe_is_slow:
        thread, outcome = in_thread(lambda: stripe_event_process(stripe_event_id=stored.pk))
        assert stripe_is_slow.arrived.wait(10)
        lock_now(Donation, gift.pk)
        lock_now(StripeEvent, stored.pk)
        assert others_in_a_transaction() == 0
    thread.join(10)

    assert "error" not in outcome
    gift.refresh_from_db()
    stored.refresh_from_db()
    assert (gift.refunded_cents, stored.processed_at is not None) == (2000, True)
