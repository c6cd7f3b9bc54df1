"""The double-entry ledger: accounts, transactions and their postings, in integer cents.

Every account belongs to one fund (fund accounting: each fund is a balanced set of books).
A posting's amount is positive for a debit and negative for a credit; the postings of a
transaction sum to zero — checked by the only service that writes them
(``funds.services.ledger.ledger_post``) and, on PostgreSQL, by a deferred constraint trigger.
Postings are never updated or deleted (a trigger refuses); mistakes are reversed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Fund(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True)
    restricted = models.BooleanField(
        _("restricted"), default=False, help_text=_("Donor-restricted: spent only on the purposes listed.")
    )
    allowed_purposes = models.CharField(
        _("allowed purposes"), max_length=200, blank=True, help_text=_("For a restricted fund, e.g. 'bond'.")
    )
    active = models.BooleanField(default=True)
    accepts_donations = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    def allows(self, purpose: str) -> bool:
        if not self.restricted:
            return True
        return purpose in {p.strip() for p in self.allowed_purposes.split(",") if p.strip()}


class AccountKind(models.TextChoices):
    # Assets (debit-normal)
    STRIPE_CLEARING = "stripe_clearing", _("Stripe clearing")
    BANK = "bank", _("Bank")
    BONDS_RECEIVABLE = "bonds_receivable", _("Bonds receivable")
    # A bond refund paid to a person-obligor, until they pass it back to the fund.
    OBLIGOR_RECEIVABLE = "obligor_receivable", _("Bond refunds due from obligors")
    # The part of a principal a refund fell short of, while the fund disputes it.
    BOND_SHORTFALLS = "bond_shortfalls", _("Bond refund shortfalls in dispute")
    # Income (credit-normal)
    DONATIONS = "donations", _("Donations")
    BOND_INTEREST = "bond_interest", _("Interest on bonds")
    # Expenses and contra-income (debit-normal)
    PROCESSING_FEES = "processing_fees", _("Processing fees")
    REFUNDS = "refunds", _("Refunds to donors")
    DISPUTES = "disputes", _("Lost disputes and dispute fees")
    PROGRAM_EXPENSES = "program_expenses", _("Program expenses")
    BOND_FORFEITURES = "bond_forfeitures", _("Forfeited bonds")
    BOND_SHORTFALL_LOSSES = "bond_shortfall_loss", _("Bond refund shortfalls written off")
    # Suspense (credit-normal): the part of a Stripe payout larger than what clearing held, until
    # finance finds what it was (``funds.services.bookkeeping.book_payout``).
    STRIPE_SUSPENSE = "stripe_suspense", _("Stripe payouts not yet explained")


CASH_KINDS = (AccountKind.STRIPE_CLEARING, AccountKind.BANK)
# Money the fund is owed on bonds: held by the government, due from an obligor, or disputed.
BOND_RECEIVABLE_KINDS = (AccountKind.BONDS_RECEIVABLE, AccountKind.OBLIGOR_RECEIVABLE, AccountKind.BOND_SHORTFALLS)


class Account(models.Model):
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    # Running sum of postings, kept by the ledger service in the same transaction; a test
    # and ``funds.selectors.ledger_check`` compare it with a full recomputation.
    balance = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["fund__sort_order", "kind"]
        constraints = [models.UniqueConstraint(fields=["fund", "kind"], name="funds_one_account_per_kind_per_fund")]

    def __str__(self) -> str:
        return f"{self.fund.slug}:{self.kind}"


class TransactionKind(models.TextChoices):
    DONATION = "donation", _("Donation")
    FEE = "fee", _("Processing fee")
    REFUND = "refund", _("Refund")
    DISPUTE = "dispute", _("Dispute")
    DISPUTE_WON = "dispute_won", _("Dispute won")
    PAYOUT = "payout", _("Payout to bank")
    DISBURSEMENT = "disbursement", _("Disbursement")
    BOND_PAID = "bond_paid", _("Bond paid")
    BOND_REFUNDED = "bond_refunded", _("Bond refunded")
    BOND_FORFEITED = "bond_forfeited", _("Bond forfeited")
    BOND_INTEREST = "bond_interest", _("Interest on a forfeited bond")
    BOND_PASSED_BACK = "bond_passed_back", _("Bond refund passed back by the obligor")
    BOND_SHORTFALL = "bond_shortfall", _("Bond refund shortfall resolved")
    PAYOUT_EXPLAINED = "payout_explained", _("Unexplained payout amount resolved")
    REVERSAL = "reversal", _("Reversal")


class Transaction(models.Model):
    # Our own idempotency key ("donation:12:gift", "refund:5"): posting twice is a no-op.
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(default=timezone.now)
    description = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        # The ledger's order (newest first) and its keyset pages; also any period of ``occurred_at``.
        indexes = [models.Index(fields=["occurred_at", "id"], name="funds_txn_occurred_id")]

    def __str__(self) -> str:
        return f"{self.key} ({self.kind})"


class Posting(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField(help_text=_("Cents; debit positive, credit negative."))

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="funds_posting_not_zero")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+d}"


class LedgerCheck(models.Model):
    """The result of the last full check of the ledger (one row, ``pk=1``), kept by the beat task
    ``funds.tasks.ledger_check`` (``funds.services.ledger_check.ledger_check_run``).

    Re-summing every posting takes a scan of the whole ledger (about 0.6 s at 800,000 postings):
    the worker does it every few minutes, and the finance and audit pages read this row instead.
    """

    SINGLETON = 1

    checked_at = models.DateTimeField()
    # The newest transaction that existed when the check ran: everything up to it was checked.
    through_transaction_id = models.BigIntegerField(null=True, blank=True)
    # Transactions whose postings do not sum to zero (ids, the first ``PROBLEMS_KEPT``), and how many.
    unbalanced = models.JSONField(default=list, blank=True)
    unbalanced_count = models.PositiveIntegerField(default=0)
    # Accounts whose running balance differs from the sum of their postings:
    # ``[{"account": id, "name": "general:bank", "balance": cents, "postings": cents}]``.
    mismatched = models.JSONField(default=list, blank=True)
    # Since when the ledger has had problems (the first check that found them); null while balanced.
    problems_since = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="funds_ledgercheck_one_row")]

    def __str__(self) -> str:
        return f"ledger check {self.checked_at:%Y-%m-%d %H:%M}: {self.problems} problem(s)"

    @property
    def problems(self) -> int:
        return self.unbalanced_count + len(self.mismatched)
