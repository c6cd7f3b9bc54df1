"""Every funds URL by persona and method, with the exact expected status.

Personas: anonymous, a donor, another donor, the attorney assigned to the case, an
attorney who is not, finance, an auditor, a supervisor. Staff pages send anonymous visitors
(and donors, who are anonymous to staff pages) to sign-in; donor pages send anyone without a
donor session to /donor/; someone signed in who may not use a page gets 404.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from casework import services as casework_services
from casework.models import AssignmentRole
from funds.models import Donation, Donor, Fund, RecurringDonation
from funds.services import bookkeeping
from funds.services.disbursements import disbursement_approve, disbursement_pay, disbursement_request
from funds.services.donor_portal import DONOR_SESSION_KEY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PERSONAS = [
    "anonymous",
    "donor",
    "other_donor",
    "attorney_assigned",
    "attorney_unassigned",
    "finance",
    "auditor",
    "supervisor",
]
STAFF = {"attorney_assigned", "attorney_unassigned", "finance", "auditor", "supervisor"}
NO_STAFF_LOGIN = {"anonymous", "donor", "other_donor"}
EVERYONE = set(PERSONAS)
LOGIN, DONOR_DOOR = "login", "donor-door"


def staff_page(allowed: set[str], get: int, post: int) -> dict:
    return {p: ((get, post) if p in allowed else (404, 404)) if p in STAFF else (LOGIN, LOGIN) for p in PERSONAS}


def donor_page(own: tuple, other: tuple) -> dict:
    return {p: own if p == "donor" else other if p == "other_donor" else (DONOR_DOOR, DONOR_DOOR) for p in PERSONAS}


def public(get: int, post: int) -> dict:
    return dict.fromkeys(PERSONAS, (get, post))


MATRIX = {
    "donate": public(200, 400),
    "donate-thanks": public(200, 405),
    "stripe-webhook": public(405, 400),
    "donor-start": {**public(200, 400), "donor": (302, 302), "other_donor": (302, 302)},
    "donor-code": public(302, 302),  # no code requested yet: back to /donor/
    "donor-signout": public(302, 302),
    "donor-gifts": donor_page((200, 405), (200, 405)),
    # The method is checked before the gift is looked up: 405 tells nothing about someone else's gift.
    "donor-receipt": donor_page((200, 405), (404, 405)),
    "donor-statement": donor_page((200, 405), (200, 405)),
    "donor-recurring-cancel": donor_page((200, 302), (404, 404)),
    "finance-home": staff_page({"finance"}, 200, 405),
    "disbursement-queue": staff_page({"finance"}, 200, 405),
    "disbursement-detail": staff_page({"finance"}, 200, 400),
    "disbursement-attachment": staff_page({"finance"}, 200, 405),
    "bond-register": staff_page({"finance"}, 200, 405),
    "bond-detail": staff_page({"finance"}, 200, 400),
    "donation-list": staff_page({"finance"}, 200, 405),
    "donation-refund": staff_page({"finance"}, 405, 400),
    "payout-list": staff_page({"finance"}, 200, 405),
    "dispute-list": staff_page({"finance"}, 200, 405),
    "case-disbursements": staff_page({"attorney_assigned", "supervisor"}, 200, 405),
    "disbursement-new": staff_page({"attorney_assigned", "supervisor"}, 200, 400),
}


@pytest.fixture
def world(fake_stripe):
    people = {
        "attorney_assigned": UserFactory(role=Role.ATTORNEY),
        "attorney_unassigned": UserFactory(role=Role.ATTORNEY),
        "finance": UserFactory(role=Role.FINANCE),
        "auditor": UserFactory(role=Role.AUDITOR),
        "supervisor": UserFactory(role=Role.SUPERVISOR),
    }
    finance2 = UserFactory(role=Role.FINANCE)
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Rosa", family_names="Ejemplo"), by=UserFactory(role=Role.INTAKE)
    )
    casework_services.case_assign(
        case=case, attorney=people["attorney_assigned"], role=AssignmentRole.LEAD, by=people["supervisor"]
    )
    donor = Donor.objects.create(email="donor@example.org", name="Dana Donor")
    other = Donor.objects.create(email="other@example.org", name="Otto Other")
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
        receipt_number="AMP-2026-000001",
    )
    bookkeeping.book_donation(donation=donation, fee_cents=0, occurred_at=paid_at)
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
        by=people["attorney_assigned"],
        attachment=SimpleUploadedFile("notice.pdf", b"%PDF-1.4 notice"),
    )
    disbursement_approve(disbursement=request, by=people["finance"])
    disbursement_pay(disbursement=request, paid_on=paid_at.date(), method="wire", reference="W1", by=finance2)
    ids = {
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
    return people, {"donor": donor, "other_donor": other}, ids


def client_for_persona(persona: str, people, donors) -> Client:
    client = Client()
    if persona in people:
        client.force_login(people[persona])
    elif persona in donors:
        session = client.session
        session[DONOR_SESSION_KEY] = donors[persona].pk
        session.save()
    return client


def outcome(response) -> int | str:
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    if response.status_code == 302 and response["Location"] == "/donor/" and response.request["PATH_INFO"] != "/donor/":
        return (
            DONOR_DOOR
            if response.request["PATH_INFO"].startswith(
                ("/donor/gifts", "/donor/receipts", "/donor/statements", "/donor/recurring")
            )
            else 302
        )
    return response.status_code


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_funds_url_permission_matrix(world, name):
    people, donors, ids = world
    spec = ids.get(name, {})
    url = reverse(f"funds:{name}", args=spec.get("args", []))
    seen = {}
    for persona in PERSONAS:
        for method in ("GET", "POST"):
            client = client_for_persona(persona, people, donors)
            response = client.get(url, spec.get("query", {})) if method == "GET" else client.post(url, {})
            seen[persona] = (*seen.get(persona, ()), outcome(response))
    assert seen == MATRIX[name]


def test_every_funds_url_is_in_the_matrix():
    from funds.urls import urlpatterns

    assert {p.name for p in urlpatterns} == set(MATRIX)
