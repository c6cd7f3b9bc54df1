"""Reads of funds shared by views and reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.formats import date_format
from django.utils.translation import gettext

from casework.models import CustodyPeriod, ReleaseBasis
from funds.models import Account, AccountKind, Bond, Disbursement, Fund, LedgerCheck, Posting
from kernel.clock import booking_day_start, local_date
from kernel.money import format_cents

# The beat task checks the ledger every 10 minutes (``amparo.settings``): a result older than this
# means it has stopped running, and the pages say so.
LEDGER_CHECK_STALE_AFTER = timedelta(hours=1)


@dataclass
class FundBalance:
    fund: Fund
    available: int  # cash: Stripe clearing + bank
    in_bank: int  # what payments can be made from
    in_clearing: int  # donations still on their way from Stripe (a payout brings them to the bank)
    bonds_outstanding: int  # principal held by the government
    committed: int  # approved disbursements not yet paid
    due_from_obligors: int = 0  # bond refunds paid to person-obligors, not yet passed back
    bond_shortfalls: int = 0  # refunds short of the principal, in dispute

    @property
    def free(self) -> int:
        return self.available - self.committed


def fund_balances(funds: Iterable[Fund] | None = None) -> list[FundBalance]:
    """Balances of each fund, from the accounts' running totals (one query per kind of figure)."""
    funds = list(funds if funds is not None else Fund.objects.all())
    per_account = {
        (a["fund_id"], a["kind"]): a["balance"]
        for a in Account.objects.filter(fund__in=funds).values("fund_id", "kind", "balance")
    }
    committed = dict(
        Disbursement.objects.filter(fund__in=funds, status=Disbursement.Status.APPROVED)
        .values("fund_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("fund_id", "total")
    )
    result = []
    for fund in funds:
        clearing = per_account.get((fund.pk, AccountKind.STRIPE_CLEARING), 0)
        bank = per_account.get((fund.pk, AccountKind.BANK), 0)
        result.append(
            FundBalance(
                fund=fund,
                available=clearing + bank,
                in_bank=bank,
                in_clearing=clearing,
                bonds_outstanding=per_account.get((fund.pk, AccountKind.BONDS_RECEIVABLE), 0),
                committed=committed.get(fund.pk, 0),
                due_from_obligors=per_account.get((fund.pk, AccountKind.OBLIGOR_RECEIVABLE), 0),
                bond_shortfalls=per_account.get((fund.pk, AccountKind.BOND_SHORTFALLS), 0),
            )
        )
    return result


def fund_balance(fund: Fund) -> FundBalance:
    return fund_balances([fund])[0]


def ledger_mismatches() -> list[tuple[Account, int, int]]:
    """Accounts whose running balance differs from the sum of their postings (should be none).

    One statement, so the balances and the sums are read in the same snapshot: a transaction
    booked while the check runs is in both or in neither. A scan of every posting: the beat task
    runs it (``funds.services.ledger_check``), pages read ``ledger_check_status``.
    """
    accounts = Account.objects.select_related("fund").annotate(total=Coalesce(Sum("postings__amount"), 0))
    return [(a, a.balance, a.total) for a in accounts if a.balance != a.total]


def unbalanced_transactions() -> list[int]:
    """Ids of transactions whose postings do not sum to zero (should be none)."""
    return list(
        Posting.objects.values("transaction")
        .annotate(total=Sum("amount"))
        .filter(~Q(total=0))
        .values_list("transaction", flat=True)
    )


@dataclass(frozen=True)
class LedgerStatus:
    """What the pages say about the ledger: the last full check, and a live check of the balances."""

    check: LedgerCheck | None  # None: never checked yet
    stale: bool  # no check, or the last is older than ``LEDGER_CHECK_STALE_AFTER``
    balances_total: int  # the sum of every account's balance: zero while every transaction balances

    @property
    def problems(self) -> int:
        return (self.check.problems if self.check else 0) + (1 if self.balances_total else 0)

    @property
    def ok(self) -> bool:
        """Checked recently, and nothing is wrong."""
        return not self.stale and not self.problems


def ledger_check_status(*, now: datetime) -> LedgerStatus:
    """The ledger's state for a page, in two small queries whatever the ledger's size.

    The full check (every posting re-summed) is the beat task's; live, the accounts' balances must
    still add up to zero, which a damaged balance breaks at once.
    """
    check = LedgerCheck.objects.filter(pk=LedgerCheck.SINGLETON).first()
    total = Account.objects.aggregate(total=Coalesce(Sum("balance"), 0))["total"]
    stale = check is None or check.checked_at < now - LEDGER_CHECK_STALE_AFTER
    return LedgerStatus(check=check, stale=stale, balances_total=total)


def bond_counts(*, today: date) -> dict[str, int]:
    """Finance's home page: open bonds, breach appeals whose window is still open, bonds a person-obligor owes on
    (one query)."""
    is_open = ~Q(status__in=Bond.CLOSED_STATES)
    return Bond.objects.aggregate(
        open=Count("pk", filter=is_open),
        appeals_open=Count("pk", filter=is_open & Q(status=Bond.Status.BREACHED, appeal_due_on__gte=today)),
        owed_by_obligors=Count("pk", filter=~Q(due_from_obligor_cents=0)),
    )


def disbursement_counts() -> dict[str, int]:
    """Finance's home page: requests waiting for a decision, and approved ones waiting to be paid (one query)."""
    status = Disbursement.Status
    return Disbursement.objects.filter(status__in=(status.REQUESTED, status.APPROVED)).aggregate(
        waiting=Count("pk", filter=Q(status=status.REQUESTED)),
        to_pay=Count("pk", filter=Q(status=status.APPROVED)),
    )


def bank_lowest_since(bank: Account, day: date) -> tuple[int, date]:
    """The lowest end-of-day balance of ``bank`` from ``day`` on, and a day it was that low.

    A payment dated ``day`` comes off every end-of-day balance from then on, so it is covered
    only if this low is at least its amount. Days count in the fund's time zone; ``bank.balance``
    is taken as today's (lock the row first when the answer decides a payment).
    """
    later = (
        Posting.objects.filter(account=bank, transaction__occurred_at__gte=booking_day_start(day + timedelta(days=1)))
        .values_list("transaction__occurred_at", "amount")
        .order_by()
    )
    per_day: defaultdict[date, int] = defaultdict(int)
    for moment, amount in later:
        per_day[local_date(moment)] += amount
    balance = bank.balance
    low, low_day = balance, max([day, *per_day])
    for posted_day in sorted(per_day, reverse=True):
        balance -= per_day[posted_day]  # the balance at the end of the day before ``posted_day``
        if balance <= low:
            low, low_day = balance, posted_day - timedelta(days=1)
    return low, low_day


def bond_release(bond: Bond) -> CustodyPeriod | None:
    """The release the bond bought: the case's first custody period released on bond since it was posted."""
    return (
        CustodyPeriod.objects.filter(
            case_id=bond.case_id, release_basis=ReleaseBasis.BOND, started_on__gte=bond.posted_on - timedelta(days=1)
        )
        .order_by("started_on", "id")
        .first()
    )


def bond_next_step(bond: Bond, *, today: date) -> str:
    """What the fund does next with ``bond``, in a sentence (the bond register and the bond page)."""
    status = Bond.Status
    words = {
        "due": date_format(bond.appeal_due_on, "DATE_FORMAT") if bond.appeal_due_on else "",
        "owed": format_cents(bond.due_from_obligor_cents),
        "short": format_cents(bond.shortfall_cents),
    }
    if bond.status == status.POSTED:
        return gettext(
            "Wait for ICE's cancellation notice (I-391), which comes once the case ends or the person leaves; "
            "record a breach notice (I-323) at once if one comes."
        )
    if bond.status == status.CANCELLED:
        return gettext("Claim the refund from ICE as the cancellation notice says, and record the claim.")
    if bond.status == status.REFUND_CLAIMED:
        return gettext("Wait for the refund (principal and interest) and record it when it arrives.")
    if bond.status == status.DUE_FROM_OBLIGOR:
        return gettext("The obligor owes the fund %(owed)s of the refund: record it when they pass it back.") % words
    if bond.status == status.SHORTFALL:
        return (
            gettext(
                "The refund was %(short)s short of the principal: ask ICE for the difference, then record what "
                "was recovered (the rest is written off)."
            )
            % words
        )
    if bond.status == status.BREACHED:
        if bond.appeal_due_on and today <= bond.appeal_due_on:
            return (
                gettext(
                    "The obligor may appeal the breach on Form I-290B; USCIS must receive it by %(due)s. Record "
                    "the appeal when it is filed, or the breach's withdrawal."
                )
                % words
            )
        return (
            gettext(
                "The appeal window closed on %(due)s with no appeal recorded: record the forfeiture, or the "
                "breach's withdrawal."
            )
            % words
        )
    if bond.status == status.APPEAL_FILED:
        return gettext(
            "Wait for the decision on the appeal: record the forfeiture if the breach is upheld, or its "
            "withdrawal if the appeal succeeds."
        )
    if bond.status == status.FORFEITED:
        steps = []
        if bond.breach_interest_on is None:
            steps.append(
                gettext(
                    "Interest to the date of breach is still paid to the obligor (8 U.S.C. 1363(b)): record it "
                    "when it arrives."
                )
            )
        if bond.due_from_obligor_cents:
            steps.append(gettext("The obligor owes the fund %(owed)s: record it when they pass it back.") % words)
        return " ".join(steps) or gettext("Nothing: the bond is closed.")
    return gettext("Nothing: the bond is closed.")
