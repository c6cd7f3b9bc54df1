"""The fund statement: cash at the start, every movement of cash in the period, cash at the end.

Cash is what a fund can spend: Stripe clearing + bank. Every posting on those accounts in the
period falls in exactly one line (a reversal counts on the line of what it reverses, anything
unforeseen on "Other movements"), so opening + movements = closing by construction; closing
is then compared with the ledger's cash balance at the period's end, summed independently
from the postings, and the statement says whether the two agree.

Rows are ``{"line": label, "amount": cents}`` (signed: money in positive, money out
negative), plus a ``code`` key that names the line for programs (``"donations"``,
``"program:expert"``, ``"memo:payouts"``…); columns don't list it, so it is neither printed nor
part of the content digest. Memo lines move no cash and are not part of the sum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from funds.models import (
    CASH_KINDS,
    AccountKind,
    Disbursement,
    Fund,
    Posting,
    Purpose,
    TransactionKind,
)
from reports.builders.period import Period, Progress
from reports.data import Column, ReportData, Section

RECONCILED_NOTE = gettext_noop("Reconciles to the ledger to the cent: opening + movements = closing = ledger balance.")

# Which line a transaction kind's cash postings fall on (disbursements are split by purpose).
LINE_OF_KIND: dict[str, str] = {
    TransactionKind.DONATION: "donations",
    TransactionKind.FEE: "fees",
    TransactionKind.REFUND: "refunds",
    TransactionKind.DISPUTE: "disputes",
    TransactionKind.DISPUTE_WON: "disputes",
    TransactionKind.BOND_PAID: "bonds_paid",
    TransactionKind.BOND_REFUNDED: "bonds_refunded",
}
PROGRAM_PURPOSES = [p for p in Purpose if p != Purpose.BOND]  # a bond is a receivable, not an expense


def _movement_lines() -> list[tuple[str, str]]:
    lines = [
        ("donations", _("Donations received (gross charged)")),
        ("fees", _("Card processing fees")),
        ("refunds", _("Refunds to donors")),
        ("disputes", _("Disputes (amounts lost and dispute fees, net of disputes won)")),
    ]
    lines += [
        (f"program:{p.value}", _("Program expenses: %(purpose)s") % {"purpose": p.label}) for p in PROGRAM_PURPOSES
    ]
    lines += [
        ("bonds_paid", _("Bonds paid out")),
        ("bonds_refunded", _("Bonds refunded (cash back, including interest)")),
    ]
    return lines


def _memo_lines() -> list[tuple[str, str]]:
    return [
        ("memo:payouts", _("Memo: payouts from Stripe to the bank (no change in cash available)")),
        ("memo:bond_interest", _("Memo: of which interest on refunded bonds")),
        ("memo:bonds_written_off", _("Memo: bonds forfeited or withheld, written off (no cash moved)")),
        ("memo:bonds_outstanding_start", _("Memo: bonds outstanding at the start of the period")),
        ("memo:bonds_outstanding_end", _("Memo: bonds outstanding at the end of the period")),
    ]


def _sum_by_fund(queryset) -> dict[int, int]:
    return {
        row["account__fund"]: row["total"] or 0
        for row in queryset.values("account__fund").annotate(total=Sum("amount")).order_by()
    }


def _cash_movements(period: Period, fund_ids: list[int]) -> dict[int, dict[str, int]]:
    """Cents per fund per line code, from the cash postings in the period."""
    in_period = Posting.objects.filter(
        account__fund__in=fund_ids,
        account__kind__in=CASH_KINDS,
        transaction__occurred_at__gte=period.start,
        transaction__occurred_at__lt=period.end,
    )
    movements: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    disbursement = Q(transaction__kind=TransactionKind.DISBURSEMENT) | Q(
        transaction__kind=TransactionKind.REVERSAL, transaction__reverses__kind=TransactionKind.DISBURSEMENT
    )
    grouped = (
        in_period.exclude(disbursement)
        .values("account__fund", "transaction__kind", "transaction__reverses__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in grouped:
        kind = row["transaction__kind"]
        if kind == TransactionKind.REVERSAL:
            kind = row["transaction__reverses__kind"]
        movements[row["account__fund"]][LINE_OF_KIND.get(kind, "other")] += row["total"]
    # Program expenses by purpose: the ledger key ``disbursement:<id>`` names the disbursement.
    by_key = list(
        in_period.filter(disbursement)
        .values("account__fund", "transaction__key", "transaction__reverses__key")
        .annotate(total=Sum("amount"))
        .order_by()
    )

    def disbursement_id(row: Mapping[str, Any]) -> int | None:
        key = row["transaction__reverses__key"] or row["transaction__key"]
        prefix, _sep, number = key.partition(":")
        return int(number) if prefix == "disbursement" and number.isdigit() else None

    ids = {number for keyed in by_key if (number := disbursement_id(keyed)) is not None}
    purposes: dict[int | None, str] = dict(Disbursement.objects.filter(pk__in=ids).values_list("pk", "purpose"))
    for keyed in by_key:
        purpose = purposes.get(disbursement_id(keyed), Purpose.OTHER)
        code = f"program:{purpose}" if purpose != Purpose.BOND else "other"
        movements[keyed["account__fund"]][code] += keyed["total"]
    return movements


def _memos(period: Period, fund_ids: list[int]) -> dict[int, dict[str, int]]:
    memos: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    postings = Posting.objects.filter(account__fund__in=fund_ids)
    in_period = postings.filter(transaction__occurred_at__gte=period.start, transaction__occurred_at__lt=period.end)
    figures = {
        "memo:payouts": in_period.filter(account__kind=AccountKind.BANK, transaction__kind=TransactionKind.PAYOUT),
        "memo:bonds_written_off": in_period.filter(account__kind=AccountKind.BOND_FORFEITURES),
        "memo:bonds_outstanding_start": postings.filter(
            account__kind=AccountKind.BONDS_RECEIVABLE, transaction__occurred_at__lt=period.start
        ),
        "memo:bonds_outstanding_end": postings.filter(
            account__kind=AccountKind.BONDS_RECEIVABLE, transaction__occurred_at__lt=period.end
        ),
    }
    for code, queryset in figures.items():
        for fund_id, total in _sum_by_fund(queryset).items():
            memos[fund_id][code] = total
    # Interest is income: credited, so negative on its account; shown as the cash it brought.
    for fund_id, total in _sum_by_fund(in_period.filter(account__kind=AccountKind.BOND_INTEREST)).items():
        memos[fund_id]["memo:bond_interest"] = -total
    return memos


def _statement_rows(opening: int, movements: dict[str, int], memos: dict[str, int]) -> tuple[list[dict], int]:
    rows = [{"code": "opening", "line": _("Opening balance (cash: Stripe clearing and bank)"), "amount": opening}]
    closing = opening
    for code, label in _movement_lines():
        rows.append({"code": code, "line": label, "amount": movements.get(code, 0)})
        closing += movements.get(code, 0)
    if movements.get("other", 0):
        rows.append(
            {"code": "other", "line": _("Other movements (reversals and adjustments)"), "amount": movements["other"]}
        )
        closing += movements["other"]
    rows.append({"code": "closing", "line": _("Closing balance (cash: Stripe clearing and bank)"), "amount": closing})
    rows += [{"code": code, "line": label, "amount": memos.get(code, 0)} for code, label in _memo_lines()]
    return rows, closing


def build_fund_statement(period: Period, fund: Fund | None, progress: Progress) -> ReportData:
    funds = [fund] if fund is not None else list(Fund.objects.order_by("sort_order", "name"))
    fund_ids = [f.pk for f in funds]
    cash = Posting.objects.filter(account__fund__in=fund_ids, account__kind__in=CASH_KINDS)
    opening = _sum_by_fund(cash.filter(transaction__occurred_at__lt=period.start))
    progress(20)
    movements = _cash_movements(period, fund_ids)
    progress(50)
    memos = _memos(period, fund_ids)
    progress(70)
    # The independent figure: the ledger's cash balance at the period's end, summed afresh.
    ledger_end = _sum_by_fund(cash.filter(transaction__occurred_at__lt=period.end))
    progress(85)

    columns = [Column("line", _("Line")), Column("amount", _("Amount"), "money")]
    sections, mismatched = [], []
    total_opening = 0
    total_movements: defaultdict[str, int] = defaultdict(int)
    total_memos: defaultdict[str, int] = defaultdict(int)
    for f in funds:
        rows, closing = _statement_rows(opening.get(f.pk, 0), movements.get(f.pk, {}), memos.get(f.pk, {}))
        sections.append(Section(title=f.name, columns=columns, rows=rows))
        if closing != ledger_end.get(f.pk, 0):
            mismatched.append(f.name)
        total_opening += opening.get(f.pk, 0)
        for code, cents in movements.get(f.pk, {}).items():
            total_movements[code] += cents
        for code, cents in memos.get(f.pk, {}).items():
            total_memos[code] += cents
    if fund is None:
        rows, closing = _statement_rows(total_opening, total_movements, total_memos)
        sections.append(Section(title=_("All funds"), columns=columns, rows=rows))
        if closing != sum(ledger_end.values()):
            mismatched.append(_("All funds"))

    notes = [
        _("Amounts are cash effects: money in is positive, money out negative. Memo lines move no cash."),
    ]
    if mismatched:
        notes.insert(
            0,
            _(
                "WARNING: this statement does NOT reconcile to the ledger (%(funds)s): opening + movements "
                "differs from the ledger's cash balance at the end of the period. Do not rely on it; "
                "report it to finance."
            )
            % {"funds": ", ".join(mismatched)},
        )
    else:
        notes.insert(0, _(RECONCILED_NOTE))
    return ReportData(
        kind="fund_statement",
        title=_("Fund statement"),
        parameters=period.parameters(fund=fund),
        sections=sections,
        notes=notes,
    )
