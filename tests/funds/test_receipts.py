"""Receipts and annual statements: what the PDFs say, and that each receipt is sent once."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime

import pytest
from celery import current_app
from django.core import mail
from pypdf import PdfReader

from funds import tasks
from funds.models import Donation, Donor, Fund, RecurringDonation
from funds.receipt_pdf import Statement, render_receipt_pdf, render_statement_pdf
from funds.services.receipts import donation_send_receipt, donor_statement, receipt_number_for

pytestmark = pytest.mark.django_db

LEGAL_NAME = "Amparo Legal Defense Fund (test)"
TAX_ID = "12-3456789"


@pytest.fixture(autouse=True)
def _fund_identity(settings):
    settings.FUND_LEGAL_NAME = LEGAL_NAME
    settings.FUND_ADDRESS = "1 Test Plaza, Testville, NY 10001"
    settings.FUND_TAX_ID = TAX_ID


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "kernel.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


@pytest.fixture
def general():
    return Fund.objects.get(slug="general")


@pytest.fixture
def donor():
    return Donor.objects.create(email="maria@example.org", name="María Donante Núñez")


def paid(donor, fund, *, cents=12500, fee=0, when=datetime(2026, 3, 14, 15, 0, tzinfo=UTC), **fields) -> Donation:
    return Donation.objects.create(
        donor=donor,
        fund=fund,
        amount_cents=cents,
        fee_covered_cents=fee,
        status=fields.pop("status", Donation.Status.PAID),
        paid_at=when,
        **fields,
    )


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def stored_pdf(donation: Donation) -> bytes:
    with donation.receipt_pdf.open("rb") as stored:
        return stored.read()


# --- The receipt ----------------------------------------------------------------------------


def test_receipt_pdf_shows_fund_donor_amount_number_and_statement(donor, general):
    donation = paid(donor, general, anonymous=True)
    donation.receipt_number = receipt_number_for(donation)

    text = pdf_text(render_receipt_pdf(donation))

    assert LEGAL_NAME in text
    assert TAX_ID in text
    assert "1 Test Plaza, Testville, NY 10001" in text
    # Anonymous gifts stay out of public listings; the donor's own receipt still names them.
    assert "María Donante Núñez" in text
    assert "$125.00" in text
    assert "General fund" in text
    assert donation.receipt_number in text
    assert "card (Stripe)" in text
    assert "March 14, 2026" in text
    assert "No goods or services were provided in exchange for this contribution." in text
    assert "monthly gift" not in text


def test_receipt_adds_covered_fee_to_the_gift(donor, general):
    donation = paid(donor, general, cents=10000, fee=320)
    donation.receipt_number = receipt_number_for(donation)

    text = pdf_text(render_receipt_pdf(donation))

    assert "$100.00" in text
    assert "$3.20" in text
    assert "$103.20" in text


def test_receipt_number_and_date_are_in_fund_time_zone(donor, general):
    # 02:30 UTC on New Year's Day is still New Year's Eve in New York: a 2025 gift.
    donation = paid(donor, general, when=datetime(2026, 1, 1, 2, 30, tzinfo=UTC))
    donation.receipt_number = receipt_number_for(donation)

    text = pdf_text(render_receipt_pdf(donation))

    # The one receipt-number format (the webhook path uses the same function).
    assert donation.receipt_number == f"R2025-{donation.pk:06d}"
    assert "Dec. 31, 2025" in text  # DATE_FORMAT for English


def test_receipt_uses_only_local_fonts(donor, general):
    donation = paid(donor, general)
    donation.receipt_number = receipt_number_for(donation)

    reader = PdfReader(io.BytesIO(render_receipt_pdf(donation)))

    fonts = {str(font.get_object()["/BaseFont"]) for font in reader.pages[0]["/Resources"]["/Font"].values()}
    assert fonts and all("Inter" in name for name in fonts)


# --- Sending --------------------------------------------------------------------------------


def test_funds_tasks_are_registered_under_the_names_services_enqueue():
    names = ["funds.send_receipt", "funds.tasks.process_stripe_event", "funds.tasks.requeue_stale_stripe_events"]

    assert [current_app.tasks[name] for name in names] == [
        tasks.send_receipt,
        tasks.process_stripe_event,
        tasks.requeue_stale_stripe_events,
    ]


def test_send_receipt_emails_the_pdf_once(donor, general):
    donation = paid(donor, general)

    # Called by name, as the payment side enqueues it.
    task = current_app.tasks["funds.send_receipt"]
    task.apply(kwargs={"donation_id": donation.pk})
    task.apply(kwargs={"donation_id": donation.pk})

    donation.refresh_from_db()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maria@example.org"]
    assert message.subject == f"[Amparo] Your donation receipt {donation.receipt_number}"
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"receipt-{donation.receipt_number}.pdf", "application/pdf")
    assert "$125.00" in message.body
    assert "http://testserver/donor/" in message.body
    assert "$125.00" in pdf_text(content)
    assert donation.receipt_sent_at is not None
    assert donation.receipt_pdf.name.startswith("receipts/")
    assert re.fullmatch(r"receipts/[A-Za-z0-9_-]{24}\.pdf", donation.receipt_pdf.name)  # random, no number
    assert content == stored_pdf(donation)


def test_stored_sha256_matches_the_file(donor, general):
    donation = paid(donor, general)

    donation_send_receipt(donation=donation)

    assert donation.receipt_sha256 == hashlib.sha256(stored_pdf(donation)).hexdigest()


def test_send_receipt_ignores_unpaid_and_missing_donations(donor, general):
    pending = paid(donor, general, status=Donation.Status.PENDING, when=None)

    tasks.send_receipt.delay(donation_id=pending.pk)
    tasks.send_receipt.delay(donation_id=999_999)

    pending.refresh_from_db()
    assert mail.outbox == []
    assert (pending.receipt_number, pending.receipt_pdf.name, pending.receipt_sent_at) == (None, "", None)


def test_failed_email_is_retried_with_the_same_pdf(donor, general, monkeypatch):
    donation = paid(donor, general)
    real_send = mail.EmailMessage.send

    def smtp_down(self, fail_silently=False):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(mail.EmailMessage, "send", smtp_down)
    with pytest.raises(OSError):
        donation_send_receipt(donation=donation)
    donation.refresh_from_db()
    first = (donation.receipt_pdf.name, donation.receipt_sha256)
    assert donation.receipt_sent_at is None

    monkeypatch.setattr(mail.EmailMessage, "send", real_send)
    assert donation_send_receipt(donation=donation) is True

    assert (donation.receipt_pdf.name, donation.receipt_sha256) == first
    assert len(mail.outbox) == 1


def test_each_monthly_payment_gets_its_own_receipt(donor, general):
    monthly = RecurringDonation.objects.create(
        donor=donor, fund=general, amount_cents=2500, stripe_subscription_id="sub_1", status="active"
    )
    october = paid(donor, general, cents=2500, recurring=monthly, when=datetime(2026, 10, 3, 14, tzinfo=UTC))
    november = paid(donor, general, cents=2500, recurring=monthly, when=datetime(2026, 11, 3, 14, tzinfo=UTC))

    for donation in (october, november):
        tasks.send_receipt.delay(donation_id=donation.pk)

    october.refresh_from_db()
    november.refresh_from_db()
    assert len(mail.outbox) == 2
    assert october.receipt_number != november.receipt_number
    assert october.receipt_sha256 != november.receipt_sha256
    october_text = pdf_text(stored_pdf(october))
    november_text = pdf_text(stored_pdf(november))
    assert "monthly gift, payment of October 2026" in october_text
    assert "monthly gift, payment of November 2026" in november_text
    assert "$25.00" in october_text
    assert [m.subject for m in mail.outbox] == [
        f"[Amparo] Your donation receipt {october.receipt_number}",
        f"[Amparo] Your donation receipt {november.receipt_number}",
    ]


# --- Annual statement -----------------------------------------------------------------------


def test_statement_lists_paid_gifts_of_the_year_net_of_refunds(donor, general):
    bond = Fund.objects.get(slug="bond")
    paid(donor, general, cents=12500, when=datetime(2026, 2, 1, 15, tzinfo=UTC))
    paid(donor, bond, cents=5000, fee=180, refunded_cents=1000, when=datetime(2026, 5, 1, 15, tzinfo=UTC))
    # Still 2026 in New York.
    paid(donor, general, cents=2000, when=datetime(2027, 1, 1, 3, tzinfo=UTC))
    # Not listed: refunded in full, a lost dispute, an open dispute, unpaid, another year, another donor.
    paid(donor, general, cents=3000, refunded_cents=3000, status=Donation.Status.REFUNDED)
    paid(donor, general, cents=4000, status=Donation.Status.LOST)
    paid(donor, general, cents=4500, status=Donation.Status.DISPUTED)
    paid(donor, general, cents=6000, status=Donation.Status.FAILED, when=None)
    paid(donor, general, cents=7000, when=datetime(2025, 12, 31, 12, tzinfo=UTC))
    paid(Donor.objects.create(email="other@example.org", name="Other"), general, cents=8000)

    statement = donor_statement(donor=donor, year=2026)
    text = pdf_text(render_statement_pdf(statement))

    assert [line.net_cents for line in statement.lines] == [12500, 4180, 2000]
    assert (statement.charged_cents, statement.refunded_cents, statement.net_cents) == (19680, 1000, 18680)
    assert statement.fund_totals() == [("Bond fund", 4180), ("General fund", 14500)]
    assert "Annual giving statement 2026" in text
    assert "María Donante Núñez" in text
    assert TAX_ID in text
    assert "$186.80" in text  # the net total
    assert "-$10.00" in text  # the partial refund
    for excluded in ("$30.00", "$40.00", "$45.00", "$60.00", "$70.00", "$80.00"):
        assert excluded not in text
    assert "No goods or services were provided in exchange for these contributions." in text


def test_statement_for_an_empty_year_says_no_donations(donor, general):
    paid(donor, general, when=datetime(2026, 6, 1, 12, tzinfo=UTC))

    statement = donor_statement(donor=donor, year=2024)
    text = pdf_text(render_statement_pdf(statement))

    assert statement == Statement(
        donor_name="María Donante Núñez", donor_email="maria@example.org", year=2024, lines=[]
    )
    assert "No donations in 2024." in text
    assert "$" not in text
