"""The fund statement: cash at the start, every movement of cash in the period, cash at the end.

Cash is the bank plus Stripe clearing (donations on their way to the bank); only the bank pays
anything, so opening and closing cash are each split into "in the bank" and "on its way from
Stripe". Every posting on those accounts in the period falls in exactly one line (a reversal
counts on the line of what it reverses, anything unforeseen on "Other movements"), so opening +
movements = closing by construction; closing is then compared with the ledger's cash balance at
the period's end, summed independently from the postings, bank and clearing each, and the
statement says whether they agree. A bank balance below zero is called out: it means money was
paid before it was in the bank.

Bonds follow their lifecycle (``funds.services.bonds``): cash lines for bonds paid, refunds into
the bank, refunds passed back by person-obligors, shortfalls recovered and interest on forfeited
bonds; memo lines for what the fund is owed (held by the government, due from obligors, disputed
shortfalls) at the start and end, and what was forfeited or written off.

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
    TransactionKind.BOND_PASSED_BACK: "bonds_passed_back",
    TransactionKind.BOND_SHORTFALL: "bond_shortfalls_recovered",
    TransactionKind.BOND_INTEREST: "bond_breach_interest",
}
# Opening and closing cash, each split in two; not movements, not part of the sum.
SPLIT_CODES = ("opening:bank", "opening:clearing", "closing:bank", "closing:clearing")
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
        ("bonds_passed_back", _("Bond refunds passed back by person-obligors")),
        ("bond_shortfalls_recovered", _("Bond refund shortfalls recovered")),
        ("bond_breach_interest", _("Interest on forfeited bonds, to the date of breach")),
    ]
    return lines


def _memo_lines() -> list[tuple[str, str]]:
    return [
        ("memo:payouts", _("Memo: payouts from Stripe to the bank (no change in cash available)")),
        ("memo:bond_interest", _("Memo: interest on bonds in the period (also what person-obligors received)")),
        ("memo:bonds_written_off", _("Memo: bonds forfeited, written off (no cash moved)")),
        ("memo:bond_shortfalls_written_off", _("Memo: bond refund shortfalls written off (no cash moved)")),
        ("memo:bonds_outstanding_start", _("Memo: bonds outstanding at the start of the period")),
        ("memo:bonds_outstanding_end", _("Memo: bonds outstanding at the end of the period")),
        ("memo:due_from_obligors_start", _("Memo: bond refunds due from person-obligors at the start")),
        ("memo:due_from_obligors_end", _("Memo: bond refunds due from person-obligors at the end")),
        ("memo:bond_shortfalls_start", _("Memo: bond refund shortfalls in dispute at the start")),
        ("memo:bond_shortfalls_end", _("Memo: bond refund shortfalls in dispute at the end")),
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
    before_start = postings.filter(transaction__occurred_at__lt=period.start)
    before_end = postings.filter(transaction__occurred_at__lt=period.end)
    figures = {
        "memo:payouts": in_period.filter(account__kind=AccountKind.BANK, transaction__kind=TransactionKind.PAYOUT),
        "memo:bonds_written_off": in_period.filter(account__kind=AccountKind.BOND_FORFEITURES),
        "memo:bond_shortfalls_written_off": in_period.filter(account__kind=AccountKind.BOND_SHORTFALL_LOSSES),
    }
    for code, kind in (
        ("bonds_outstanding", AccountKind.BONDS_RECEIVABLE),
        ("due_from_obligors", AccountKind.OBLIGOR_RECEIVABLE),
        ("bond_shortfalls", AccountKind.BOND_SHORTFALLS),
    ):
        figures[f"memo:{code}_start"] = before_start.filter(account__kind=kind)
        figures[f"memo:{code}_end"] = before_end.filter(account__kind=kind)
    for code, queryset in figures.items():
        for fund_id, total in _sum_by_fund(queryset).items():
            memos[fund_id][code] = total
    # Interest is income: credited, so negative on its account; shown as the money it brought.
    for fund_id, total in _sum_by_fund(in_period.filter(account__kind=AccountKind.BOND_INTEREST)).items():
        memos[fund_id]["memo:bond_interest"] = -total
    return memos


def _cash_by_kind(queryset) -> dict[int, dict[str, int]]:
    """Cents per fund, bank and clearing apart."""
    split: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in queryset.values("account__fund", "account__kind").annotate(total=Sum("amount")).order_by():
        split[row["account__fund"]]["bank" if row["account__kind"] == AccountKind.BANK else "clearing"] += row["total"]
    return split


def _statement_rows(
    opening: dict[str, int], movements: dict[str, int], memos: dict[str, int], closing_split: dict[str, int]
) -> tuple[list[dict], int]:
    """The rows of one section. ``opening`` and ``closing_split`` are cents by ``bank`` and ``clearing``."""
    opening_cash = opening.get("bank", 0) + opening.get("clearing", 0)
    rows = [
        {"code": "opening", "line": _("Opening balance (cash: Stripe clearing and bank)"), "amount": opening_cash},
        {"code": "opening:bank", "line": _("of which in the bank"), "amount": opening.get("bank", 0)},
        {
            "code": "opening:clearing",
            "line": _("of which on its way from Stripe (clearing)"),
            "amount": opening.get("clearing", 0),
        },
    ]
    closing = opening_cash
    for code, label in _movement_lines():
        rows.append({"code": code, "line": label, "amount": movements.get(code, 0)})
        closing += movements.get(code, 0)
    if movements.get("other", 0):
        rows.append(
            {"code": "other", "line": _("Other movements (reversals and adjustments)"), "amount": movements["other"]}
        )
        closing += movements["other"]
    rows += [
        {"code": "closing", "line": _("Closing balance (cash: Stripe clearing and bank)"), "amount": closing},
        {"code": "closing:bank", "line": _("of which in the bank"), "amount": closing_split.get("bank", 0)},
        {
            "code": "closing:clearing",
            "line": _("of which on its way from Stripe (clearing)"),
            "amount": closing_split.get("clearing", 0),
        },
    ]
    rows += [{"code": code, "line": label, "amount": memos.get(code, 0)} for code, label in _memo_lines()]
    return rows, closing


def _add(total: defaultdict[str, int], part: dict[str, int]) -> None:
    for code, cents in part.items():
        total[code] += cents


def build_fund_statement(period: Period, fund: Fund | None, progress: Progress) -> ReportData:
    funds = [fund] if fund is not None else list(Fund.objects.order_by("sort_order", "name"))
    fund_ids = [f.pk for f in funds]
    cash = Posting.objects.filter(account__fund__in=fund_ids, account__kind__in=CASH_KINDS)
    opening = _cash_by_kind(cash.filter(transaction__occurred_at__lt=period.start))
    progress(20)
    movements = _cash_movements(period, fund_ids)
    progress(50)
    memos = _memos(period, fund_ids)
    progress(70)
    # The independent figures: the ledger's bank and clearing balances at the period's end, summed afresh.
    ledger_end = _cash_by_kind(cash.filter(transaction__occurred_at__lt=period.end))
    progress(85)

    columns = [Column("line", _("Line")), Column("amount", _("Amount"), "money")]
    sections, mismatched, overdrawn = [], [], []
    totals: dict[str, defaultdict[str, int]] = {
        part: defaultdict(int) for part in ("opening", "movements", "memos", "closing")
    }
    for f in funds:
        end = ledger_end.get(f.pk, {})
        rows, closing = _statement_rows(opening.get(f.pk, {}), movements.get(f.pk, {}), memos.get(f.pk, {}), end)
        sections.append(Section(title=f.name, columns=columns, rows=rows))
        if closing != end.get("bank", 0) + end.get("clearing", 0):
            mismatched.append(f.name)
        if min(opening.get(f.pk, {}).get("bank", 0), end.get("bank", 0)) < 0:
            overdrawn.append(f.name)
        _add(totals["opening"], opening.get(f.pk, {}))
        _add(totals["movements"], movements.get(f.pk, {}))
        _add(totals["memos"], memos.get(f.pk, {}))
        _add(totals["closing"], end)
    if fund is None:
        rows, closing = _statement_rows(totals["opening"], totals["movements"], totals["memos"], totals["closing"])
        sections.append(Section(title=_("All funds"), columns=columns, rows=rows))
        if closing != sum(totals["closing"].values()):
            mismatched.append(_("All funds"))

    notes = [
        _("Amounts are cash effects: money in is positive, money out negative. Memo lines move no cash."),
        _(
            "Cash is split into what is in the bank, from which every payment is made, and what is still on its "
            "way from Stripe (donations reach the bank with Stripe's payouts)."
        ),
    ]
    if overdrawn:
        notes.insert(
            0,
            _(
                "WARNING: the bank balance of %(funds)s is below zero at the start or the end of the period: money "
                "was recorded as paid before it was in the bank. Report it to finance."
            )
            % {"funds": ", ".join(overdrawn)},
        )
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
