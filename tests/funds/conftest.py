from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from accounts.roles import Role
from casework import services as casework_services
from casework.models import AssignmentRole
from funds.models import Donation, Fund
from funds.selectors import ledger_mismatches, unbalanced_transactions
from tests.factories import UserFactory
from tests.funds.fakestripe import FakeStripe, sign

WEBHOOK_SECRET = "whsec_test_current_0123456789abcdef"
OLD_WEBHOOK_SECRET = "whsec_test_previous_0123456789abcdef"


@pytest.fixture
def fake_stripe(settings):
    """The fake Stripe API, with the gateway pointed at it."""
    fake = FakeStripe().start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = "sk_test_amparo_fake_key"
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET, OLD_WEBHOOK_SECRET]
    settings.FUNDS_SEND_RECEIPTS = False
    yield fake
    fake.stop()


@pytest.fixture
def general_fund(db) -> Fund:
    return Fund.objects.update_or_create(
        slug="general",
        defaults={"name": "General fund", "active": True, "accepts_donations": True, "sort_order": 1},
    )[0]


@pytest.fixture
def bond_fund(db) -> Fund:
    return Fund.objects.update_or_create(
        slug="bond",
        defaults={
            "name": "Bond fund",
            "restricted": True,
            "allowed_purposes": "bond",
            "active": True,
            "accepts_donations": True,
            "sort_order": 2,
        },
    )[0]


def nonce_of(response) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', response.content.decode())[1]


@pytest.fixture
def give(client, fake_stripe, general_fund):
    """Fill in and send the donation form as a browser would (GET for the nonce, then POST)."""

    def give(*, nonce: str | None = None, **fields):
        data = {
            "amount_choice": "5000",
            "custom_amount": "",
            "frequency": "once",
            "fund": str(general_fund.pk),
            "name": "Rosa Parks",
            "email": "rosa@example.org",
            "nonce": nonce or nonce_of(client.get("/give/")),
            **fields,
        }
        data = {k: v for k, v in data.items() if v is not None}
        return client.post("/give/", data)

    return give


@pytest.fixture
def deliver(fake_stripe, django_capture_on_commit_callbacks):
    """Send a signed webhook for ``(event_type, obj)`` (or a prepared event) and run what it enqueues."""
    webhook_client = Client()

    def deliver(event_type: str | dict, obj: dict | None = None, *, secret: str = WEBHOOK_SECRET, timestamp=None):
        event = event_type if isinstance(event_type, dict) else fake_stripe.event(event_type, obj)
        payload = json.dumps(event)
        with django_capture_on_commit_callbacks(execute=True):
            return webhook_client.post(
                "/stripe/webhook/",
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(payload, secret, timestamp),
            )

    return deliver


@pytest.fixture
def paid_gift(give, fake_stripe, deliver):
    """A one-off gift paid by card and confirmed by the webhook."""

    def paid_gift(**fields) -> Donation:
        response = give(**fields)
        assert response.status_code == 303
        donation = Donation.objects.get(stripe_checkout_session_id=response.url.rsplit("/", 1)[1])
        session = fake_stripe.complete_session(donation.stripe_checkout_session_id)
        assert deliver("checkout.session.completed", session).status_code == 200
        donation.refresh_from_db()
        return donation

    return paid_gift


def assert_ledger_sound() -> None:
    assert unbalanced_transactions() == []
    assert ledger_mismatches() == []


@pytest.fixture
def people(db):
    """Staff of every role the funds tests need, two in finance (four eyes)."""
    return {
        "intake": UserFactory(role=Role.INTAKE),
        "supervisor": UserFactory(role=Role.SUPERVISOR),
        "attorney": UserFactory(role=Role.ATTORNEY),
        "other_attorney": UserFactory(role=Role.ATTORNEY),
        "finance": UserFactory(role=Role.FINANCE),
        "finance2": UserFactory(role=Role.FINANCE),
        "auditor": UserFactory(role=Role.AUDITOR),
    }


@pytest.fixture
def case(people):
    """A case with ``people["attorney"]`` as its lead."""
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Rosa", family_names="Ejemplo"), by=people["intake"]
    )
    casework_services.case_assign(
        case=case, attorney=people["attorney"], role=AssignmentRole.LEAD, by=people["supervisor"]
    )
    return case
