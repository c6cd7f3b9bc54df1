"""The ledger stays balanced whatever happens, and fund balances equal a full recomputation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from casework import services as casework_services
from casework.models import AssignmentRole
from funds.models import Account, AccountKind, Bond, Donation, Donor, Fund, Posting, Transaction, TransactionKind
from funds.selectors import fund_balances, ledger_mismatches, unbalanced_transactions
from funds.services import bookkeeping, disbursements
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
        ),
        st.tuples(st.just("bond_refund"), st.integers(0, 30), st.integers(0, 100), st.integers(0, 5000)),
        st.tuples(st.just("bond_forfeit"), st.integers(0, 30)),
    ),
    max_size=15,
)


@pytest.fixture
def people_and_case(db):
    intake = UserFactory(role=Role.INTAKE)
    boss = UserFactory(role=Role.SUPERVISOR)
    lawyer = UserFactory(role=Role.ATTORNEY)
    finance = UserFactory(role=Role.FINANCE)
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Test", family_names="Person"), by=intake
    )
    casework_services.case_assign(case=case, attorney=lawyer, role=AssignmentRole.LEAD, by=boss)
    return lawyer, finance, case


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(operations=OPERATIONS)
def test_any_sequence_keeps_every_transaction_balanced_and_balances_true(people_and_case, operations):
    # Each example runs in its own transaction, rolled back at the end, so examples start clean.
    with transaction.atomic():
        _run_and_check(people_and_case, operations)
        transaction.set_rollback(True)


def _run_and_check(people_and_case, operations):
    from django.core.exceptions import ValidationError

    lawyer, finance, case = people_and_case
    now = datetime(2026, 6, 1, tzinfo=UTC)
    donor, _ = Donor.objects.get_or_create(email="donor@example.org")
    donations, bonds = [], []
    for step, operation in enumerate(operations):
        name = operation[0]
        savepoint = transaction.savepoint()
        try:
            if name == "donate":
                _, slug, cents, fee = operation
                donation = Donation.objects.create(
                    donor=donor, fund=Fund.objects.get(slug=slug), amount_cents=cents, status=Donation.Status.PAID
                )
                bookkeeping.book_donation(donation=donation, fee_cents=min(fee, cents), occurred_at=now)
                donations.append(donation)
            elif name == "refund" and donations:
                _, index, percent = operation
                donation = donations[index % len(donations)]
                bookkeeping.book_refund(
                    key=f"refund:{step}",
                    donation=donation,
                    amount_cents=max(1, donation.charged_cents * percent // 100),
                    occurred_at=now,
                )
            elif name == "dispute_lost" and donations:
                donation = donations[operation[1] % len(donations)]
                bookkeeping.book_dispute(
                    key=f"dispute:{step}",
                    donation=donation,
                    amount_cents=donation.charged_cents,
                    fee_cents=1500,
                    occurred_at=now,
                )
            elif name == "payout":
                allocation = bookkeeping.payout_allocation(operation[1])
                if allocation:
                    assert sum(allocation.values()) <= operation[1]
                    bookkeeping.book_payout(
                        key=f"payout:{step}", allocation=allocation, occurred_at=now, description="payout"
                    )
            elif name == "disburse":
                _, slug, purpose, cents = operation
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
                paid = disbursements.disbursement_pay(
                    disbursement=request, paid_on=now.date(), method="check", reference=str(step), by=finance
                )
                if purpose == "bond":
                    bonds.append(paid.bond)
            elif name == "bond_refund" and bonds:
                _, index, percent, interest = operation
                bond = bonds[index % len(bonds)]
                disbursements.bond_record_refund(
                    bond=bond,
                    refunded_cents=bond.amount_cents * percent // 100,
                    interest_cents=interest,
                    refunded_on=now.date(),
                    by=finance,
                )
            elif name == "bond_forfeit" and bonds:
                bond = bonds[operation[1] % len(bonds)]
                disbursements.bond_record_forfeiture(bond=bond, forfeited_on=now.date(), by=finance, note="breach")
            transaction.savepoint_commit(savepoint)
        except ValidationError:
            # Refused operations (not enough money, restricted fund, closed bond) write nothing.
            transaction.savepoint_rollback(savepoint)

    assert unbalanced_transactions() == []
    assert ledger_mismatches() == []
    for balance in fund_balances():
        assert balance.available == _recomputed_available(balance.fund)
        outstanding = sum(
            Bond.objects.filter(fund=balance.fund, status="outstanding").values_list("amount_cents", flat=True)
        )
        assert balance.bonds_outstanding == outstanding
    assert sum(Posting.objects.values_list("amount", flat=True)) == 0
