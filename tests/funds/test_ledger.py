"""The ledger stays balanced whatever happens, and fund balances equal a full recomputation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from casework import services as casework_services
from casework.models import AssignmentRole
from funds.bond_rules import interest_cap_cents
from funds.models import (
    Account,
    AccountKind,
    Bond,
    BondType,
    Donation,
    Donor,
    Fund,
    ObligorKind,
    Posting,
    Transaction,
    TransactionKind,
)
from funds.selectors import bank_lowest_since, fund_balances, ledger_mismatches, unbalanced_transactions
from funds.services import bonds, bookkeeping, disbursements
from funds.services.bonds import BondTerms
from funds.services.ledger import LedgerError, account, ledger_post, ledger_reverse
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _recomputed_available(fund: Fund) -> int:
    return sum(
        Posting.objects.filter(
            account__fund=fund, account__kind__in=[AccountKind.STRIPE_CLEARING, AccountKind.BANK]
        ).values_list("amount", flat=True)
    )


def test_an_unbalanced_transaction_is_refused_and_nothing_is_written():
    fund = Fund.objects.get(slug="general")

    with pytest.raises(LedgerError):
        ledger_post(
            key="oops",
            kind=TransactionKind.DONATION,
            description="x",
            lines=[(account(fund, AccountKind.STRIPE_CLEARING), 100), (account(fund, AccountKind.DONATIONS), -99)],
        )

    assert not Transaction.objects.exists()
    assert not Posting.objects.exists()


def test_posting_twice_with_one_key_books_once():
    fund = Fund.objects.get(slug="general")
    lines = [(account(fund, AccountKind.STRIPE_CLEARING), 500), (account(fund, AccountKind.DONATIONS), -500)]

    first = ledger_post(key="donation:1", kind=TransactionKind.DONATION, description="d", lines=lines)
    second = ledger_post(key="donation:1", kind=TransactionKind.DONATION, description="d", lines=lines)

    assert first == second
    assert Account.objects.get(fund=fund, kind=AccountKind.STRIPE_CLEARING).balance == 500


def test_postings_cannot_be_edited_or_deleted_only_reversed():
    fund = Fund.objects.get(slug="general")
    txn = ledger_post(
        key="k",
        kind=TransactionKind.DONATION,
        description="d",
        lines=[(account(fund, AccountKind.STRIPE_CLEARING), 700), (account(fund, AccountKind.DONATIONS), -700)],
    )
    posting = txn.postings.first()

    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).update(amount=1)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).delete()

    ledger_reverse(transaction=txn, description="entered twice")
    assert Account.objects.get(fund=fund, kind=AccountKind.STRIPE_CLEARING).balance == 0
    assert Transaction.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_database_itself_refuses_an_unbalanced_transaction():
    # The deferred constraint trigger (PostgreSQL, what the test suite runs on) checks at commit.
    assert connection.vendor == "postgresql"
    fund = Fund.objects.get(slug="general")
    clearing = account(fund, AccountKind.STRIPE_CLEARING)

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        txn = Transaction.objects.create(key="raw", kind=TransactionKind.DONATION, description="bypassing the service")
        Posting.objects.create(transaction=txn, account=clearing, amount=100)

    assert not Transaction.objects.filter(key="raw").exists()


# --- Any sequence of operations keeps the books balanced -----------------------------------

BOND = st.integers(0, 30)  # which bond, modulo how many there are
PERCENT = st.integers(0, 150)  # of the most the step can take; above 100 is refused
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("donate"), st.sampled_from(["general", "bond"]), st.integers(500, 500_000), st.integers(0, 2000)
        ),
        st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 100)),
        st.tuples(st.just("dispute_lost"), st.integers(0, 30)),
        st.tuples(st.just("payout"), st.integers(1, 1_000_000)),
        st.tuples(
            st.just("disburse"),
            st.sampled_from(["general", "bond"]),
            st.sampled_from(["bond", "filing_fee", "expert"]),
            st.integers(100, 300_000),
            st.booleans(),  # a bond's obligor is a person
        ),
        st.tuples(st.just("bond_cancel"), BOND),
        st.tuples(st.just("bond_claim"), BOND),
        st.tuples(st.just("bond_refund"), BOND, st.integers(0, 100), PERCENT),
        st.tuples(st.just("bond_pass_back"), BOND, st.integers(1, 100)),
        st.tuples(st.just("bond_shortfall"), BOND, st.integers(0, 100)),
        st.tuples(st.just("bond_breach"), BOND, st.booleans()),  # served by mail or in person
        st.tuples(st.just("bond_appeal"), BOND),
        st.tuples(st.just("bond_withdraw"), BOND),
        st.tuples(st.just("bond_forfeit"), BOND),
        st.tuples(st.just("bond_interest"), BOND, PERCENT),
    ),
    max_size=15,
)
# What each kind of operation books. A refused operation books nothing and is not counted.
BOOKED_KINDS = {
    "donation": TransactionKind.DONATION,
    "fee": TransactionKind.FEE,
    "refund": TransactionKind.REFUND,
    "lost dispute": TransactionKind.DISPUTE,
    "payout": TransactionKind.PAYOUT,
    "payment": TransactionKind.DISBURSEMENT,
    "bond payment": TransactionKind.BOND_PAID,
    "bond refund": TransactionKind.BOND_REFUNDED,
    "bond refund passed back": TransactionKind.BOND_PASSED_BACK,
    "bond shortfall resolved": TransactionKind.BOND_SHORTFALL,
    "bond forfeiture": TransactionKind.BOND_FORFEITED,
    "interest to the breach": TransactionKind.BOND_INTEREST,
}
# Every example starts from these books, so that payments and bonds have money to draw on.
NOW = datetime(2026, 6, 1, tzinfo=UTC)
OPENING_GIFTS_CENTS = {"general": 2_000_000, "bond": 2_000_000}
OPENING_PAYOUT_CENTS = 1_500_000
OPENING_BOND_CENTS = 250_000


@pytest.fixture
def people_and_case(db):
    intake = UserFactory(role=Role.INTAKE)
    boss = UserFactory(role=Role.SUPERVISOR)
    lawyer = UserFactory(role=Role.ATTORNEY)
    finance = UserFactory(role=Role.FINANCE)
    # Nobody both approves and pays a request.
    paymaster = UserFactory(role=Role.FINANCE)
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Test", family_names="Pérsico"), by=intake
    )
    casework_services.case_assign(case=case, attorney=lawyer, role=AssignmentRole.LEAD, by=boss)
    return lawyer, finance, paymaster, case


def test_any_sequence_keeps_every_transaction_balanced_and_balances_true(people_and_case):
    booked: Counter[str] = Counter()

    # Each branch once, every run, whatever the random examples happen to draw. Bond 0 is the
    # fund's own opening bond; bond 1 the first one an example pays.
    @example(operations=[("donate", "general", 5000, 300)])
    @example(operations=[("refund", 0, 50)])
    @example(operations=[("dispute_lost", 1)])
    @example(operations=[("payout", 100_000)])
    @example(operations=[("disburse", "general", "expert", 20_000, False)])
    @example(operations=[("bond_cancel", 0), ("bond_claim", 0), ("bond_refund", 0, 100, 50)])
    @example(operations=[("bond_cancel", 0), ("bond_refund", 0, 90, 0), ("bond_shortfall", 0, 50)])
    @example(
        operations=[
            ("disburse", "bond", "bond", 200_000, True),
            ("bond_cancel", 1),
            ("bond_refund", 1, 100, 80),
            ("bond_pass_back", 1, 40),
            ("bond_pass_back", 1, 100),
        ]
    )
    @example(operations=[("bond_breach", 0, True), ("bond_appeal", 0), ("bond_withdraw", 0), ("bond_cancel", 0)])
    @example(operations=[("bond_breach", 0, False), ("bond_forfeit", 0), ("bond_interest", 0, 50)])
    @example(operations=[("bond_breach", 0, True), ("bond_appeal", 0), ("bond_forfeit", 0)])
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operations=OPERATIONS)
    def run(operations):
        # Each example runs in its own transaction, rolled back at the end, so examples start alike.
        with transaction.atomic():
            booked.update(_run_and_check(people_and_case, operations))
            transaction.set_rollback(True)

    run()

    assert [name for name, kind in BOOKED_KINDS.items() if booked[kind.value] == 0] == []


def _open_the_books(lawyer, finance, paymaster, case) -> tuple[list[Donation], list[Bond]]:
    """Gifts to both funds, most of them paid out to the bank, and one bond paid from the bond fund."""
    donor, _ = Donor.objects.for_email("opening@example.org")
    donations = []
    for slug, cents in OPENING_GIFTS_CENTS.items():
        donation = Donation.objects.create(
            donor=donor, fund=Fund.objects.get(slug=slug), amount_cents=cents, status=Donation.Status.PAID
        )
        bookkeeping.book_donation(donation=donation, fee_cents=0, occurred_at=NOW)
        donations.append(donation)
    bookkeeping.book_payout(
        key="payout:opening",
        allocation=bookkeeping.payout_allocation(OPENING_PAYOUT_CENTS),
        occurred_at=NOW,
        description="opening payout",
    )
    request = disbursements.disbursement_request(
        case=case,
        fund=Fund.objects.get(slug="bond"),
        purpose="bond",
        amount_cents=OPENING_BOND_CENTS,
        payee="DHS/ICE",
        reason="opening bond",
        by=lawyer,
    )
    disbursements.disbursement_approve(disbursement=request, by=finance)
    paid = disbursements.disbursement_pay(
        disbursement=request, paid_on=NOW.date(), method="wire", reference="opening", by=paymaster
    )
    return donations, [paid.bond]


def _next_day(bond: Bond) -> date:
    """The day after the bond's latest step: a date every next step accepts."""
    days = [
        bond.posted_on,
        bond.cancellation_notice_on,
        bond.refund_claimed_on,
        bond.refunded_on,
        bond.breach_notice_on,
        bond.appeal_filed_on,
        bond.breach_interest_on,
        bond.closed_on,
        *bond.events.values_list("on", flat=True),
    ]
    return max(d for d in days if d is not None) + timedelta(days=1)


def _bond_step(name: str, operation: tuple, bond: Bond, by) -> None:
    """One step of a bond's life, dated the day after its last one, with amounts as a share of what fits."""
    bond = Bond.objects.get(pk=bond.pk)
    day = _next_day(bond)
    if name == "bond_cancel":
        bonds.bond_record_cancellation(bond=bond, notice_on=day, by=by)
    elif name == "bond_claim":
        bonds.bond_record_refund_claim(bond=bond, claimed_on=day, by=by)
    elif name == "bond_refund":
        _, _, percent, interest = operation
        cap = interest_cap_cents(bond.amount_cents, bond.posted_on, day)
        bonds.bond_record_refund(
            bond=bond,
            refunded_cents=bond.amount_cents * percent // 100,
            interest_cents=cap * interest // 100,
            refunded_on=day,
            by=by,
        )
    elif name == "bond_pass_back":
        cents = max(1, bond.due_from_obligor_cents * operation[2] // 100)
        bonds.bond_record_pass_back(bond=bond, amount_cents=cents, received_on=day, by=by)
    elif name == "bond_shortfall":
        cents = bond.shortfall_cents * operation[2] // 100
        bonds.bond_resolve_shortfall(bond=bond, recovered_cents=cents, resolved_on=day, by=by)
    elif name == "bond_breach":
        bonds.bond_record_breach(bond=bond, served_on=day, service="mail" if operation[2] else "in_person", by=by)
    elif name == "bond_appeal":
        bonds.bond_record_breach_appeal(bond=bond, filed_on=day, by=by)
    elif name == "bond_withdraw":
        bonds.bond_record_breach_withdrawn(bond=bond, withdrawn_on=day, by=by)
    elif name == "bond_forfeit":
        after_window = bond.appeal_due_on + timedelta(days=1) if bond.appeal_due_on else day
        bonds.bond_record_forfeiture(bond=bond, forfeited_on=max(day, after_window), by=by, note="breach")
    elif name == "bond_interest":
        until = bond.breach_notice_on or day
        cap = interest_cap_cents(bond.amount_cents, bond.posted_on, until)
        bonds.bond_record_breach_interest(bond=bond, interest_cents=cap * operation[2] // 100, received_on=day, by=by)


def _run_and_check(people_and_case, operations) -> Counter[str]:
    """Run ``operations`` on opened books, check the books, and count what the operations booked."""
    lawyer, finance, paymaster, case = people_and_case
    donations, paid_bonds = _open_the_books(lawyer, finance, paymaster, case)
    opening = set(Transaction.objects.values_list("pk", flat=True))
    donor, _ = Donor.objects.for_email("donor@example.org")
    for step, operation in enumerate(operations):
        name = operation[0]
        savepoint = transaction.savepoint()
        try:
            if name == "donate":
                _, slug, cents, fee = operation
                donation = Donation.objects.create(
                    donor=donor, fund=Fund.objects.get(slug=slug), amount_cents=cents, status=Donation.Status.PAID
                )
                bookkeeping.book_donation(donation=donation, fee_cents=min(fee, cents), occurred_at=NOW)
                donations.append(donation)
            elif name == "refund":
                _, index, percent = operation
                donation = donations[index % len(donations)]
                bookkeeping.book_refund(
                    key=f"refund:{step}",
                    donation=donation,
                    amount_cents=max(1, donation.charged_cents * percent // 100),
                    occurred_at=NOW,
                )
            elif name == "dispute_lost":
                donation = donations[operation[1] % len(donations)]
                bookkeeping.book_dispute(
                    key=f"dispute:{step}",
                    donation=donation,
                    amount_cents=donation.charged_cents,
                    fee_cents=1500,
                    occurred_at=NOW,
                )
            elif name == "payout":
                allocation = bookkeeping.payout_allocation(operation[1])
                if allocation:
                    assert sum(allocation.values()) <= operation[1]
                    bookkeeping.book_payout(
                        key=f"payout:{step}", allocation=allocation, occurred_at=NOW, description="payout"
                    )
            elif name == "disburse":
                _, slug, purpose, cents, person = operation
                request = disbursements.disbursement_request(
                    case=case,
                    fund=Fund.objects.get(slug=slug),
                    purpose=purpose,
                    amount_cents=cents,
                    payee="Payee",
                    reason="r",
                    by=lawyer,
                )
                disbursements.disbursement_approve(disbursement=request, by=finance)
                terms = None
                if purpose == "bond":
                    kind = ObligorKind.PERSON if person else ObligorKind.FUND
                    terms = BondTerms(
                        bond_type=BondType.ORDER_OF_SUPERVISION, obligor_kind=kind, obligor_name="Obligor"
                    )
                paid = disbursements.disbursement_pay(
                    disbursement=request,
                    paid_on=NOW.date(),
                    method="check",
                    reference=str(step),
                    by=paymaster,
                    bond_terms=terms,
                )
                if purpose == "bond":
                    paid_bonds.append(paid.bond)
            elif name.startswith("bond_"):
                _bond_step(name, operation, paid_bonds[operation[1] % len(paid_bonds)], finance)
            transaction.savepoint_commit(savepoint)
        except ValidationError:
            # Refused operations (not enough money, restricted fund, a step the bond's state does not
            # allow, a date or amount that does not fit) write nothing.
            transaction.savepoint_rollback(savepoint)

    assert unbalanced_transactions() == []
    assert ledger_mismatches() == []
    for balance in fund_balances():
        assert balance.available == _recomputed_available(balance.fund)
        fund_bonds = list(Bond.objects.filter(fund=balance.fund))
        assert balance.bonds_outstanding == sum(bond.held_by_ice_cents for bond in fund_bonds)
        assert balance.due_from_obligors == sum(bond.due_from_obligor_cents for bond in fund_bonds)
        assert balance.bond_shortfalls == sum(bond.shortfall_cents for bond in fund_bonds)
        # Paid from the bank only: it never went below zero, on any day.
        bank = account(balance.fund, AccountKind.BANK)
        assert bank_lowest_since(bank, NOW.date() - timedelta(days=1))[0] >= 0
    assert all((bond.closed_on is None) == bond.is_open for bond in Bond.objects.all())
    assert sum(Posting.objects.values_list("amount", flat=True)) == 0
    return Counter(Transaction.objects.exclude(pk__in=opening).values_list("kind", flat=True))
