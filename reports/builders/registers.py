"""Registers for auditors: donations, disbursements and bonds, one row per record.

Nothing here reads a ``Detainee``: a case appears by its public number only. Donors appear by
name (or "Anonymous"), never by e-mail; staff by name and e-mail. Free-text fields that might
hold personal data (a disbursement's reason, a decision note, a bond's note) are left out, and so
is a person-obligor's name and phone: a bond's obligor is "the fund" or "a person".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from casework.masking import Masker
from funds.models import AccountKind, Bond, Disbursement, Donation, Fund, Posting
from reports.builders.period import Period, Progress, staff_label, yes_no
from reports.data import Column, ReportData, Section

REGISTERED_DONATION_STATUSES = (
    Donation.Status.PAID,
    Donation.Status.REFUNDED,
    Donation.Status.DISPUTED,
    Donation.Status.LOST,
)


def totals_of(columns: list[Column], rows: list[dict]) -> dict:
    """The sum of every money column (ids, ages and dates are not added up)."""
    return {c.key: sum(row[c.key] or 0 for row in rows) for c in columns if c.kind == "money"}


def _donor_label(donation: Donation) -> str:
    if donation.anonymous:
        return _("Anonymous")
    return donation.donor.name or _("(no name given)")


def build_donation_register(period: Period, fund: Fund | None, progress: Progress) -> ReportData:
    donations = Donation.objects.filter(
        paid_at__gte=period.start, paid_at__lt=period.end, status__in=REGISTERED_DONATION_STATUSES
    )
    if fund is not None:
        donations = donations.filter(fund=fund)
    columns = [
        Column("paid_on", _("Date paid"), "date"),
        Column("receipt", _("Receipt number")),
        Column("donor", _("Donor")),
        Column("fund", _("Fund")),
        Column("gift", _("Gift"), "money"),
        Column("fee_covered", _("Fee covered by donor"), "money"),
        Column("charged", _("Charged"), "money"),
        Column("stripe_fee", _("Stripe fee"), "money"),
        Column("refunded", _("Refunded"), "money"),
        Column("status", _("Status")),
        Column("monthly", _("Monthly gift")),
    ]
    rows = []
    # Only the donor's name is read: the e-mail never leaves the database in a report.
    queryset = (
        donations.select_related("fund", "donor")
        .only(
            "paid_at", "receipt_number", "anonymous", "amount_cents", "fee_covered_cents", "stripe_fee_cents",
            "refunded_cents", "status", "recurring_id", "fund__name", "donor__name",
        )
        .order_by("paid_at", "id")
    )  # fmt: skip
    progress(10)
    for donation in queryset:
        rows.append(
            {
                "paid_on": period.local_date(donation.paid_at),
                "receipt": donation.receipt_number or "",
                "donor": _donor_label(donation),
                "fund": donation.fund.name,
                "gift": donation.amount_cents,
                "fee_covered": donation.fee_covered_cents,
                "charged": donation.charged_cents,
                "stripe_fee": donation.stripe_fee_cents,
                "refunded": donation.refunded_cents,
                "status": donation.get_status_display(),
                "monthly": yes_no(donation.recurring_id is not None),
            }
        )
    progress(90)
    section = Section(
        title=_("Donations paid in the period"), columns=columns, rows=rows, totals=totals_of(columns, rows)
    )
    return ReportData(
        kind="donation_register",
        title=_("Donation register"),
        parameters=period.parameters(fund=fund),
        sections=[section],
        notes=[
            _("One row per gift paid in the period, whatever happened to it later (refund, dispute)."),
            _("Charged = gift + fee covered by the donor. Refunded is the total refunded to date."),
        ],
    )


def build_disbursement_register(period: Period, fund: Fund | None, progress: Progress) -> ReportData:
    disbursements = Disbursement.objects.filter(
        Q(requested_at__gte=period.start, requested_at__lt=period.end)
        | Q(decided_at__gte=period.start, decided_at__lt=period.end)
        | Q(paid_on__gte=period.date_from, paid_on__lte=period.date_to)
    )
    if fund is not None:
        disbursements = disbursements.filter(fund=fund)
    columns = [
        Column("requested_on", _("Requested on"), "date"),
        Column("id", _("Payment id"), "int"),
        Column("case", _("Case number")),
        Column("fund", _("Fund")),
        Column("purpose", _("Purpose")),
        Column("payee", _("Payee")),
        Column("amount", _("Amount"), "money"),
        Column("status", _("Status")),
        Column("requested_by", _("Requested by")),
        Column("decided_by", _("Decided by")),
        Column("decided_at", _("Decided at"), "datetime"),
        Column("paid_on", _("Paid on"), "date"),
        Column("reference", _("Payment reference")),
        Column("paid_in_period", _("Paid in the period"), "money"),
    ]
    progress(10)
    rows = []
    queryset = list(
        disbursements.select_related("case", "fund", "requested_by", "decided_by").order_by("requested_at", "id")
    )
    # A payee is typed by a person: any known name or A-number in it is masked, as on the audit pages.
    masker = Masker(d.payee for d in queryset)
    for d in queryset:
        paid_in_period = d.paid_on is not None and period.date_from <= d.paid_on <= period.date_to
        rows.append(
            {
                "requested_on": period.local_date(d.requested_at),
                "id": d.pk,
                "case": d.case.number,
                "fund": d.fund.name,
                "purpose": d.get_purpose_display(),
                "payee": masker.mask(d.payee),
                "amount": d.amount_cents,
                "status": d.get_status_display(),
                "requested_by": staff_label(d.requested_by),
                "decided_by": staff_label(d.decided_by),
                "decided_at": period.local(d.decided_at),
                "paid_on": d.paid_on,
                "reference": d.payment_reference,
                "paid_in_period": d.amount_cents if paid_in_period else 0,
            }
        )
    progress(90)
    section = Section(
        title=_("Payments requested, decided or paid in the period"),
        columns=columns,
        rows=rows,
        totals=totals_of(columns, rows),
    )
    return ReportData(
        kind="disbursement_register",
        title=_("Disbursement register"),
        parameters=period.parameters(fund=fund),
        sections=[section],
        notes=[
            _(
                "'Paid in the period' adds up to the statement's program expenses plus bonds paid out "
                "for the same period and fund."
            )
        ],
    )


def _owed_by_bond(end: datetime, fund: Fund | None) -> dict[int, dict[str, int]]:
    """Per bond, what a person-obligor owed and what shortfall was disputed at ``end``, from the ledger.

    The bond services key their transactions ``bond-<step>[:<n>]:<bond id>``, so the postings on the
    two accounts say, bond by bond, exactly what the statement's memo lines add up.
    """
    postings = Posting.objects.filter(
        account__kind__in=[AccountKind.OBLIGOR_RECEIVABLE, AccountKind.BOND_SHORTFALLS],
        transaction__occurred_at__lt=end,
        transaction__key__startswith="bond-",
    )
    if fund is not None:
        postings = postings.filter(account__fund=fund)
    owed: dict[int, dict[str, int]] = defaultdict(lambda: {"due": 0, "shortfall": 0})
    for key, kind, amount in postings.values_list("transaction__key", "account__kind", "amount").order_by():
        bond_id = key.rsplit(":", 1)[-1]
        if bond_id.isdigit():
            owed[int(bond_id)]["due" if kind == AccountKind.OBLIGOR_RECEIVABLE else "shortfall"] += amount
    return owed


def build_bond_register(period: Period, fund: Fund | None, progress: Progress) -> ReportData:
    bonds = Bond.objects.select_related("case", "fund", "disbursement")
    if fund is not None:
        bonds = bonds.filter(fund=fund)
    day = period.date_to
    owed = _owed_by_bond(period.end, fund)

    def held(bond: Bond) -> int:
        """The principal with the government at the end of ``day``: not yet refunded, not forfeited."""
        refunded = bond.refunded_on is not None and bond.refunded_on <= day
        forfeited = bond.status == Bond.Status.FORFEITED and bond.closed_on is not None and bond.closed_on <= day
        return 0 if refunded or forfeited else bond.amount_cents

    open_columns = [
        Column("case", _("Case number")),
        Column("payment_id", _("Payment id"), "int"),
        Column("fund", _("Fund")),
        Column("bond_type", _("Bond type")),
        Column("bond_number", _("Bond number (Form I-352)")),
        Column("obligor", _("Obligor")),
        Column("paid_on", _("Paid on"), "date"),
        Column("amount", _("Amount"), "money"),
        Column("held", _("Held by the government"), "money"),
        Column("due", _("Due from the obligor"), "money"),
        Column("shortfall", _("Refund shortfall in dispute"), "money"),
        Column("state", _("State today")),
        Column("age_days", _("Age (days)"), "int"),
    ]
    open_rows = []
    for bond in bonds.filter(paid_on__lte=day).order_by("paid_on", "id"):
        figures = {"held": held(bond), **owed.get(bond.pk, {"due": 0, "shortfall": 0})}
        if not any(figures.values()):
            continue
        open_rows.append(
            {
                "case": bond.case.number,
                "payment_id": bond.disbursement_id,
                "fund": bond.fund.name,
                "bond_type": bond.get_bond_type_display(),
                "bond_number": bond.bond_number,
                "obligor": _("A person") if bond.obligor_kind == "person" else _("The fund"),
                "paid_on": bond.paid_on,
                "amount": bond.amount_cents,
                **figures,
                "state": bond.get_status_display(),
                "age_days": (day - bond.paid_on).days,
            }
        )
    progress(50)
    closed = bonds.filter(closed_on__gte=period.date_from, closed_on__lte=period.date_to).order_by("closed_on", "id")
    closed_columns = [
        Column("case", _("Case number")),
        Column("payment_id", _("Payment id"), "int"),
        Column("fund", _("Fund")),
        Column("paid_on", _("Paid on"), "date"),
        Column("closed_on", _("Closed on"), "date"),
        Column("outcome", _("Outcome")),
        Column("amount", _("Bond amount"), "money"),
        Column("refunded", _("Refunded"), "money"),
        Column("interest", _("Interest"), "money"),
        Column("written_off", _("Written off"), "money"),
        Column("days_held", _("Days held"), "int"),
    ]
    closed_rows = [
        {
            "case": bond.case.number,
            "payment_id": bond.disbursement_id,
            "fund": bond.fund.name,
            "paid_on": bond.paid_on,
            "closed_on": bond.closed_on,
            "outcome": bond.get_status_display(),
            "amount": bond.amount_cents,
            "refunded": bond.refunded_cents,
            "interest": bond.interest_cents,
            "written_off": bond.amount_cents - bond.refunded_cents,
            # ``closed_on`` is always set here (the query filters on it).
            "days_held": (bond.closed_on - bond.paid_on).days if bond.closed_on else None,
        }
        for bond in closed
    ]
    progress(90)
    return ReportData(
        kind="bond_register",
        title=_("Bond register"),
        parameters=period.parameters(fund=fund),
        sections=[
            Section(
                title=_("Bonds outstanding on %(date)s") % {"date": day.isoformat()},
                columns=open_columns,
                rows=open_rows,
                totals=totals_of(open_columns, open_rows),
            ),
            Section(
                title=_("Bonds closed in the period"),
                columns=closed_columns,
                rows=closed_rows,
                totals=totals_of(closed_columns, closed_rows),
            ),
        ],
        notes=[
            _(
                "Outstanding: every bond on which the fund was owed money at the end of the period: the "
                "principal still held by the government, a refund a person-obligor received and has not passed "
                "back, or a refund shortfall in dispute. Those three columns add up to the fund statement's memo "
                "lines at the end of the period. The state is today's."
            ),
            _("Age is counted in days from the payment to the last day of the period."),
            _(
                "Written off = bond amount minus the amount refunded: all of it for a forfeited bond, the part "
                "of a disputed shortfall not recovered for a refunded one."
            ),
        ],
    )
