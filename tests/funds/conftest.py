from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from celery.exceptions import Retry
from django.db import connection
from django.test import Client

from accounts.roles import Role
from casework import services as casework_services
from casework.models import AssignmentRole
from demo.stripe_sandbox.delivery import sign
from demo.stripe_sandbox.fake import FakeStripe
from funds.models import Disbursement, Donation, Donor, Fund
from funds.selectors import ledger_mismatches, unbalanced_transactions
from funds.services import bookkeeping
from funds.services.disbursements import disbursement_approve, disbursement_request
from tests.factories import UserFactory

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


def session_of(response) -> str:
    """The Checkout Session id of the payment page the donation form sent the donor to."""
    assert response.status_code == 303, response.status_code
    return response.url.rsplit("/", 1)[1]


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
def like_a_worker(django_capture_on_commit_callbacks):
    """``with like_a_worker(): ...`` runs what the block queues after commit as a Celery worker
    would: a task that asks to be retried runs again (without the wait) until it stops asking or
    runs out of retries, and what each run queues runs too. (Eager Celery only raises ``Retry``.)"""

    @contextlib.contextmanager
    def run():
        with django_capture_on_commit_callbacks(execute=False) as queued:
            yield
        pending = list(queued)
        while pending:
            callback = pending.pop(0)
            with django_capture_on_commit_callbacks(execute=False) as nested:
                try:
                    callback()
                except Retry as retry:
                    _retry_until_done(retry)
            pending.extend(nested)

    return run


def _retry_until_done(retry: Retry) -> None:
    while retry is not None:
        try:
            retry.sig.apply(throw=True)
        except Retry as again:
            retry = again
        else:
            retry = None


@pytest.fixture
def deliver(fake_stripe, like_a_worker):
    """Send a signed webhook for ``(event_type, obj)`` (or a prepared event) and run what it enqueues."""
    webhook_client = Client()

    def deliver(event_type: str | dict, obj: dict | None = None, *, secret: str = WEBHOOK_SECRET, timestamp=None):
        event = event_type if isinstance(event_type, dict) else fake_stripe.event(event_type, obj)
        payload = json.dumps(event)
        with like_a_worker():
            response = webhook_client.post(
                "/stripe/webhook/",
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(payload, secret, timestamp),
            )
        return response

    return deliver


@pytest.fixture
def paid_gift(give, fake_stripe, deliver):
    """A one-off gift paid by card and confirmed by the webhook."""

    def paid_gift(**fields) -> Donation:
        session = fake_stripe.complete_session(session_of(give(**fields)))
        assert deliver("checkout.session.completed", session).status_code == 200
        return Donation.objects.get(stripe_checkout_session_id=session["id"])

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
        data=casework_services.IntakeData(given_names="Rosa", family_names="Echeverría"), by=people["intake"]
    )
    casework_services.case_assign(
        case=case, attorney=people["attorney"], role=AssignmentRole.LEAD, by=people["supervisor"]
    )
    return case


# --- Money in, payments out, as the services book them ------------------------------------------

NEW_YEAR_2025 = datetime(2025, 1, 1, tzinfo=UTC)


def donate(slug: str, cents: int, *, to_bank: bool = True, on: datetime = NEW_YEAR_2025) -> Donation:
    """A gift booked as the webhook books it; by default Stripe has paid it out to the bank too."""
    donor, _ = Donor.objects.for_email("giver@example.org")
    fund = Fund.objects.get(slug=slug)
    donation = Donation.objects.create(donor=donor, fund=fund, amount_cents=cents, status="paid")
    bookkeeping.book_donation(donation=donation, fee_cents=0, occurred_at=on)
    if to_bank:
        bookkeeping.book_payout(
            key=f"payout:{donation.pk}", allocation={fund: cents}, occurred_at=on, description="payout"
        )
    return donation


def requested(
    people,
    case,
    *,
    cents: int,
    slug: str = "general",
    purpose: str = "expert",
    payee: str = "Payee",
    reason: str = "r",
    by: str = "attorney",
    **more,
) -> Disbursement:
    """A payment request for ``case`` from the fund ``slug``, made by ``people[by]`` through the service."""
    return disbursement_request(
        case=case,
        fund=Fund.objects.get(slug=slug),
        purpose=purpose,
        amount_cents=cents,
        payee=payee,
        reason=reason,
        by=people[by],
        **more,
    )


def approved(people, case, **request) -> Disbursement:
    """``requested(people, case, **request)``, approved by ``people["finance"]``."""
    return disbursement_approve(disbursement=requested(people, case, **request), by=people["finance"])


def posted_at_once(browser: Callable[[], Client], url: str, form: dict, times: int = 2) -> list:
    """The responses to ``form`` POSTed to ``url`` ``times`` times at the same moment, each from a
    fresh ``browser()`` in a thread of its own (its own PostgreSQL connection), as they finished."""
    start = threading.Barrier(times)
    responses: list = []

    def send() -> None:
        sender = browser()
        try:
            start.wait()
            responses.append(sender.post(url, form))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return responses
