"""Every funds URL by every persona (``tests/personas.py``) by GET and POST, with the exact status.

Staff pages send anyone signed out (anonymous visitors, donors, who are anonymous to staff
pages, and the inactive user) to sign-in; donor pages send anyone without a donor session to
/donor/; someone signed in who may not use a page gets 404. The gift, receipt and monthly
gift belong to ``donor``; the payment request is for the case ``attorney_on_case`` leads.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from funds.models import Donation, Fund, Payout, PayoutDiscrepancy, RecurringDonation, StripeEvent
from funds.services import bookkeeping
from funds.services.disbursements import disbursement_approve, disbursement_pay, disbursement_request
from tests.factories import UserFactory
from tests.personas import (
    ATTORNEY_ON_CASE,
    DONOR,
    FINANCE,
    OTHER_DONOR,
    PERSONAS,
    SUPERVISOR,
    namespace_url_names,
    public_page,
    staff_page,
)
from tests.personas import outcome as staff_outcome

pytestmark = pytest.mark.django_db

DONOR_DOOR = "donor-door"
DONOR_PAGES = ("/donor/gifts", "/donor/receipts", "/donor/statements", "/donor/recurring")


def donor_page(own: tuple, other: tuple) -> dict:
    return {
        persona: own if persona == DONOR else other if persona == OTHER_DONOR else (DONOR_DOOR, DONOR_DOOR)
        for persona in PERSONAS
    }


MATRIX = {
    "donate": public_page(200, 422),
    "donate-thanks": public_page(200, 405),
    "stripe-webhook": public_page(405, 400),
    "donor-start": {**public_page(200, 422), DONOR: (302, 302), OTHER_DONOR: (302, 302)},
    "donor-code": public_page(302, 302),  # no code requested yet: back to /donor/
    "donor-signout": public_page(302, 302),
    "donor-gifts": donor_page((200, 405), (200, 405)),
    # The method is checked before the gift is looked up: 405 tells nothing about someone else's gift.
    "donor-receipt": donor_page((200, 405), (404, 405)),
    "donor-statement": donor_page((200, 405), (200, 405)),
    # A POST without the page's one-time key is a form not sent whole: 422, nothing cancelled.
    "donor-recurring-cancel": donor_page((200, 422), (404, 404)),
    "finance-home": staff_page({FINANCE}, 200, 405),
    "disbursement-queue": staff_page({FINANCE}, 200, 405),
    "disbursement-detail": staff_page({FINANCE}, 200, 400),
    "disbursement-attachment": staff_page({FINANCE}, 200, 405),
    "bond-register": staff_page({FINANCE}, 200, 405),
    "bond-detail": staff_page({FINANCE}, 200, 400),
    # A search is posted, then shown at a short-lived token (no donor's name in the URL).
    "donation-list": staff_page({FINANCE}, 200, 303),
    "donation-refund": staff_page({FINANCE}, 405, 422),
    "payout-list": staff_page({FINANCE}, 200, 405),
    "dispute-list": staff_page({FINANCE}, 200, 405),
    "webhook-parked": staff_page({FINANCE}, 200, 405),
    # "Retry now" on a parked event, then back to the list (the second click says it is not parked).
    "webhook-event-retry": staff_page({FINANCE}, 405, 302),
    "payout-discrepancies": staff_page({FINANCE}, 200, 405),
    # A POST without the form's one-time key and note is a form not sent whole: 422, nothing resolved.
    "payout-discrepancy-resolve": staff_page({FINANCE}, 405, 422),
    "case-disbursements": staff_page({ATTORNEY_ON_CASE, SUPERVISOR}, 200, 405),
    "disbursement-new": staff_page({ATTORNEY_ON_CASE, SUPERVISOR}, 200, 422),
}


@pytest.fixture
def world(personas, fake_stripe):
    finance = personas.user(FINANCE)
    # Paying needs a second pair of finance hands: nobody both approves and pays.
    finance2 = UserFactory(role=Role.FINANCE)
    case = personas.case
    donor = personas.donors[DONOR]
    bond_fund = Fund.objects.get(slug="bond")
    paid_at = datetime(2026, 3, 1, 15, tzinfo=UTC)
    donation = Donation.objects.create(
        donor=donor,
        fund=bond_fund,
        amount_cents=1_000_000,
        status="paid",
        paid_at=paid_at,
        stripe_checkout_session_id="cs_test_matrix",
        stripe_charge_id="ch_test_matrix",
        receipt_number="R2026-000001",
    )
    bookkeeping.book_donation(donation=donation, fee_cents=0, occurred_at=paid_at)
    # Paid out to the bank the same day: the bond is paid from the bank only.
    bookkeeping.book_payout(
        key="payout:matrix", allocation={bond_fund: 1_000_000}, occurred_at=paid_at, description="payout"
    )
    recurring = RecurringDonation.objects.create(
        donor=donor, fund=bond_fund, amount_cents=2500, status="active", stripe_subscription_id="sub_matrix"
    )
    fake_stripe.objects["sub_matrix"] = {"id": "sub_matrix", "object": "subscription", "status": "active"}
    request = disbursement_request(
        case=case,
        fund=bond_fund,
        purpose="bond",
        amount_cents=500_000,
        payee="DHS/ICE",
        reason="bond",
        by=personas.user(ATTORNEY_ON_CASE),
        attachment=SimpleUploadedFile("notice.pdf", b"%PDF-1.4 notice"),
    )
    disbursement_approve(disbursement=request, by=finance)
    disbursement_pay(disbursement=request, paid_on=paid_at.date(), method="wire", reference="W1", by=finance2)
    parked = StripeEvent.objects.create(
        event_id="evt_matrix", type="invoice.paid", payload={}, attempts=5, parked_at=paid_at, error="EventNotReady"
    )
    difference = PayoutDiscrepancy.objects.create(
        payout=Payout.objects.create(stripe_payout_id="po_matrix", amount_cents=1000, arrival_date=paid_at.date()),
        amount_cents=100,
    )
    ids = {
        "webhook-event-retry": {"args": [parked.pk]},
        "payout-discrepancy-resolve": {"args": [difference.pk]},
        "donate-thanks": {"query": {"session_id": "cs_test_matrix"}},
        "donor-receipt": {"args": [donation.pk]},
        "donor-statement": {"args": [2026]},
        "donor-recurring-cancel": {"args": [recurring.pk]},
        "disbursement-detail": {"args": [request.pk]},
        "disbursement-attachment": {"args": [request.pk]},
        "bond-detail": {"args": [request.bond.pk]},
        "donation-refund": {"args": [donation.pk]},
        "case-disbursements": {"args": [case.number]},
        "disbursement-new": {"args": [case.number]},
    }
    return personas, ids


def outcome(response) -> int | str:
    """As ``tests.personas.outcome``, and ``DONOR_DOOR`` when a donor page sends the visitor to /donor/."""
    if (
        response.status_code == 302
        and response["Location"] == "/donor/"
        and response.request["PATH_INFO"].startswith(DONOR_PAGES)
    ):
        return DONOR_DOOR
    return staff_outcome(response)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_funds_url_permission_matrix(world, name):
    personas, ids = world
    spec = ids.get(name, {})
    url = reverse(f"funds:{name}", args=spec.get("args", []))

    seen = {}
    for persona in PERSONAS:
        client = personas.client(persona)
        seen[persona] = (outcome(client.get(url, spec.get("query", {}))), outcome(client.post(url, {})))

    assert seen == MATRIX[name]


def test_every_funds_url_is_in_the_matrix():
    assert namespace_url_names("funds") == set(MATRIX)
