from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from demo.stripe_sandbox.delivery import sign
from demo.stripe_sandbox.fake import stripe_fee
from funds.models import (
    Account,
    AccountKind,
    Dispute,
    Donation,
    Donor,
    Payout,
    RecurringDonation,
    Refund,
    StripeEvent,
    Transaction,
)
from funds.services.checkout import donation_refund
from funds.services.receipts import receipt_number_for
from funds.services.stripe_events import EventNotReady, stripe_event_process
from tests.funds.conftest import OLD_WEBHOOK_SECRET, WEBHOOK_SECRET, assert_ledger_sound, session_of

pytestmark = pytest.mark.django_db


def balances(fund) -> dict[str, int]:
    return {a.kind: a.balance for a in Account.objects.filter(fund=fund) if a.balance}


def post_raw(payload: str, header: str):
    return Client().post(
        "/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def started_gift(give, **fields) -> str:
    """The Checkout Session id of a gift sent to Stripe: no database row exists for it yet."""
    session_id = session_of(give(**fields))
    assert Donation.objects.count() == 0
    return session_id


def gift_of(session_id: str) -> Donation:
    return Donation.objects.get(stripe_checkout_session_id=session_id)


# --- Signatures -----------------------------------------------------------------------------


def test_sign_helper_matches_stripes_own_verification():
    import stripe  # the library's own check, to prove the hand-written helper signs like Stripe

    payload = json.dumps({"id": "evt_1", "object": "event"})

    assert stripe.WebhookSignature.verify_header(payload, sign(payload, WEBHOOK_SECRET), WEBHOOK_SECRET, 300) is True


def test_webhook_bad_signature_is_refused_and_nothing_stored(fake_stripe):
    payload = json.dumps(fake_stripe.event("payout.paid", fake_stripe.create_payout(100)))

    response = post_raw(payload, sign(payload, "whsec_someone_else"))

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_webhook_with_a_body_that_is_not_utf8_is_a_400_not_a_500():
    body = b'{"id": "evt_1", "object": "event", "x": "\xff\xfe"}'

    response = Client().post(
        "/stripe/webhook/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=00"
    )

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_webhook_tampered_body_is_refused(fake_stripe):
    payload = json.dumps(fake_stripe.event("payout.paid", fake_stripe.create_payout(100)))
    header = sign(payload, WEBHOOK_SECRET)

    response = post_raw(payload.replace('"amount": 100', '"amount": 999999'), header)

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_webhook_without_signature_is_refused(fake_stripe):
    payload = json.dumps(fake_stripe.event("payout.paid", fake_stripe.create_payout(100)))

    response = Client().post("/stripe/webhook/", data=payload, content_type="application/json")

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_webhook_stale_timestamp_is_refused(fake_stripe, deliver):
    response = deliver("payout.paid", fake_stripe.create_payout(100), timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_webhook_signed_but_not_an_event_is_refused(fake_stripe):
    payload = json.dumps({"hello": "world"})

    response = post_raw(payload, sign(payload, WEBHOOK_SECRET))

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_webhook_signed_with_the_previous_secret_is_accepted(fake_stripe, deliver):
    response = deliver("customer.created", {"id": "cus_1", "object": "customer"}, secret=OLD_WEBHOOK_SECRET)

    assert response.status_code == 200
    event = StripeEvent.objects.get()
    assert event.type == "customer.created"
    assert event.processed_at is not None  # unknown types are acknowledged and ignored


def test_webhook_redelivery_of_an_unprocessed_event_processes_it(give, fake_stripe, deliver):
    session_id = started_gift(give)
    event = fake_stripe.event("checkout.session.completed", fake_stripe.complete_session(session_id))
    StripeEvent.objects.create(event_id=event["id"], type=event["type"], payload=event)  # stored, never enqueued

    response = deliver(event)

    assert response.status_code == 200
    assert StripeEvent.objects.get().processed_at is not None
    assert Donation.objects.get().status == "paid"
    assert_ledger_sound()


def test_webhook_get_is_not_allowed(client, fake_stripe):
    assert client.get("/stripe/webhook/").status_code == 405


# --- The acknowledgement's cost (issue 12) ----------------------------------------------------


def _statements(captured) -> list[str]:
    """The statements sent, without the test transaction's savepoints."""
    kinds = [query["sql"].split(" ", 1)[0] for query in captured]
    return [kind for kind in kinds if kind not in {"SAVEPOINT", "RELEASE"}]


def test_a_new_event_is_acknowledged_with_two_inserts_and_its_task_sent_after_commit(
    fake_stripe, django_capture_on_commit_callbacks
):
    from django.test.utils import CaptureQueriesContext

    from kernel.models import OutboxMessage

    payload = json.dumps(fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"}))

    with django_capture_on_commit_callbacks(execute=False) as hooks, CaptureQueriesContext(connection) as queries:
        response = post_raw(payload, sign(payload, WEBHOOK_SECRET))

    assert response.status_code == 200
    assert _statements(queries.captured_queries) == ["INSERT", "INSERT"]  # the event, its outbox row
    event = StripeEvent.objects.get()
    assert event.type == "customer.created"
    assert event.payload == json.loads(payload)
    assert event.processed_at is None and event.attempts == 0 and event.error == ""
    assert OutboxMessage.objects.get().task_name == "funds.tasks.process_stripe_event"
    assert len(hooks) == 1  # the send to the broker waits for the commit


def test_a_duplicate_of_a_processed_event_is_acknowledged_and_stored_once_without_a_task(
    fake_stripe, deliver, django_capture_on_commit_callbacks
):
    from kernel.models import OutboxMessage

    event = fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert deliver(event).status_code == 200
    assert StripeEvent.objects.get().processed_at is not None
    sent = OutboxMessage.objects.count()

    with django_capture_on_commit_callbacks(execute=False) as hooks:
        response = post_raw(json.dumps(event), sign(json.dumps(event), WEBHOOK_SECRET))

    assert response.status_code == 200
    assert StripeEvent.objects.count() == 1
    assert OutboxMessage.objects.count() == sent
    assert hooks == []


# --- One-off gifts --------------------------------------------------------------------------


def test_checkout_completed_makes_the_gift_s_rows_and_books_it(give, fake_stripe, deliver, general_fund):
    session_id = started_gift(give, amount_choice="5000", name="Rosa Parks", email="Rosa@Example.org")
    session = fake_stripe.complete_session(session_id)
    charge = fake_stripe.charge_of_session(session["id"])

    response = deliver("checkout.session.completed", session)

    assert response.status_code == 200
    donation = gift_of(session_id)
    assert (donation.donor.email, donation.donor.name) == ("rosa@example.org", "Rosa Parks")
    assert (donation.fund, donation.amount_cents, donation.fee_covered_cents) == (general_fund, 5000, 0)
    assert (donation.anonymous, donation.recurring) == (False, None)
    assert donation.form_nonce == session["metadata"]["form_nonce"]
    fee = stripe_fee(5000)
    assert donation.status == "paid"
    assert donation.stripe_charge_id == charge["id"]
    assert donation.stripe_payment_intent_id == session["payment_intent"]
    assert donation.stripe_fee_cents == fee
    assert donation.paid_at is not None
    assert donation.receipt_number == receipt_number_for(donation)  # the one format
    assert balances(general_fund) == {
        AccountKind.STRIPE_CLEARING: 5000 - fee,
        AccountKind.DONATIONS: -5000,
        AccountKind.PROCESSING_FEES: fee,
    }
    assert StripeEvent.objects.get().processed_at is not None
    assert_ledger_sound()


def test_checkout_completed_delivered_twice_books_once(give, fake_stripe, deliver):
    session_id = started_gift(give)
    event = fake_stripe.event("checkout.session.completed", fake_stripe.complete_session(session_id))

    first = deliver(event)
    second = deliver(event)

    assert first.status_code == second.status_code == 200
    assert StripeEvent.objects.count() == 1
    donation = Donation.objects.get()
    assert donation.status == "paid"
    assert Donor.objects.count() == 1
    assert Transaction.objects.filter(key=f"donation:{donation.pk}").count() == 1
    assert_ledger_sound()


def test_checkout_completed_twice_as_two_events_makes_one_donation_and_books_once(
    give, fake_stripe, deliver, general_fund
):
    session = fake_stripe.complete_session(started_gift(give))

    deliver("checkout.session.completed", session)
    deliver("checkout.session.completed", session)  # Stripe re-sent it under a new event id

    assert StripeEvent.objects.count() == 2
    assert (Donation.objects.count(), Donor.objects.count()) == (1, 1)
    assert balances(general_fund)[AccountKind.DONATIONS] == -5000
    assert_ledger_sound()


def test_checkout_async_payment_waits_then_succeeds_once(give, fake_stripe, deliver, general_fund):
    session = fake_stripe.complete_session(started_gift(give), paid=False)

    deliver("checkout.session.completed", session)
    donation = gift_of(session["id"])  # completed: the rows exist, the money does not yet
    assert donation.status == "pending"
    assert Transaction.objects.count() == 0

    paid = fake_stripe.succeed_async(session["id"])
    deliver("checkout.session.async_payment_succeeded", paid)
    deliver("checkout.session.completed", session)  # a late retry of the first event

    donation.refresh_from_db()
    assert donation.status == "paid"
    assert balances(general_fund)[AccountKind.DONATIONS] == -5000
    assert Transaction.objects.filter(key=f"donation:{donation.pk}").count() == 1
    assert_ledger_sound()


def test_checkout_async_payment_failed_marks_failed(give, fake_stripe, deliver):
    session = fake_stripe.complete_session(started_gift(give), paid=False)

    deliver("checkout.session.completed", session)
    deliver("checkout.session.async_payment_failed", session)

    assert gift_of(session["id"]).status == "failed"
    assert Transaction.objects.count() == 0


def test_an_abandoned_checkout_leaves_no_row_at_all(give, fake_stripe, deliver):
    session_id = started_gift(give)
    fake_stripe.objects[session_id]["status"] = "expired"

    response = deliver("checkout.session.expired", fake_stripe.objects[session_id])

    assert response.status_code == 200
    assert StripeEvent.objects.get().processed_at is not None
    assert (Donation.objects.count(), Donor.objects.count(), RecurringDonation.objects.count()) == (0, 0, 0)
    assert Transaction.objects.count() == 0


def test_a_completed_session_that_is_not_from_our_form_is_ignored(fake_stripe, deliver):
    # Made in the Stripe dashboard, say: no metadata of our donation form.
    foreign = fake_stripe._create_session(
        {"line_items": [{"price_data": {"unit_amount": "900", "currency": "usd"}}], "customer_email": "x@example.org"}
    )

    deliver("checkout.session.completed", fake_stripe.complete_session(foreign["id"]))

    assert StripeEvent.objects.get().processed_at is not None
    assert (Donation.objects.count(), Donor.objects.count()) == (0, 0)


@pytest.mark.parametrize("session_id_stored", [True, False])
def test_a_gift_started_before_rows_waited_for_stripe_is_still_fulfilled_once(
    fake_stripe, deliver, general_fund, session_id_stored
):
    """Pending donations made by the old /give/ (row first, then the session) complete as before."""
    donor = Donor.objects.create(email="early@example.org", name="Early Donor")
    donation = Donation.objects.create(donor=donor, fund=general_fund, amount_cents=5000, form_nonce="n" * 20)
    old_metadata = {"donation_id": str(donation.pk)}
    session = fake_stripe._create_session(
        {
            "line_items": [{"price_data": {"unit_amount": "5000", "currency": "usd"}}],
            "customer_email": donor.email,
            "client_reference_id": str(donation.pk),
            "metadata": old_metadata,
            "payment_intent_data": {"metadata": old_metadata},
        }
    )
    if session_id_stored:
        Donation.objects.filter(pk=donation.pk).update(stripe_checkout_session_id=session["id"])

    deliver("checkout.session.completed", fake_stripe.complete_session(session["id"]))

    donation.refresh_from_db()
    assert (donation.status, donation.stripe_checkout_session_id) == ("paid", session["id"])
    assert (Donation.objects.count(), Donor.objects.count()) == (1, 1)
    assert_ledger_sound()


def test_expired_event_after_payment_changes_nothing(paid_gift, deliver, fake_stripe):
    donation = paid_gift()

    deliver("checkout.session.expired", fake_stripe.objects[donation.stripe_checkout_session_id])

    donation.refresh_from_db()
    assert donation.status == "paid"


def test_thanks_page_after_payment_says_received(client, paid_gift):
    donation = paid_gift()

    page = client.get("/give/thanks/", {"session_id": donation.stripe_checkout_session_id}).content.decode()

    assert "Your payment has been received" in page


def test_a_paid_gift_gets_exactly_one_receipt_with_its_pdf(give, fake_stripe, deliver, settings):
    from django.core import mail

    settings.FUNDS_SEND_RECEIPTS = True
    session = fake_stripe.complete_session(started_gift(give))

    deliver("checkout.session.completed", session)
    deliver("checkout.session.completed", session)
    donation = gift_of(session["id"])

    receipts = [m for m in mail.outbox if m.subject.startswith("[Amparo] Your donation receipt")]
    assert len(receipts) == 1
    assert receipts[0].to == ["rosa@example.org"]
    ((filename, content, mimetype),) = receipts[0].attachments
    assert filename.endswith(".pdf") and mimetype == "application/pdf" and content.startswith(b"%PDF")
    donation.refresh_from_db()
    assert donation.receipt_sent_at is not None and donation.receipt_number


# --- Refunds --------------------------------------------------------------------------------


def test_dashboard_refund_is_booked(paid_gift, fake_stripe, deliver, general_fund):
    donation = paid_gift()
    fake_stripe.refund(donation.stripe_charge_id, 2000)
    charge = fake_stripe.objects[donation.stripe_charge_id]

    deliver("charge.refunded", charge)
    deliver("charge.refunded", charge)

    donation.refresh_from_db()
    assert (donation.status, donation.refunded_cents) == ("paid", 2000)
    assert balances(general_fund)[AccountKind.REFUNDS] == 2000
    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.status, refund.requested_by) == (2000, "succeeded", None)
    assert_ledger_sound()


def test_partial_refunds_out_of_order_add_up(paid_gift, fake_stripe, deliver, general_fund):
    donation = paid_gift()
    fake_stripe.refund(donation.stripe_charge_id, 1000)
    after_first = fake_stripe.event("charge.refunded", fake_stripe.objects[donation.stripe_charge_id])
    fake_stripe.refund(donation.stripe_charge_id, 4000)
    after_second = fake_stripe.event("charge.refunded", fake_stripe.objects[donation.stripe_charge_id])

    deliver(after_second)
    deliver(after_first)

    donation.refresh_from_db()
    assert (donation.status, donation.refunded_cents) == ("refunded", 5000)
    assert balances(general_fund)[AccountKind.REFUNDS] == 5000
    assert Transaction.objects.filter(kind="refund").count() == 2
    assert_ledger_sound()


def test_refund_before_completion_ends_paid_then_refunded(give, fake_stripe, deliver, general_fund):
    session = fake_stripe.complete_session(started_gift(give))
    charge = fake_stripe.charge_of_session(session["id"])
    fake_stripe.refund(charge["id"], 5000)

    # The refund overtook the completion: its charge leads to the session, which makes the rows.
    deliver("charge.refunded", fake_stripe.objects[charge["id"]])
    deliver("checkout.session.completed", session)

    donation = gift_of(session["id"])
    assert Donation.objects.count() == 1
    fee = stripe_fee(5000)
    assert (donation.status, donation.refunded_cents, donation.stripe_charge_id) == ("refunded", 5000, charge["id"])
    assert balances(general_fund) == {
        AccountKind.STRIPE_CLEARING: -fee,
        AccountKind.DONATIONS: -5000,
        AccountKind.PROCESSING_FEES: fee,
        AccountKind.REFUNDS: 5000,
    }
    assert_ledger_sound()


def test_donation_refund_service_refunds_once_and_books_on_the_webhook(
    paid_gift, fake_stripe, deliver, make_user, general_fund
):
    donation = paid_gift()
    finance = make_user()

    refund = donation_refund(donation=donation, amount_cents=1500, reason="Donor asked", by=finance)

    (call,) = fake_stripe.calls("POST", "/v1/refunds")
    assert call.idempotency_key == f"refund:{refund.pk}"
    assert call.params["charge"] == donation.stripe_charge_id
    assert call.params["amount"] == "1500"
    assert refund.stripe_refund_id.startswith("re_")
    assert refund.requested_by == finance
    assert AccountKind.REFUNDS not in balances(general_fund)  # booked when Stripe tells us

    deliver("charge.refunded", fake_stripe.objects[donation.stripe_charge_id])

    donation.refresh_from_db()
    assert donation.refunded_cents == 1500
    assert balances(general_fund)[AccountKind.REFUNDS] == 1500
    assert Refund.objects.get().status == "succeeded"  # no second row for the same Stripe refund
    assert_ledger_sound()


def test_donation_refund_more_than_was_paid_is_refused(paid_gift, fake_stripe, make_user):
    from django.core.exceptions import ValidationError

    donation = paid_gift()

    with pytest.raises(ValidationError):
        donation_refund(donation=donation, amount_cents=5001, reason="", by=make_user())

    assert Refund.objects.count() == 0
    assert fake_stripe.calls("POST", "/v1/refunds") == []


# --- Monthly gifts --------------------------------------------------------------------------


@pytest.fixture
def monthly(give, fake_stripe, deliver, bond_fund):
    """A monthly gift of $25 to the bond fund, through Checkout (first invoice included)."""
    session = fake_stripe.complete_session(
        started_gift(give, frequency="monthly", amount_choice="2500", fund=str(bond_fund.pk))
    )
    return None, session


def test_monthly_first_invoice_activates_and_books(monthly, fake_stripe, deliver, bond_fund):
    _nothing, session = monthly

    deliver("checkout.session.completed", session)
    deliver("invoice.paid", fake_stripe.objects[session["invoice"]])

    recurring = RecurringDonation.objects.get()
    donation = gift_of(session["id"])
    assert (recurring.amount_cents, recurring.fund, recurring.cover_fee) == (2500, bond_fund, False)
    assert recurring.status == "active"
    assert recurring.stripe_subscription_id == session["subscription"]
    assert (donation.status, donation.recurring, donation.stripe_invoice_id) == ("paid", recurring, session["invoice"])
    assert recurring.donor.stripe_customer_id == session["customer"]
    assert balances(bond_fund)[AccountKind.DONATIONS] == -2500
    assert_ledger_sound()


def test_monthly_invoice_before_checkout_completed_is_matched(monthly, fake_stripe, deliver):
    _donation, session = monthly

    deliver("invoice.paid", fake_stripe.objects[session["invoice"]])
    deliver("checkout.session.completed", session)

    assert Donation.objects.get().status == "paid"
    assert RecurringDonation.objects.get().stripe_subscription_id == session["subscription"]
    assert_ledger_sound()


def test_monthly_two_months_make_two_donations(monthly, fake_stripe, deliver, bond_fund):
    _donation, session = monthly
    deliver("checkout.session.completed", session)
    deliver("invoice.paid", fake_stripe.objects[session["invoice"]])

    second = fake_stripe.pay_invoice(session["subscription"])
    deliver("invoice.paid", second)
    deliver("invoice.paid", second)

    payments = Donation.objects.filter(recurring__isnull=False).order_by("pk")
    assert [(d.status, d.amount_cents) for d in payments] == [("paid", 2500), ("paid", 2500)]
    assert payments[1].stripe_invoice_id == second["id"]
    assert payments[1].receipt_number != payments[0].receipt_number
    assert balances(bond_fund)[AccountKind.DONATIONS] == -5000
    assert Transaction.objects.filter(kind="donation").count() == 2
    assert_ledger_sound()


def test_monthly_payment_failed_then_cancelled(monthly, fake_stripe, deliver):
    _donation, session = monthly
    deliver("checkout.session.completed", session)
    deliver("invoice.paid", fake_stripe.objects[session["invoice"]])

    deliver("invoice.payment_failed", fake_stripe.fail_invoice(session["subscription"]))
    assert RecurringDonation.objects.get().status == "past_due"

    deliver("customer.subscription.deleted", fake_stripe.cancel_subscription(session["subscription"]))
    recurring = RecurringDonation.objects.get()
    assert recurring.status == "cancelled"
    assert recurring.cancelled_at is not None

    deliver("invoice.paid", fake_stripe.pay_invoice(session["subscription"]))  # a straggler
    assert RecurringDonation.objects.get().status == "cancelled"
    assert_ledger_sound()


def test_monthly_invoice_for_unknown_subscription_waits_and_records_the_error(fake_stripe, general_fund):
    subscription = fake_stripe._new("sub", "subscription", customer="cus_x", metadata={}, amount=1000, status="active")
    invoice = fake_stripe.pay_invoice(subscription["id"])
    event = StripeEvent.objects.create(
        event_id="evt_early", type="invoice.paid", payload=fake_stripe.event("invoice.paid", invoice)
    )

    with pytest.raises(EventNotReady):
        stripe_event_process(stripe_event_id=event.pk)

    event.refresh_from_db()
    assert event.processed_at is None
    assert event.attempts == 1
    assert "no monthly gift for subscription" in event.error


# --- Disputes -------------------------------------------------------------------------------


def test_dispute_created_then_lost(paid_gift, fake_stripe, deliver, general_fund):
    donation = paid_gift()
    dispute = fake_stripe.open_dispute(donation.stripe_charge_id, fee=1500)
    clearing_before = balances(general_fund)[AccountKind.STRIPE_CLEARING]

    deliver("charge.dispute.created", dispute)
    assert Donation.objects.get().status == "disputed"
    deliver("charge.dispute.closed", fake_stripe.close_dispute(dispute["id"], won=False))

    donation.refresh_from_db()
    assert donation.status == "lost"
    row = Dispute.objects.get()
    assert (row.amount_cents, row.fee_cents, row.status, row.donation) == (5000, 1500, "lost", donation)
    assert row.closed_at is not None
    assert balances(general_fund)[AccountKind.STRIPE_CLEARING] == clearing_before - 5000 - 1500
    assert balances(general_fund)[AccountKind.DISPUTES] == 6500
    assert_ledger_sound()


def test_dispute_won_returns_the_amount(paid_gift, fake_stripe, deliver, general_fund):
    donation = paid_gift()
    dispute = fake_stripe.open_dispute(donation.stripe_charge_id, fee=1500)
    clearing_before = balances(general_fund)[AccountKind.STRIPE_CLEARING]

    deliver("charge.dispute.created", dispute)
    deliver("charge.dispute.closed", fake_stripe.close_dispute(dispute["id"], won=True))

    assert Donation.objects.get().status == "paid"
    assert balances(general_fund)[AccountKind.STRIPE_CLEARING] == clearing_before - 1500
    assert balances(general_fund)[AccountKind.DISPUTES] == 1500
    assert_ledger_sound()


def test_dispute_closed_before_created_ends_right(paid_gift, fake_stripe, deliver, general_fund):
    donation = paid_gift()
    opened = fake_stripe.open_dispute(donation.stripe_charge_id, fee=1500)
    closed = fake_stripe.close_dispute(opened["id"], won=True)

    deliver("charge.dispute.closed", closed)
    deliver("charge.dispute.created", opened)

    assert Donation.objects.get().status == "paid"
    assert balances(general_fund)[AccountKind.DISPUTES] == 1500
    assert_ledger_sound()


# --- Payouts --------------------------------------------------------------------------------


def test_payout_moves_clearing_to_bank_across_funds(paid_gift, fake_stripe, deliver, general_fund, bond_fund):
    paid_gift(amount_choice="10000")
    paid_gift(amount_choice="2500", fund=str(bond_fund.pk))
    held = {f: balances(f)[AccountKind.STRIPE_CLEARING] for f in (general_fund, bond_fund)}
    payout = fake_stripe.create_payout(sum(held.values()) - 100)

    deliver("payout.paid", payout)
    deliver("payout.paid", payout)

    row = Payout.objects.get()
    assert (row.stripe_payout_id, row.amount_cents, row.status) == (payout["id"], payout["amount"], "paid")
    bank = {f: balances(f).get(AccountKind.BANK, 0) for f in (general_fund, bond_fund)}
    assert sum(bank.values()) == payout["amount"]
    assert all(bank[f] > 0 for f in bank)
    for fund in (general_fund, bond_fund):
        assert balances(fund)[AccountKind.STRIPE_CLEARING] == held[fund] - bank[fund]
    assert Transaction.objects.filter(kind="payout").count() == 1
    assert_ledger_sound()


# --- Concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_identical_deliveries_at_once_make_one_event_one_booking(give, fake_stripe, general_fund):
    session = fake_stripe.complete_session(started_gift(give))
    payload = json.dumps(fake_stripe.event("checkout.session.completed", session))
    header = sign(payload, WEBHOOK_SECRET)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send():
        try:
            barrier.wait()
            statuses.append(post_raw(payload, header).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200, 200]
    assert StripeEvent.objects.count() == 1
    assert StripeEvent.objects.get().processed_at is not None
    donation = Donation.objects.get()
    assert donation.status == "paid"
    assert Transaction.objects.filter(key=f"donation:{donation.pk}").count() == 1
    assert_ledger_sound()


def test_events_left_unprocessed_are_picked_up_again_by_the_sweep(
    paid_gift, fake_stripe, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from funds.models import StripeEvent
    from funds.tasks import requeue_stale_stripe_events

    donation = paid_gift()
    fake_stripe.refund(donation.stripe_charge_id, 1500)
    event = fake_stripe.event("charge.refunded", fake_stripe.objects[donation.stripe_charge_id])
    # Stored by the webhook, but its processing task was lost (e.g. a worker killed mid-run).
    lost = StripeEvent.objects.create(event_id=event["id"], type=event["type"], payload=event)
    StripeEvent.objects.filter(pk=lost.pk).update(received_at=timezone.now() - timedelta(hours=1))
    fresh = StripeEvent.objects.create(event_id="evt_fresh", type="customer.created", payload={"data": {"object": {}}})

    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale_stripe_events() == 1

    lost.refresh_from_db()
    fresh.refresh_from_db()
    donation.refresh_from_db()
    assert lost.processed_at is not None
    assert fresh.processed_at is None  # too recent: its own task may still be on its way
    assert donation.refunded_cents == 1500
    assert_ledger_sound()
