"""Card testers cannot open payment page after payment page, and leave nothing in the database.

Worked example with the default limits: 10 Checkout Sessions an hour per client address (an IPv6
client's whole /64), 300 an hour for everyone. One address posting 100 forms gets 10 payment
pages; the other 90 are refused before Stripe is asked, and no row is written for any of them.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from funds.forms import new_nonce
from funds.models import Donation, Donor
from funds.services import checkout
from funds.services.checkout import CheckoutThrottled, donation_checkout_start
from tests.funds.conftest import nonce_of

pytestmark = pytest.mark.django_db

CARD_TESTER = "203.0.113.50"
DONOR = "198.51.100.8"
PER_IP_MESSAGE = "Too many payment pages were opened from your network in the last hour."
BUSY_MESSAGE = "Our donation page is very busy right now."


def _start(fund, *, ip: str | None, nonce: str | None = None) -> str:
    return donation_checkout_start(
        fund=fund,
        gift_cents=500,
        monthly=False,
        cover_fee=False,
        anonymous=False,
        name="Card Tester",
        email="tester@example.org",
        nonce=nonce or new_nonce(),
        language="en",
        ip_address=ip,
    )


def _attempts(fund, n: int, *, ip: str | None) -> list[str]:
    outcomes = []
    for _ in range(n):
        try:
            _start(fund, ip=ip)
        except CheckoutThrottled as refused:
            outcomes.append(refused.messages[0])
        else:
            outcomes.append("session")
    return outcomes


def test_one_address_gets_ten_payment_pages_an_hour_and_no_row(fake_stripe, general_fund):
    outcomes = _attempts(general_fund, 100, ip=CARD_TESTER)

    limit = settings.DONATION_CHECKOUTS_PER_IP_PER_HOUR  # 10
    assert outcomes[:limit] == ["session"] * limit
    assert all(o.startswith(PER_IP_MESSAGE) for o in outcomes[limit:])
    assert len(fake_stripe.session_params) == limit  # the refused 90 never reached Stripe
    assert (Donation.objects.count(), Donor.objects.count()) == (0, 0)


def test_a_donor_elsewhere_is_not_held_back_by_a_card_tester(fake_stripe, general_fund):
    _attempts(general_fund, 20, ip=CARD_TESTER)

    assert _start(general_fund, ip=DONOR).startswith(fake_stripe.url)


def test_an_ipv6_network_counts_as_one_address(fake_stripe, general_fund):
    outcomes = [_attempts(general_fund, 1, ip=f"2001:db8:77:1::{n:x}")[0] for n in range(1, 13)]

    assert outcomes.count("session") == settings.DONATION_CHECKOUTS_PER_IP_PER_HOUR


def test_the_limit_for_everyone_stops_many_addresses(fake_stripe, general_fund, settings):
    settings.DONATION_CHECKOUTS_PER_HOUR = 5

    outcomes = [_attempts(general_fund, 1, ip=f"192.0.2.{n}")[0] for n in range(1, 9)]

    assert outcomes[:5] == ["session"] * 5
    assert all(o.startswith(BUSY_MESSAGE) for o in outcomes[5:])
    assert len(fake_stripe.session_params) == 5


def test_after_the_hour_the_address_may_try_again(fake_stripe, general_fund, monkeypatch):
    _attempts(general_fund, 11, ip=CARD_TESTER)
    later = checkout.checkout_clock() + 2 * checkout.CHECKOUT_WINDOW_SECONDS
    monkeypatch.setattr(checkout, "checkout_clock", lambda: later)

    assert _start(general_fund, ip=CARD_TESTER).startswith(fake_stripe.url)


def test_the_same_form_sent_again_is_counted_once(fake_stripe, general_fund):
    nonce = new_nonce()
    urls = {_start(general_fund, ip=DONOR, nonce=nonce) for _ in range(15)}

    assert len(urls) == 1  # Stripe gave the same page each time (idempotency key)
    assert _attempts(general_fund, 9, ip=DONOR) == ["session"] * 9  # 1 + 9 = the 10 of the hour


def test_a_refused_form_is_counted_when_sent_again_later(fake_stripe, general_fund, monkeypatch):
    _attempts(general_fund, 10, ip=CARD_TESTER)
    nonce = new_nonce()
    with pytest.raises(CheckoutThrottled):
        _start(general_fund, ip=CARD_TESTER, nonce=nonce)
    later = checkout.checkout_clock() + 2 * checkout.CHECKOUT_WINDOW_SECONDS
    monkeypatch.setattr(checkout, "checkout_clock", lambda: later)

    assert _start(general_fund, ip=CARD_TESTER, nonce=nonce).startswith(fake_stripe.url)


def test_the_thank_you_page_asks_stripe_a_limited_number_of_times_per_address(fake_stripe, general_fund):
    found = [
        checkout.donation_for_session(f"cs_test_guess{n}", ip_address=CARD_TESTER)
        for n in range(checkout.THANKS_LOOKUPS_PER_IP + 5)
    ]

    asked = [r for r in fake_stripe.requests if r.path.startswith("/v1/checkout/sessions/")]
    assert found == [None] * (checkout.THANKS_LOOKUPS_PER_IP + 5)
    assert len(asked) == checkout.THANKS_LOOKUPS_PER_IP
    assert checkout.donation_for_session("cs_test_guess0", ip_address=DONOR) is None
    assert len([r for r in fake_stripe.requests if r.path.startswith("/v1/checkout/sessions/")]) == len(asked) + 1


# --- Through the page ------------------------------------------------------------------------------


def _post_form(client: Client, fund, ip: str):
    nonce = nonce_of(client.get("/give/", REMOTE_ADDR=ip))
    data = {
        "amount_choice": "2500",
        "custom_amount": "",
        "frequency": "once",
        "fund": str(fund.pk),
        "name": "Card Tester",
        "email": "tester@example.org",
        "nonce": nonce,
    }
    return client.post("/give/", data, REMOTE_ADDR=ip)


def test_past_the_limit_for_everyone_the_form_says_so_and_stripe_is_not_asked(
    client, fake_stripe, general_fund, settings
):
    settings.DONATION_CHECKOUTS_PER_HOUR = 3

    responses = [_post_form(client, general_fund, f"192.0.2.{n}") for n in range(1, 6)]

    assert [r.status_code for r in responses] == [303] * 3 + [429] * 2
    assert all(BUSY_MESSAGE in r.content.decode() for r in responses[3:])
    assert responses[3]["Retry-After"] == "3600"
    assert len(fake_stripe.session_params) == 3
    assert (Donation.objects.count(), Donor.objects.count()) == (0, 0)


def test_past_the_limit_the_page_answers_429(client, fake_stripe, general_fund, settings):
    settings.DONATION_CHECKOUTS_PER_HOUR = 1
    _post_form(client, general_fund, DONOR)

    response = _post_form(client, general_fund, "192.0.2.1")

    assert response.status_code == 429
    assert BUSY_MESSAGE in response.content.decode()


def test_card_testing_from_one_address_through_the_page_is_cut_off(client, fake_stripe, general_fund):
    statuses = [_post_form(client, general_fund, CARD_TESTER).status_code for _ in range(30)]

    limit = settings.DONATION_CHECKOUTS_PER_IP_PER_HOUR
    assert statuses == [303] * limit + [429] * (30 - limit)
    assert len(fake_stripe.session_params) == limit
    assert _post_form(client, general_fund, DONOR).status_code == 303


def test_the_thank_you_page_is_limited_per_address(client, fake_stripe, general_fund):
    for n in range(checkout.THANKS_LOOKUPS_PER_IP + 3):
        client.get("/give/thanks/", {"session_id": f"cs_test_guess{n}"}, REMOTE_ADDR=CARD_TESTER)

    asked = [r for r in fake_stripe.requests if r.path.startswith("/v1/checkout/sessions/")]
    assert len(asked) == checkout.THANKS_LOOKUPS_PER_IP
