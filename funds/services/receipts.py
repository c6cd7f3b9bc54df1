"""Donation receipts and annual statements: numbering, storing, e-mailing.

The PDFs themselves come from ``funds.receipt_pdf`` (the renderer); this module decides which
gifts a document covers and what happens to the file.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from funds.models import Donation, Donor
from funds.receipt_pdf import Statement, StatementLine, render_receipt_pdf, render_statement_pdf
from kernel.clock import fund_time_zone, local_date
from kernel.enqueue import enqueue_now
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


# A claim to be sending a receipt older than this is a worker that died mid-send (or could not
# release its claim): the sweep lets the receipt be sent again.
RECEIPT_SENDING_LEASE = timedelta(minutes=30)
# The sweep's reach: receipts of donations paid in this window that were never sent.
RECEIPT_SWEEP_AFTER = timedelta(minutes=30)
RECEIPT_SWEEP_WITHIN = timedelta(days=7)


class ReceiptSentNotRecorded(Exception):
    """The receipt e-mail was handed to the mail server but the database did not take
    ``receipt_sent_at`` (it restarted meanwhile): record it later, never send it again."""

    def __init__(self, *, donation_id: int, sent_at: datetime) -> None:
        super().__init__(f"receipt of donation {donation_id} sent at {sent_at.isoformat()} but not recorded")
        self.donation_id = donation_id
        self.sent_at = sent_at


def donation_send_receipt(*, donation: Donation) -> bool:
    """Number, render, store and e-mail the receipt of a paid donation — once.

    Side effects, each done at most once per donation however often this runs:
    ``receipt_number`` is assigned; the PDF is rendered and saved to ``receipt_pdf`` in the
    private storage under a random name, with its SHA-256 in ``receipt_sha256``; an e-mail
    with the PDF attached goes to the donor; ``receipt_sent_at`` is set.

    Returns True when the e-mail was sent by this call. The e-mail is sent with no transaction
    open and no row locked: first ``receipt_sending_since`` is committed (the claim), so another
    worker, a retry or the sweep that comes meanwhile sends nothing; then the mail server gets the
    message; then ``receipt_sent_at`` is written. If sending fails (``OSError``) the claim is
    released, nothing is marked sent and the caller may retry, reusing the stored PDF. If the
    e-mail went out but writing ``receipt_sent_at`` failed (the database went away meanwhile),
    ``ReceiptSentNotRecorded`` is raised: the caller retries ``donation_receipt_mark_sent`` only.

    Only a worker killed between the mail server's "accepted" and the write (or a failure to
    release the claim) leaves a claim with no ``receipt_sent_at``; after ``RECEIPT_SENDING_LEASE``
    ``receipts_requeue_unsent`` sends it again, once more at most per lease, with the same
    ``Message-ID`` (mail clients show a resent copy as the same message). A donor is never left
    without a receipt, and a retry never sends a second one.
    """
    if not _store_receipt(donation_id=donation.pk):
        return False
    if not _claim_receipt(donation_id=donation.pk):
        return False
    claimed = Donation.objects.select_related("donor", "fund").get(pk=donation.pk)
    try:
        _email_receipt(claimed)
    except BaseException:
        # Nothing went out: let the next try (the task's retry) send it at once.
        Donation.objects.filter(pk=donation.pk, receipt_sent_at=None).update(receipt_sending_since=None)
        raise
    sent_at = timezone.now()
    try:
        donation_receipt_mark_sent(donation_id=donation.pk, sent_at=sent_at)
    except DatabaseError as exc:
        raise ReceiptSentNotRecorded(donation_id=donation.pk, sent_at=sent_at) from exc
    donation.refresh_from_db()
    return True


def donation_receipt_mark_sent(*, donation_id: int, sent_at: datetime) -> bool:
    """Record that a donation's receipt e-mail went out at ``sent_at`` (unless recorded already).

    Side effect: ``receipt_sent_at``. Returns whether this call recorded it."""
    return bool(Donation.objects.filter(pk=donation_id, receipt_sent_at=None).update(receipt_sent_at=sent_at))


def _claim_receipt(*, donation_id: int) -> bool:
    """Commit ``receipt_sending_since`` for a paid donation whose receipt nobody else is sending.

    False when it is sent already, not paid (any more), or claimed less than ``RECEIPT_SENDING_LEASE`` ago."""
    with transaction.atomic(durable=True):
        donation = Donation.objects.select_for_update().get(pk=donation_id)
        now = timezone.now()
        if donation.receipt_sent_at is not None or donation.status != Donation.Status.PAID:
            return False
        if donation.receipt_sending_since is not None and donation.receipt_sending_since > now - RECEIPT_SENDING_LEASE:
            return False
        donation.receipt_sending_since = now
        donation.save(update_fields=["receipt_sending_since"])
        return True


def receipts_requeue_unsent(
    *, after: timedelta = RECEIPT_SWEEP_AFTER, within: timedelta = RECEIPT_SWEEP_WITHIN, limit: int = 200
) -> int:
    """Queue the receipt again of every donation paid between ``within`` and ``after`` ago whose
    receipt was never sent and that nobody is sending (no claim, or one older than the lease).

    The safety net for a receipt task that was lost, ran out of retries, or died mid-send; sending
    is claimed first, so queuing one twice sends it once. Nothing when ``FUNDS_SEND_RECEIPTS`` is
    off. Side effect: ``funds.send_receipt`` queued per donation. Returns how many.
    """
    if not getattr(settings, "FUNDS_SEND_RECEIPTS", True):
        return 0
    now = timezone.now()
    unsent = list(
        Donation.objects.filter(
            status=Donation.Status.PAID,
            receipt_sent_at__isnull=True,
            paid_at__lt=now - after,
            paid_at__gte=now - within,
        )
        .filter(Q(receipt_sending_since__isnull=True) | Q(receipt_sending_since__lt=now - RECEIPT_SENDING_LEASE))
        .order_by("paid_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in unsent:
        enqueue_now("funds.send_receipt", donation_id=pk)
    return len(unsent)


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
    # The same Message-ID every time this receipt is sent: a copy sent again after a worker died
    # mid-send is shown by mail clients as the message they already have.
    domain = urlsplit(settings.SITE_URL).hostname or "amparo.invalid"
    message = EmailMessage(
        subject=SUBJECT_PREFIX + _("Your donation receipt %(number)s") % {"number": donation.receipt_number},
        body=render_to_string("funds/email/receipt.txt", context),
        to=[donation.donor.email],
        headers={"Message-ID": f"<receipt.{donation.receipt_number}.{donation.receipt_sha256[:16]}@{domain}>"},
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
