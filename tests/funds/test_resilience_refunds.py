"""Refunds Stripe never answered (issue 11, item 10): the sweep asks again under the same idempotency
key, so there is one refund at Stripe however often it asks, or marks the refund failed, freeing its
amount and showing it to finance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from funds.models import Refund
from funds.services.checkout import donation_refund, refunds_retry_stale
from funds.tasks import retry_refund, retry_stale_refunds

pytestmark = pytest.mark.django_db


def stripe_refund_calls(fake_stripe) -> list:
    return fake_stripe.calls("POST", "/v1/refunds")


def committed_but_never_sent(gift, by, *, cents: int = 2000) -> Refund:
    """The row ``donation_refund`` commits before it asks Stripe: the web process died right after."""
    return Refund.objects.create(
        donation=gift, amount_cents=cents, reason="asked", requested_by=by, attempts=1, last_attempt_at=timezone.now()
    )


def later(refund: Refund, minutes: int = 10) -> None:
    """Move the refund's history ``minutes`` into the past (the sweep looks at refunds 5 minutes old)."""
    Refund.objects.filter(pk=refund.pk).update(
        created_at=refund.created_at - timedelta(minutes=minutes),
        last_attempt_at=timezone.now() - timedelta(minutes=minutes),
    )
    refund.refresh_from_db()


def test_a_refund_stripe_was_never_asked_for_is_sent_by_the_sweep_once(paid_gift, fake_stripe, people):
    gift = paid_gift()
    refund = committed_but_never_sent(gift, people["finance"])
    assert refunds_retry_stale() == 0  # too fresh: the web request may still be asking
    later(refund)

    assert retry_stale_refunds.apply().get() == 1

    [call] = stripe_refund_calls(fake_stripe)
    assert call.idempotency_key == f"refund:{refund.pk}"
    assert call.params["amount"] == "2000" and call.params["metadata"]["refund_id"] == str(refund.pk)
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.error) == ("succeeded", 2, "")
    assert refund.stripe_refund_id == fake_stripe.objects[gift.stripe_charge_id]["refunds"]["data"][0]["id"]
    # Swept again later, and its task run again (a redelivery): Stripe is not asked again.
    later(refund)
    assert refunds_retry_stale() == 0
    retry_refund.apply(kwargs={"refund_id": refund.pk}).get()
    assert len(stripe_refund_calls(fake_stripe)) == 1
    assert fake_stripe.objects[gift.stripe_charge_id]["amount_refunded"] == 2000


def test_a_refund_waiting_for_stripe_holds_its_amount(paid_gift, fake_stripe, people):
    gift = paid_gift()
    committed_but_never_sent(gift, people["finance"])

    with pytest.raises(ValidationError, match=r"between \$0.01 and \$30.00"):
        donation_refund(donation=gift, amount_cents=5000, reason="", by=people["finance"])

    assert stripe_refund_calls(fake_stripe) == []


def test_an_answer_lost_on_the_way_back_is_one_refund_at_stripe(paid_gift, fake_stripe, people):
    gift = paid_gift()
    # Stripe makes the refund, but neither the answer nor those to the client's two retries arrive.
    fake_stripe.lose_answers("POST", r"/v1/refunds", times=3)

    with pytest.raises(ValidationError, match="Stripe could not be reached"):
        donation_refund(donation=gift, amount_cents=2000, reason="asked", by=people["finance"])

    refund = Refund.objects.get()
    assert (refund.status, refund.stripe_refund_id) == ("requested", None)  # kept, its amount held
    later(refund)
    assert refunds_retry_stale() == 1

    calls = stripe_refund_calls(fake_stripe)
    assert len(calls) == 4 and {c.idempotency_key for c in calls} == {f"refund:{refund.pk}"}
    charge = fake_stripe.objects[gift.stripe_charge_id]
    assert (charge["amount_refunded"], len(charge["refunds"]["data"])) == (2000, 1)
    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id) == ("succeeded", charge["refunds"]["data"][0]["id"])


def test_a_refund_stripe_refuses_is_failed_frees_its_amount_and_is_shown_to_finance(paid_gift, fake_stripe, people):
    gift = paid_gift()
    refund = committed_but_never_sent(gift, people["finance"])
    later(refund)
    fake_stripe.refuse("POST", r"/v1/refunds", message="This charge cannot be refunded.", code="charge_not_refundable")

    refunds_retry_stale()

    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id, refund.failed_at is not None) == ("failed", None, True)
    assert refund.error == "This charge cannot be refunded. (charge_not_refundable)"
    finance = Client()
    finance.force_login(people["finance"])
    page = finance.get("/finance/").content.decode()
    assert "Refunds Stripe did not make" in page
    assert "This charge cannot be refunded. (charge_not_refundable)" in page
    assert "$20.00 USD" in page
    assert f'name="q" value="{gift.receipt_number}"' in page  # the link to the donation
    # The whole gift can be refunded again.
    again = donation_refund(donation=gift, amount_cents=5000, reason="", by=people["finance"])
    assert again.status == "succeeded"
    assert fake_stripe.objects[gift.stripe_charge_id]["amount_refunded"] == 5000


def test_a_refund_stripe_refuses_at_once_fails_in_the_request(paid_gift, fake_stripe, people):
    gift = paid_gift()
    fake_stripe.refuse("POST", r"/v1/refunds")

    with pytest.raises(ValidationError, match="Stripe did not accept the refund"):
        donation_refund(donation=gift, amount_cents=2000, reason="", by=people["finance"])

    assert Refund.objects.get().status == "failed"
    assert refunds_retry_stale() == 0


def test_a_refund_stripe_never_answers_is_failed_after_the_last_attempt(paid_gift, fake_stripe, people, settings):
    gift = paid_gift()
    settings.REFUND_MAX_ATTEMPTS = 3
    refund = committed_but_never_sent(gift, people["finance"])  # attempt 1: the web request, which died
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: Stripe cannot be reached

    later(refund)
    refunds_retry_stale()  # attempt 2
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("requested", 2)
    assert "Stripe could not be reached" in refund.error
    later(refund)
    refunds_retry_stale()  # attempt 3, the last

    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.failed_at is not None) == ("failed", 3, True)
    later(refund)
    assert refunds_retry_stale() == 0  # failed is final for the sweep
    settings.STRIPE_API_BASE = fake_stripe.url
    assert donation_refund(donation=gift, amount_cents=5000, reason="", by=people["finance"]).status == "succeeded"


def test_a_refund_marked_failed_that_stripe_made_after_all_becomes_succeeded(paid_gift, fake_stripe, people, deliver):
    gift = paid_gift()
    refund = committed_but_never_sent(gift, people["finance"])
    Refund.objects.filter(pk=refund.pk).update(status="failed", failed_at=timezone.now(), error="no answer")
    # Stripe did get the first request: its refund carries our refund's id.
    fake_stripe.refund(gift.stripe_charge_id, 2000, metadata={"refund_id": str(refund.pk)})

    deliver("charge.refunded", fake_stripe.objects[gift.stripe_charge_id])

    refund.refresh_from_db()
    assert (refund.status, refund.failed_at, refund.error) == ("succeeded", None, "")
    assert Refund.objects.count() == 1
    gift.refresh_from_db()
    assert gift.refunded_cents == 2000


def test_a_stale_view_of_a_refund_does_not_take_it_back_to_requested(paid_gift, fake_stripe, people, deliver):
    gift = paid_gift()
    refund = donation_refund(donation=gift, amount_cents=2000, reason="", by=people["finance"])
    assert refund.status == "succeeded"
    # An event applied late, with the charge as Stripe showed it while the refund was still pending.
    fake_stripe.objects[gift.stripe_charge_id]["refunds"]["data"][0]["status"] = "pending"

    deliver("charge.refunded", fake_stripe.objects[gift.stripe_charge_id])

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    gift.refresh_from_db()
    assert gift.refunded_cents == 2000
