"""Report builders: every figure computed by hand, the statement reconciled, no detainee data."""

from __future__ import annotations

import copy
import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.roles import Role
from casework import services as casework
from casework.identity import format_a_number
from casework.models import (
    Appeal,
    AssignmentRole,
    DecisionOutcome,
    HearingKind,
    HearingOutcome,
    ImmigrationCourt,
    ReliefKind,
)
from funds.models import AccountKind, Dispute, Donation, Donor, Fund, RecurringDonation, Transaction, TransactionKind
from funds.selectors import fund_balances
from funds.services import bookkeeping
from funds.services.bonds import (
    BondTerms,
    bond_record_breach,
    bond_record_breach_interest,
    bond_record_cancellation,
    bond_record_forfeiture,
    bond_record_pass_back,
    bond_record_refund,
)
from funds.services.disbursements import (
    disbursement_approve,
    disbursement_pay,
    disbursement_request,
)
from funds.services.ledger import account, ledger_post, ledger_reverse
from funds.services.receipts import receipt_number_for
from reports.builders import build_report
from reports.builders.caseload import suppress
from reports.builders.statement import RECONCILED_NOTE
from reports.data import content_digest
from reports.models import ReportKind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo(settings.TIME_ZONE)
GIVEN, FAMILY, A_NUMBER = "Xochiquetzal", "Zyzzwyckowski", "098765432"
DATE_OF_BIRTH = date(1987, 3, 4)
CONTACT, PHONE = "Quetzalli Contactova", "+1 555 0199"
OBLIGOR, OBLIGOR_PHONE = "Obligada Zapotecatl-Ruiz", "+1 555 0173"
DONOR_EMAIL = "dolores.donante@example.org"


_real_now = timezone.now  # the clock fixture replaces ``timezone.now``; dates here stay real


def today() -> date:
    return timezone.localdate(_real_now())


def at(days_ago: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment ``days_ago`` days before today, local time."""
    return datetime.combine(today() - timedelta(days=days_ago), time(hour, minute), tzinfo=ZONE)


def fund(slug: str) -> Fund:
    return Fund.objects.get(slug=slug)


def figures(section) -> dict[str, int]:
    return {row["code"]: row["amount"] for row in section.rows}


def section_named(data, title: str):
    return next(s for s in data.sections if s.title == title)


def donate(
    slug: str,
    cents: int,
    *,
    on: datetime,
    fee: int = 0,
    fee_covered: int = 0,
    anonymous: bool = False,
    monthly: bool = False,
    name: str = "Dolores Donante",
) -> Donation:
    """A gift paid by card, booked as the webhook books it."""
    donor, _created = Donor.objects.for_email(DONOR_EMAIL, name=name)
    recurring = (
        RecurringDonation.objects.create(donor=donor, fund=fund(slug), amount_cents=cents, status="active")
        if monthly
        else None
    )
    donation = Donation.objects.create(
        donor=donor,
        fund=fund(slug),
        recurring=recurring,
        amount_cents=cents,
        fee_covered_cents=fee_covered,
        anonymous=anonymous,
        status=Donation.Status.PAID,
        paid_at=on,
        stripe_fee_cents=fee,
    )
    donation.receipt_number = receipt_number_for(donation)
    donation.save(update_fields=["receipt_number"])
    bookkeeping.book_donation(donation=donation, fee_cents=fee, occurred_at=on)
    return donation


@pytest.fixture
def people(db):
    return {
        "intake": UserFactory(role=Role.INTAKE, full_name="Ines Intake"),
        "supervisor": UserFactory(role=Role.SUPERVISOR, full_name="Sara Supervisor"),
        "attorney": UserFactory(role=Role.ATTORNEY, full_name="Ana Attorney", email="ana@example.org"),
        "finance": UserFactory(role=Role.FINANCE, full_name="Fina Finance", email="fina@example.org"),
    }


@pytest.fixture
def case(people):
    """A case whose detainee has a distinctive name, A-number, birth date and contact."""
    case = casework.case_register(
        data=casework.IntakeData(
            given_names=GIVEN,
            family_names=FAMILY,
            other_names="Xochi Alias",
            a_number=A_NUMBER,
            date_of_birth=DATE_OF_BIRTH,
            contacts=[{"name": CONTACT, "relationship": "sister", "phone": PHONE, "preferred_language": "Nahuatl"}],
        ),
        by=people["intake"],
    )
    casework.case_assign(case=case, attorney=people["attorney"], role=AssignmentRole.LEAD, by=people["supervisor"])
    return case


def pay(
    people,
    case,
    slug: str,
    purpose: str,
    cents: int,
    *,
    paid_days_ago: int,
    payee: str = "Payee",
    terms: BondTerms | None = None,
):
    disbursement = disbursement_request(
        case=case, fund=fund(slug), purpose=purpose, amount_cents=cents, payee=payee, reason="r", by=people["attorney"]
    )
    disbursement_approve(disbursement=disbursement, by=people["finance"])
    return disbursement_pay(
        disbursement=disbursement,
        paid_on=today() - timedelta(days=paid_days_ago),
        method="check",
        reference=f"CHK-{disbursement.pk}",
        by=people["finance"],
        bond_terms=terms,
    )


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


@pytest.fixture
def money(people, case):
    """A month of money: gifts, fees, a refund, a lost and a won dispute, payments, bonds, payouts.

    Period: the last 30 days up to today. Before it: a gift to each fund, paid out to the bank, and
    two bonds paid. In it, the bonds' lives: one refunded short (a shortfall in dispute), one
    forfeited after its appeal window closed (with its interest to the breach date), one a
    person-obligor's, refunded to them and partly passed back, one still held.
    """
    # Before the period.
    donate("general", 100_000, fee=3_000, on=at(60))
    donate("bond", 100_000, fee=3_000, on=at(60))
    bookkeeping.book_payout(
        key="payout:po_0",
        allocation={fund("general"): 97_000, fund("bond"): 97_000},
        occurred_at=at(50),
        description="Stripe payout po_0",
    )
    # In the period.
    gift = donate("general", 50_000, fee_covered=1_500, fee=1_800, on=at(20))
    donate("bond", 200_000, fee=5_000, on=at(25))
    monthly = donate("general", 10_000, fee=320, on=at(15), anonymous=True, monthly=True)
    lost = donate("general", 20_000, fee=600, on=at(18))
    won = donate("general", 30_000, fee=900, on=at(17))

    bookkeeping.book_refund(key="charge-refund:re_1", donation=monthly, amount_cents=4_000, occurred_at=at(10))
    Donation.objects.filter(pk=monthly.pk).update(refunded_cents=4_000)

    Dispute.objects.create(
        donation=lost,
        stripe_dispute_id="dp_lost",
        amount_cents=20_000,
        fee_cents=1_500,
        status="lost",
        opened_at=at(12),
    )
    bookkeeping.book_dispute(
        key="dispute:dp_lost", donation=lost, amount_cents=20_000, fee_cents=1_500, occurred_at=at(12)
    )
    Donation.objects.filter(pk=lost.pk).update(status=Donation.Status.LOST)
    Dispute.objects.create(
        donation=won, stripe_dispute_id="dp_won", amount_cents=30_000, fee_cents=1_500, status="won", opened_at=at(11)
    )
    bookkeeping.book_dispute(
        key="dispute:dp_won", donation=won, amount_cents=30_000, fee_cents=1_500, occurred_at=at(11)
    )
    bookkeeping.book_dispute_won(key="dispute:dp_won:won", donation=won, amount_cents=30_000, occurred_at=at(5))

    bookkeeping.book_payout(
        key="payout:po_1", allocation={fund("general"): 50_000}, occurred_at=at(4), description="Stripe payout po_1"
    )
    bookkeeping.book_payout(
        key="payout:po_2", allocation={fund("bond"): 150_000}, occurred_at=at(22), description="Stripe payout po_2"
    )

    by = people["finance"]
    # Order-of-supervision bonds: no minimum, so small round figures.
    osup = BondTerms(bond_type="order_of_supervision")
    filing = pay(people, case, "general", "filing_fee", 5_000, paid_days_ago=8, payee="EOIR")
    expert = pay(people, case, "general", "expert", 12_000, paid_days_ago=7, payee="Dr. Expert")
    forfeited = pay(people, case, "bond", "bond", 40_000, paid_days_ago=50, payee="ICE", terms=osup)
    old_bond = pay(people, case, "bond", "bond", 25_000, paid_days_ago=45, payee="ICE", terms=osup)
    refunded = pay(people, case, "bond", "bond", 60_000, paid_days_ago=20, payee="ICE", terms=osup)
    personal = pay(
        people,
        case,
        "bond",
        "bond",
        20_000,
        paid_days_ago=16,
        payee="ICE",
        terms=BondTerms(
            bond_type="order_of_supervision", obligor_kind="person", obligor_name=OBLIGOR, obligor_phone=OBLIGOR_PHONE
        ),
    )
    open_bond = pay(people, case, "bond", "bond", 30_000, paid_days_ago=14, payee="ICE", terms=osup)
    bond_record_cancellation(bond=refunded.bond, notice_on=days_ago(10), by=by)
    bond_record_refund(bond=refunded.bond, refunded_cents=58_000, interest_cents=80, refunded_on=days_ago(3), by=by)
    bond_record_breach(bond=forfeited.bond, served_on=days_ago(45), service="in_person", by=by)
    bond_record_forfeiture(bond=forfeited.bond, forfeited_on=days_ago(2), by=by, note="breach")
    bond_record_breach_interest(bond=forfeited.bond, interest_cents=15, received_on=days_ago(1), by=by)
    bond_record_cancellation(bond=personal.bond, notice_on=days_ago(10), by=by)
    bond_record_refund(bond=personal.bond, refunded_cents=20_000, interest_cents=0, refunded_on=days_ago(6), by=by)
    bond_record_pass_back(bond=personal.bond, amount_cents=5_000, received_on=days_ago(2), by=by)
    waiting = disbursement_request(
        case=case,
        fund=fund("general"),
        purpose="travel",
        amount_cents=3_000,
        payee="Bus",
        reason="r",
        by=people["attorney"],
    )
    return {
        "gift": gift,
        "filing": filing,
        "expert": expert,
        "old_bond": old_bond,
        "open_bond": open_bond,
        "waiting": waiting,
    }


def last_30_days(kind: str, **kwargs):
    return build_report(kind, date_from=today() - timedelta(days=30), date_to=today(), **kwargs)


# --- fund statement --------------------------------------------------------------------------


def test_statement_for_an_empty_period_is_all_zeros_and_reconciles():
    data = build_report(ReportKind.FUND_STATEMENT, date_from=date(2001, 1, 1), date_to=date(2001, 1, 31))

    assert [s.title for s in data.sections] == ["General fund", "Bond fund", "All funds"]
    assert all(row["amount"] == 0 for section in data.sections for row in section.rows)
    assert data.notes[0] == RECONCILED_NOTE


NO_BOND_LINES = {
    "bonds_paid": 0,
    "bonds_refunded": 0,
    "bonds_passed_back": 0,
    "bond_shortfalls_recovered": 0,
    "bond_breach_interest": 0,
    "memo:bond_interest": 0,
    "memo:bonds_written_off": 0,
    "memo:bond_shortfalls_written_off": 0,
    "memo:bonds_outstanding_start": 0,
    "memo:bonds_outstanding_end": 0,
    "memo:due_from_obligors_start": 0,
    "memo:due_from_obligors_end": 0,
    "memo:bond_shortfalls_start": 0,
    "memo:bond_shortfalls_end": 0,
}


def test_statement_figures_equal_the_hand_computed_ones(money):
    data = last_30_days(ReportKind.FUND_STATEMENT)

    general = figures(section_named(data, "General fund"))
    assert general == {
        "opening": 100_000 - 3_000,
        "opening:bank": 97_000,  # paid out before the period
        "opening:clearing": 0,
        "donations": 51_500 + 10_000 + 20_000 + 30_000,
        "fees": -(1_800 + 320 + 600 + 900),
        "refunds": -4_000,
        "disputes": -(20_000 + 1_500) - (30_000 + 1_500) + 30_000,
        "program:filing_fee": -5_000,
        "program:expert": -12_000,
        "program:interpreter": 0,
        "program:travel": 0,
        "program:other": 0,
        "closing": 160_880,
        "closing:bank": 97_000 + 50_000 - 5_000 - 12_000,
        "closing:clearing": 160_880 - 130_000,
        "memo:payouts": 50_000,
        **NO_BOND_LINES,
    }
    bond = figures(section_named(data, "Bond fund"))
    assert (bond["opening"], bond["opening:bank"], bond["opening:clearing"]) == (32_000, 97_000 - 40_000 - 25_000, 0)
    assert (bond["donations"], bond["fees"]) == (200_000, -5_000)
    assert bond["bonds_paid"] == -(60_000 + 20_000 + 30_000)
    assert bond["bonds_refunded"] == 58_000 + 80  # the person-obligor's refund went to them, not the bank
    assert bond["bonds_passed_back"] == 5_000
    assert bond["bond_breach_interest"] == 15
    assert bond["closing"] == 32_000 + 195_000 - 110_000 + 58_080 + 5_000 + 15 == 180_095
    assert (bond["closing:bank"], bond["closing:clearing"]) == (135_095, 45_000)
    assert bond["memo:payouts"] == 150_000
    assert bond["memo:bond_interest"] == 80 + 15
    assert bond["memo:bonds_written_off"] == 40_000  # forfeited; the short refund is a dispute, not a write-off
    assert bond["memo:bond_shortfalls_written_off"] == 0
    assert (bond["memo:bonds_outstanding_start"], bond["memo:bonds_outstanding_end"]) == (
        40_000 + 25_000,
        25_000 + 30_000,
    )
    assert (bond["memo:due_from_obligors_start"], bond["memo:due_from_obligors_end"]) == (0, 20_000 - 5_000)
    assert (bond["memo:bond_shortfalls_start"], bond["memo:bond_shortfalls_end"]) == (0, 2_000)
    total = figures(section_named(data, "All funds"))
    assert (total["opening"], total["closing"]) == (97_000 + 32_000, 160_880 + 180_095)
    assert (total["closing:bank"], total["closing:clearing"]) == (130_000 + 135_095, 30_880 + 45_000)
    assert total["donations"] == general["donations"] + bond["donations"]


def test_statement_reconciles_bank_and_clearing_and_closing_equals_the_funds_balances_today(money):
    data = last_30_days(ReportKind.FUND_STATEMENT)

    assert data.notes[0] == RECONCILED_NOTE
    balances = {balance.fund.name: balance for balance in fund_balances()}
    for section in data.sections:
        rows = figures(section)
        movements = sum(amount for code, amount in rows.items() if not code.startswith(("opening", "closing", "memo:")))
        assert rows["opening"] + movements == rows["closing"]
        assert rows["opening:bank"] + rows["opening:clearing"] == rows["opening"]
        assert rows["closing:bank"] + rows["closing:clearing"] == rows["closing"]
        if section.title != "All funds":
            balance = balances[section.title]
            assert (rows["closing"], rows["closing:bank"], rows["closing:clearing"]) == (
                balance.available,
                balance.in_bank,
                balance.in_clearing,
            )
            assert rows["memo:bonds_outstanding_end"] == balance.bonds_outstanding
            assert rows["memo:due_from_obligors_end"] == balance.due_from_obligors
            assert rows["memo:bond_shortfalls_end"] == balance.bond_shortfalls
    assert figures(data.sections[-1])["closing"] == sum(b.available for b in balances.values())


def test_statement_warns_when_the_bank_was_overdrawn():
    # Money recorded as paid before it reached the bank (as old data could be): the statement says so.
    donate("general", 10_000, on=at(40))
    general = fund("general")
    ledger_post(
        key="old-payment",
        kind=TransactionKind.DISBURSEMENT,
        description="a payment from before the bank rule",
        lines=[(account(general, AccountKind.PROGRAM_EXPENSES), 8_000), (account(general, AccountKind.BANK), -8_000)],
        occurred_at=at(35),
    )

    data = last_30_days(ReportKind.FUND_STATEMENT, fund=general)

    rows = figures(data.sections[0])
    assert (rows["opening"], rows["opening:bank"], rows["opening:clearing"]) == (2_000, -8_000, 10_000)
    assert data.notes[0] == RECONCILED_NOTE
    assert data.notes[1].startswith("WARNING: the bank balance of General fund is below zero")


def test_statement_opening_balance_picks_up_activity_before_the_period():
    donate("general", 7_000, fee=230, on=at(12))
    donate("general", 1_000, on=at(10, hour=0))  # the first moment of the period

    data = build_report(
        ReportKind.FUND_STATEMENT, date_from=today() - timedelta(days=10), date_to=today(), fund=fund("general")
    )

    rows = figures(data.sections[0])
    assert (rows["opening"], rows["donations"], rows["closing"]) == (6_770, 1_000, 7_770)


def test_statement_period_is_inclusive_of_both_dates_in_the_fund_time_zone():
    donate("general", 100, on=at(10, hour=0))  # first moment of date_from
    donate("general", 200, on=at(5, hour=23, minute=59))  # last minute of date_to
    donate("general", 400, on=at(4, hour=0))  # the day after
    donate("general", 800, on=at(11, hour=23, minute=59))  # the day before

    data = build_report(
        ReportKind.FUND_STATEMENT,
        date_from=today() - timedelta(days=10),
        date_to=today() - timedelta(days=5),
        fund=fund("general"),
    )

    rows = figures(data.sections[0])
    assert (rows["opening"], rows["donations"], rows["closing"]) == (800, 300, 1_100)


def test_statement_for_one_fund_shows_only_that_fund(money):
    data = last_30_days(ReportKind.FUND_STATEMENT, fund=fund("general"))

    assert [s.title for s in data.sections] == ["General fund"]
    assert figures(data.sections[0])["closing"] == 160_880
    assert ("Fund", "General fund") in data.parameters


def test_statement_counts_a_reversal_on_the_line_it_reverses(money):
    ledger_reverse(transaction=Transaction.objects.get(key=f"disbursement:{money['filing'].pk}"), description="error")

    data = last_30_days(ReportKind.FUND_STATEMENT, fund=fund("general"))

    rows = figures(data.sections[0])
    assert rows["program:filing_fee"] == 0
    assert rows["closing"] == 160_880 + 5_000
    assert data.notes[0] == RECONCILED_NOTE


# --- registers ---------------------------------------------------------------------------------


def assert_totals_are_sums(data):
    for section in data.sections:
        if section.totals is None:
            continue
        for column in section.columns:
            if column.kind == "money":
                assert section.totals[column.key] == sum(row[column.key] for row in section.rows), column.key


def test_donation_register_lists_gifts_paid_in_the_period_with_totals(money):
    data = last_30_days(ReportKind.DONATION_REGISTER)

    rows = data.sections[0].rows
    assert [row["charged"] for row in rows] == [200_000, 51_500, 20_000, 30_000, 10_000]  # by date paid
    assert_totals_are_sums(data)
    assert data.sections[0].totals == {
        "gift": 310_000,
        "fee_covered": 1_500,
        "charged": 311_500,
        "stripe_fee": 8_620,
        "refunded": 4_000,
    }
    first = rows[1]
    assert first == {
        "paid_on": today() - timedelta(days=20),
        "receipt": money["gift"].receipt_number,
        "donor": "Dolores Donante",
        "fund": "General fund",
        "gift": 50_000,
        "fee_covered": 1_500,
        "charged": 51_500,
        "stripe_fee": 1_800,
        "refunded": 0,
        "status": "Paid",
        "monthly": "No",
    }
    anonymous = rows[4]
    assert (anonymous["donor"], anonymous["monthly"], anonymous["refunded"]) == ("Anonymous", "Yes", 4_000)
    assert rows[2]["status"] == "Dispute lost"
    # Charged in the register = donations on the statement.
    statement = last_30_days(ReportKind.FUND_STATEMENT)
    assert figures(section_named(statement, "All funds"))["donations"] == 311_500


def test_donation_register_keeps_donor_emails_out(money):
    data = last_30_days(ReportKind.DONATION_REGISTER)

    assert DONOR_EMAIL not in repr(data)


def test_disbursement_register_rows_and_totals(people, money):
    data = last_30_days(ReportKind.DISBURSEMENT_REGISTER)

    section = data.sections[0]
    assert_totals_are_sums(data)
    assert section.totals == {"amount": 195_000, "paid_in_period": 127_000}
    by_id = {row["id"]: row for row in section.rows}
    filing = by_id[money["filing"].pk]
    assert filing["case"] == money["filing"].case.number
    assert (filing["purpose"], filing["payee"], filing["amount"], filing["status"]) == (
        "Filing fee",
        "EOIR",
        5_000,
        "Paid",
    )
    assert filing["requested_by"] == "Ana Attorney <ana@example.org>"
    assert filing["decided_by"] == "Fina Finance <fina@example.org>"
    assert (filing["paid_on"], filing["reference"]) == (today() - timedelta(days=8), f"CHK-{money['filing'].pk}")
    assert by_id[money["old_bond"].pk]["paid_in_period"] == 0  # paid before the period, requested in it
    waiting = by_id[money["waiting"].pk]
    assert (waiting["status"], waiting["decided_by"], waiting["paid_on"]) == ("Waiting for approval", "", None)
    # Paid in the period = program expenses + bonds paid out on the statement.
    total = figures(section_named(last_30_days(ReportKind.FUND_STATEMENT), "All funds"))
    program = sum(amount for code, amount in total.items() if code.startswith("program:"))
    assert section.totals["paid_in_period"] == -(program + total["bonds_paid"])


def test_bond_register_lists_what_is_owed_on_each_bond_and_the_bonds_closed(money):
    data = last_30_days(ReportKind.BOND_REGISTER)

    outstanding, closed = data.sections
    assert [
        (row["amount"], row["held"], row["due"], row["shortfall"], row["state"], row["age_days"])
        for row in outstanding.rows
    ] == [
        (25_000, 25_000, 0, 0, "Posted", 45),
        (60_000, 0, 0, 2_000, "Refund short of the principal, in dispute", 20),
        (20_000, 0, 15_000, 0, "Refunded to the obligor, to pass back", 16),
        (30_000, 30_000, 0, 0, "Posted", 14),
    ]
    assert {row["obligor"] for row in outstanding.rows} == {"The fund", "A person"}
    assert outstanding.totals == {"amount": 135_000, "held": 55_000, "due": 15_000, "shortfall": 2_000}
    assert [
        (row["outcome"], row["amount"], row["refunded"], row["interest"], row["written_off"], row["days_held"])
        for row in closed.rows
    ] == [("Forfeited", 40_000, 0, 15, 40_000, 48)]
    assert_totals_are_sums(data)
    # What is owed in the register = the statement's memo lines at the end of the period.
    statement = figures(last_30_days(ReportKind.FUND_STATEMENT, fund=fund("bond")).sections[0])
    assert (
        statement["memo:bonds_outstanding_end"],
        statement["memo:due_from_obligors_end"],
        statement["memo:bond_shortfalls_end"],
    ) == (outstanding.totals["held"], outstanding.totals["due"], outstanding.totals["shortfall"])


def test_bond_register_as_of_an_earlier_date_counts_bonds_closed_later_as_outstanding(money):
    data = build_report(
        ReportKind.BOND_REGISTER, date_from=today() - timedelta(days=30), date_to=today() - timedelta(days=10)
    )

    outstanding, closed = data.sections
    assert [(row["held"], row["due"], row["age_days"]) for row in outstanding.rows] == [
        (40_000, 0, 40),  # forfeited 2 days ago
        (25_000, 0, 35),
        (60_000, 0, 10),  # refunded 3 days ago
        (20_000, 0, 6),  # refunded to its obligor 6 days ago
        (30_000, 0, 4),
    ]
    assert closed.rows == []
    statement = figures(
        build_report(
            ReportKind.FUND_STATEMENT,
            date_from=today() - timedelta(days=30),
            date_to=today() - timedelta(days=10),
            fund=fund("bond"),
        ).sections[0]
    )
    assert statement["memo:bonds_outstanding_end"] == outstanding.totals["held"] == 175_000


# --- access log ----------------------------------------------------------------------------------


def test_access_log_lists_events_of_the_period_in_time_order(people, case):
    data = last_30_days(ReportKind.ACCESS_LOG)

    rows = data.sections[0].rows
    assert rows
    assert [row["at"] for row in rows] == sorted(row["at"] for row in rows)
    assert {"case", case.number} <= {value for row in rows for value in (row["object_type"], row["object_ref"])}
    expected = AccessEvent.objects.filter(at__gte=at(30, hour=0)).count()
    assert len(rows) == expected
    assert rows[0]["who"] == people["intake"].email
    assert rows[0]["action"] == "changed"
    assert rows[0]["at"].tzinfo is not None


def test_access_log_excludes_events_outside_the_period(people, case):
    data = build_report(ReportKind.ACCESS_LOG, date_from=date(2001, 1, 1), date_to=date(2001, 12, 31))

    assert data.sections[0].rows == []


# --- caseload and suppression ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "cells", "total"),
    [
        ([7, 12], ["7", "12"], "19"),
        ([0, 0], ["0", "0"], "0"),
        ([3, 10, 20], ["<5", "*", "20"], "33"),  # one small cell: the next smallest is hidden too
        ([3, 5, 20], ["<5", "*", "20"], "28"),
        ([2, 3, 50], ["<5", "<5", "50"], "55"),  # two small cells summing to 5: neither can be told
        ([1, 1, 50], ["<5", "<5", "*"], "52"),  # 1 + 1 = 2 would give both away
        ([3, 0, 0], ["<5", "0", "0"], "<5"),  # the total is small too
        ([1, 5], ["<5", "*"], "*"),  # nothing else to hide: the total goes
    ],
)
def test_suppression(counts, cells, total):
    assert suppress(counts) == (cells, total)


def feasible_values(counts: list[int], cells: list[str], total: str, index: int) -> set[int]:
    """What a reader who knows the rules can deduce about hidden cell ``index``."""
    hidden = [i for i, c in enumerate(cells) if c in ("<5", "*")]
    shown = sum(int(c) for c in cells if c not in ("<5", "*"))
    ranges = [range(1, 5) if cells[i] == "<5" else range(5, int(total) + 1) for i in hidden]
    return {values[hidden.index(index)] for values in itertools.product(*ranges) if sum(values) + shown == int(total)}


def test_suppression_never_lets_a_small_cell_be_worked_out_from_the_total():
    for counts in itertools.product([0, 1, 2, 3, 4, 5, 6, 9, 30], repeat=3):
        cells, total = suppress(list(counts))
        assert all(cell == "<5" for count, cell in zip(counts, cells, strict=True) if 0 < count < 5)
        if not total.isdigit():
            continue
        for index, cell in enumerate(cells):
            if cell == "<5":
                assert len(feasible_values(list(counts), cells, total, index)) > 1, (counts, cells, total)


@pytest.fixture
def clock(monkeypatch):
    """Set the time the services read (``timezone.now``)."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


@pytest.fixture
def caseload(people, clock):
    """Eight cases: five assigned within hours, one after 2.5 days, two never; one hearing, one relief."""
    court = ImmigrationCourt.objects.get(name="Eloy Immigration Court")
    cases = []
    for n in range(8):
        registered = at(10 - (n // 5), hour=9)
        clock(registered)
        cases.append(
            casework.case_register(
                data=casework.IntakeData(given_names=f"{GIVEN}{n}", family_names=FAMILY), by=people["intake"]
            )
        )
        if n < 5:
            clock(registered + timedelta(hours=6))
        elif n == 5:
            clock(registered + timedelta(days=2, hours=12))
        else:
            continue
        casework.case_assign(
            case=cases[-1], attorney=people["attorney"], role=AssignmentRole.LEAD, by=people["supervisor"]
        )
    hearing = casework.hearing_schedule(
        case=cases[0], kind=HearingKind.BOND, starts_at=at(3, hour=9), court=court, by=people["attorney"]
    )
    clock(at(3, hour=15))  # the outcome is recorded once the hearing has been held
    casework.hearing_record_outcome(
        hearing=hearing,
        outcome=HearingOutcome.DECIDED,
        decision={
            "outcome": DecisionOutcome.BOND_GRANTED,
            "decided_on": hearing.local_start.date(),
            "appeal": Appeal.RESERVED,
            "bond_cents": 5_000_00,
        },
        by=people["attorney"],
    )
    casework.relief_save(
        case=cases[0], kind=ReliefKind.ASYLUM, status="filed", filed_on=None, decided_on=None, by=people["attorney"]
    )
    return cases


def rows_of(section) -> dict[str, str]:
    return {row["category"]: row["count"] for row in section.rows}


def test_caseload_suppresses_small_cells_and_their_complements(caseload):
    data = last_30_days(ReportKind.CASELOAD)

    overview = {row["measure"]: row["count"] for row in section_named(data, "Overview").rows}
    assert overview["Cases open at any time in the period"] == "8"
    assert overview["Hearings in the period"] == "<5"
    status = section_named(data, "Cases by status")
    assert rows_of(status) == {"Intake": "0", "Triage": "<5", "Active": "*", "Closed": "0"}
    assert status.totals == {"count": "8"}
    custody = section_named(data, "Cases by custody (who holds the person)")
    assert rows_of(custody)["ICE detention"] == "8"
    assert rows_of(custody)["Released"] == "0"
    released = section_named(data, "Released cases, by basis of release")
    assert set(rows_of(released).values()) == {"0"}
    authority = section_named(data, "Cases by detention authority")
    assert rows_of(authority)["Not yet known"] == "8"
    court = section_named(data, "Cases by immigration court")
    assert rows_of(court) == {"Eloy Immigration Court": "<5", "No court yet": "*"}
    relief = section_named(data, "Relief sought, by kind (a case may seek several)")
    assert rows_of(relief)["Asylum"] == "<5"
    assert relief.totals == {"count": "<5"}
    outcomes = section_named(data, "Decisions in the period, by outcome")
    assert rows_of(outcomes)["Bond granted"] == "<5"


def test_caseload_time_to_first_assignment(caseload):
    data = last_30_days(ReportKind.CASELOAD)

    buckets = section_named(data, "Time from intake to first assignment (cases registered in the period)")
    assert rows_of(buckets) == {
        "less than 1 day": "5",
        "1 to 3 days": "<5",
        "4 to 7 days": "0",
        "8 to 30 days": "0",
        "more than 30 days": "0",
        "not assigned by the end of the period": "<5",
    }
    assert buckets.totals == {"count": "8"}
    summary = {
        row["measure"]: row["value"]
        for row in section_named(data, "Time from intake to first assignment: summary").rows
    }
    # Five at 0.25 days and one at 2.5: median 0.25, mean 3.75 / 6 = 0.625.
    assert summary == {"Cases assigned": "6", "Median (days)": "0.2", "Mean (days)": "0.6"}


def test_caseload_hides_median_and_mean_below_five_cases(people, clock):
    clock(at(5, hour=9))
    case = casework.case_register(data=casework.IntakeData(given_names="A", family_names="B"), by=people["intake"])
    casework.case_assign(case=case, attorney=people["attorney"], role=AssignmentRole.LEAD, by=people["supervisor"])

    data = last_30_days(ReportKind.CASELOAD)

    summary = section_named(data, "Time from intake to first assignment: summary").rows
    assert [row["value"] for row in summary] == ["<5", "*", "*"]


# --- every report -----------------------------------------------------------------------------


def every_text(data) -> list[str]:
    texts = [data.title, *data.notes]
    texts += [str(value) for pair in data.parameters for value in pair]
    for section in data.sections:
        texts.append(section.title)
        texts += [column.label for column in section.columns]
        for row in [*section.rows, section.totals or {}]:
            texts += [str(value) for value in row.values()]
    return texts


def test_no_report_contains_the_detainee_personal_data(money, caseload, case):
    forbidden = [
        GIVEN.lower(),
        FAMILY.lower(),
        "xochi alias",
        A_NUMBER,
        A_NUMBER.lstrip("0"),
        format_a_number(A_NUMBER).lower(),
        DATE_OF_BIRTH.isoformat(),
        CONTACT.lower(),
        PHONE,
        DONOR_EMAIL,
        OBLIGOR.lower(),
        OBLIGOR_PHONE,
    ]
    seen_case_number = False
    for kind in ReportKind.values:
        data = build_report(kind, date_from=today() - timedelta(days=90), date_to=today())
        for text in every_text(data):
            lowered = text.lower()
            assert not [word for word in forbidden if word in lowered], (kind, text)
            seen_case_number |= text == case.number
    assert seen_case_number


@pytest.mark.parametrize("kind", ReportKind.values)
def test_every_kind_reports_progress_from_0_to_100(kind, money):
    seen = []

    data = last_30_days(kind, progress=seen.append)

    assert data.kind == kind
    assert seen[0] == 0
    assert seen[-1] == 100
    assert seen == sorted(seen)


def test_content_digest_is_stable_and_follows_the_rows(money):
    first = last_30_days(ReportKind.DONATION_REGISTER)
    second = last_30_days(ReportKind.DONATION_REGISTER)

    assert content_digest(first) == content_digest(second)
    changed = copy.deepcopy(first)
    changed.sections[0].rows[0]["gift"] += 1
    assert content_digest(changed) != content_digest(first)


def test_reversed_dates_and_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="after"):
        build_report(ReportKind.CASELOAD, date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    with pytest.raises(ValueError, match="unknown"):
        build_report("payroll", date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
