"""Every audit list and detail page asks the database the same number of times for one item or three,
and a later keyset page (the "older" link) as many as the first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.roles import Role
from accounts.services import access_event_record
from casework import services as casework_services
from casework.models import AssignmentRole
from funds.models import AccountKind, Donor, TransactionKind
from funds.services.disbursements import disbursement_approve, disbursement_pay, disbursement_request
from funds.services.ledger import account, ledger_post
from funds.services.ledger_check import ledger_check_run
from reports import views as reports_views
from reports.models import ReportKind, ReportRun
from tests.factories import UserFactory
from tests.reports.test_auditor_pages import _donate, _fund

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> tuple[int, object]:
    client.get(url)  # the first request after signing in also touches the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries), response


@pytest.fixture
def world():
    general = _fund("general", "General fund", sort_order=1)
    bond_fund = _fund("bond", "Bond fund", restricted=True, allowed_purposes="bond", sort_order=2)
    supervisor, attorney = UserFactory(role=Role.SUPERVISOR), UserFactory(role=Role.ATTORNEY)
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Rosa", family_names="Echeverría"),
        by=UserFactory(role=Role.INTAKE),
    )
    casework_services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    _donate(
        donor=Donor.objects.create(email="big@example.org", name="B"),
        fund=bond_fund,
        cents=5_000_000,
        ref="0",
        to_bank=True,
    )
    return {"general": general, "bond": bond_fund, "case": case, "attorney": attorney}


def _transaction(world, i: int) -> None:
    ledger_post(
        key=f"counts:{i}",
        kind=TransactionKind.DONATION,
        description=f"Gift {i} from Rosa",
        lines=[
            (account(world["general"], AccountKind.BANK), 100 + i),
            (account(world["general"], AccountKind.DONATIONS), -(100 + i)),
        ],
        by=UserFactory(role=Role.FINANCE),
    )


def _donation(world, i: int) -> None:
    _donate(
        donor=Donor.objects.create(email=f"d{i}@example.org", name=f"D{i}"),
        fund=world["general"],
        cents=1000 + i,
        ref=f"g{i}",
    )


def _paid_bond(world, i: int) -> None:
    finance, finance2 = UserFactory(role=Role.FINANCE), UserFactory(role=Role.FINANCE)
    bond = disbursement_request(
        case=world["case"],
        fund=world["bond"],
        purpose="bond",
        amount_cents=150_000 + i,
        payee="DHS/ICE",
        reason="bond",
        by=world["attorney"],
    )
    disbursement_approve(disbursement=bond, by=finance)
    disbursement_pay(disbursement=bond, paid_on=timezone.localdate(), method="wire", reference=f"W-{i}", by=finance2)


def _event(world, i: int) -> None:
    access_event_record(
        user=UserFactory(role=Role.ATTORNEY),
        action=AccessEvent.Action.VIEW,
        object_type="case",
        object_ref=f"2026-{i:05d}",
    )


def _run(world, i: int, *, by) -> ReportRun:
    return ReportRun.objects.create(
        kind=ReportKind.FUND_STATEMENT,
        parameters={"from": "2026-01-01", "to": "2026-03-31", "fund": ""},
        requested_by=by,
    )


LISTS: dict[str, tuple[str, Callable, str]] = {
    # page: (url, make item i, the query string that keeps only the items made here)
    "ledger": ("reports:ledger", _transaction, "?account_kind=donations&fund="),
    "donations": ("reports:donations", _donation, "?fund="),
    "disbursements": ("reports:disbursements", _paid_bond, ""),
    "bonds": ("reports:bonds", _paid_bond, ""),
    "access-log": ("reports:access-log", _event, "?action=view"),
}


@pytest.mark.parametrize("page", sorted(LISTS))
def test_audit_lists_take_the_same_queries_for_one_item_or_three(client_for, world, page):
    url_name, make, query = LISTS[page]
    client = client_for(Role.AUDITOR)
    url = reverse(url_name) + query
    make(world, 1)
    one, first = _queries(client, url)
    make(world, 2)
    make(world, 3)
    three, last = _queries(client, url)

    assert len(last.context["page"].object_list) >= 3
    assert len(last.context["page"].object_list) > len(first.context["page"].object_list)
    assert one == three


@pytest.mark.parametrize("page", ["ledger", "donations", "disbursements"])
def test_an_older_keyset_page_takes_as_many_queries_as_the_first(client_for, world, page, monkeypatch):
    monkeypatch.setattr(reports_views._keyset, "__defaults__", (2,))  # two rows a page
    url_name, make, query = LISTS[page]
    client = client_for(Role.AUDITOR)
    for i in range(1, 6):
        make(world, i)
    url = reverse(url_name) + query
    first_count, first = _queries(client, url)
    older = first.context["page"].next_query
    assert older, "a second page is offered"
    older_count, second = _queries(client, reverse(url_name) + older)

    assert first_count == older_count
    assert not {o.pk for o in first.context["page"].object_list} & {o.pk for o in second.context["page"].object_list}


def test_the_funds_page_reads_the_ledger_check_not_the_ledger(client_for, world):
    client = client_for(Role.AUDITOR)
    ledger_check_run()
    one, _ = _queries(client, reverse("reports:funds"))
    _fund("third", "Third fund", sort_order=3)
    for i in range(3):
        _transaction(world, i)
    ledger_check_run()
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("reports:funds"))

    assert len(queries) == one
    assert not any("funds_posting" in q["sql"] for q in queries.captured_queries)


def test_the_report_list_and_page_take_the_same_queries_for_one_run_or_three(client_for, world):
    client = client_for(Role.AUDITOR)
    first = _run(world, 1, by=client.user)
    one, listed_one = _queries(client, reverse("reports:report-list"))
    detail_one, _ = _queries(client, reverse("reports:report-detail", kwargs={"pk": first.pk}))
    _run(world, 2, by=UserFactory(role=Role.FINANCE))
    last = _run(world, 3, by=client.user)
    three, listed_three = _queries(client, reverse("reports:report-list"))
    detail_three, _ = _queries(client, reverse("reports:report-detail", kwargs={"pk": last.pk}))

    assert (len(listed_one.context["page"].object_list), len(listed_three.context["page"].object_list)) == (1, 3)
    assert one == three
    assert detail_one == detail_three


def test_an_unreadable_cursor_starts_the_list_again(client_for, world):
    response = client_for(Role.AUDITOR).get(reverse("reports:ledger"), {"after": "not-a-cursor"})

    assert response.status_code == 200
    assert response.context["page"].has_previous is False
