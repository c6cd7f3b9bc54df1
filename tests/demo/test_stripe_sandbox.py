"""The demo's Stripe sandbox: a donor gives through its hosted page with a test card, and Amparo
hears of it by signed webhooks over HTTP, as it would from Stripe.

The sandbox runs as a real HTTP server; Amparo runs as ``live_server`` (its webhook endpoint) and
is called by the real ``stripe`` client; tasks run eagerly in the web thread, as the tests' other
funds tests do. ``test_stripe_sandbox_demo.py`` runs the same journey on the demo's own stack.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

import pytest
import requests
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from demo.stripe_sandbox import pages, seeded
from demo.stripe_sandbox.fake import FakeStripe
from demo.stripe_sandbox.sandbox import sandbox as make_sandbox
from funds.models import Donation, RecurringDonation, StripeEvent
from tests.forms import once
from tests.funds.conftest import WEBHOOK_SECRET, nonce_of

pytestmark = pytest.mark.django_db(transaction=True)

DECLINED = "4000 0000 0000 0002"
PAYS = "4242 4242 4242 4242"


@pytest.fixture
def sandbox(settings, live_server, tmp_path):
    """The sandbox as ``manage.py stripe_sandbox`` runs it, sending its webhooks to ``live_server``."""
    fake = make_sandbox(
        webhook_url=f"{live_server.url}/stripe/webhook/",
        secret=WEBHOOK_SECRET,
        expire_after=1800,
        state_path=tmp_path / "state.json",
        timeout=5,
    ).start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = "sk_test_sandbox"
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    yield fake
    fake.stop()
    fake.webhooks.stop()


def start_gift(client: Client, fund, **fields) -> str:
    """Send the donation form; the sandbox payment page it sends the donor to."""
    data = {
        "amount_choice": "5000",
        "frequency": "once",
        "fund": str(fund.pk),
        "name": "Rosa Parks",
        "email": "rosa@example.org",
        "nonce": nonce_of(client.get("/give/")),
        **fields,
    }
    response = client.post("/give/", data)
    assert response.status_code == 303, response.content.decode()[:500]
    return response["Location"]


def pay(page: str, card: str) -> requests.Response:
    return requests.post(page, data={"card_number": card, "expiry": "12 / 40", "cvc": "123"}, allow_redirects=False)


def delivered(sandbox: FakeStripe) -> list[str]:
    assert sandbox.webhooks is not None and sandbox.webhooks.wait_idle(timeout=15), "webhooks not answered"
    return [d.event_type for d in reversed(sandbox.webhooks.recent(100)) if 200 <= d.status < 300]


def test_a_gift_paid_with_a_test_card_is_recorded_from_the_webhook(sandbox, general_fund):
    client = Client()
    page = start_gift(client, general_fund)
    assert page.startswith(f"{sandbox.url}/c/pay/cs_test_")

    shown = requests.get(page)
    assert shown.status_code == 200
    assert "$50.00" in shown.text and "4242 4242 4242 4242" in shown.text
    assert "form-action 'self' http://testserver" in shown.headers["Content-Security-Policy"]

    declined = pay(page, DECLINED)
    assert declined.status_code == 200
    assert "Your card was declined." in declined.text
    assert 'value="4000 0000 0000 0002"' in declined.text  # what was typed is kept
    assert delivered(sandbox) == []
    assert not Donation.objects.exists()

    paid = pay(page, PAYS)
    assert paid.status_code == 303
    session_id = urlsplit(page).path.rsplit("/", 1)[1]
    assert paid.headers["Location"] == f"http://testserver/give/thanks/?session_id={session_id}"
    assert delivered(sandbox) == ["checkout.session.completed"]

    donation = Donation.objects.get()
    assert (donation.status, donation.amount_cents, donation.stripe_checkout_session_id) == ("paid", 5000, session_id)
    assert donation.receipt_sent_at is not None
    assert [m.subject for m in mail.outbox] == [f"[Amparo] Your donation receipt {donation.receipt_number}"]
    assert "Your payment has been received." in client.get(paid.headers["Location"]).content.decode()
    # Paid, the page sends a second visit back to Amparo rather than charging again.
    again = requests.get(page, allow_redirects=False)
    assert (again.status_code, again.headers["Location"]) == (303, paid.headers["Location"])


def test_a_page_for_a_card_that_is_not_a_test_card_or_has_a_past_expiry_charges_nothing(sandbox, general_fund):
    page = start_gift(Client(), general_fund)

    real_card = pay(page, "4111 1111 1111 1112")
    past = requests.post(page, data={"card_number": PAYS, "expiry": "01 / 20", "cvc": "123"})
    no_cvc = requests.post(page, data={"card_number": PAYS, "expiry": "12 / 40", "cvc": "1"})

    assert "only test cards work here" in real_card.text
    assert "expiration date is incomplete or in the past" in past.text
    assert "security code is incomplete" in no_cvc.text
    assert delivered(sandbox) == []
    assert sandbox.objects[urlsplit(page).path.rsplit("/", 1)[1]]["status"] == "open"


def test_the_page_speaks_the_donors_language(sandbox, general_fund):
    client = Client(headers={"accept-language": "es"})
    page = start_gift(client, general_fund)

    shown = requests.get(page)
    declined = pay(page, DECLINED)

    assert '<html lang="es">' in shown.text and "Número de tarjeta" in shown.text
    assert "Su tarjeta fue rechazada." in declined.text


def test_a_monthly_gift_is_charged_again_and_cancelled_from_the_donor_portal(sandbox, general_fund):
    client = Client()
    page = start_gift(client, general_fund, frequency="monthly", amount_choice="2500")
    assert "Subscribe $25.00" in requests.get(page).text

    assert pay(page, PAYS).status_code == 303
    assert delivered(sandbox) == ["checkout.session.completed", "invoice.paid"]
    monthly = RecurringDonation.objects.get()
    assert monthly.status == "active" and monthly.stripe_subscription_id in sandbox.objects
    assert Donation.objects.filter(recurring=monthly, status="paid").count() == 1

    # A month on, Stripe charges it again (the sandbox's page does it at once).
    assert requests.post(
        f"{sandbox.url}/act", data={"action": "charge_next_month", "id": monthly.stripe_subscription_id}
    ).ok
    assert delivered(sandbox)[-1] == "invoice.paid"
    assert Donation.objects.filter(recurring=monthly, status="paid").count() == 2

    # The donor signs in with the e-mailed code and cancels it: Stripe is asked, then says so by webhook.
    donor = Client()
    donor.post("/donor/", {"email": "rosa@example.org"})
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)[1]
    assert donor.post("/donor/code/", {"code": code})["Location"] == "/donor/gifts/"
    cancel = donor.post(f"/donor/recurring/{monthly.pk}/cancel/", once())
    assert cancel.status_code == 302

    assert delivered(sandbox)[-1] == "customer.subscription.deleted"
    monthly.refresh_from_db()
    assert monthly.status == "cancelled"
    assert sandbox.objects[monthly.stripe_subscription_id]["status"] == "canceled"
    assert StripeEvent.objects.filter(type="customer.subscription.deleted", processed_at__isnull=False).count() == 1


def test_a_page_left_unpaid_expires_and_leaves_no_gift_behind(sandbox, general_fund):
    page = start_gift(Client(), general_fund)
    session_id = urlsplit(page).path.rsplit("/", 1)[1]

    assert sandbox.expire_due(now=time.time() + 60) == 0  # not yet
    assert sandbox.expire_due(now=time.time() + 1801) == 1

    assert delivered(sandbox) == ["checkout.session.expired"]
    assert StripeEvent.objects.get(type="checkout.session.expired").processed_at is not None
    assert not Donation.objects.exists()  # no "Pending" gift left in finance's list
    expired = requests.get(page)
    assert expired.status_code == 410 and "This payment page has expired. Nothing was charged." in expired.text
    assert pay(page, PAYS).status_code == 410
    assert sandbox.objects[session_id]["status"] == "expired"


def test_back_from_the_payment_page_the_donor_is_told_nothing_was_charged(sandbox, general_fund):
    client = Client()
    page = start_gift(client, general_fund, amount_choice="custom", custom_amount="75")
    back = re.search(r'<a href="([^"]+)">Back to Amparo', requests.get(page).text)[1].replace("&amp;", "&")

    response = client.get(back.removeprefix("http://testserver"))

    body = response.content.decode()
    assert "You left the payment page, so nothing was charged." in body
    assert re.search(r'name="custom_amount" value="75(\.00)?"', body)  # the form as the donor left it
    assert "nothing was charged" not in client.get("/give/").content.decode()


def test_a_refund_made_in_the_sandbox_dashboard_reaches_the_ledger(sandbox, general_fund):
    page = start_gift(Client(), general_fund)
    pay(page, PAYS)
    delivered(sandbox)
    donation = Donation.objects.get()

    assert requests.post(f"{sandbox.url}/act", data={"action": "refund", "id": donation.stripe_charge_id}).ok

    assert delivered(sandbox)[-1] == "charge.refunded"
    donation.refresh_from_db()
    assert (donation.status, donation.refunded_cents) == ("refunded", 5000)


def test_the_sandbox_keeps_its_objects_across_a_restart(sandbox, general_fund, tmp_path):
    page = start_gift(Client(), general_fund)
    sandbox.stop()

    again = FakeStripe(pages=pages.answer, state_path=tmp_path / "state.json").start(port=urlsplit(sandbox.url).port)
    try:
        assert requests.get(page).status_code == 200
    finally:
        again.stop()
    sandbox.start(port=urlsplit(sandbox.url).port)  # for the fixture's own stop


def test_the_seeded_gifts_stripe_side_is_known_to_the_sandbox(tmp_path):
    from datetime import UTC, datetime

    paid_at = datetime(2026, 5, 1, tzinfo=UTC)
    seeded.write(
        tmp_path,
        charges=[seeded.SeededCharge("ch_demo_0001", 2500, paid_at)],
        subscriptions=[seeded.SeededSubscription("sub_demo_0001", 5000, "alex@example.org", paid_at)],
    )
    fake = FakeStripe()
    fake.add_objects(seeded.read(tmp_path))

    charge = fake.objects["ch_demo_0001"]
    assert (charge["amount"], charge["paid"], fake.objects[charge["payment_intent"]]["latest_charge"]) == (
        2500,
        True,
        "ch_demo_0001",
    )
    assert fake.objects["sub_demo_0001"]["status"] == "active"
    status, refund = fake.handle(
        "POST",
        "/v1/refunds",
        {"charge": "ch_demo_0001", "amount": "1000"},
        idempotency_key="r1",
        authorization="Bearer sk_test_x",
    )
    assert (status, refund["amount"]) == (200, 1000)
    assert fake.events[-1]["type"] == "charge.refunded"
    assert json.loads((tmp_path / seeded.FILE_NAME).read_text())  # a file the sandbox reads at start


def test_the_sandbox_command_refuses_to_run_outside_the_demo(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only for the demo"):
        call_command("stripe_sandbox")


def test_the_sandbox_pages_need_no_inline_style_or_script(sandbox):
    page = requests.get(f"{sandbox.url}/", timeout=5)
    sheet = requests.get(f"{sandbox.url}/sandbox.css", timeout=5)

    policy = page.headers["Content-Security-Policy"]
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy and "script-src" not in policy
    assert "<style" not in page.text and "style=" not in page.text and "<script" not in page.text
    assert sheet.status_code == 200 and sheet.headers["Content-Type"].startswith("text/css")
    assert "form.act" in sheet.text
