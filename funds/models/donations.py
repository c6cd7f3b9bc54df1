"""Donors, their gifts (Stripe Checkout), and the webhook events that move them forward."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funds.identity import donor_email_index, normalise_donor_email
from funds.models.ledger import Fund
from kernel.fields import EncryptedTextField


class DonorManager(models.Manager["Donor"]):
    def for_email(self, email: str, *, name: str = "") -> tuple[Donor, bool]:
        """The donor with this e-mail address (found by its blind index) and whether it was made now.

        A new donor gets the normalised address and ``name``; an existing one keeps its own.
        """
        return self.get_or_create(
            email_index=donor_email_index(email), defaults={"email": normalise_donor_email(email), "name": name}
        )


class Donor(models.Model):
    """Someone who gave. The name and e-mail address are encrypted at rest (``kernel.fields``).

    A donor is found by ``email_index`` (``funds.identity.donor_email_index``), never by ``email``:
    an encrypted column cannot be compared in SQL. The index is unique, so one address is one donor
    whatever its case or surrounding spaces.
    """

    email = EncryptedTextField(_("e-mail address"), max_length=254, single_line=True)
    email_index = models.CharField(max_length=64, unique=True, editable=False)
    name = EncryptedTextField(_("name"), max_length=200, blank=True, single_line=True)
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DonorManager()

    class Meta:
        constraints = [
            # An empty index would be a donor no lookup finds (and a second one a unique clash).
            models.CheckConstraint(condition=~Q(email_index=""), name="funds_donor_email_indexed"),
        ]

    def __str__(self) -> str:
        return f"donor {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The index is derived from the e-mail address, like a slug: kept in step on every save, so
        # no writer can store a donor that a lookup by the same address would not find.
        self.email_index = donor_email_index(self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_index"}
        super().save(*args, **kwargs)


class RecurringDonation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the first payment")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment failed")
        CANCELLED = "cancelled", _("Cancelled")

    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="recurring")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="+")
    amount_cents = models.PositiveIntegerField()
    cover_fee = models.BooleanField(default=False)
    anonymous = models.BooleanField(default=False)
    stripe_subscription_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"monthly {self.amount_cents} to {self.fund_id}"


class Donation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")
        DISPUTED = "disputed", _("Disputed")
        LOST = "lost", _("Dispute lost")

    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="donations")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="donations")
    recurring = models.ForeignKey(
        RecurringDonation, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    amount_cents = models.PositiveIntegerField(help_text=_("The gift, in cents."))
    fee_covered_cents = models.PositiveIntegerField(default=0, help_text=_("Added by the donor to cover fees."))
    anonymous = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    form_nonce = models.CharField(max_length=64, unique=True, null=True, blank=True)
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=64, blank=True)
    stripe_charge_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    stripe_invoice_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    stripe_fee_cents = models.PositiveIntegerField(default=0)
    refunded_cents = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    receipt_number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    receipt_pdf = models.FileField(upload_to="receipts/", blank=True)
    receipt_sha256 = models.CharField(max_length=64, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    # Set (and committed) before the receipt e-mail is handed to the mail server, so that no two
    # workers, and no retry of one, send it again (``funds.services.receipts.donation_send_receipt``).
    receipt_sending_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "paid_at"]),
            # The donation lists (newest first, keyset pages), unfiltered and by status.
            models.Index(fields=["created_at", "id"], name="funds_donation_created_id"),
            models.Index(fields=["status", "created_at", "id"], name="funds_donation_status_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="funds_donation_positive"),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("amount_cents") + models.F("fee_covered_cents")),
                name="funds_refund_not_more_than_charged",
            ),
        ]

    def __str__(self) -> str:
        return f"donation {self.pk}"

    @property
    def charged_cents(self) -> int:
        return self.amount_cents + self.fee_covered_cents

    @property
    def monthly(self) -> bool:
        return self.recurring_id is not None


class StripeEvent(models.Model):
    """Every webhook event, stored by its id before it is processed: the idempotency record.

    An event that still fails after ``funds.services.stripe_events.MAX_ATTEMPTS`` tries is
    *parked* (``parked_at``): nothing retries it any more until finance asks for a retry.
    ``error`` names what went wrong with Stripe's ids only, never personal data.
    """

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    parked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["parked_at"], name="funds_stripeevent_parked", condition=Q(parked_at__isnull=False))
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class Refund(models.Model):
    """A refund we asked Stripe for (or one made in Stripe's dashboard, found on ``charge.refunded``).

    *Requested* without a ``stripe_refund_id``: committed, but Stripe has not answered yet (or the
    process died before it asked). It holds its amount against the donation until Stripe answers;
    ``funds.services.checkout.refunds_retry_stale`` asks again with the same idempotency key
    (``refund:<id>``), ``attempts`` counts the tries, and after the last one, or when Stripe says it
    cannot refund, the refund is *failed* (``failed_at``, ``error``: Stripe's words, never personal
    data) and the amount is free again.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")

    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    stripe_refund_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="funds_refund_unanswered",
                condition=Q(status="requested", stripe_refund_id=None),
            )
        ]

    def __str__(self) -> str:
        return f"refund {self.pk}"


class Dispute(models.Model):
    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="disputes")
    stripe_dispute_id = models.CharField(max_length=64, unique=True)
    amount_cents = models.PositiveIntegerField()
    fee_cents = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=30)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.stripe_dispute_id


class Payout(models.Model):
    stripe_payout_id = models.CharField(max_length=64, unique=True)
    amount_cents = models.BigIntegerField()
    arrival_date = models.DateField()
    status = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.stripe_payout_id


class PayoutDiscrepancy(models.Model):
    """A payout larger than what the ledger's Stripe clearing held when it arrived.

    The payout is booked in full (the bank got it); ``amount_cents`` of it went to the funds'
    *Stripe payouts not yet explained* (suspense) accounts. Finance sees it on its home page until it
    is resolved (``funds.services.bookkeeping.payout_discrepancy_resolve``).
    """

    payout = models.OneToOneField(Payout, on_delete=models.PROTECT, related_name="discrepancy")
    amount_cents = models.BigIntegerField(help_text=_("Cents of the payout that clearing did not hold."))
    found_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-found_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="funds_payout_discrepancy_positive"),
        ]

    def __str__(self) -> str:
        return f"discrepancy on {self.payout_id}"
