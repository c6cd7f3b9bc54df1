"""A funds form sent twice (a proxy's or browser's retry, a double click, two tabs) does its work once.

Each staff form carries a one-time key (``kernel.once``); the same rendered form POSTed again
finds the key claimed and is sent to the first result, with nothing done twice: one payment
request, one ``Refund`` and one refund at Stripe, one payment in the ledger, one bond.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AccessEvent
from funds.models import Bond, BondEvent, Disbursement, Fund, Refund, StripeEvent, Transaction
from funds.services.disbursements import disbursement_pay
from kernel.models import SubmissionKey
from tests.forms import once
from tests.funds.conftest import approved, assert_ledger_sound, donate, posted_at_once, requested

pytestmark = pytest.mark.django_db

ALREADY_SENT = "This form had already been sent, so it was not done again."


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def key_on(page: str, name: str = "once") -> str:
    """The one-time key the page's form carries (as the browser would send it back)."""
    return re.search(rf'name="{name}" value="([^"]+)"', page)[1]


def request_form(case) -> dict:
    return {
        "fund": Fund.objects.get(slug="general").pk,
        "purpose": "filing_fee",
        "amount": "250",
        "payee": "EOIR",
        "reason": "Fee for motion",
    }


def paid_bond(people, bond_request: Disbursement) -> Bond:
    """``bond_request`` paid by wire: the bond it posts."""
    disbursement_pay(
        disbursement=bond_request, paid_on=date(2026, 1, 5), method="wire", reference="FW-1", by=people["finance2"]
    )
    return Bond.objects.get()


# --- Payment requests ------------------------------------------------------------------------


def test_a_payment_request_sent_twice_is_one_request(people, case):
    attorney = client(people["attorney"])
    url = reverse("funds:disbursement-new", args=[case.number])
    form = {**request_form(case), "once": key_on(attorney.get(url).content.decode())}

    first = attorney.post(url, form)
    second = attorney.post(url, form, follow=True)

    listing = reverse("funds:case-disbursements", args=[case.number])
    assert first.status_code == 302 and first["Location"] == listing
    assert second.redirect_chain == [(listing, 302)]
    assert ALREADY_SENT in second.content.decode()
    assert Disbursement.objects.count() == 1
    # A new copy of the page is a new request.
    attorney.post(url, {**request_form(case), "once": key_on(attorney.get(url).content.decode())})
    assert Disbursement.objects.count() == 2


def test_a_payment_request_form_without_its_key_is_refused_and_nothing_made(people, case):
    response = client(people["attorney"]).post(
        reverse("funds:disbursement-new", args=[case.number]), request_form(case)
    )

    assert response.status_code == 422
    assert "This form was not sent whole. Reload the page and send it again." in response.content.decode()
    assert not Disbursement.objects.exists()


def test_a_payment_request_that_was_refused_can_be_corrected_and_sent_with_the_same_key(people, case):
    attorney = client(people["attorney"])
    url = reverse("funds:disbursement-new", args=[case.number])
    form = once({**request_form(case), "amount": "lots"})

    assert attorney.post(url, form).status_code == 422
    assert attorney.post(url, {**form, "amount": "250"}).status_code == 302
    assert Disbursement.objects.count() == 1


def test_another_users_copy_of_the_key_is_refused(people, case):
    url = reverse("funds:disbursement-new", args=[case.number])
    form = once(request_form(case))
    assert client(people["attorney"]).post(url, form).status_code == 302
    supervisor = people["supervisor"]

    response = client(supervisor).post(url, form)

    assert response.status_code == 422
    assert "This form cannot be sent again. Reload the page and start over." in response.content.decode()
    assert Disbursement.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_payment_request_sent_twice_at_once_is_one_request(people, case):
    # PostgreSQL, two connections: the second insert of the key waits for the first transaction,
    # then finds the key claimed.
    assert connection.vendor == "postgresql"
    url = reverse("funds:disbursement-new", args=[case.number])
    form = once(request_form(case))

    responses = posted_at_once(lambda: client(people["attorney"]), url, form)

    answers = [(response.status_code, response.get("Location", "")) for response in responses]
    listing = reverse("funds:case-disbursements", args=[case.number])
    assert answers == [(302, listing), (302, listing)]
    assert Disbursement.objects.count() == 1
    assert SubmissionKey.objects.filter(key=form["once"]).count() == 1


# --- Decisions and payments ------------------------------------------------------------------


def test_an_approval_sent_twice_is_one_decision(people, case):
    donate("general", 100_000)
    request = requested(people, case, cents=10_000, payee="Dr. X")
    finance = client(people["finance"])
    url = reverse("funds:disbursement-detail", args=[request.pk])
    form = {"action": "approve", "note": "ok", "once": key_on(finance.get(url).content.decode())}

    first = finance.post(url, form)
    second = finance.post(url, form, follow=True)

    assert first.status_code == 302
    assert second.redirect_chain == [(url, 302)]
    assert ALREADY_SENT in second.content.decode()
    request.refresh_from_db()
    assert request.status == "approved"


def test_a_payment_recorded_twice_is_paid_once(people, case):
    donate("general", 100_000)
    request = approved(people, case, cents=30_000, payee="Dr. X")
    finance = client(people["finance2"])
    url = reverse("funds:disbursement-detail", args=[request.pk])
    page = finance.get(url).content.decode()
    form = {"action": "pay", "paid_on": "2026-01-10", "method": "check", "reference": "1042", "once": key_on(page)}

    first = finance.post(url, form)
    second = finance.post(url, form, follow=True)

    assert first.status_code == 302
    assert second.status_code == 200 and second.redirect_chain == [(url, 302)]
    assert ALREADY_SENT in second.content.decode()
    request.refresh_from_db()
    assert request.status == "paid"
    assert Transaction.objects.filter(key__startswith=f"disbursement:{request.pk}").count() == 1
    assert_ledger_sound()


@pytest.mark.django_db(transaction=True)
def test_a_payment_recorded_twice_at_once_is_paid_once(people, case):
    assert connection.vendor == "postgresql"
    donate("general", 100_000)
    request = approved(people, case, cents=30_000, payee="Dr. X")
    url = reverse("funds:disbursement-detail", args=[request.pk])
    form = once({"action": "pay", "paid_on": "2026-01-10", "method": "check", "reference": "1042"})

    responses = posted_at_once(lambda: client(people["finance2"]), url, form)

    assert [response.status_code for response in responses] == [302, 302]
    assert Transaction.objects.filter(key__startswith=f"disbursement:{request.pk}").count() == 1
    assert_ledger_sound()


# --- Bonds -----------------------------------------------------------------------------------


@pytest.fixture
def bond_request(people, case, bond_fund):
    donate("bond", 5_000_000)
    return approved(people, case, slug="bond", purpose="bond", cents=150_000, payee="DHS/ICE")


def test_a_bond_payment_sent_twice_is_one_bond(people, bond_request):
    finance = client(people["finance2"])
    url = reverse("funds:disbursement-detail", args=[bond_request.pk])
    page = finance.get(url).content.decode()
    form = {
        "action": "pay",
        "paid_on": "2026-02-02",
        "method": "wire",
        "reference": "FW-9",
        "bond_type": "delivery",
        "posting_method": "cebonds_fedwire",
        "obligor_kind": "fund",
        "once": key_on(page),
    }

    first = finance.post(url, form)
    second = finance.post(url, form, follow=True)

    assert first.status_code == 302, first.content.decode()[:2000]
    assert ALREADY_SENT in second.content.decode()
    assert Bond.objects.count() == 1
    assert Transaction.objects.filter(key__startswith=f"disbursement:{bond_request.pk}").count() == 1
    assert_ledger_sound()


def test_a_bond_step_sent_twice_is_recorded_once(people, bond_request):
    bond = paid_bond(people, bond_request)
    finance = client(people["finance"])
    url = reverse("funds:bond-detail", args=[bond.pk])
    page = finance.get(url).content.decode()
    form = {
        "action": "cancellation",
        "cancellation-notice_on": "2026-08-20",
        "cancellation-once": key_on(page, "cancellation-once"),
    }
    events_before = BondEvent.objects.filter(bond=bond).count()

    first = finance.post(url, form)
    # The bond is cancelled now: its page no longer offers this step, but the repeat is recognised.
    second = finance.post(url, form, follow=True)

    assert first.status_code == 302
    assert second.redirect_chain == [(url, 302)]
    assert ALREADY_SENT in second.content.decode()
    assert BondEvent.objects.filter(bond=bond).count() == events_before + 1
    bond.refresh_from_db()
    assert bond.status == Bond.Status.CANCELLED


def test_a_fresh_bond_step_the_state_does_not_offer_is_still_refused(people, bond_request):
    bond = paid_bond(people, bond_request)
    url = reverse("funds:bond-detail", args=[bond.pk])

    response = client(people["finance"]).post(
        url, once({"action": "claim", "claim-claimed_on": "2026-08-20"}, prefix="claim")
    )

    assert response.status_code == 400
    assert "That step cannot be recorded for this bond now." in response.content.decode()
    assert not SubmissionKey.objects.exists()  # the claim went with the refusal


# --- Refunds ---------------------------------------------------------------------------------


def refunds_at_stripe(fake_stripe) -> list:
    return fake_stripe.calls("POST", "/v1/refunds")


def test_a_refund_sent_twice_is_one_refund_and_one_stripe_refund(paid_gift, fake_stripe, people):
    gift = paid_gift()
    finance = client(people["finance"])
    listing = reverse("funds:donation-list")
    page = finance.get(listing).content.decode()
    form = {"amount": "20", "reason": "asked by donor", "once": key_on(page)}
    url = reverse("funds:donation-refund", args=[gift.pk])

    first = finance.post(url, form)
    second = finance.post(url, form, follow=True)

    assert first.status_code == 302 and first["Location"] == listing
    assert second.redirect_chain == [(listing, 302)]
    assert ALREADY_SENT in second.content.decode()
    [refund] = Refund.objects.all()
    assert refund.amount_cents == 2000
    [call] = refunds_at_stripe(fake_stripe)
    assert call.idempotency_key == f"refund:{refund.pk}"
    charge = fake_stripe.objects[gift.stripe_charge_id]
    assert charge["amount_refunded"] == 2000  # $20 refunded, not $40


@pytest.mark.django_db(transaction=True)
def test_a_refund_sent_twice_at_once_is_one_stripe_refund(paid_gift, fake_stripe, people):
    assert connection.vendor == "postgresql"
    gift = paid_gift()
    url = reverse("funds:donation-refund", args=[gift.pk])
    form = once({"amount": "20", "reason": ""})

    responses = posted_at_once(lambda: client(people["finance"]), url, form)

    assert [response.status_code for response in responses] == [302, 302]
    assert Refund.objects.count() == 1
    assert len(refunds_at_stripe(fake_stripe)) == 1
    assert fake_stripe.objects[gift.stripe_charge_id]["amount_refunded"] == 2000


def test_a_refund_without_its_key_is_refused_and_stripe_is_not_asked(paid_gift, fake_stripe, people):
    gift = paid_gift()

    response = client(people["finance"]).post(reverse("funds:donation-refund", args=[gift.pk]), {"amount": "20"})

    assert response.status_code == 422
    assert "This form was not sent whole." in response.content.decode()
    assert not Refund.objects.exists() and refunds_at_stripe(fake_stripe) == []


def test_a_refund_of_too_much_is_refused_and_the_same_form_may_be_corrected(paid_gift, fake_stripe, people):
    gift = paid_gift()
    finance = client(people["finance"])
    url = reverse("funds:donation-refund", args=[gift.pk])
    form = once({"amount": "5000", "reason": ""})

    refused = finance.post(url, form)
    corrected = finance.post(url, {**form, "amount": "20"})

    assert refused.status_code == 422
    assert "Enter an amount between $0.01 and $50.00." in refused.content.decode()
    assert corrected.status_code == 302
    assert Refund.objects.count() == 1 and len(refunds_at_stripe(fake_stripe)) == 1


# --- A parked webhook event's "retry now" ----------------------------------------------------


def test_retry_now_sent_twice_is_one_retry(people, fake_stripe, deliver):
    deliver("customer.created", {"id": "cus_1", "object": "customer"})
    event = StripeEvent.objects.get()
    StripeEvent.objects.filter(pk=event.pk).update(processed_at=None, parked_at=datetime(2026, 1, 1, tzinfo=UTC))
    finance = client(people["finance"])
    page = finance.get(reverse("funds:webhook-parked")).content.decode()
    form = {"once": key_on(page)}
    url = reverse("funds:webhook-event-retry", args=[event.pk])

    first = finance.post(url, form)
    second = finance.post(url, form, follow=True)

    assert first.status_code == 302
    assert ALREADY_SENT in second.content.decode()
    assert "no longer parked" not in second.content.decode()
    assert AccessEvent.objects.filter(object_type="stripe_event").count() == 1


# --- Every form's page carries its key -------------------------------------------------------


def test_every_funds_form_page_renders_its_one_time_key(people, case, paid_gift, bond_request):
    attorney, finance = client(people["attorney"]), client(people["finance"])
    request = requested(people, case, cents=100, payee="X")
    paid_gift()
    pages = {
        "request": attorney.get(reverse("funds:disbursement-new", args=[case.number])),
        "decision": finance.get(reverse("funds:disbursement-detail", args=[request.pk])),
        "bond payment": client(people["finance2"]).get(reverse("funds:disbursement-detail", args=[bond_request.pk])),
        "refunds": finance.get(reverse("funds:donation-list")),
    }
    pages["bond steps"] = finance.get(reverse("funds:bond-detail", args=[paid_bond(people, bond_request).pk]))

    for name, response in pages.items():
        assert response.status_code == 200, name
        assert re.search(
            r'<input type="hidden" name="([a-z_]+-)?once" value="[0-9a-f]+-[\w-]{32}"', response.content.decode()
        ), name
    steps = pages["bond steps"].content.decode()
    assert 'name="cancellation-once"' in steps and 'name="breach-once"' in steps
