"""Demo money for a local run: donations booked as if Stripe had sent them, paid out to the bank
every week, payment requests in every state, and bonds in every part of their life: posted,
refunded with interest, refunded short, a person-obligor's refund passed back, breached with the
appeal window open, and forfeited with the interest to the breach date.

Fictional donors only (``data/donors.csv``). Called by ``seed_demo`` (which refuses to run
without DEBUG).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from io import TextIOBase

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from casework.models import Assignment, AssignmentRole, Decision, DecisionOutcome
from demo.datafiles import csv_rows
from demo.stripe_sandbox import seeded as sandbox_seed
from demo.stripe_sandbox.seeded import SeededCharge, SeededSubscription
from funds.models import Bond, Donation, Donor, Fund, Payout, Purpose, RecurringDonation
from funds.services import bookkeeping, receipts
from funds.services.bonds import BondStory, BondTerms, bond_act_out, bond_story_days
from funds.services.disbursements import (
    disbursement_approve,
    disbursement_pay,
    disbursement_reject,
    disbursement_request,
)

# The bonds paid, in turn: what happens to each after it is posted (``None``: still posted).
BOND_STORIES = [
    BondStory.BREACHED,
    BondStory.REFUNDED_WITH_INTEREST,
    BondStory.PASSED_BACK,
    None,
    BondStory.FORFEITED,
    BondStory.REFUNDED_SHORT,
    BondStory.APPEALED,
]
# Bond requests, in turn: most are paid (stage 3), one of each other stage.
BOND_STAGES = [3, 3, 3, 0, 3, 1, 3, 2, 3, 3]


def _fee(cents: int) -> int:
    return (cents * 29 + 999) // 1000 + 30  # Stripe's 2.9 % + 30 cents, rounded up


def seed_funds(*, stdout: TextIOBase | None = None, seed: int = 7) -> dict:
    """Book the demo money on the demo cases, unless demo donations already exist.

    Needs the demo accounts and casework. Deterministic for a given ``seed`` on a given day; one
    transaction. Returns a summary (counts of donations, payment requests and bonds paid) and
    writes it as one line to ``stdout`` if given.

    Side effects: 60 paid donations from the donors of ``data/donors.csv`` with their ledger
    entries and receipts, a monthly gift with six payments, weekly payouts, the Stripe side
    of those gifts for the sandbox (``var/stripe-sandbox/seeded.json``), and payment requests on active cases taken
    through the disbursement services (requested, rejected, approved, paid; bonds refunded or
    forfeited), with what those services write (ledger entries, access log).
    """
    if Donation.objects.filter(stripe_charge_id__startswith="ch_demo_").exists():
        return {"created": False}
    rng = random.Random(seed)
    donors = [(row["name"], row["email"]) for row in csv_rows("donors")]
    users = get_user_model().objects
    finance = users.get(email="finance@demo.amparo.test")
    admin_finance = users.filter(email="admin@demo.amparo.test").first()
    general, bond_fund = Fund.objects.get(slug="general"), Fund.objects.get(slug="bond")
    today = timezone.localdate()
    seeded_charges: list[SeededCharge] = []
    seeded_subscriptions: list[SeededSubscription] = []
    with transaction.atomic():
        gifts = []
        for i in range(60):
            name, email = donors[i % len(donors)]
            fund = bond_fund if rng.random() < 0.45 else general
            cents = rng.choice([2500, 5000, 10000, 25000, 50000, 100000, 250000])
            covered = _fee(cents) if rng.random() < 0.4 else 0
            when = datetime.combine(today - timedelta(days=rng.randrange(1, 330)), datetime.min.time(), tzinfo=UTC)
            gifts.append((i, name, email, fund, cents, covered, when, rng.random() < 0.15))
        donations = 0
        for i, name, email, fund, cents, covered, when, anonymous in gifts:
            donor, _ = Donor.objects.for_email(email, name=name)
            donation = Donation.objects.create(
                donor=donor,
                fund=fund,
                amount_cents=cents,
                fee_covered_cents=covered,
                anonymous=anonymous,
                status=Donation.Status.PAID,
                stripe_charge_id=f"ch_demo_{i:04d}",
                stripe_fee_cents=_fee(cents + covered),
                paid_at=when,
                created_at=when,
                receipt_number=f"R{when.year}-{900000 + i}",
            )
            bookkeeping.book_donation(donation=donation, fee_cents=donation.stripe_fee_cents, occurred_at=when)
            _receipt_sent(donation)
            seeded_charges.append(SeededCharge(f"ch_demo_{i:04d}", donation.charged_cents, when))
            donations += 1
        donations += _monthly_gift(today, bond_fund, seeded_charges, seeded_subscriptions)
        _weekly_payouts(gifts, today)
        made = _disbursements(rng, finance, admin_finance, general, bond_fund, today)
    # The sandbox learns these gifts' charges and the monthly gift, so that the demo can refund one
    # or cancel it (read when `manage.py stripe_sandbox` starts).
    sandbox_seed.write(sandbox_seed.sandbox_dir(), charges=seeded_charges, subscriptions=seeded_subscriptions)
    summary = {"created": True, "donations": donations, **made}
    if stdout is not None:
        stdout.write(f"Funds: {donations} donations, {made['disbursements']} payment requests, {made['bonds']} bonds.")
    return summary


def _receipt_sent(donation: Donation) -> None:
    """The gift's receipt numbered and recorded as e-mailed a few minutes after it was paid (the
    seed sends no e-mail and stores no PDF: the donor portal renders it when downloaded)."""
    assert donation.paid_at is not None
    donation.receipt_number = donation.receipt_number or receipts.receipt_number_for(donation)
    donation.receipt_sent_at = donation.paid_at + timedelta(minutes=3)
    donation.save(update_fields=["receipt_number", "receipt_sent_at"])


MONTHLY_DONOR = "alex.rivera@example.org"
MONTHLY_PAYMENTS = 6


def _monthly_gift(today, fund: Fund, charges: list[SeededCharge], subscriptions: list[SeededSubscription]) -> int:
    """A monthly gift of $50 started six months ago, with its six payments (each with its receipt).
    Returns the number of payments."""
    donor, _ = Donor.objects.for_email(MONTHLY_DONOR, name="Alex Rivera")
    started = datetime.combine(today - timedelta(days=30 * MONTHLY_PAYMENTS - 3), datetime.min.time(), tzinfo=UTC)
    recurring, _ = RecurringDonation.objects.get_or_create(
        stripe_subscription_id="sub_demo_0001",
        defaults={"donor": donor, "fund": fund, "amount_cents": 5000, "status": "active", "created_at": started},
    )
    subscriptions.append(SeededSubscription("sub_demo_0001", recurring.amount_cents, MONTHLY_DONOR, started))
    for month in range(MONTHLY_PAYMENTS):
        when = started + timedelta(days=30 * month)
        donation = Donation.objects.create(
            donor=donor,
            fund=fund,
            recurring=recurring,
            amount_cents=recurring.amount_cents,
            status=Donation.Status.PAID,
            stripe_charge_id=f"ch_demo_m{month:03d}",
            stripe_invoice_id=f"in_demo_m{month:03d}",
            stripe_fee_cents=_fee(recurring.amount_cents),
            paid_at=when,
            created_at=when,
        )
        bookkeeping.book_donation(donation=donation, fee_cents=donation.stripe_fee_cents, occurred_at=when)
        _receipt_sent(donation)
        charges.append(SeededCharge(f"ch_demo_m{month:03d}", donation.charged_cents, when))
    return MONTHLY_PAYMENTS


def _weekly_payouts(gifts, today) -> None:
    """Stripe pays each week's donations (net of fees) out to the bank a week later, as it would;
    the last week's stay on their way. The latest is ``po_demo_0001``, with its ``Payout`` row."""
    weeks: dict[int, dict[Fund, int]] = {}
    for _i, _name, _email, fund, cents, covered, when, _anonymous in gifts:
        week = (today - when.date()).days // 7
        if week == 0:
            continue  # still on its way
        weeks.setdefault(week, {}).setdefault(fund, 0)
        weeks[week][fund] += cents + covered - _fee(cents + covered)
    for week in sorted(weeks):
        arrival = today - timedelta(days=7 * (week - 1))
        stripe_id = "po_demo_0001" if week == min(weeks) else f"po_demo_w{week:03d}"
        bookkeeping.book_payout(
            key=f"payout:{stripe_id}",
            allocation=weeks[week],
            occurred_at=datetime.combine(arrival, datetime.min.time(), tzinfo=UTC),
            description=f"Stripe payout {stripe_id}",
        )
        Payout.objects.get_or_create(
            stripe_payout_id=stripe_id,
            defaults={"amount_cents": sum(weeks[week].values()), "arrival_date": arrival, "status": "paid"},
        )


def _pay(request, finance, paid_on, story, i) -> bool:
    """Pay ``request`` on ``paid_on`` (a bond with demo I-352 details); False when the bank was short."""
    person = story == BondStory.PASSED_BACK
    terms = (
        BondTerms(
            bond_number=f"DEMO{1000 + i}",
            posting_method="cebonds_ach",
            obligor_kind="person" if person else "fund",
            obligor_name="Marisol Ejemplo" if person else "",  # fictional, like every demo name
            obligor_phone="+1 555 0100" if person else "",
        )
        if request.purpose == Purpose.BOND
        else None
    )
    try:
        disbursement_pay(
            disbursement=request, paid_on=paid_on, method="check", reference=f"{1000 + i}", by=finance, bond_terms=terms
        )
    except ValidationError:
        return False
    return True


def _disbursements(rng, finance, other_finance, general, bond_fund, today) -> dict:
    leads = list(
        Assignment.objects.filter(role=AssignmentRole.LEAD, ended_at__isnull=True, case__status="active")
        .select_related("case", "attorney")
        .order_by("case__number")[:36]
    )
    approver = other_finance or finance
    # Bonds are paid for cases where a judge granted one (the amount the judge set) and ICE may hold
    # the person on bond (INA 236(a)); the other requests go to the leads in turn.
    granted = {
        d.case_id: d
        for d in Decision.objects.filter(
            outcome=DecisionOutcome.BOND_GRANTED, case__status="active", case__detention_authority="236a"
        ).order_by("decided_on")
    }
    bond_leads = list(
        Assignment.objects.filter(role=AssignmentRole.LEAD, ended_at__isnull=True, case_id__in=granted)
        .select_related("case", "attorney")
        .order_by("case__number")
    )
    bond_leads.sort(key=lambda a: granted[a.case_id].bond_cents or 0)  # what the bond fund can pay first
    count = bonds = told = 0
    for i, assignment in enumerate(leads):
        case, lawyer = assignment.case, assignment.attorney
        if i % 3 == 0 and bond_leads:
            assignment = bond_leads.pop(0)
            case, lawyer = assignment.case, assignment.attorney
            fund, purpose, cents, payee = (bond_fund, Purpose.BOND, granted[case.pk].bond_cents or 150000, "DHS/ICE")
        else:
            fund, purpose, cents, payee = (
                general,
                rng.choice([Purpose.FILING_FEE, Purpose.EXPERT, Purpose.INTERPRETER, Purpose.TRAVEL]),
                rng.choice([11000, 25000, 60000, 120000]),
                "Vendor",
            )
        request = disbursement_request(
            case=case, fund=fund, purpose=purpose, amount_cents=cents, payee=payee, reason="Demo request", by=lawyer
        )
        count += 1
        # Bonds are every third request: give them their own cycle of stages.
        stage = BOND_STAGES[(i // 3) % len(BOND_STAGES)] if purpose == "bond" else i % 6
        if stage == 0:
            continue  # waiting for approval
        if stage == 1:
            disbursement_reject(disbursement=request, by=finance, note="Please attach the invoice.")
            continue
        try:
            disbursement_approve(disbursement=request, by=approver)
        except ValidationError:
            continue  # demo data: a fund ran short, so the request stays waiting
        if stage == 2:
            continue  # approved, to be paid
        story = BOND_STORIES[told % len(BOND_STORIES)] if purpose == "bond" else None
        # A story needs its time: a bond posted long enough ago for its last step to have happened.
        # If the bank did not hold the money then, the bond is paid recently and stays posted, and
        # the story waits for the next bond.
        for attempt in [story, None] if story else [None]:
            earliest = bond_story_days(attempt) + 2 if attempt else 20
            paid = _pay(request, finance, today - timedelta(days=rng.randrange(earliest, earliest + 7)), attempt, i)
            if paid:
                break
        else:
            continue  # the bank did not hold the money: approved, to be paid
        if purpose == "bond":
            bonds += 1
            told += attempt == story
            if attempt is not None:
                bond_act_out(bond=Bond.objects.get(disbursement=request), story=attempt, by=finance)
    return {"disbursements": count, "bonds": bonds}
