"""The bond lifecycle as ICE runs it: posting, cancellation and refund, breach, appeal, forfeiture.

Worked examples from the rules (8 CFR 103.6, 103.3(a)(2)(i), 103.8(b), 293.1-293.3; INA 236(a)(2)(A),
240B(b)(3)), each step checked in the ledger as well as on the bond.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from casework import services as casework_services
from funds.bond_rules import breach_appeal_deadline, interest_cap_cents
from funds.models import Account, AccountKind, Bond, BondEvent, Disbursement, Donation, Donor, Fund
from funds.selectors import bond_next_step, fund_balance, ledger_mismatches, unbalanced_transactions
from funds.services import bonds, bookkeeping
from funds.services.bonds import BondStory, BondTerms
from funds.services.disbursements import disbursement_approve, disbursement_pay, disbursement_request
from funds.views import bonds as bond_views
from tests.forms import once

pytestmark = pytest.mark.django_db

OBLIGOR_NAME, OBLIGOR_PHONE = "Quetzalcoatl Obligado-Zyx", "+1 555 0142"


@pytest.fixture
def bond_fund(db) -> Fund:
    """The bond fund with $50,000 in the bank."""
    fund = Fund.objects.get(slug="bond")
    donor, _ = Donor.objects.for_email("giver@example.org")
    gift = Donation.objects.create(donor=donor, fund=fund, amount_cents=5_000_000, status="paid")
    on = datetime(2025, 1, 2, tzinfo=UTC)
    bookkeeping.book_donation(donation=gift, fee_cents=0, occurred_at=on)
    bookkeeping.book_payout(key="payout:bonds", allocation={fund: 5_000_000}, occurred_at=on, description="p")
    return fund


@pytest.fixture
def post(people, case, bond_fund):
    """Pay a bond of ``cents`` on ``paid_on`` with ``terms``; return its ``Bond``."""

    def post(cents: int = 150_000, *, paid_on: date = date(2026, 1, 5), terms: BondTerms | None = None) -> Bond:
        request = disbursement_request(
            case=case,
            fund=bond_fund,
            purpose="bond",
            amount_cents=cents,
            payee="DHS/ICE",
            reason="r",
            by=people["attorney"],
        )
        disbursement_approve(disbursement=request, by=people["finance"])
        disbursement_pay(
            disbursement=request,
            paid_on=paid_on,
            method="wire",
            reference="FW",
            by=people["finance2"],
            bond_terms=terms,
        )
        return Bond.objects.get(disbursement=request)

    return post


def balance_of(fund: Fund, kind: AccountKind) -> int:
    return Account.objects.filter(fund=fund, kind=kind).values_list("balance", flat=True).first() or 0


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def assert_books_sound() -> None:
    assert unbalanced_transactions() == []
    assert ledger_mismatches() == []


# --- Posting: type, minimum, obligor -----------------------------------------------------------


@pytest.mark.parametrize(
    ("bond_type", "cents", "refused"),
    [
        ("delivery", 149_999, "A delivery bond is at least $1,500.00 (INA 236(a)(2)(A)); $1,499.99 is less."),
        ("delivery", 150_000, None),
        (
            "voluntary_departure",
            49_999,
            "A voluntary departure bond is at least $500.00 (INA 240B(b)(3); 8 CFR 1240.26(c)(3)(i)); $499.99 is less.",
        ),
        ("voluntary_departure", 50_000, None),
        ("order_of_supervision", 10_000, None),
    ],
)
def test_the_bond_type_sets_a_minimum_checked_at_payment(post, bond_fund, bond_type, cents, refused):
    if refused:
        with pytest.raises(ValidationError) as error:
            post(cents, terms=BondTerms(bond_type=bond_type))
        assert error.value.message_dict == {"bond_type": [refused]}
        assert not Bond.objects.exists()
        assert not Disbursement.objects.filter(status="paid").exists()
        assert fund_balance(bond_fund).in_bank == 5_000_000
    else:
        bond = post(cents, terms=BondTerms(bond_type=bond_type))
        assert (bond.bond_type, bond.amount_cents, bond.status) == (bond_type, cents, "posted")


def test_paying_a_bond_records_the_i352_details_from_the_payment_form(people, case, bond_fund):
    request = disbursement_request(
        case=case,
        fund=bond_fund,
        purpose="bond",
        amount_cents=400_000,
        payee="DHS/ICE",
        reason="IJ",
        by=people["attorney"],
    )
    disbursement_approve(disbursement=request, by=people["finance"])

    response = client(people["finance2"]).post(
        reverse("funds:disbursement-detail", args=[request.pk]),
        once(
            {
                "action": "pay",
                "paid_on": "2026-02-02",
                "method": "wire",
                "reference": "FW-77",
                "bond_type": "delivery",
                "ordered": "5,000",
                "bond_number": "ABC1234567",
                "posting_method": "cebonds_fedwire",
                "posted_on": "2026-02-03",
                "obligor_kind": "person",
                "obligor_name": OBLIGOR_NAME,
                "obligor_phone": OBLIGOR_PHONE,
            }
        ),
    )

    assert response.status_code == 302
    bond = Bond.objects.get()
    assert (bond.bond_number, bond.posting_method, bond.posted_on, bond.paid_on) == (
        "ABC1234567",
        "cebonds_fedwire",
        date(2026, 2, 3),
        date(2026, 2, 2),
    )
    assert (bond.ordered_cents, bond.amount_cents) == (500_000, 400_000)
    assert (bond.obligor_kind, bond.obligor_name, bond.obligor_phone) == ("person", OBLIGOR_NAME, OBLIGOR_PHONE)
    page = client(people["finance"]).get(reverse("funds:bond-detail", args=[bond.pk])).content.decode()
    assert OBLIGOR_NAME in page and "$5,000.00 ordered" in page and "CeBONDS, Fedwire" in page
    # The obligor's name and phone are personal data: in no access-log row, nor the bond's URL.
    logged = " ".join(f"{e.object_ref} {e.detail}" for e in AccessEvent.objects.all())
    assert OBLIGOR_NAME not in logged and OBLIGOR_PHONE not in logged


def test_a_person_obligor_must_be_named(people, case, bond_fund):
    request = disbursement_request(
        case=case,
        fund=bond_fund,
        purpose="bond",
        amount_cents=150_000,
        payee="DHS/ICE",
        reason="r",
        by=people["attorney"],
    )
    disbursement_approve(disbursement=request, by=people["finance"])
    data = {
        "action": "pay",
        "paid_on": "2026-02-02",
        "method": "wire",
        "reference": "FW",
        "bond_type": "delivery",
        "posting_method": "cebonds_ach",
        "obligor_kind": "person",
    }

    response = client(people["finance2"]).post(reverse("funds:disbursement-detail", args=[request.pk]), data)

    assert response.status_code == 422
    assert "Name the obligor" in response.content.decode()
    assert not Bond.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        Bond.objects.create(
            disbursement=request, case=case, fund=bond_fund, amount_cents=1, paid_on=date(2026, 1, 1),
            posted_on=date(2026, 1, 1), obligor_kind="person",
        )  # fmt: skip


def test_two_bonds_cannot_share_an_i352_number(post):
    post(terms=BondTerms(bond_number="XYZ0001"))

    with pytest.raises(ValidationError) as error:
        post(terms=BondTerms(bond_number="XYZ0001"))

    assert error.value.message_dict == {"bond_number": ["Another bond already has this number."]}


# --- Cancellation and refund ---------------------------------------------------------------------


def test_cancellation_claim_and_refund_with_interest_bring_the_money_back_to_the_bank(post, bond_fund, people):
    bond = post(150_000, paid_on=date(2025, 3, 3))
    by = people["finance"]

    bonds.bond_record_cancellation(bond=bond, notice_on=date(2026, 2, 2), by=by)
    bonds.bond_record_refund_claim(bond=bond, claimed_on=date(2026, 2, 9), by=by)
    bond = bonds.bond_record_refund(
        bond=bond, refunded_cents=150_000, interest_cents=1_250, refunded_on=date(2026, 3, 3), by=by
    )

    assert (bond.status, bond.closed_on, bond.refunded_cents, bond.interest_cents) == (
        "refunded",
        date(2026, 3, 3),
        150_000,
        1_250,
    )
    assert fund_balance(bond_fund).in_bank == 5_000_000 + 1_250
    assert balance_of(bond_fund, AccountKind.BONDS_RECEIVABLE) == 0
    assert balance_of(bond_fund, AccountKind.BOND_INTEREST) == -1_250  # income
    assert balance_of(bond_fund, AccountKind.BOND_FORFEITURES) == 0
    assert [e.action for e in bond.events.all()] == [
        "posted",
        "cancellation_notice",
        "refund_claimed",
        "refund_received",
    ]
    assert_books_sound()


def test_a_refund_needs_the_cancellation_notice_first(post, people):
    bond = post()

    with pytest.raises(ValidationError, match="it is “Posted”"):
        bonds.bond_record_refund(
            bond=bond, refunded_cents=150_000, interest_cents=0, refunded_on=date(2026, 3, 1), by=people["finance"]
        )

    assert Bond.objects.get().status == "posted"


def test_a_refund_below_the_principal_is_a_shortfall_in_dispute_not_a_forfeiture(post, bond_fund, people):
    bond = post(300_000, paid_on=date(2025, 6, 2))
    by = people["finance"]
    bonds.bond_record_cancellation(bond=bond, notice_on=date(2026, 1, 5), by=by)

    bond = bonds.bond_record_refund(
        bond=bond, refunded_cents=250_000, interest_cents=0, refunded_on=date(2026, 2, 2), by=by
    )

    assert (bond.status, bond.shortfall_cents, bond.closed_on) == ("shortfall", 50_000, None)
    assert balance_of(bond_fund, AccountKind.BOND_SHORTFALLS) == 50_000
    assert balance_of(bond_fund, AccountKind.BOND_FORFEITURES) == 0
    assert "$500.00 short of the principal" in bond_next_step(bond, today=date(2026, 2, 3))

    bond = bonds.bond_resolve_shortfall(bond=bond, recovered_cents=30_000, resolved_on=date(2026, 5, 1), by=by)

    assert (bond.status, bond.shortfall_cents, bond.refunded_cents, bond.closed_on) == (
        "refunded",
        0,
        280_000,
        date(2026, 5, 1),
    )
    assert balance_of(bond_fund, AccountKind.BOND_SHORTFALLS) == 0
    assert balance_of(bond_fund, AccountKind.BOND_SHORTFALL_LOSSES) == 20_000
    assert fund_balance(bond_fund).in_bank == 5_000_000 - 300_000 + 280_000
    assert_books_sound()


def test_a_person_obligor_receives_the_refund_and_owes_it_to_the_fund_until_passed_back(post, bond_fund, people):
    bond = post(200_000, paid_on=date(2025, 6, 2), terms=BondTerms(obligor_kind="person", obligor_name=OBLIGOR_NAME))
    by = people["finance"]
    bonds.bond_record_cancellation(bond=bond, notice_on=date(2026, 1, 5), by=by)
    bank_before = fund_balance(bond_fund).in_bank

    bond = bonds.bond_record_refund(
        bond=bond, refunded_cents=200_000, interest_cents=900, refunded_on=date(2026, 2, 2), by=by
    )

    assert (bond.status, bond.due_from_obligor_cents) == ("due_from_obligor", 200_900)
    assert fund_balance(bond_fund).in_bank == bank_before  # the money went to the obligor, not the fund
    assert fund_balance(bond_fund).due_from_obligors == 200_900
    assert "owes the fund $2,009.00" in bond_next_step(bond, today=date(2026, 2, 3))

    bond = bonds.bond_record_pass_back(bond=bond, amount_cents=100_000, received_on=date(2026, 2, 10), by=by)
    assert (bond.status, bond.due_from_obligor_cents, bond.passed_back_cents) == ("due_from_obligor", 100_900, 100_000)
    bond = bonds.bond_record_pass_back(bond=bond, received_on=date(2026, 2, 20), by=by)

    assert (bond.status, bond.due_from_obligor_cents, bond.closed_on) == ("refunded", 0, date(2026, 2, 20))
    assert fund_balance(bond_fund).in_bank == bank_before + 200_900
    assert fund_balance(bond_fund).due_from_obligors == 0
    assert_books_sound()


def test_a_fund_obligor_owes_nothing_back(post, people):
    bond = post()
    bonds.bond_record_cancellation(bond=bond, notice_on=date(2026, 2, 2), by=people["finance"])
    bonds.bond_record_refund(
        bond=bond, refunded_cents=150_000, interest_cents=0, refunded_on=date(2026, 2, 9), by=people["finance"]
    )

    with pytest.raises(ValidationError, match="already closed"):
        bonds.bond_record_pass_back(bond=bond, received_on=date(2026, 2, 10), by=people["finance"])


def test_interest_above_three_percent_a_year_is_refused_as_a_typo(post, people):
    # $1,500 deposited 2025-01-06, refunded 2026-01-06: 365 days at most 3 % = $45.00 (8 CFR 293.1, 293.2).
    bond = post(150_000, paid_on=date(2025, 1, 6))
    bonds.bond_record_cancellation(bond=bond, notice_on=date(2025, 12, 1), by=people["finance"])
    assert interest_cap_cents(150_000, date(2025, 1, 6), date(2026, 1, 6)) == 4_500

    with pytest.raises(ValidationError) as error:
        bonds.bond_record_refund(
            bond=bond, refunded_cents=150_000, interest_cents=4_501, refunded_on=date(2026, 1, 6), by=people["finance"]
        )

    assert error.value.message_dict["interest_cents"] == [
        "Interest on a cash bond is at most 3% a year (8 CFR 293.2): at most $45.00 on $1,500.00 for 365 days. "
        "Check the amount received."
    ]
    bond = bonds.bond_record_refund(
        bond=bond, refunded_cents=150_000, interest_cents=4_500, refunded_on=date(2026, 1, 6), by=people["finance"]
    )
    assert bond.interest_cents == 4_500


@pytest.mark.parametrize(
    ("notice_on", "message"),
    [
        (date(2025, 12, 31), "That is before the bond was posted (Jan. 5, 2026)."),
        (None, "Record it once it has happened: that date is in the future."),
    ],
)
def test_a_step_cannot_be_dated_before_the_one_it_follows_or_in_the_future(post, people, notice_on, message):
    bond = post(paid_on=date(2026, 1, 5))

    with pytest.raises(ValidationError) as error:
        bonds.bond_record_cancellation(
            bond=bond, notice_on=notice_on or timezone.localdate() + timedelta(days=1), by=people["finance"]
        )

    assert error.value.message_dict == {"notice_on": [message]}
    assert not BondEvent.objects.filter(action="cancellation_notice").exists()


# --- Breach, appeal, forfeiture ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("served_on", "service", "due", "words"),
    [
        # Mailed on a Monday: 30 + 3 days (8 CFR 103.8(b)) is Saturday, April 4: moves to Monday.
        (
            date(2026, 3, 2),
            "mail",
            date(2026, 4, 6),
            "is Saturday, April 4, 2026, which is a weekend day",
        ),
        # The same notice handed over in person: 30 days, Wednesday April 1, a business day.
        (date(2026, 3, 2), "in_person", date(2026, 4, 1), "is Wednesday, April 1, 2026, a business day"),
        # Day 30 is Friday, July 3, 2026, the observed Independence Day: Monday, July 6.
        (date(2026, 6, 3), "in_person", date(2026, 7, 6), "which is a federal holiday, Independence Day (observed)"),
        # Mailed on a Wednesday: 33 days is Monday, May 11, a business day.
        (date(2026, 4, 8), "mail", date(2026, 5, 11), "is Monday, May 11, 2026, a business day"),
    ],
)
def test_the_breach_appeal_is_due_30_days_after_service_33_if_mailed_on_a_business_day(served_on, service, due, words):
    deadline = breach_appeal_deadline(served_on=served_on, service=service)

    assert deadline.due == due
    assert deadline.days == (33 if service == "mail" else 30)
    assert words in deadline.explanation
    assert "8 CFR 103.3(a)(2)(i)" in deadline.explanation
    assert ("plus 3 for mail" in deadline.explanation) == (service == "mail")
    assert "must be received by that day" in deadline.explanation


def test_a_breach_notice_opens_the_appeal_window_and_forfeiture_waits_for_it_to_close(post, bond_fund, people):
    bond = post(150_000, paid_on=date(2026, 1, 5))
    by = people["finance"]

    bond = bonds.bond_record_breach(
        bond=bond, served_on=date(2026, 3, 2), service="mail", breached_on=date(2026, 2, 24), by=by
    )

    assert (bond.status, bond.appeal_due_on) == ("breached", date(2026, 4, 6))
    assert "USCIS must receive it by April 6, 2026" in bond_next_step(bond, today=date(2026, 3, 10))
    assert "The appeal window closed on April 6, 2026" in bond_next_step(bond, today=date(2026, 4, 7))
    with pytest.raises(ValidationError) as error:
        bonds.bond_record_forfeiture(bond=bond, forfeited_on=date(2026, 4, 6), by=by, note="upheld")
    assert "The obligor can appeal until April 6, 2026" in error.value.messages[0]
    assert balance_of(bond_fund, AccountKind.BOND_FORFEITURES) == 0

    bond = bonds.bond_record_forfeiture(bond=bond, forfeited_on=date(2026, 4, 7), by=by, note="no appeal")

    assert (bond.status, bond.closed_on) == ("forfeited", date(2026, 4, 7))
    assert balance_of(bond_fund, AccountKind.BOND_FORFEITURES) == 150_000
    assert balance_of(bond_fund, AccountKind.BONDS_RECEIVABLE) == 0
    assert "Interest to the date of breach is still paid to the obligor" in bond_next_step(bond, today=date(2026, 4, 8))
    assert_books_sound()


def test_the_interest_to_the_breach_date_is_still_paid_to_the_obligor(post, bond_fund, people):
    # Deposited 2026-01-05, breached 2026-02-24: 50 days; at most 3 % of $1,500 = $6.17 (rounded up).
    bond = post(150_000, paid_on=date(2026, 1, 5))
    by = people["finance"]
    bonds.bond_record_breach(
        bond=bond, served_on=date(2026, 3, 2), service="in_person", breached_on=date(2026, 2, 24), by=by
    )
    bonds.bond_record_breach_appeal(bond=bond, filed_on=date(2026, 3, 20), by=by)
    bonds.bond_record_forfeiture(bond=bond, forfeited_on=date(2026, 6, 1), by=by, note="appeal dismissed")
    with pytest.raises(ValidationError, match=r"at most \$6.17"):
        bonds.bond_record_breach_interest(bond=bond, interest_cents=618, received_on=date(2026, 7, 1), by=by)

    bond = bonds.bond_record_breach_interest(bond=bond, interest_cents=410, received_on=date(2026, 7, 1), by=by)

    assert (bond.status, bond.interest_cents, bond.breach_interest_on) == ("forfeited", 410, date(2026, 7, 1))
    assert fund_balance(bond_fund).in_bank == 5_000_000 - 150_000 + 410
    assert balance_of(bond_fund, AccountKind.BOND_INTEREST) == -410
    assert bond_next_step(bond, today=date(2026, 7, 2)) == "Nothing: the bond is closed."
    with pytest.raises(ValidationError, match="already recorded"):
        bonds.bond_record_breach_interest(bond=bond, interest_cents=1, received_on=date(2026, 7, 2), by=by)
    assert_books_sound()


def test_a_person_obligors_breach_interest_is_owed_back_to_the_fund(post, bond_fund, people):
    bond = post(150_000, paid_on=date(2026, 1, 5), terms=BondTerms(obligor_kind="person", obligor_name=OBLIGOR_NAME))
    by = people["finance"]
    bonds.bond_record_breach(bond=bond, served_on=date(2026, 3, 2), service="in_person", by=by)
    bonds.bond_record_forfeiture(bond=bond, forfeited_on=date(2026, 4, 2), by=by, note="no appeal")

    bond = bonds.bond_record_breach_interest(bond=bond, interest_cents=300, received_on=date(2026, 5, 1), by=by)

    assert (bond.status, bond.due_from_obligor_cents) == ("forfeited", 300)
    assert "The obligor owes the fund $3.00" in bond_next_step(bond, today=date(2026, 5, 2))
    bond = bonds.bond_record_pass_back(bond=bond, received_on=date(2026, 5, 8), by=by)
    assert (bond.status, bond.due_from_obligor_cents) == ("forfeited", 0)
    assert fund_balance(bond_fund).in_bank == 5_000_000 - 150_000 + 300
    assert_books_sound()


def test_a_withdrawn_breach_puts_the_bond_back_in_force(post, people):
    bond = post(paid_on=date(2026, 1, 5))
    by = people["finance"]
    bonds.bond_record_breach(bond=bond, served_on=date(2026, 3, 2), service="mail", by=by)
    bonds.bond_record_breach_appeal(bond=bond, filed_on=date(2026, 3, 30), by=by)

    bond = bonds.bond_record_breach_withdrawn(bond=bond, withdrawn_on=date(2026, 5, 4), by=by, note="appeal sustained")

    assert (bond.status, bond.breach_notice_on, bond.appeal_due_on, bond.appeal_filed_on) == (
        "posted",
        None,
        None,
        None,
    )
    # In force again: it can be cancelled and refunded like any posted bond.
    bonds.bond_record_cancellation(bond=bond, notice_on=date(2026, 6, 1), by=by)
    bonds.bond_record_refund(bond=bond, refunded_cents=150_000, interest_cents=0, refunded_on=date(2026, 7, 1), by=by)
    assert [e.action for e in Bond.objects.get().events.all()] == [
        "posted",
        "breach_notice",
        "appeal_filed",
        "breach_withdrawn",
        "cancellation_notice",
        "refund_received",
    ]


def test_a_bond_is_forfeited_only_after_a_breach_and_a_cancelled_bond_cannot_be_breached(post, people):
    bond = post(paid_on=date(2026, 1, 5))
    by = people["finance"]

    with pytest.raises(ValidationError, match="Record the breach notice"):
        bonds.bond_record_forfeiture(bond=bond, forfeited_on=date(2026, 6, 1), by=by, note="x")
    bonds.bond_record_cancellation(bond=bond, notice_on=date(2026, 2, 2), by=by)
    with pytest.raises(ValidationError, match="Cancelled"):
        bonds.bond_record_breach(bond=bond, served_on=date(2026, 3, 2), service="mail", by=by)


def test_a_late_appeal_is_recorded_and_flagged(post, people):
    bond = post(paid_on=date(2026, 1, 5))
    bonds.bond_record_breach(bond=bond, served_on=date(2026, 3, 2), service="in_person", by=people["finance"])

    bond = bonds.bond_record_breach_appeal(bond=bond, filed_on=date(2026, 4, 2), by=people["finance"])

    assert bond.appeal_filed_late
    page = client(people["finance"]).get(reverse("funds:bond-detail", args=[bond.pk])).content.decode()
    assert "after the deadline" in page


# --- Pages -------------------------------------------------------------------------------------------


def test_the_bond_page_offers_the_steps_its_state_allows(post, people):
    bond = post(paid_on=date(2026, 1, 5))
    finance = client(people["finance"])
    url = reverse("funds:bond-detail", args=[bond.pk])

    posted = finance.get(url).content.decode()
    refused = finance.post(
        url, once({"action": "refund", "refund-refunded": "1500", "refund-refunded_on": "2026-03-01"}, prefix="refund")
    )
    breached = finance.post(
        url,
        once(
            {"action": "breach", "breach-served_on": "2026-03-02", "breach-service": "mail", "breach-breached_on": ""},
            prefix="breach",
        ),
    )
    page = finance.get(url).content.decode()

    assert 'value="cancellation"' in posted and 'value="breach"' in posted and 'value="refund"' not in posted
    assert refused.status_code == 400 and "That step cannot be recorded for this bond now." in refused.content.decode()
    assert breached.status_code == 302
    assert "April 6, 2026" in page and "103.8(b)" in page  # the deadline and how it was reached
    assert 'value="appeal"' in page and 'value="forfeit"' in page and 'value="withdrawn"' in page


def test_the_bond_page_shows_a_service_refusal_on_the_form(post, people):
    bond = post(paid_on=date(2026, 1, 5))
    url = reverse("funds:bond-detail", args=[bond.pk])

    response = client(people["finance"]).post(
        url, once({"action": "cancellation", "cancellation-notice_on": "2025-12-01"}, prefix="cancellation")
    )

    assert response.status_code == 422
    assert "That is before the bond was posted (Jan. 5, 2026)." in response.content.decode()
    assert Bond.objects.get().status == "posted"


def test_the_register_shows_state_key_date_next_step_and_what_is_owed(post, people):
    breached = post(paid_on=date(2026, 1, 5))
    bonds.bond_record_breach(bond=breached, served_on=timezone.localdate(), service="mail", by=people["finance"])
    owing = post(200_000, paid_on=date(2025, 6, 2), terms=BondTerms(obligor_kind="person", obligor_name=OBLIGOR_NAME))
    bonds.bond_record_cancellation(bond=owing, notice_on=date(2026, 1, 5), by=people["finance"])
    bonds.bond_record_refund(
        bond=owing, refunded_cents=200_000, interest_cents=0, refunded_on=date(2026, 2, 2), by=people["finance"]
    )

    page = client(people["finance"]).get(reverse("funds:bond-register")).content.decode()

    assert "Breach notice (I-323) received" in page and "appeal due" in page
    assert "1 breach appeal window open" in page
    assert "Refunded to the obligor, to pass back" in page and "$2,000.00" in page
    assert "2 bonds, $3,500.00 posted, $3,500.00 still owed to the fund." in page
    assert OBLIGOR_NAME not in page  # only on the bond's own page
    home = client(people["finance"]).get(reverse("funds:finance-home")).content.decode()
    assert "breach appeal windows open" in home and "bonds an obligor owes on" in home


def test_the_register_takes_the_same_queries_for_one_bond_or_three(post, people):
    finance = client(people["finance"])

    def queries_for_the_register() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert finance.get(reverse("funds:bond-register")).status_code == 200
        return len(queries)

    post(paid_on=date(2026, 1, 5))
    finance.get(reverse("funds:bond-register"))  # the session's first request does its own bookkeeping
    one = queries_for_the_register()
    second, third = post(paid_on=date(2026, 1, 5)), post(paid_on=date(2026, 1, 5))
    bonds.bond_record_breach(bond=second, served_on=date(2026, 3, 2), service="mail", by=people["finance"])
    bonds.bond_record_cancellation(bond=third, notice_on=date(2026, 3, 2), by=people["finance"])

    assert queries_for_the_register() == one


def test_the_bond_pages_are_for_finance_only(post, people):
    bond = post()
    attorney = client(people["attorney"])

    assert attorney.get(reverse("funds:bond-register")).status_code == 404
    assert attorney.get(reverse("funds:bond-detail", args=[bond.pk])).status_code == 404
    assert (
        attorney.post(
            reverse("funds:bond-detail", args=[bond.pk]), once({"action": "cancellation"}, prefix="cancellation")
        ).status_code
        == 404
    )
    assert client(people["finance"]).get(reverse("funds:bond-detail", args=[bond.pk + 1000])).status_code == 404


# --- Stories for the demo -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("story", "state", "person"),
    [
        (BondStory.REFUNDED_WITH_INTEREST, "refunded", False),
        (BondStory.REFUNDED_SHORT, "shortfall", False),
        (BondStory.PASSED_BACK, "refunded", True),
        (BondStory.BREACHED, "breached", False),
        (BondStory.APPEALED, "appeal_filed", False),
        (BondStory.FORFEITED, "forfeited", False),
    ],
)
def test_each_demo_story_ends_in_its_state_through_the_services(post, bond_fund, people, story, state, person):
    terms = BondTerms(obligor_kind="person", obligor_name="Demo Obligor") if person else None
    bond = post(paid_on=timezone.localdate() - timedelta(days=bonds.bond_story_days(story) + 1), terms=terms)

    bond = bonds.bond_act_out(bond=bond, story=story, by=people["finance"])

    assert bond.status == state
    if story in (BondStory.REFUNDED_WITH_INTEREST, BondStory.PASSED_BACK, BondStory.FORFEITED):
        assert bond.interest_cents > 0
    assert bond.events.count() > 1
    assert_books_sound()


def test_a_story_refuses_a_bond_posted_too_recently(post, people):
    bond = post(paid_on=timezone.localdate())

    with pytest.raises(ValueError, match="days ago"):
        bonds.bond_act_out(bond=bond, story=BondStory.FORFEITED, by=people["finance"])


# --- The custody decision that set the bond, and DHS's automatic stay ----------------------


def _approved_bond_request(people, case, bond_fund, cents: int) -> Disbursement:
    request = disbursement_request(
        case=case,
        fund=bond_fund,
        purpose="bond",
        amount_cents=cents,
        payee="DHS/ICE",
        reason="r",
        by=people["attorney"],
    )
    disbursement_approve(disbursement=request, by=people["finance"])
    return request


def _bond_grant(case, by, *, decided_on, dhs_custody="no_bond"):
    decision, _ = casework_services.decision_record(
        case=case,
        by=by,
        outcome="bond_granted",
        decided_on=decided_on,
        appeal="reserved",
        bond_cents=7_500_00,
        dhs_custody=dhs_custody,
    )
    return decision


def test_a_bond_is_refused_while_dhs_may_still_stay_the_order_and_paid_after(people, case, bond_fund):
    today = timezone.localdate()
    decision = _bond_grant(case, people["attorney"], decided_on=today)
    request = _approved_bond_request(people, case, bond_fund, 7_500_00)

    with pytest.raises(ValidationError) as excinfo:
        disbursement_pay(disbursement=request, paid_on=today, method="wire", reference="FW", by=people["finance2"])

    assert "EOIR-43" in str(excinfo.value)
    assert not Bond.objects.exists()
    assert Disbursement.objects.get(pk=request.pk).status == Disbursement.Status.APPROVED
    page = client(people["finance"]).get(reverse("funds:disbursement-detail", args=[request.pk])).content.decode()
    assert 'id="automatic-stay"' in page

    # DHS let its business day pass without Form EOIR-43: recorded as the stay ending, the bond can go.
    casework_services.decision_update(decision=decision, stay_ended_on=today, by=people["attorney"])
    disbursement_pay(disbursement=request, paid_on=today, method="wire", reference="FW", by=people["finance2"])

    bond = Bond.objects.get(disbursement=request)
    assert bond.decision == decision
    assert bond.ordered_cents == 7_500_00


def test_a_bond_where_dhs_cannot_stay_the_order_is_paid_at_once(people, case, bond_fund, post):
    _bond_grant(case, people["attorney"], decided_on=date(2026, 1, 2), dhs_custody="")

    bond = post(7_500_00, paid_on=date(2026, 1, 5))

    assert bond.decision is not None and bond.decision.outcome == "bond_granted"


@pytest.mark.parametrize(("authority", "refused"), [("236c", True), ("241", True), ("236a", False), ("unknown", False)])
def test_the_detention_authority_decides_whether_a_delivery_bond_can_be_paid(
    people, case, bond_fund, authority, refused
):
    type(case).objects.filter(pk=case.pk).update(detention_authority=authority)
    request = _approved_bond_request(people, case, bond_fund, 5_000_00)
    page = client(people["finance"]).get(reverse("funds:disbursement-detail", args=[request.pk])).content.decode()
    assert ('id="detention-authority"' in page) == (authority != "236a")

    if refused:
        with pytest.raises(ValidationError) as excinfo:
            disbursement_pay(
                disbursement=request, paid_on=date(2026, 1, 5), method="wire", reference="W", by=people["finance2"]
            )
        assert "bond_type" in excinfo.value.error_dict
        assert not Bond.objects.exists()
    else:
        disbursement_pay(
            disbursement=request, paid_on=date(2026, 1, 5), method="wire", reference="W", by=people["finance2"]
        )
        assert Bond.objects.filter(disbursement=request).exists()


def test_an_order_of_supervision_bond_after_a_final_order(people, case, bond_fund):
    type(case).objects.filter(pk=case.pk).update(detention_authority="241")
    request = _approved_bond_request(people, case, bond_fund, 5_000_00)

    disbursement_pay(
        disbursement=request,
        paid_on=date(2026, 1, 5),
        method="wire",
        reference="W",
        by=people["finance2"],
        bond_terms=BondTerms(bond_type="order_of_supervision"),
    )

    assert Bond.objects.get(disbursement=request).bond_type == "order_of_supervision"


def test_the_bond_page_names_the_decision_that_set_it_and_the_release_it_bought(people, case, bond_fund, post):
    _bond_grant(case, people["attorney"], decided_on=date(2026, 1, 2), dhs_custody="")
    bond = post(7_500_00, paid_on=date(2026, 1, 5))
    page = client(people["finance"]).get(reverse("funds:bond-detail", args=[bond.pk])).content.decode()
    assert "Bond granted" in page and "Not released on bond yet" in page

    today = timezone.localdate()
    casework_services.custody_record_change(
        case=case, custodian="released", release_basis="bond", facility=None, started_on=today, by=people["attorney"]
    )

    page = client(people["finance"]).get(reverse("funds:bond-detail", args=[bond.pk])).content.decode()
    assert "Released on bond on" in page


def test_the_register_pages_by_keyset_and_sums_every_bond_it_selects(post, people, monkeypatch):
    monkeypatch.setattr(bond_views, "REGISTER_PER_PAGE", 2)
    first, _second, third = (post(150_000 * n, paid_on=date(2026, 1, n)) for n in (1, 2, 3))
    finance = client(people["finance"])

    page = finance.get(reverse("funds:bond-register")).content.decode()
    figures = "3 bonds, $9,000.00 posted, $9,000.00 still owed to the fund."
    assert figures in page  # every bond the filter selects, not the page's two
    assert reverse("funds:bond-detail", args=[first.pk]) in page
    assert reverse("funds:bond-detail", args=[third.pk]) not in page
    older = re.search(r'<a href="\?([^"]+)" rel="next">', page).group(1).replace("&amp;", "&")
    assert "offset" not in older and "page=" not in older

    beyond = finance.get(reverse("funds:bond-register") + "?" + older).content.decode()
    assert reverse("funds:bond-detail", args=[third.pk]) in beyond
    assert reverse("funds:bond-detail", args=[first.pk]) not in beyond
    assert figures in beyond
    assert 'rel="next"' not in beyond and 'rel="prev"' in beyond


def test_the_register_figures_count_old_bonds_and_open_appeals_only(post, people):
    today = timezone.localdate()
    old = post(paid_on=today - timedelta(days=400))
    post(paid_on=today - timedelta(days=30))
    bonds.bond_record_breach(bond=old, served_on=today, service="mail", by=people["finance"])

    figures = bond_views._register_figures(Bond.objects.all(), today=today)

    assert figures == {"count": 2, "total": 300_000, "owed": 300_000, "over_a_year": 1, "appeals_open": 1}
    later = bond_views._register_figures(
        Bond.objects.all(), today=Bond.objects.get(pk=old.pk).appeal_due_on + timedelta(days=1)
    )
    assert later["appeals_open"] == 0
