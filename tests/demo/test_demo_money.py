"""The demo money ``seed_demo`` books on the demo cases: made through the funds services, once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.db.models import Count, Sum

from casework.models import Assignment, AssignmentRole, CaseStatus
from demo.accounts import DEMO_ACCOUNTS, demo_account_save
from demo.cases import seed_casework
from demo.datafiles import csv_rows
from demo.money import seed_funds
from demo.stripe_sandbox import seeded
from funds.models import Bond, Disbursement, Donation, Donor, Payout, Posting, RecurringDonation, Transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_cases(db, settings, tmp_path) -> dict:
    settings.VAR_DIR = tmp_path  # where the seed leaves the sandbox its file
    for email, name, role in DEMO_ACCOUNTS:
        demo_account_save(email=email, full_name=name, role=role)
    return seed_casework(count=40)


def test_demo_money_is_booked_through_the_ledger_and_every_payment_stage_is_shown(demo_cases):
    out = StringIO()

    made = seed_funds(stdout=out)

    active_leads = Assignment.objects.filter(
        role=AssignmentRole.LEAD, ended_at__isnull=True, case__status=CaseStatus.ACTIVE
    ).count()
    assert made == {"created": True, "donations": 66, "disbursements": active_leads, "bonds": Bond.objects.count()}
    assert out.getvalue() == f"Funds: 66 donations, {active_leads} payment requests, {made['bonds']} bonds."

    donations = Donation.objects.all()
    assert donations.count() == donations.filter(status=Donation.Status.PAID).count() == 66
    # Every gift has its receipt, as if e-mailed minutes after it was paid: none "being prepared".
    assert not donations.filter(receipt_number__isnull=True).exists()
    assert not donations.filter(receipt_sent_at__isnull=True).exists()
    assert len(set(donations.values_list("receipt_number", flat=True))) == 66
    assert all(charge.startswith("ch_demo_") for charge in donations.values_list("stripe_charge_id", flat=True))
    donors = {(row["name"], row["email"]) for row in csv_rows("donors")}
    assert set(Donor.objects.values_list("name", "email")) == donors
    assert all(email.endswith("@example.org") for _name, email in donors)  # fictional addresses only
    monthly = RecurringDonation.objects.get(stripe_subscription_id="sub_demo_0001")
    assert (monthly.status, monthly.donor.email) == ("active", "alex.rivera@example.org")
    assert monthly.payments.filter(status=Donation.Status.PAID).count() == 6
    # The sandbox learns the Stripe side of each gift (so that the demo can refund or cancel them).
    stripe_side = {obj["id"]: obj for obj in seeded.read(seeded.sandbox_dir())}
    assert set(donations.values_list("stripe_charge_id", flat=True)) <= set(stripe_side)
    assert stripe_side["sub_demo_0001"]["status"] == "active"
    assert Payout.objects.filter(stripe_payout_id="po_demo_0001").exists()

    # Booked double-entry, as the webhook path books real donations: each donation and its fee.
    assert Transaction.objects.filter(kind="donation").count() == Transaction.objects.filter(kind="fee").count() == 66
    unbalanced = Posting.objects.values("transaction").annotate(total=Sum("amount")).exclude(total=0)
    assert not unbalanced.exists()

    stages = dict(Disbursement.objects.values_list("status").annotate(n=Count("id")))
    assert set(stages) >= {"requested", "rejected", "approved", "paid"}
    assert sum(stages.values()) == active_leads
    bonds = Bond.objects.select_related("disbursement")
    assert bonds.exists()
    assert all(b.disbursement.status == Disbursement.Status.PAID and b.disbursement.purpose == "bond" for b in bonds)


def test_demo_money_is_made_once(demo_cases):
    seed_funds()
    before = (Donation.objects.count(), Disbursement.objects.count(), Transaction.objects.count())

    again = seed_funds()

    assert again == {"created": False}
    assert (Donation.objects.count(), Disbursement.objects.count(), Transaction.objects.count()) == before
