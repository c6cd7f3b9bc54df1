"""A Stripe event that cannot be applied is tried 5 times with backoff, then parked for finance.

Before, an event naming a charge we do not know was retried for ever (the task's retries, then
the 15-minute sweep, again and again). Now: 5 attempts (30 s, 1, 2 and 4 minutes apart on a
worker), then the event is *parked*; the sweep leaves it alone; finance sees it on "Parked Stripe
events" (type, Stripe's ids, attempts, error: no donor data) and retries it with one button,
which the access log records.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.roles import Role
from funds.models import Donation, StripeEvent
from funds.services.stripe_events import MAX_ATTEMPTS
from funds.tasks import process_stripe_event, requeue_stale_stripe_events
from tests.factories import UserFactory
from tests.forms import once
from tests.funds.conftest import session_of

pytestmark = pytest.mark.django_db

PAGE = "/finance/stripe-events/parked/"


def _foreign_charge(fake_stripe) -> dict:
    """A charge made outside our donation form (no metadata of ours), refunded in the dashboard."""
    _intent, charge = fake_stripe._payment(4200, metadata={})
    charge["billing_details"] = {"name": "Maria Lopez Example", "email": "maria.lopez@example.org"}
    fake_stripe.refund(charge["id"], 4200)
    return fake_stripe.objects[charge["id"]]


@pytest.fixture
def parked(fake_stripe, deliver) -> StripeEvent:
    charge = _foreign_charge(fake_stripe)
    assert deliver("charge.refunded", charge).status_code == 200
    return StripeEvent.objects.get()


@pytest.fixture
def finance_client(db) -> Client:
    client = Client()
    client.user = UserFactory(role=Role.FINANCE)
    client.force_login(client.user)
    return client


def test_an_event_for_an_unknown_charge_is_parked_after_five_attempts(fake_stripe, parked):
    charge_id = parked.payload["data"]["object"]["id"]

    assert parked.attempts == MAX_ATTEMPTS == 5
    assert parked.parked_at is not None
    assert parked.processed_at is None
    assert parked.error == f"EventNotReady: no donation for charge {charge_id} yet"
    assert len(fake_stripe.calls("GET", f"/v1/charges/{charge_id}")) == 5  # and not one more


def test_a_parked_event_is_no_longer_run_nor_swept_up(fake_stripe, parked, django_capture_on_commit_callbacks):
    StripeEvent.objects.filter(pk=parked.pk).update(received_at=timezone.now() - timedelta(hours=2))
    charge_id = parked.payload["data"]["object"]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        swept = requeue_stale_stripe_events()
    process_stripe_event(stripe_event_id=parked.pk)  # a task queued before it was parked

    parked.refresh_from_db()
    assert swept == 0
    assert parked.attempts == 5
    assert len(fake_stripe.calls("GET", f"/v1/charges/{charge_id}")) == 5


def test_an_error_that_could_quote_personal_data_is_shown_by_its_kind_only(fake_stripe, deliver, monkeypatch):
    from funds.services import stripe_events

    def broken(obj, facts):
        raise ValueError("duplicate key (email)=(maria.lopez@example.org)")

    monkeypatch.setitem(stripe_events._HANDLERS, "payout.paid", stripe_events._Handler(apply=broken))

    deliver("payout.paid", fake_stripe.create_payout(100))

    event = StripeEvent.objects.get()
    assert event.parked_at is not None
    assert event.error == "ValueError (the details are in the worker's log)"


def test_finance_sees_parked_events_without_personal_data(finance_client, parked):
    page = finance_client.get(PAGE).content.decode()

    assert "charge.refunded" in page
    assert parked.event_id in page
    assert parked.payload["data"]["object"]["id"] in page  # in the error: Stripe's id of the charge
    assert '<td class="num">5</td>' in page
    assert "Retry now" in page
    assert "Maria" not in page
    assert "maria.lopez@example.org" not in page


def test_the_menu_shows_finance_the_parked_events(finance_client):
    page = finance_client.get("/finance/").content.decode()

    assert f'href="{PAGE}"' in page


def test_retry_now_applies_an_event_parked_while_stripe_was_unreachable(
    finance_client, give, fake_stripe, deliver, settings, django_capture_on_commit_callbacks
):
    session = fake_stripe.complete_session(session_of(give()))
    settings.STRIPE_SECRET_KEY = "rk_live_wrong_kind_of_key"  # Stripe refuses us: every attempt fails
    deliver("checkout.session.completed", session)
    event = StripeEvent.objects.get()
    assert (event.attempts, event.parked_at is not None, Donation.objects.count()) == (5, True, 0)
    assert event.error.startswith("GatewayError: ")
    settings.STRIPE_SECRET_KEY = "sk_test_amparo_fake_key"  # back

    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(f"/finance/stripe-events/{event.pk}/retry/", once(), REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 302
    assert response["Location"] == PAGE
    event.refresh_from_db()
    assert event.processed_at is not None
    assert event.parked_at is None
    assert Donation.objects.get().status == "paid"
    log = AccessEvent.objects.get(object_type="stripe_event")
    assert (log.user, log.action, log.object_ref, log.ip_address) == (
        finance_client.user,
        AccessEvent.Action.CHANGE,
        event.event_id,
        "10.1.2.3",
    )
    assert log.detail == "retry of parked checkout.session.completed after 5 attempts"
    assert "No parked events" in finance_client.get(PAGE).content.decode()


def test_retry_now_of_an_event_that_still_fails_parks_it_again(finance_client, parked, like_a_worker):
    with like_a_worker():
        finance_client.post(f"/finance/stripe-events/{parked.pk}/retry/", once())

    parked.refresh_from_db()
    assert (parked.attempts, parked.parked_at is not None, parked.processed_at) == (5, True, None)


def test_retry_now_of_an_event_that_is_not_parked_changes_nothing(finance_client, fake_stripe, deliver):
    deliver("customer.created", {"id": "cus_1", "object": "customer"})
    event = StripeEvent.objects.get()

    response = finance_client.post(f"/finance/stripe-events/{event.pk}/retry/", once(), follow=True)

    assert "This event is no longer parked" in response.content.decode()
    assert not AccessEvent.objects.filter(object_type="stripe_event").exists()


def test_the_parked_list_costs_the_same_queries_for_one_or_three_events(finance_client, django_assert_num_queries, db):
    def park(n: int) -> None:
        StripeEvent.objects.bulk_create(
            StripeEvent(event_id=f"evt_{n}_{i}", type="invoice.paid", payload={}, attempts=5, parked_at=timezone.now())
            for i in range(n)
        )

    finance_client.get(PAGE)  # the session and the menu's first reads
    park(1)
    with django_assert_num_queries(_queries(finance_client)) as one:
        finance_client.get(PAGE)
    park(2)
    with django_assert_num_queries(len(one.captured_queries)):
        finance_client.get(PAGE)


def _queries(client: Client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(PAGE)
    return len(captured.captured_queries)
