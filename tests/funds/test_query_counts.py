"""Every finance list and detail page asks the database the same number of times for one item or three."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from funds.models import Bond, Disbursement, Dispute, Donation, Payout, PayoutDiscrepancy, Refund
from funds.services.bonds import bond_record_cancellation
from funds.services.disbursements import disbursement_approve, disbursement_pay
from funds.services.ledger_check import ledger_check_run
from tests.funds.conftest import donate, requested

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queries(client: Client, url: str) -> tuple[int, object]:
    client.get(url)  # the first request after signing in also touches the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries), response


def _bond(people, case, i: int) -> Bond:
    donate("bond", 200_000)
    request = requested(people, case, cents=150_000 + i, slug="bond", purpose="bond", payee="DHS/ICE")
    disbursement_approve(disbursement=request, by=people["finance"])
    disbursement_pay(
        disbursement=request, paid_on=date(2026, 1, 5), method="wire", reference=f"FW-{i}", by=people["finance2"]
    )
    return Bond.objects.get(disbursement=request)


def _payout(i: int, *, discrepancy: bool = False) -> Payout:
    payout = Payout.objects.create(
        stripe_payout_id=f"po_{i}",
        amount_cents=1000 + i,
        arrival_date=date(2026, 1, 1) + timedelta(days=i),
        status="paid",
    )
    if discrepancy:
        PayoutDiscrepancy.objects.create(payout=payout, amount_cents=10 + i)
    return payout


def _dispute(i: int) -> Dispute:
    gift = donate("general", 5000 + i)
    return Dispute.objects.create(donation=gift, stripe_dispute_id=f"dp_{i}", amount_cents=5000 + i, status="open")


def _failed_refund(people, i: int) -> Refund:
    gift = donate("general", 7000 + i)
    return Refund.objects.create(
        donation=gift,
        amount_cents=100,
        status=Refund.Status.FAILED,
        failed_at=timezone.now() - timedelta(hours=i),
        requested_by=people["finance"],
        error="card closed",
    )


def _everything(people, case, i: int) -> None:
    """One more of each thing the finance home counts or lists."""
    requested(people, case, cents=1000 + i)
    _payout(100 + i, discrepancy=True)
    _failed_refund(people, i)
    _bond(people, case, i)


# (url name or builder, who looks, make item i, how many items the page shows)
LISTS: dict[str, tuple[str, str, Callable, Callable[[object], int]]] = {
    "finance-home": (
        "funds:finance-home",
        "finance",
        _everything,
        lambda r: len(r.context["failed_refunds"]),
    ),
    "disbursement-queue": (
        "funds:disbursement-queue",
        "finance",
        lambda people, case, i: requested(people, case, cents=1000 + i),
        lambda r: len(r.context["page"].object_list),
    ),
    "donation-list": (
        "funds:donation-list",
        "finance",
        lambda people, case, i: donate("general", 1000 + i),
        lambda r: len(r.context["rows"]),
    ),
    "dispute-list": (
        "funds:dispute-list",
        "finance",
        lambda people, case, i: _dispute(i),
        lambda r: len(r.context["page"].object_list),
    ),
    "payout-list": (
        "funds:payout-list",
        "finance",
        lambda people, case, i: _payout(i),
        lambda r: len(r.context["rows"]),
    ),
    "payout-discrepancies": (
        "funds:payout-discrepancies",
        "finance",
        lambda people, case, i: _payout(i, discrepancy=True),
        lambda r: len(r.context["rows"]),
    ),
    "bond-register": (
        "funds:bond-register",
        "finance",
        _bond,
        lambda r: len(r.context["rows"]),
    ),
}


@pytest.mark.parametrize("page", sorted(LISTS))
def test_finance_lists_take_the_same_queries_for_one_item_or_three(people, case, page):
    url_name, viewer, make, shown = LISTS[page]
    client = _client(people[viewer])
    ledger_check_run()
    make(people, case, 0)
    one, first = _queries(client, reverse(url_name))
    make(people, case, 1)
    make(people, case, 2)
    three, last = _queries(client, reverse(url_name))

    assert (shown(first), shown(last)) == (1, 3)
    assert one == three


def test_the_case_disbursements_page_takes_the_same_queries_for_one_request_or_three(people, case):
    client = _client(people["attorney"])
    url = reverse("funds:case-disbursements", kwargs={"number": case.number})
    requested(people, case, cents=1000)
    one, first = _queries(client, url)
    requested(people, case, cents=1001)
    _bond(people, case, 0)
    three, _ = _queries(client, url)

    assert len(first.context["items"]) == 1
    assert one == three


def test_the_disbursement_page_takes_the_same_queries_whatever_else_the_case_has(people, case):
    client = _client(people["finance"])
    first = requested(people, case, cents=1000)
    one, _ = _queries(client, reverse("funds:disbursement-detail", kwargs={"pk": first.pk}))
    for i in range(3):
        requested(people, case, cents=2000 + i)
    again, _ = _queries(client, reverse("funds:disbursement-detail", kwargs={"pk": first.pk}))
    last = Disbursement.objects.order_by("-pk").first()
    other, _ = _queries(client, reverse("funds:disbursement-detail", kwargs={"pk": last.pk}))

    assert one == again == other


def test_the_bond_page_takes_the_same_queries_for_one_event_or_three(people, case):
    client = _client(people["finance"])
    bond = _bond(people, case, 0)
    url = reverse("funds:bond-detail", kwargs={"pk": bond.pk})
    one, first = _queries(client, url)
    bond_record_cancellation(bond=bond, notice_on=date(2026, 2, 1), by=people["finance"])
    bond.refresh_from_db()
    three, last = _queries(client, url)

    assert len(list(first.context["events"])) < len(list(last.context["events"]))
    # The step forms offered differ with the state, not with the history: same count.
    assert one == three


def test_the_donation_search_finds_a_donor_by_address_without_scanning_every_gift(people):
    client = _client(people["finance"])
    gift = donate("general", 1234)
    Donation.objects.filter(pk=gift.pk).update(receipt_number="AMP-2026-0001")
    response = client.post(reverse("funds:donation-list"), {"q": "giver@example.org"})
    by_email = client.get(response["Location"])
    response = client.post(reverse("funds:donation-list"), {"q": "AMP-2026-0001"})
    by_receipt = client.get(response["Location"])

    assert [d.pk for d, _form in by_email.context["rows"]] == [gift.pk]
    assert [d.pk for d, _form in by_receipt.context["rows"]] == [gift.pk]
