from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.signing import Signer

from funds.models import Donation, Donor, Fund, RecurringDonation
from funds.services.checkout import charge_for_gift
from tests.funds.conftest import nonce_of, session_of

pytestmark = pytest.mark.django_db


def _create_params(fake_stripe) -> dict:
    (create,) = fake_stripe.calls("POST", "/v1/checkout/sessions")
    return create.params


def test_donate_page_lists_funds_and_presets(client, general_fund, bond_fund):
    Fund.objects.create(slug="closed", name="Closed fund", active=False)
    Fund.objects.create(slug="internal", name="Internal fund", accepts_donations=False)

    response = client.get("/give/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "General fund" in page
    assert "Bond fund" in page
    assert "Closed fund" not in page
    assert "Internal fund" not in page
    for label in ("$25", "$50", "$100", "$250", "$500"):
        assert f"<span>{label}</span></label>" in page
    assert "Give anonymously" in page
    assert "Add the processing fee so the fund gets the full amount" in page
    assert len(nonce_of(response)) >= 16


def test_donate_page_has_no_inline_script_or_style(client, general_fund):
    page = client.get("/give/").content.decode()

    assert "<script>" not in page
    assert "style=" not in page
    assert "js.stripe.com" not in page


def test_donate_page_needs_no_sign_in(client, general_fund):
    response = client.get("/give/")

    assert response.status_code == 200
    assert response.wsgi_request.user.is_anonymous


@pytest.mark.parametrize(
    ("custom_amount", "message"),
    [
        ("4.99", "The smallest gift we can take is $5."),
        ("25000.01", "The largest gift we can take online is $25,000."),
        ("12,5x", "Enter an amount in dollars, like 75 or 75.50."),
        ("1e9", "Enter an amount in dollars, like 75 or 75.50."),
    ],
)
def test_donate_invalid_amount_is_refused(give, fake_stripe, custom_amount, message):
    response = give(amount_choice="custom", custom_amount=custom_amount)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert Donation.objects.count() == 0
    assert Donor.objects.count() == 0
    assert fake_stripe.requests == []


def test_donate_without_any_amount_is_refused(give, fake_stripe):
    response = give(amount_choice="custom", custom_amount="")

    assert response.status_code == 422
    assert "Choose an amount, or enter your own." in response.content.decode()
    assert Donation.objects.count() == 0


def _no_rows() -> bool:
    return (Donation.objects.count(), Donor.objects.count(), RecurringDonation.objects.count()) == (0, 0, 0)


def test_donate_once_redirects_to_checkout_and_writes_no_row(give, fake_stripe, general_fund):
    response = give(amount_choice="5000")

    assert response.status_code == 303
    (session_id,) = fake_stripe.session_params
    assert response.url == f"{fake_stripe.url}/c/pay/{session_id}"
    # Nothing is stored before Stripe confirms: the webhook makes the donor and the donation.
    assert _no_rows()


def test_donate_once_checkout_parameters_carry_the_gift(give, fake_stripe, general_fund):
    give(amount_choice="custom", custom_amount="75.50", name="Rosa Parks", email="Rosa@Example.org")

    params = _create_params(fake_stripe)
    nonce = params["metadata"]["form_nonce"]
    assert params["mode"] == "payment"
    assert params["submit_type"] == "donate"
    assert params["customer_email"] == "rosa@example.org"
    assert params["client_reference_id"] == nonce
    assert params["metadata"] == {
        "amparo_gift": "1",
        "form_nonce": nonce,
        "fund_id": str(general_fund.pk),
        "gift_cents": "7550",
        "fee_covered_cents": "0",
        "frequency": "once",
        "anonymous": "0",
        "donor_name": "Rosa Parks",
    }
    # The PaymentIntent carries only the key back to the session: no name, no e-mail.
    assert params["payment_intent_data"] == {"metadata": {"form_nonce": nonce}}
    assert params["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "usd",
                "unit_amount": "7550",
                "product_data": {"name": "Donation to General fund"},
            },
        }
    ]
    assert params["success_url"] == "http://testserver/give/thanks/?session_id={CHECKOUT_SESSION_ID}"
    assert params["cancel_url"].startswith("http://testserver/give/?d=")
    assert "rosa" not in params["cancel_url"].lower()


def test_donate_covering_the_fee_charges_the_grossed_up_amount(give, fake_stripe):
    give(amount_choice="10000", cover_fee="on")

    params = _create_params(fake_stripe)
    # ceil((10000 + 30) / (1 - 0.029)) = 10330
    assert params["line_items"][0]["price_data"]["unit_amount"] == "10330"
    assert (params["metadata"]["gift_cents"], params["metadata"]["fee_covered_cents"]) == ("10000", "330")


@pytest.mark.parametrize("gift", [500, 2500, 5001, 10000, 2_500_000])
def test_charge_for_gift_leaves_the_fund_the_full_gift(gift):
    charged = charge_for_gift(gift_cents=gift, cover_fee=True)

    fee = charged * 290 / 10000 + 30
    assert charged - fee >= gift
    assert (charged - 1) - ((charged - 1) * 290 / 10000 + 30) < gift


def test_donate_monthly_creates_a_subscription_session(give, fake_stripe, bond_fund):
    give(frequency="monthly", fund=str(bond_fund.pk), amount_choice="2500", anonymous="on")

    params = _create_params(fake_stripe)
    nonce = params["metadata"]["form_nonce"]
    assert params["mode"] == "subscription"
    assert "submit_type" not in params  # not sent in subscription mode
    assert "payment_intent_data" not in params
    assert params["line_items"][0]["price_data"]["recurring"] == {"interval": "month"}
    assert params["line_items"][0]["price_data"]["product_data"] == {"name": "Monthly donation to Bond fund"}
    assert params["subscription_data"]["metadata"] == {"form_nonce": nonce}
    assert (params["metadata"]["frequency"], params["metadata"]["anonymous"]) == ("monthly", "1")
    assert params["metadata"]["fund_id"] == str(bond_fund.pk)
    assert _no_rows()


def test_donate_double_post_with_one_nonce_gets_one_session(client, give, fake_stripe):
    nonce = nonce_of(client.get("/give/"))

    first = give(nonce=nonce)
    second = give(nonce=nonce)

    assert first.status_code == second.status_code == 303
    assert first.url == second.url
    creates = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert [c.idempotency_key for c in creates] == [f"checkout:{nonce}"] * 2
    assert len(fake_stripe.session_params) == 1  # Stripe answered the repeat with the same session
    assert _no_rows()


def test_donate_same_nonce_with_other_values_asks_to_fill_the_form_again(client, give, fake_stripe):
    nonce = nonce_of(client.get("/give/"))
    give(nonce=nonce, amount_choice="5000")

    changed = give(nonce=nonce, amount_choice="10000")  # back in the browser, another amount

    assert changed.status_code == 422
    assert "This form has expired. Please fill it in again." in changed.content.decode()
    assert nonce_of(changed) != nonce
    assert len(fake_stripe.session_params) == 1


def test_donate_repeated_after_the_gift_was_made_goes_to_its_thank_you_page(client, give, fake_stripe, deliver):
    nonce = nonce_of(client.get("/give/"))
    session = fake_stripe.complete_session(session_of(give(nonce=nonce)))
    deliver("checkout.session.completed", session)

    again = give(nonce=nonce)

    assert again.status_code == 303
    assert again.url == f"/give/thanks/?session_id={session['id']}"


def test_donate_gateway_down_shows_an_error_and_a_fresh_nonce(client, give, fake_stripe, settings):
    settings.STRIPE_SECRET_KEY = "rk_live_wrong_kind_of_key"  # the fake answers 401
    nonce = nonce_of(client.get("/give/"))

    response = give(nonce=nonce)

    assert response.status_code == 503
    page = response.content.decode()
    assert "We could not reach our payment processor" in page
    assert nonce_of(response) != nonce
    assert _no_rows()


def test_donate_cancel_link_prefills_the_form(client, give, fake_stripe, bond_fund):
    give(
        amount_choice="custom",
        custom_amount="42",
        frequency="monthly",
        fund=str(bond_fund.pk),
        anonymous="on",
        cover_fee="on",
        name="Ana Pérez",
        email="ana@example.org",
    )
    params = _create_params(fake_stripe)
    split = urlsplit(params["cancel_url"])

    response = client.get(f"{split.path}?{split.query}")

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["custom_amount"] == "42.00"
    assert form.initial["amount_choice"] == "custom"
    assert form.initial["frequency"] == "monthly"
    assert form.initial["fund"] == bond_fund.pk
    assert form.initial["anonymous"] is True
    assert form.initial["cover_fee"] is True
    assert form.initial["email"] == "ana@example.org"
    assert form.initial["name"] == "Ana Pérez"
    page = response.content.decode()
    assert 'value="ana@example.org"' in page
    assert form.initial["nonce"] != params["metadata"]["form_nonce"]
    assert "ana" not in params["cancel_url"]  # the link carries a signed key, not what was typed


def test_donate_forged_cancel_link_prefills_nothing(client, give, fake_stripe):
    give()
    nonce = _create_params(fake_stripe)["metadata"]["form_nonce"]
    forged = Signer(salt="someone-else").sign(nonce)

    response = client.get("/give/", {"d": forged})

    assert response.status_code == 200
    assert "email" not in response.context["form"].initial
    assert "rosa@example.org" not in response.content.decode()


def test_donate_cancel_link_of_a_gift_already_made_prefills_nothing(client, give, fake_stripe, deliver):
    session = fake_stripe.complete_session(session_of(give()))
    deliver("checkout.session.completed", session)
    split = urlsplit(_create_params(fake_stripe)["cancel_url"])

    response = client.get(f"{split.path}?{split.query}")

    assert "email" not in response.context["form"].initial


def test_thanks_page_before_the_webhook_shows_fund_and_amount_from_stripe(client, give, fake_stripe):
    session_id = session_of(give(amount_choice="10000", cover_fee="on"))

    response = client.get("/give/thanks/", {"session_id": session_id})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Your gift of $103.30 to General fund" in page
    assert "We are confirming your payment with the bank" in page
    assert _no_rows()  # shows, never decides


def test_thanks_page_for_a_monthly_gift_says_monthly(client, give, fake_stripe, bond_fund):
    session_id = session_of(give(frequency="monthly", fund=str(bond_fund.pk), amount_choice="2500"))

    page = client.get("/give/thanks/", {"session_id": session_id}).content.decode()

    assert "Your monthly gift of $25.00 to Bond fund" in page


def test_thanks_page_for_an_unknown_session_is_404(client, fake_stripe, general_fund):
    response = client.get("/give/thanks/", {"session_id": "cs_test_not_ours"})

    assert response.status_code == 404


def test_thanks_page_for_something_that_is_no_session_id_does_not_ask_stripe(client, fake_stripe, general_fund):
    response = client.get("/give/thanks/", {"session_id": "../v1/charges"})

    assert response.status_code == 404
    assert fake_stripe.requests == []
