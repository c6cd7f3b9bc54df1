"""A Stripe payout larger than the ledger's Stripe clearing (issue 11, item 10): booked in full, the
difference in suspense and shown to finance, who resolves it through a form, once."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from funds.models import Account, AccountKind, Payout, PayoutDiscrepancy, Posting, Transaction
from tests.forms import once
from tests.funds.conftest import assert_ledger_sound

pytestmark = pytest.mark.django_db

LIST = "/finance/payouts/differences/"


def balance(fund, kind) -> int:
    account = Account.objects.filter(fund=fund, kind=kind).first()
    return account.balance if account else 0


def assert_every_fund_balances() -> None:
    per_fund = Posting.objects.values("transaction", "account__fund").annotate(total=Sum("amount")).exclude(total=0)
    assert list(per_fund) == []


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def key_on(page: str, pk: int) -> str:
    form = re.search(rf'action="/finance/payouts/differences/{pk}/resolve/".*?</form>', page, re.S)[0]
    return re.search(r'name="once" value="([^"]+)"', form)[1]


@pytest.fixture
def short_payout(paid_gift, give, fake_stripe, deliver, general_fund, bond_fund):
    """Two gifts (one per fund) in clearing, then a payout of $12.34 more than clearing holds."""
    paid_gift()
    paid_gift(fund=str(bond_fund.pk), amount_choice="2500")
    held = balance(general_fund, AccountKind.STRIPE_CLEARING) + balance(bond_fund, AccountKind.STRIPE_CLEARING)
    payout = fake_stripe.create_payout(held + 1234)
    assert deliver("payout.paid", payout).status_code == 200
    return {"payout": payout, "held": held}


def test_a_payout_larger_than_clearing_is_booked_in_full_with_the_rest_in_suspense(
    short_payout, general_fund, bond_fund, fake_stripe, deliver
):
    payout = short_payout["payout"]

    banked = balance(general_fund, AccountKind.BANK) + balance(bond_fund, AccountKind.BANK)
    assert banked == payout["amount"]  # what the bank received, all of it
    assert balance(general_fund, AccountKind.STRIPE_CLEARING) == 0
    assert balance(bond_fund, AccountKind.STRIPE_CLEARING) == 0
    suspense = balance(general_fund, AccountKind.STRIPE_SUSPENSE) + balance(bond_fund, AccountKind.STRIPE_SUSPENSE)
    assert suspense == -1234
    [difference] = PayoutDiscrepancy.objects.all()
    assert (difference.payout.stripe_payout_id, difference.amount_cents, difference.resolved_at) == (
        payout["id"],
        1234,
        None,
    )
    assert_ledger_sound()
    assert_every_fund_balances()

    # Stripe sends the event again: nothing more is booked or flagged.
    deliver("payout.paid", payout)
    assert Transaction.objects.filter(key=f"payout:{payout['id']}").count() == 1
    assert PayoutDiscrepancy.objects.count() == 1 and Payout.objects.count() == 1


def test_a_payout_within_clearing_flags_nothing(paid_gift, fake_stripe, deliver, general_fund):
    paid_gift()
    deliver("payout.paid", fake_stripe.create_payout(balance(general_fund, AccountKind.STRIPE_CLEARING) - 100))

    assert not PayoutDiscrepancy.objects.exists()
    assert balance(general_fund, AccountKind.STRIPE_CLEARING) == 100
    assert_ledger_sound()


def test_finance_home_shows_the_open_difference_with_a_link_to_resolve_it(short_payout, people):
    page = signed_in(people["finance"]).get("/finance/").content.decode()

    assert short_payout["payout"]["id"] in page
    assert "$12.34 USD" in page
    found = timezone.localtime(PayoutDiscrepancy.objects.get().found_at, ZoneInfo("America/New_York"))
    assert f"{found:%m/%d/%Y} {found:%-I:%M}" in page
    assert re.search(r"\d:\d\d [ap]\.m\. E[SD]T", page)  # the time with its zone
    assert f'href="{LIST}"' in page


def test_finance_resolves_a_difference_once_its_cause_is_booked(short_payout, people, paid_gift, general_fund):
    finance = signed_in(people["finance"])
    difference = PayoutDiscrepancy.objects.get()
    page = finance.get(LIST).content.decode()
    assert "$12.34 USD" in page
    form = {"once": key_on(page, difference.pk), "note": "Gift whose event came after the payout"}
    url = reverse("funds:payout-discrepancy-resolve", args=[difference.pk])

    # Clearing is empty: nothing can explain the difference yet. Refused with a message, not a 500.
    too_early = finance.post(url, form)
    assert too_early.status_code == 422
    assert "Stripe clearing holds only $0.00, less than the $12.34 to explain" in too_early.content.decode()
    assert PayoutDiscrepancy.objects.get().resolved_at is None

    paid_gift(amount_choice="2500")  # the late gift is booked into clearing
    clearing_before = balance(general_fund, AccountKind.STRIPE_CLEARING)
    resolved = finance.post(url, form, follow=True)  # the same form, sent again now

    assert resolved.redirect_chain == [(LIST, 302)]
    assert "is resolved" in resolved.content.decode()
    difference.refresh_from_db()
    assert (difference.resolved_by, difference.resolution_note) == (
        people["finance"],
        "Gift whose event came after the payout",
    )
    assert balance(general_fund, AccountKind.STRIPE_SUSPENSE) == 0
    assert balance(general_fund, AccountKind.STRIPE_CLEARING) == clearing_before - 1234
    assert_ledger_sound()
    assert_every_fund_balances()
    assert AccessEvent.objects.filter(object_type="payout", object_ref=short_payout["payout"]["id"]).count() == 1
    assert short_payout["payout"]["id"] not in finance.get("/finance/").content.decode()
    assert "No open payout differences" in finance.get(LIST).content.decode()

    # The same form a third time: shown the result, nothing done again.
    again = finance.post(url, form, follow=True)
    assert "already been sent, so it was not done again" in again.content.decode()
    # Another copy of the form (another tab, another person): refused with a message.
    other = signed_in(people["finance2"]).post(url, once({"note": "me too"}))
    assert other.status_code == 422
    assert "This payout difference has already been resolved." in other.content.decode()
    assert Transaction.objects.filter(kind="payout_explained").count() == 1
    assert AccessEvent.objects.filter(object_type="payout").count() == 1


def test_a_resolution_needs_a_note(short_payout, people):
    difference = PayoutDiscrepancy.objects.get()

    response = signed_in(people["finance"]).post(
        reverse("funds:payout-discrepancy-resolve", args=[difference.pk]), once({"note": "  "})
    )

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert PayoutDiscrepancy.objects.get().resolved_at is None


def test_a_resolution_without_its_key_is_refused(short_payout, people):
    difference = PayoutDiscrepancy.objects.get()

    response = signed_in(people["finance"]).post(
        reverse("funds:payout-discrepancy-resolve", args=[difference.pk]), {"note": "explained"}
    )

    assert response.status_code == 422
    assert "This form was not sent whole." in response.content.decode()


def test_resolving_a_difference_that_does_not_exist_is_404(people, db):
    response = signed_in(people["finance"]).post(
        reverse("funds:payout-discrepancy-resolve", args=[999999]), once({"note": "x"})
    )

    assert response.status_code == 404


@pytest.mark.parametrize("role", ["attorney", "supervisor", "intake", "auditor"])
def test_only_finance_sees_or_resolves_differences(short_payout, people, role):
    difference = PayoutDiscrepancy.objects.get()
    stranger = signed_in(people[role])

    assert stranger.get(LIST).status_code == 404
    response = stranger.post(reverse("funds:payout-discrepancy-resolve", args=[difference.pk]), once({"note": "x"}))

    assert response.status_code == 404
    assert PayoutDiscrepancy.objects.get().resolved_at is None


def test_the_differences_page_costs_the_same_queries_for_one_or_three(people, django_assert_num_queries, db):
    finance = signed_in(people["finance"])
    finance.get(LIST)

    def add(n: int) -> None:
        payout = Payout.objects.create(stripe_payout_id=f"po_test_{n}", amount_cents=1000, arrival_date=date.today())
        PayoutDiscrepancy.objects.create(payout=payout, amount_cents=100 + n)

    add(1)
    with CaptureQueriesContext(connection) as one:
        finance.get(LIST)
    add(2)
    add(3)
    with django_assert_num_queries(len(one.captured_queries)):
        page = finance.get(LIST).content.decode()
    assert all(f"po_test_{n}" in page for n in (1, 2, 3))
