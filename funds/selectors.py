"""Reads of funds shared by views and reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from funds.models import Account, AccountKind, Disbursement, Fund, Posting


@dataclass
class FundBalance:
    fund: Fund
    available: int  # cash: Stripe clearing + bank
    in_bank: int
    in_clearing: int
    bonds_outstanding: int
    committed: int  # approved disbursements not yet paid

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
            )
        )
    return result


def fund_balance(fund: Fund) -> FundBalance:
    return fund_balances([fund])[0]


def ledger_mismatches() -> list[tuple[Account, int, int]]:
    """Accounts whose running balance differs from the sum of their postings (should be none)."""
    sums = dict(Account.objects.annotate(total=Coalesce(Sum("postings__amount"), 0)).values_list("pk", "total"))
    return [(a, a.balance, sums[a.pk]) for a in Account.objects.select_related("fund") if a.balance != sums[a.pk]]


def unbalanced_transactions() -> list[int]:
    """Ids of transactions whose postings do not sum to zero (should be none)."""
    return list(
        Posting.objects.values("transaction")
        .annotate(total=Sum("amount"))
        .filter(~Q(total=0))
        .values_list("transaction", flat=True)
    )
