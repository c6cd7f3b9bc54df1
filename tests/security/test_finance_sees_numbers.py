"""Finance and auditors see a case as its number, and the payee; never the person.

The person's name, other names and A-number stay on the casework pages, for the attorneys on the
case and supervising attorneys.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from casework import services as casework_services
from casework.models import AssignmentRole
from funds.models import Bond, Disbursement, Donation, Donor, Fund
from funds.services import bookkeeping
from funds.services.disbursements import disbursement_approve, disbursement_pay, disbursement_request
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PERSON = {"given_names": "Xiomara", "family_names": "Quintanilla-Bautista", "other_names": "Xio Bautiste"}
A_NUMBER = "207319465"
TRACES = ("Xiomara", "Quintanilla", "Bautista", "Bautiste", "207319465", "207-319-465")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _money_in(fund: Fund, cents: int) -> None:
    donor, _ = Donor.objects.for_email("giver@example.org")
    gift = Donation.objects.create(donor=donor, fund=fund, amount_cents=cents, status="paid")
    on = datetime(2025, 1, 2, tzinfo=UTC)
    bookkeeping.book_donation(donation=gift, fee_cents=0, occurred_at=on)
    bookkeeping.book_payout(key=f"payout:{gift.pk}", allocation={fund: cents}, occurred_at=on, description="p")


@pytest.fixture
def world(db):
    staff = {
        role: UserFactory(role=role)
        for role in (Role.INTAKE, Role.ATTORNEY, Role.SUPERVISOR, Role.FINANCE, Role.AUDITOR)
    }
    finance2 = UserFactory(role=Role.FINANCE)
    case = casework_services.case_register(
        data=casework_services.IntakeData(**PERSON, a_number=A_NUMBER, date_of_birth=date(1991, 7, 4)),
        by=staff[Role.INTAKE],
    )
    casework_services.case_assign(
        case=case, attorney=staff[Role.ATTORNEY], role=AssignmentRole.LEAD, by=staff[Role.SUPERVISOR]
    )
    general, bonds = Fund.objects.get(slug="general"), Fund.objects.get(slug="bond")
    _money_in(general, 500_000)
    _money_in(bonds, 500_000)
    waiting = disbursement_request(
        case=case,
        fund=general,
        purpose="expert",
        amount_cents=40_000,
        payee="Dr. Expert Witness LLC",
        reason="Psychological evaluation",
        by=staff[Role.ATTORNEY],
    )
    bond_request = disbursement_request(
        case=case,
        fund=bonds,
        purpose="bond",
        amount_cents=150_000,
        payee="DHS/ICE",
        reason="Bond set by the judge",
        by=staff[Role.ATTORNEY],
    )
    disbursement_approve(disbursement=bond_request, by=staff[Role.FINANCE])
    disbursement_pay(disbursement=bond_request, paid_on=date(2026, 1, 5), method="wire", reference="FW", by=finance2)
    return {"staff": staff, "case": case, "waiting": waiting, "bond": Bond.objects.get(disbursement=bond_request)}


def _finance_pages(world) -> list[str]:
    return [
        reverse("funds:finance-home"),
        *(f"{reverse('funds:disbursement-queue')}?status={status}" for status in Disbursement.Status.values),
        reverse("funds:disbursement-detail", args=[world["waiting"].pk]),
        reverse("funds:disbursement-detail", args=[world["bond"].disbursement_id]),
        reverse("funds:bond-register"),
        reverse("funds:bond-detail", args=[world["bond"].pk]),
        reverse("funds:donation-list"),
        reverse("funds:dispute-list"),
        reverse("funds:payout-list"),
    ]


def _audit_pages() -> list[str]:
    names = ("funds", "ledger", "donations", "disbursements", "bonds", "report-list")
    return [reverse(f"reports:{name}") for name in names]


def test_finance_pages_show_the_case_number_and_not_the_person(world):
    finance = _client(world["staff"][Role.FINANCE])

    pages = {url: finance.get(url) for url in [*_finance_pages(world), *_audit_pages()]}

    assert {url: r.status_code for url, r in pages.items() if r.status_code != 200} == {}
    seen = {url: [t for t in TRACES if t in r.content.decode()] for url, r in pages.items()}
    assert {url: traces for url, traces in seen.items() if traces} == {}
    number = world["case"].number
    for url in (
        reverse("funds:disbursement-detail", args=[world["waiting"].pk]),
        reverse("funds:bond-detail", args=[world["bond"].pk]),
        f"{reverse('funds:disbursement-queue')}?status=requested",
    ):
        assert number in pages[url].content.decode(), url
    assert (
        "Dr. Expert Witness LLC"
        in pages[reverse("funds:disbursement-detail", args=[world["waiting"].pk])].content.decode()
    )


def test_auditor_pages_show_the_case_number_and_not_the_person(world):
    auditor = _client(world["staff"][Role.AUDITOR])

    pages = {url: auditor.get(url) for url in _audit_pages()}

    assert {url: r.status_code for url, r in pages.items() if r.status_code != 200} == {}
    seen = {url: [t for t in TRACES if t in r.content.decode()] for url, r in pages.items()}
    assert {url: traces for url, traces in seen.items() if traces} == {}
    assert world["case"].number in pages[reverse("reports:disbursements")].content.decode()


def test_the_attorney_on_the_case_still_sees_the_person(world):
    page = _client(world["staff"][Role.ATTORNEY]).get(reverse("casework:case-detail", args=[world["case"].number]))

    html = page.content.decode()
    assert "<bdi>Xiomara Quintanilla-Bautista</bdi>" in html
    assert "A-207-319-465" in html
