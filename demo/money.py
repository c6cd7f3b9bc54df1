"""Demo money for a local run: donations booked as if Stripe had sent them, payment requests in
every state, bonds outstanding, refunded and forfeited, and a payout.

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

from casework.models import Assignment, AssignmentRole
from demo.datafiles import csv_rows
from funds.models import Bond, Donation, Donor, Fund, Payout, Purpose, RecurringDonation
from funds.services import bookkeeping
from funds.services.disbursements import (
    bond_record_forfeiture,
    bond_record_refund,
    disbursement_approve,
    disbursement_pay,
    disbursement_reject,
    disbursement_request,
)


def _fee(cents: int) -> int:
    return (cents * 29 + 999) // 1000 + 30  # Stripe's 2.9 % + 30 cents, rounded up


def seed_funds(*, stdout: TextIOBase | None = None, seed: int = 7) -> dict:
    """Book the demo money on the demo cases, unless demo donations already exist.

    Needs the demo accounts and casework. Deterministic for a given ``seed`` on a given day; one
    transaction. Returns a summary (counts of donations, payment requests and bonds paid) and
    writes it as one line to ``stdout`` if given.

    Side effects: 60 paid donations from the donors of ``data/donors.csv`` with their ledger
    entries, a monthly recurring donation, a payout, and payment requests on active cases taken
    through the disbursement services (requested, rejected, approved, paid; bonds refunded or
    forfeited), with what those services write (ledger entries, access log).
    """
    if Donation.objects.filter(donor__email__endswith="@example.org", stripe_charge_id__startswith="ch_demo_").exists():
        return {"created": False}
    rng = random.Random(seed)
    donors = [(row["name"], row["email"]) for row in csv_rows("donors")]
    users = get_user_model().objects
    finance = users.get(email="finance@demo.amparo.test")
    admin_finance = users.filter(email="admin@demo.amparo.test").first()
    general, bond_fund = Fund.objects.get(slug="general"), Fund.objects.get(slug="bond")
    today = timezone.localdate()
    with transaction.atomic():
        donations = 0
        for i in range(60):
            name, email = donors[i % len(donors)]
            donor, _ = Donor.objects.get_or_create(email=email, defaults={"name": name})
            fund = bond_fund if rng.random() < 0.45 else general
            cents = rng.choice([2500, 5000, 10000, 25000, 50000, 100000, 250000])
            covered = _fee(cents) if rng.random() < 0.4 else 0
            when = datetime.combine(today - timedelta(days=rng.randrange(1, 330)), datetime.min.time(), tzinfo=UTC)
            donation = Donation.objects.create(
                donor=donor,
                fund=fund,
                amount_cents=cents,
                fee_covered_cents=covered,
                anonymous=rng.random() < 0.15,
                status=Donation.Status.PAID,
                stripe_charge_id=f"ch_demo_{i:04d}",
                stripe_fee_cents=_fee(cents + covered),
                paid_at=when,
                created_at=when,
                receipt_number=f"R{when.year}-{900000 + i}",
            )
            bookkeeping.book_donation(donation=donation, fee_cents=donation.stripe_fee_cents, occurred_at=when)
            donations += 1
        monthly_donor, _ = Donor.objects.get_or_create(email="alex.rivera@example.org")
        RecurringDonation.objects.get_or_create(
            stripe_subscription_id="sub_demo_0001",
            defaults={"donor": monthly_donor, "fund": bond_fund, "amount_cents": 5000, "status": "active"},
        )
        allocation = bookkeeping.payout_allocation(
            sum(a.balance for a in general.accounts.filter(kind="stripe_clearing"))
            + sum(a.balance for a in bond_fund.accounts.filter(kind="stripe_clearing"))
            - 20000
        )
        if allocation:
            bookkeeping.book_payout(
                key="payout:po_demo_0001",
                allocation=allocation,
                occurred_at=datetime.combine(today - timedelta(days=3), datetime.min.time(), tzinfo=UTC),
                description="Stripe payout po_demo_0001",
            )
            Payout.objects.get_or_create(
                stripe_payout_id="po_demo_0001",
                defaults={
                    "amount_cents": sum(allocation.values()),
                    "arrival_date": today - timedelta(days=3),
                    "status": "paid",
                },
            )
        made = _disbursements(rng, finance, admin_finance, general, bond_fund, today)
    summary = {"created": True, "donations": donations, **made}
    if stdout is not None:
        stdout.write(f"Funds: {donations} donations, {made['disbursements']} payment requests, {made['bonds']} bonds.")
    return summary


def _disbursements(rng, finance, other_finance, general, bond_fund, today) -> dict:
    leads = list(
        Assignment.objects.filter(role=AssignmentRole.LEAD, ended_at__isnull=True, case__status="active")
        .select_related("case", "attorney")
        .order_by("case__number")[:36]
    )
    approver = other_finance or finance
    count = bonds = 0
    for i, assignment in enumerate(leads):
        case, lawyer = assignment.case, assignment.attorney
        if i % 3 == 0:
            fund, purpose, cents, payee = (
                bond_fund,
                Purpose.BOND,
                rng.choice([150000, 200000, 250000, 300000]),
                "DHS/ICE",
            )
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
        stage = (i // 3) % 6 if purpose == "bond" else i % 6
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
        paid_on = today - timedelta(days=rng.randrange(20, 500))
        disbursement_pay(disbursement=request, paid_on=paid_on, method="check", reference=f"{1000 + i}", by=finance)
        if purpose == "bond":
            bonds += 1
            bond = Bond.objects.get(disbursement=request)
            if stage == 4:
                bond_record_refund(
                    bond=bond,
                    refunded_cents=cents,
                    interest_cents=rng.randrange(0, 3000),
                    refunded_on=min(today, paid_on + timedelta(days=200)),
                    by=finance,
                )
            elif stage == 5:
                bond_record_forfeiture(
                    bond=bond,
                    forfeited_on=min(today, paid_on + timedelta(days=150)),
                    by=finance,
                    note="Missed check-in",
                )
    return {"disbursements": count, "bonds": bonds}
