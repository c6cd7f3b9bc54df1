"""List pages: what they show, filtered in the database, with a constant number of queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from accounts.roles import Role
from casework import selectors, services
from casework.models import AssignmentRole, Case, DocumentKind, ReliefKind, ReliefStatus
from casework.services.workload import caseload_recount
from tests.casework.test_documents import minimal_pdf
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _make_cases(n, *, register_case, intake_worker, supervisor, attorney, court, start=0):
    cases = []
    for i in range(start, start + n):
        case = register_case(
            by=intake_worker, a_number=f"{200000000 + i}", given_names=f"Person{i}", family_names="Demo"
        )
        services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
        services.hearing_schedule(
            case=case, kind="master", starts_at=datetime.now(UTC) + timedelta(days=2 + i), court=court, by=supervisor
        )
        services.deadline_add_manual(
            case=case, title=f"Task {i}", due_on=timezone.localdate() + timedelta(days=1), by=attorney
        )
        cases.append(case)
    return cases


def searched(client, words: str, url_name: str = "casework:search", **filters) -> str:
    """Search as the page's form does (a POST), follow to the results, and return the results' URL.

    The URL must not carry the words: they stay in the session behind a token.
    """
    response = client.post(reverse(url_name), {"q": words, **filters})
    assert response.status_code == 303, response.status_code
    location = response["Location"]
    sent = parse_qs(urlsplit(location).query)
    assert set(sent) == {"s", *filters} and sent["s"] != [words]
    return location


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("viewer", "url_name"),
    [
        ("attorney", "casework:case-list"),
        ("attorney", "casework:dashboard"),
        ("supervisor", "casework:case-list"),
        ("supervisor", "casework:workload"),
        ("intake_worker", "casework:case-list"),
    ],
)
def test_list_pages_use_the_same_number_of_queries_for_1_and_3_items(
    request, register_case, intake_worker, supervisor, attorney, court, viewer, url_name
):
    people = {"attorney": attorney, "supervisor": supervisor, "intake_worker": intake_worker}
    client = _client(people[viewer])
    args = {
        "register_case": register_case,
        "intake_worker": intake_worker,
        "supervisor": supervisor,
        "attorney": attorney,
        "court": court,
    }
    _make_cases(1, **args)
    client.get(reverse(url_name))  # warm up: the session learns the MFA check, caches fill
    one = _queries(client, reverse(url_name))

    _make_cases(2, start=1, **args)
    three = _queries(client, reverse(url_name))

    assert one == three


def test_triage_and_search_use_the_same_number_of_queries_for_1_and_3_items(register_case, intake_worker, supervisor):
    client = _client(supervisor)
    register_case(by=intake_worker, a_number="", given_names="Rosa", family_names="Demo")
    client.get(reverse("casework:triage"))
    results = searched(client, "demo")
    one = (_queries(client, reverse("casework:triage")), _queries(client, results))
    for name in ("Luz", "Mar"):
        register_case(by=intake_worker, a_number="", given_names=name, family_names="Demo")
    three = (_queries(client, reverse("casework:triage")), _queries(client, results))

    assert one == three


def test_triage_puts_the_most_urgent_first(register_case, intake_worker, supervisor, court):
    calm = register_case(by=intake_worker, a_number="", given_names="Calm", family_names="Demo")
    soon = register_case(by=intake_worker, a_number="", given_names="Soon", family_names="Demo")
    services.hearing_schedule(
        case=soon, kind="bond", starts_at=datetime.now(UTC) + timedelta(days=1), court=court, by=supervisor
    )
    medical = register_case(
        by=intake_worker, a_number="", given_names="Medical", family_names="Demo", flag_medical=True
    )
    removal = register_case(
        by=intake_worker, a_number="", given_names="Removal", family_names="Demo", flag_imminent_removal=True
    )

    page = _client(supervisor).get(reverse("casework:triage")).content.decode()

    order = sorted([removal, medical, soon, calm], key=lambda c: page.index(c.number))
    assert order == [removal, medical, soon, calm]


def test_case_list_search_filter_sort_and_paginate(register_case, intake_worker, supervisor, attorney, court):
    args = {
        "register_case": register_case,
        "intake_worker": intake_worker,
        "supervisor": supervisor,
        "attorney": attorney,
        "court": court,
    }
    cases = _make_cases(3, **args)
    services.custody_record_change(
        case=cases[0],
        custodian="released",
        release_basis="bond",
        facility=None,
        started_on=timezone.localdate(),
        by=attorney,
    )
    client = _client(attorney)
    url = reverse("casework:case-list")

    released = client.get(url, {"custody": "released"}).content.decode()
    assert cases[0].number in released and cases[1].number not in released
    detained = client.get(url, {"custody": "detained"}).content.decode()
    assert cases[0].number not in detained and cases[1].number in detained
    by_name = client.get(searched(client, "person1 demo", "casework:case-list")).content.decode()
    assert cases[1].number in by_name and cases[2].number not in by_name
    by_a_number = client.get(searched(client, "A-200-000-002", "casework:case-list")).content.decode()
    assert cases[2].number in by_a_number and cases[0].number not in by_a_number
    sorted_page = client.get(url, {"sort": "number"}).content.decode()
    assert sorted_page.index(cases[0].number) < sorted_page.index(cases[2].number)
    assert client.get(url, {"status": "nonsense"}).status_code == 200  # a bad filter is ignored, not a 500
    fragment = client.get(searched(client, "person1", "casework:case-list"), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="case-table">')
    assert cases[1].number in fragment and cases[0].number not in fragment


def test_attorney_list_never_shows_other_attorneys_cases(
    register_case, intake_worker, supervisor, attorney, other_attorney
):
    mine = register_case(by=intake_worker, a_number="", given_names="Mine", family_names="Demo")
    theirs = register_case(by=intake_worker, a_number="", given_names="Theirs", family_names="Demo")
    services.case_assign(case=mine, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    services.case_assign(case=theirs, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor)

    client = _client(attorney)
    page = client.get(searched(client, "theirs demo", "casework:case-list")).content.decode()
    full = client.get(reverse("casework:case-list")).content.decode()

    assert theirs.number not in page
    assert theirs.number not in full and mine.number in full


def test_dashboard_shows_hearings_deadlines_and_activity_for_my_cases(
    register_case, intake_worker, supervisor, attorney, court
):
    args = {
        "register_case": register_case,
        "intake_worker": intake_worker,
        "supervisor": supervisor,
        "attorney": attorney,
        "court": court,
    }
    (case,) = _make_cases(1, **args)
    services.deadline_add_manual(
        case=case, title="Overdue brief", due_on=timezone.localdate() - timedelta(days=2), by=attorney
    )
    services.deadline_add_manual(
        case=case, title="Far away", due_on=timezone.localdate() + timedelta(days=30), by=attorney
    )

    page = _client(attorney).get(reverse("casework:dashboard")).content.decode()

    assert "Master calendar" in page
    assert "Overdue brief" in page and "overdue" in page
    assert "Task 0" in page
    due_soon = page[page.index('id="deadlines"') : page.index('id="my-cases"')]
    assert "Overdue brief" in due_soon
    assert "Far away" not in due_soon
    assert "Registered at intake" in page


def test_workload_counts_per_attorney(register_case, intake_worker, supervisor, attorney, other_attorney, court):
    args = {
        "register_case": register_case,
        "intake_worker": intake_worker,
        "supervisor": supervisor,
        "attorney": attorney,
        "court": court,
    }
    cases = _make_cases(2, **args)
    services.deadline_add_manual(case=cases[0], title="Late", due_on=date(2020, 1, 1), by=attorney)

    caseload_recount()  # what the beat task does every few minutes (hearings and deadlines move with the clock)

    rows = {row.full_name: row.caseload for row in selectors.workload()}

    assert (rows[attorney.full_name].active_cases, rows[attorney.full_name].hearings_14_days) == (2, 2)
    assert rows[attorney.full_name].overdue_deadlines == 1
    assert rows[other_attorney.full_name].active_cases == 0


def test_search_finds_by_number_a_number_and_accent_free_name(register_case, intake_worker, supervisor):
    case = register_case(by=intake_worker)
    client = _client(supervisor)

    for q in [
        case.number,
        "012345678",
        "A-012-345-678",
        "a 12345678",
        "jose hernandez lopez",
        "HERNANDEZ, José",
        "Hernández-López",
    ]:
        assert case.number in client.get(searched(client, q)).content.decode(), q
    assert case.number not in client.get(searched(client, "Maria Garcia")).content.decode()


def test_search_is_only_for_supervisors(client_for, register_case, intake_worker):
    register_case(by=intake_worker)
    for role in (Role.ATTORNEY, Role.INTAKE, Role.FINANCE, Role.AUDITOR):
        assert client_for(role).post(reverse("casework:search"), {"q": "jose"}).status_code == 404
        assert client_for(role).get(reverse("casework:search")).status_code == 404


def test_other_supervisors_and_new_attorney_see_nothing_extra(register_case, intake_worker):
    register_case(by=intake_worker)
    newcomer = UserFactory(role=Role.ATTORNEY)

    assert "2026-" not in _client(newcomer).get(reverse("casework:case-list")).content.decode().split("<main")[1]


def _add_to_case(case, n, *, attorney, supervisor, court, start=0):
    """``n`` more of each thing a case page lists: hearings, deadlines, notes, documents, relief."""
    kinds = list(ReliefKind)
    for i in range(start, start + n):
        services.hearing_schedule(
            case=case, kind="master", starts_at=datetime.now(UTC) + timedelta(days=3 + i), court=court, by=supervisor
        )
        services.deadline_add_manual(
            case=case, title=f"Task {i}", due_on=timezone.localdate() + timedelta(days=5 + i), by=attorney
        )
        services.note_add(case=case, body=f"Called the family ({i}).", privileged=i % 2 == 0, by=attorney)
        services.document_upload(
            case=case,
            upload=SimpleUploadedFile(f"e{i}.pdf", minimal_pdf(), content_type="application/pdf"),
            kind=DocumentKind.EVIDENCE,
            title=f"Exhibit {i}",
            by=attorney,
        )
        services.relief_save(
            case=case, kind=kinds[i], status=ReliefStatus.PREPARING, filed_on=None, decided_on=None, by=attorney
        )


@pytest.mark.parametrize("viewer", ["attorney", "supervisor"])
def test_the_case_page_uses_the_same_number_of_queries_for_1_and_3_of_everything(
    assigned_case, attorney, supervisor, court, private_root, viewer
):
    client = _client({"attorney": attorney, "supervisor": supervisor}[viewer])
    url = reverse("casework:case-detail", args=[assigned_case.number])
    _add_to_case(assigned_case, 1, attorney=attorney, supervisor=supervisor, court=court)
    client.get(url)  # warm up
    one = _queries(client, url)

    _add_to_case(assigned_case, 2, start=1, attorney=attorney, supervisor=supervisor, court=court)
    three = _queries(client, url)

    assert one == three


def test_a_cases_link_is_what_reverse_gives_under_any_script_prefix(register_case, intake_worker):
    case = register_case(by=intake_worker)
    for number in (case.number, "2027-12345"):
        for prefix in ("/", "/amparo/"):
            set_script_prefix(prefix)
            try:
                assert Case(number=number).get_absolute_url() == reverse("casework:case-detail", args=[number])
            finally:
                set_script_prefix("/")
    assert Case(number="2027-12345").get_absolute_url() == "/cases/2027-12345/"
