"""Donation receipts and annual statements: numbering, storing, e-mailing.

The PDFs themselves come from ``funds.receipt_pdf`` (the renderer); this module decides which
gifts a document covers and what happens to the file.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from funds.models import Donation, Donor
from funds.receipt_pdf import Statement, StatementLine, render_receipt_pdf, render_statement_pdf
from kernel.clock import fund_time_zone, local_date
from kernel.money import format_cents

SUBJECT_PREFIX = "[Amparo] "


def receipt_number_for(donation: Donation) -> str:
    """``R2026-000042``: the year paid (fund time zone) and the donation id, so never reused.

    The one receipt-number format: given when a payment is booked (``stripe_events``) and,
    for a paid donation that somehow has none, when its receipt is stored.
    """
    if donation.paid_at is None:
        raise ValueError("A receipt number needs a paid donation.")
    return f"R{local_date(donation.paid_at).year}-{donation.pk:06d}"


def donation_send_receipt(*, donation: Donation) -> bool:
    """Number, render, store and e-mail the receipt of a paid donation — once.

    Side effects, each done at most once per donation however often this runs:
    ``receipt_number`` is assigned; the PDF is rendered and saved to ``receipt_pdf`` in the
    private storage under a random name, with its SHA-256 in ``receipt_sha256``; an e-mail
    with the PDF attached goes to the donor; ``receipt_sent_at`` is set.

    Returns True when the e-mail was sent by this call. The donation row is locked while the
    e-mail is sent, so two workers cannot both send it; if sending fails (``OSError``) nothing
    is marked sent and the caller may retry, reusing the stored PDF.
    """
    if not _store_receipt(donation_id=donation.pk):
        return False
    with transaction.atomic():
        locked = Donation.objects.select_for_update().select_related("donor").get(pk=donation.pk)
        if locked.receipt_sent_at is not None:
            return False
        _email_receipt(locked)
        locked.receipt_sent_at = timezone.now()
        locked.save(update_fields=["receipt_sent_at"])
    donation.refresh_from_db()
    return True


@transaction.atomic
def _store_receipt(*, donation_id: int) -> bool:
    """Give the donation its number and stored PDF if it has none. False if no receipt is due."""
    donation = Donation.objects.select_for_update().select_related("donor", "fund").get(pk=donation_id)
    if donation.status != Donation.Status.PAID or donation.paid_at is None:
        return False
    if donation.receipt_sent_at is not None:
        return False
    if donation.receipt_pdf and donation.receipt_sha256:
        return True  # rendered by an earlier attempt whose e-mail failed: send that same file
    if not donation.receipt_number:
        donation.receipt_number = receipt_number_for(donation)
    pdf = render_receipt_pdf(donation)
    donation.receipt_pdf.save(f"{secrets.token_urlsafe(18)}.pdf", ContentFile(pdf), save=False)
    donation.receipt_sha256 = hashlib.sha256(pdf).hexdigest()
    try:
        donation.save(update_fields=["receipt_number", "receipt_pdf", "receipt_sha256"])
    except Exception:
        if donation.receipt_pdf.name:
            donation.receipt_pdf.storage.delete(donation.receipt_pdf.name)  # no orphan file
        raise
    return True


def _email_receipt(donation: Donation) -> None:
    with donation.receipt_pdf.open("rb") as stored:
        pdf = stored.read()
    context = {
        "donor_name": donation.donor.name,
        "amount": format_cents(donation.charged_cents),
        "fund_name": donation.fund.name,
        "receipt_number": donation.receipt_number,
        "monthly": donation.recurring_id is not None,
        "legal_name": settings.FUND_LEGAL_NAME,
        "portal_url": settings.SITE_URL + reverse("funds:donor-start"),
    }
    # The subject carries only the receipt number; the body only the donor's own gift.
    message = EmailMessage(
        subject=SUBJECT_PREFIX + _("Your donation receipt %(number)s") % {"number": donation.receipt_number},
        body=render_to_string("funds/email/receipt.txt", context),
        to=[donation.donor.email],
    )
    message.attach(f"receipt-{donation.receipt_number}.pdf", pdf, "application/pdf")
    message.send()


# --- Annual statements ----------------------------------------------------------------------


def donor_statement(*, donor: Donor, year: int) -> Statement:
    """The gifts a donor's statement for ``year`` lists, in the fund's time zone.

    Listed: donations with status *paid* whose payment date falls in the year, at what was
    charged (gift + fee covered) minus any partial refund. Not listed: fully *refunded* gifts,
    *lost* disputes (the money went back), gifts under an open *dispute* (held by the card
    network until it is decided), and failed or pending payments. The totals are the sum of
    the net amounts of the listed gifts.
    """
    zone = fund_time_zone()
    start = datetime(year, 1, 1, tzinfo=zone)
    end = datetime(year + 1, 1, 1, tzinfo=zone)
    donations = (
        Donation.objects.filter(donor=donor, status=Donation.Status.PAID, paid_at__gte=start, paid_at__lt=end)
        .select_related("fund")
        .order_by("paid_at", "id")
    )
    lines = [
        StatementLine(
            donation_id=d.pk,
            paid_on=local_date(d.paid_at),
            fund_name=d.fund.name,
            receipt_number=d.receipt_number or "",
            monthly=d.recurring_id is not None,
            charged_cents=d.charged_cents,
            refunded_cents=min(d.refunded_cents, d.charged_cents),
        )
        for d in donations
        if d.paid_at is not None  # always set: the filter above is on paid_at
    ]
    lines = [line for line in lines if line.net_cents > 0]
    return Statement(donor_name=donor.name or donor.email, donor_email=donor.email, year=year, lines=lines)


def donor_statement_pdf(*, donor: Donor, year: int) -> bytes:
    """The annual statement rendered on request (not stored: it changes while the year runs)."""
    return render_statement_pdf(donor_statement(donor=donor, year=year))


def donor_statement_years(*, donor: Donor) -> list[int]:
    """Years (fund time zone) in which the donor has a paid gift, newest first."""
    paid = Donation.objects.filter(donor=donor, status=Donation.Status.PAID).values_list("paid_at", flat=True)
    return sorted({local_date(moment).year for moment in paid if moment is not None}, reverse=True)
