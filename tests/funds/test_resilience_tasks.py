"""Funds tasks under passing faults (issue 11, items 6 and 10): a receipt is e-mailed once however
its task is retried or swept, and a database blip in a task is retried, by real Celery (``apply``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from funds import tasks
from funds.models import Donation, Donor, Fund, Refund
from funds.services import receipts
from funds.services.receipts import RECEIPT_SENDING_LEASE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _receipts_on(settings, tmp_path):
    settings.FUNDS_SEND_RECEIPTS = True
    settings.FUND_LEGAL_NAME = "Amparo Legal Defense Fund (test)"
    settings.FUND_ADDRESS = "1 Test Plaza, Testville, NY 10001"
    settings.FUND_TAX_ID = "12-3456789"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "kernel.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


def paid(*, email: str = "maria@example.org", ago: timedelta = timedelta(hours=1), **fields) -> Donation:
    donor = Donor.objects.for_email(email, name="María Donante")[0]
    return Donation.objects.create(
        donor=donor,
        fund=Fund.objects.get(slug="general"),
        amount_cents=12500,
        status=Donation.Status.PAID,
        paid_at=timezone.now() - ago,
        **fields,
    )


def fail_once(monkeypatch, target, name: str, error: Exception) -> list:
    """Make ``target.name`` raise ``error`` on its first call only; returns the list of calls made."""
    real = getattr(target, name)
    calls: list = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(target, name, flaky)
    return calls


# --- Receipts: one e-mail --------------------------------------------------------------------


def test_a_receipt_sent_but_not_recorded_is_recorded_by_the_retry_not_sent_again(monkeypatch):
    donation = paid()
    # The mail server took the e-mail; then the database went away before receipt_sent_at was written.
    fail_once(monkeypatch, receipts, "donation_receipt_mark_sent", OperationalError("server closed the connection"))

    result = tasks.send_receipt.apply(kwargs={"donation_id": donation.pk}, throw=False)

    assert result.successful()
    assert len(mail.outbox) == 1
    donation.refresh_from_db()
    assert donation.receipt_sent_at is not None
    # Run again (a redelivery, the sweep): still one e-mail.
    tasks.send_receipt.apply(kwargs={"donation_id": donation.pk}, throw=False)
    assert tasks.requeue_unsent_receipts.apply().get() == 0
    assert len(mail.outbox) == 1


def test_a_receipt_task_redelivered_while_another_is_sending_sends_nothing():
    # A worker claimed the receipt and was killed after the mail server took it, before recording.
    donation = paid()
    Donation.objects.filter(pk=donation.pk).update(receipt_sending_since=timezone.now())

    tasks.send_receipt.apply(kwargs={"donation_id": donation.pk}, throw=False)
    assert tasks.requeue_unsent_receipts.apply().get() == 0

    assert mail.outbox == []


def test_a_claim_left_past_its_lease_is_sent_by_the_sweep_once():
    donation = paid()
    stale = timezone.now() - RECEIPT_SENDING_LEASE - timedelta(minutes=1)
    Donation.objects.filter(pk=donation.pk).update(receipt_sending_since=stale)

    assert tasks.requeue_unsent_receipts.apply().get() == 1
    assert tasks.requeue_unsent_receipts.apply().get() == 0

    assert len(mail.outbox) == 1
    assert Donation.objects.get(pk=donation.pk).receipt_sent_at is not None


def test_the_sweep_sends_each_unsent_receipt_once():
    unsent = [paid(email="ana@example.org"), paid(email="luis@example.org")]
    paid(email="sent@example.org", receipt_sent_at=timezone.now() - timedelta(minutes=50))
    paid(email="fresh@example.org", ago=timedelta(minutes=5))  # its own task is still on the way
    Donation.objects.create(
        donor=Donor.objects.for_email("pending@example.org")[0],
        fund=Fund.objects.get(slug="general"),
        amount_cents=100,
    )

    assert tasks.requeue_unsent_receipts.apply().get() == 2
    assert tasks.requeue_unsent_receipts.apply().get() == 0

    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "luis@example.org"]
    assert all(Donation.objects.get(pk=d.pk).receipt_sent_at is not None for d in unsent)


def test_the_sweep_sends_nothing_when_receipts_are_off(settings):
    settings.FUNDS_SEND_RECEIPTS = False
    paid()

    assert tasks.requeue_unsent_receipts.apply().get() == 0
    assert mail.outbox == []


# --- A database blip in a task is retried -----------------------------------------------------


def test_a_receipt_task_hit_by_a_database_blip_is_retried_and_sends_one_email(monkeypatch):
    donation = paid()
    calls = fail_once(
        monkeypatch, tasks, "donation_send_receipt", OperationalError("the database system is starting up")
    )

    result = tasks.send_receipt.apply(kwargs={"donation_id": donation.pk}, throw=False)

    assert result.successful()
    assert len(calls) == 2
    assert len(mail.outbox) == 1


def test_a_refund_retry_hit_by_a_database_blip_is_retried_and_asks_stripe_once(
    paid_gift, fake_stripe, people, monkeypatch
):
    gift = paid_gift()
    long_ago = timezone.now() - timedelta(minutes=10)
    refund = Refund.objects.create(
        donation=gift, amount_cents=2000, requested_by=people["finance"], attempts=1, last_attempt_at=long_ago
    )
    Refund.objects.filter(pk=refund.pk).update(created_at=long_ago)
    calls = fail_once(monkeypatch, tasks, "refund_retry", OperationalError("terminating connection"))

    result = tasks.retry_refund.apply(kwargs={"refund_id": refund.pk}, throw=False)

    assert result.successful()
    assert len(calls) == 2
    assert len(fake_stripe.calls("POST", "/v1/refunds")) == 1
    assert Refund.objects.get(pk=refund.pk).status == "succeeded"


def test_a_bug_in_a_task_is_not_retried(monkeypatch):
    donation = paid()
    calls = fail_once(monkeypatch, tasks, "donation_send_receipt", ValueError("a bug"))

    result = tasks.send_receipt.apply(kwargs={"donation_id": donation.pk}, throw=False)

    assert result.failed()
    assert len(calls) == 1
    assert mail.outbox == []
