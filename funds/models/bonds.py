"""Immigration bonds the fund posts with ICE, and what happens to each until the money is back.

A bond is posted on Form I-352 (8 CFR 103.6(a)) as cash: the fund's money is held by the
Treasury in trust for the *obligor* (8 U.S.C. 1363(a)), earning interest (8 CFR 293.1-293.3). ICE
cancels the bond (notice on Form I-391, 8 CFR 103.6(c)) and the principal comes back with
interest to the obligor; or ICE declares it breached (notice on Form I-323, 8 CFR 103.6(e)), the
obligor may appeal on Form I-290B, and a breach that stands forfeits the principal, though the
interest up to the date of breach is still paid to the obligor (8 U.S.C. 1363(b)).

The obligor is the fund itself or a person (a relative, usually). Refunds go to the obligor, so a
person-obligor must hand the money back to the fund: until they do, it is owed to the fund
(``due_from_obligor_cents``, the ledger's *due from obligors* account). An obligor's name and
phone are personal data: never in a URL, a log line or an e-mail subject, and not in reports.

The states and the services that move a bond between them (``funds.services.bonds``)::

    posted ──I-391──▶ cancelled ──claim──▶ refund_claimed ──refund──▶ refunded
       │                   └──────────────refund──────────────────┘ ├▶ shortfall (less than the principal)
       │                                                             └▶ due_from_obligor (person-obligor)
       └──I-323──▶ breached ──I-290B──▶ appeal_filed ──upheld──▶ forfeited
                      │  └──────window closed, no appeal──────────┘
                      └──── withdrawn (or appeal sustained) ──▶ posted
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funds.models.disbursements import Disbursement
from funds.models.ledger import Fund, Transaction
from kernel.fields import EncryptedTextField


class BondType(models.TextChoices):
    DELIVERY = "delivery", _("Delivery bond")
    VOLUNTARY_DEPARTURE = "voluntary_departure", _("Voluntary departure bond")
    ORDER_OF_SUPERVISION = "order_of_supervision", _("Order of supervision bond")


class ObligorKind(models.TextChoices):
    FUND = "fund", _("The fund (as a non-profit obligor)")
    PERSON = "person", _("A person")


class PostingMethod(models.TextChoices):
    CEBONDS_ACH = "cebonds_ach", _("CeBONDS, ACH")
    CEBONDS_FEDWIRE = "cebonds_fedwire", _("CeBONDS, Fedwire")
    CASHIERS_CHECK = "cashiers_check", _("Cashier's check at the ERO window")
    MONEY_ORDER = "money_order", _("Money order at the ERO window")
    UNKNOWN = "unknown", _("Not recorded")


class BreachService(models.TextChoices):
    MAIL = "mail", _("By mail")
    IN_PERSON = "in_person", _("In person")


class Bond(models.Model):
    """A bond posted for a case, from the payment that funded it to the last cent back."""

    class Status(models.TextChoices):
        POSTED = "posted", _("Posted")
        CANCELLED = "cancelled", _("Cancelled (I-391 received)")
        REFUND_CLAIMED = "refund_claimed", _("Refund claimed")
        DUE_FROM_OBLIGOR = "due_from_obligor", _("Refunded to the obligor, to pass back")
        SHORTFALL = "shortfall", _("Refund short of the principal, in dispute")
        REFUNDED = "refunded", _("Refunded")
        BREACHED = "breached", _("Breach notice (I-323) received")
        APPEAL_FILED = "appeal_filed", _("Breach appealed (I-290B)")
        FORFEITED = "forfeited", _("Forfeited")

    disbursement = models.OneToOneField(Disbursement, on_delete=models.PROTECT, related_name="bond")
    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="bonds")
    decision = models.ForeignKey(
        "casework.Decision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bonds",
        verbose_name=_("the custody decision that set it"),
    )
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="bonds")
    # The principal posted (the payment's amount); ``ordered_cents`` is what the judge or ICE set,
    # which can differ (a redetermination after the order was noted, say).
    amount_cents = models.PositiveIntegerField(_("amount posted (cents)"))
    ordered_cents = models.PositiveIntegerField(_("amount ordered (cents)"), null=True, blank=True)
    bond_type = models.CharField(_("bond type"), max_length=24, choices=BondType.choices, default=BondType.DELIVERY)
    bond_number = models.CharField(_("bond number (Form I-352)"), max_length=40, blank=True)
    posting_method = models.CharField(
        _("posted through"), max_length=20, choices=PostingMethod.choices, default=PostingMethod.UNKNOWN
    )
    paid_on = models.DateField(_("paid from the bank on"))
    posted_on = models.DateField(_("posted with ICE on"))
    obligor_kind = models.CharField(_("obligor"), max_length=10, choices=ObligorKind.choices, default=ObligorKind.FUND)
    obligor_name = EncryptedTextField(_("obligor's name"), max_length=200, blank=True, single_line=True)
    obligor_phone = EncryptedTextField(_("obligor's phone"), max_length=40, blank=True, single_line=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.POSTED)
    # Cancellation and refund
    cancellation_notice_on = models.DateField(_("cancellation notice (I-391) dated"), null=True, blank=True)
    refund_claimed_on = models.DateField(_("refund claimed on"), null=True, blank=True)
    refunded_on = models.DateField(_("refund received on"), null=True, blank=True)
    refunded_cents = models.PositiveIntegerField(default=0)
    interest_cents = models.PositiveIntegerField(default=0)  # all interest: on the refund or to the breach
    shortfall_cents = models.PositiveIntegerField(default=0)  # principal not refunded, still in dispute
    due_from_obligor_cents = models.PositiveIntegerField(default=0)  # received by a person, not yet passed back
    passed_back_cents = models.PositiveIntegerField(default=0)
    # Breach
    breached_on = models.DateField(_("date of breach (on the I-323)"), null=True, blank=True)
    breach_notice_on = models.DateField(_("breach notice (I-323) served on"), null=True, blank=True)
    breach_service = models.CharField(_("served"), max_length=10, choices=BreachService.choices, blank=True)
    appeal_due_on = models.DateField(_("appeal (I-290B) due"), null=True, blank=True)
    appeal_filed_on = models.DateField(_("appeal (I-290B) filed on"), null=True, blank=True)
    # A forfeited bond's interest to the date of breach, paid to the obligor: when it was received.
    breach_interest_on = models.DateField(_("interest to the breach received on"), null=True, blank=True)
    # The day nothing more is expected (refunded and passed back, or forfeited).
    closed_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    CLOSED_STATES = (Status.REFUNDED, Status.FORFEITED)
    BREACH_STATES = (Status.BREACHED, Status.APPEAL_FILED)
    REFUND_STATES = (Status.CANCELLED, Status.REFUND_CLAIMED)

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["refunded", "forfeited"], closed_on__isnull=False)
                | (~Q(status__in=["refunded", "forfeited"]) & Q(closed_on__isnull=True)),
                name="funds_bond_closed_only_when_done",
            ),
            models.CheckConstraint(
                condition=Q(obligor_kind="person") | Q(due_from_obligor_cents=0),
                name="funds_bond_only_a_person_owes_a_refund_back",
            ),
            models.CheckConstraint(
                condition=~Q(obligor_kind="person") | ~Q(obligor_name=""),
                name="funds_bond_person_obligor_named",
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("amount_cents")),
                name="funds_bond_refund_not_above_principal",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["breached", "appeal_filed"])
                | Q(breach_notice_on__isnull=False, appeal_due_on__isnull=False),
                name="funds_bond_breach_has_its_dates",
            ),
            models.UniqueConstraint(
                fields=["bond_number"], condition=~Q(bond_number=""), name="funds_bond_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"bond {self.pk}"

    @property
    def held_by_ice_cents(self) -> int:
        """The principal still with the government (nothing once refunded or forfeited)."""
        if self.refunded_on is not None or self.status == self.Status.FORFEITED:
            return 0
        return self.amount_cents

    @property
    def owed_to_fund_cents(self) -> int:
        """What the fund still expects back: the principal held, what a person owes back, a disputed shortfall."""
        return self.held_by_ice_cents + self.due_from_obligor_cents + self.shortfall_cents

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATES

    @property
    def appeal_filed_late(self) -> bool:
        return bool(self.appeal_filed_on and self.appeal_due_on and self.appeal_filed_on > self.appeal_due_on)


class BondEvent(models.Model):
    """One step in a bond's life, in the order recorded: the history on the bond's page.

    Written by the bond services only, never changed. ``amount_cents`` is the money the step moved
    (the principal posted, a refund with its interest, a sum passed back), if any.
    """

    class Action(models.TextChoices):
        POSTED = "posted", _("Posted with ICE")
        CANCELLATION_NOTICE = "cancellation_notice", _("Cancellation notice (I-391) received")
        REFUND_CLAIMED = "refund_claimed", _("Refund claimed")
        REFUND_RECEIVED = "refund_received", _("Refund received")
        PASSED_BACK = "passed_back", _("Refund passed back to the fund by the obligor")
        SHORTFALL_RESOLVED = "shortfall_resolved", _("Shortfall resolved")
        BREACH_NOTICE = "breach_notice", _("Breach notice (I-323) received")
        APPEAL_FILED = "appeal_filed", _("Appeal (I-290B) filed")
        BREACH_WITHDRAWN = "breach_withdrawn", _("Breach withdrawn; bond in force again")
        FORFEITED = "forfeited", _("Breach upheld; bond forfeited")
        BREACH_INTEREST = "breach_interest", _("Interest to the date of breach received")

    bond = models.ForeignKey(Bond, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=24, choices=Action.choices)
    on = models.DateField()
    amount_cents = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} on {self.on.isoformat()}"
