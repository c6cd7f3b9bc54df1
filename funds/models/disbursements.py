"""Money paid out for a case: requested by its attorney, approved by someone else, paid.

A bond payment also opens a ``Bond`` (``funds.models.bonds``), which follows the bond until the money is back."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funds.models.ledger import Fund, Transaction


class Purpose(models.TextChoices):
    BOND = "bond", _("Bond")
    FILING_FEE = "filing_fee", _("Filing fee")
    EXPERT = "expert", _("Expert")
    INTERPRETER = "interpreter", _("Interpreter")
    TRAVEL = "travel", _("Travel")
    OTHER = "other", _("Other")


class Disbursement(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for approval")
        APPROVED = "approved", _("Approved, to be paid")
        REJECTED = "rejected", _("Rejected")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="disbursements")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="disbursements", verbose_name=_("fund"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))
    payee = models.CharField(_("payee"), max_length=200)
    reason = models.TextField(_("reason"))
    attachment = models.FileField(upload_to="disbursements/", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    payment_method = models.CharField(max_length=10, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-requested_at", "-id"]
        # The queue (by status) and the audit list (by period), newest first, in keyset pages.
        indexes = [
            models.Index(fields=["requested_at", "id"], name="funds_disb_requested_id"),
            models.Index(fields=["status", "requested_at", "id"], name="funds_disb_status_requested"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="funds_disbursement_positive"),
            # Two people: whoever approves or rejects is never the one who asked.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="funds_disbursement_four_eyes",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_on__isnull=False, transaction__isnull=False),
                name="funds_paid_disbursement_is_booked",
            ),
        ]

    def __str__(self) -> str:
        return f"disbursement {self.pk}"
