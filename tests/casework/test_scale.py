"""The casework pages stay fast at a million cases: paged by keyset, searched through indexes.

* The case list is paged by keyset (``kernel.pagination``): following "Older" from the first page
  to the end shows every case once, in order, each page with the same number of queries, and
  no page counts the cases or skips rows with ``OFFSET``.
* Every statement of the hot pages (case list, its later pages, search by case number, A-number
  and name, triage, workload, dashboard, case page, the live duplicate check) is explained on
  PostgreSQL with sequential scans switched off: a ``Seq Scan`` of a big table left in a plan then
  means that no index can serve the statement, which at a million rows is a scan of them all.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html import unescape
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework import services
from casework.identity import format_a_number
from casework.models import AssignmentRole, Case, Caseload
from casework.permissions import cases_visible_to
from tests.casework.test_lists import searched
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The tables that grow with the cases (and the access log, written by every case page).
BIG_TABLES = (
    "casework_case",
    "casework_detainee",
    "casework_detaineenamekey",
    "casework_detaineeanumberkey",
    "casework_familycontact",
    "casework_assignment",
    "casework_caseuserobjectpermission",
    "casework_hearing",
    "casework_deadline",
    "casework_caseevent",
    "casework_note",
    "casework_custodyperiod",
    "accounts_accessevent",
    "funds_transaction",  # and the money (tests/reports/test_scale.py)
    "funds_posting",
    "funds_donation",
    "funds_donor",
    "funds_disbursement",
)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def older_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', page)
    return unescape(found.group(1)) if found else None


def numbers_on(page: str) -> list[str]:
    return re.findall(r">(\d{4}-\d{5})</a>", page)


@pytest.fixture
def many_cases(register_case, intake_worker, supervisor, attorney):
    """60 cases registered a minute apart (newest last), every other one led by ``attorney``."""
    start = timezone.now() - timedelta(days=1)
    cases = []
    for n in range(60):
        case = register_case(
            by=intake_worker,
            a_number=f"{300000000 + n}",
            given_names=f"Persona{n}",
            date_of_birth=date(1990, 1, 1) + timedelta(days=n),
        )
        Case.objects.filter(pk=case.pk).update(registered_at=start + timedelta(minutes=n))
        if n % 2 == 0:
            services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
        cases.append(case)
    return cases


def test_following_older_from_the_first_page_shows_every_case_once_newest_first(many_cases, supervisor):
    client = client_of(supervisor)
    url = reverse("casework:case-list")
    seen: list[str] = []
    pages = 0
    while url:
        page = client.get(url).content.decode()
        assert "Page " not in page  # no "page 3 of 812": nothing counts every case
        seen += numbers_on(page)
        pages += 1
        link = older_link(page)
        url = f"{reverse('casework:case-list')}{link}" if link else ""

    assert pages == 3  # 25 + 25 + 10
    assert seen == [case.number for case in reversed(many_cases)]


def test_the_filters_survive_the_page_links_and_an_attorney_pages_through_their_own_cases(many_cases, attorney):
    client = client_of(attorney)
    base = reverse("casework:case-list")
    first = client.get(base, {"status": "active"}).content.decode()
    link = older_link(first)
    assert link is not None and "status=active" in link

    second = client.get(f"{base}{link}").content.decode()

    mine = [case.number for case in reversed(many_cases[::2])]
    assert numbers_on(first) + numbers_on(second) == mine  # 30 cases: 25, then 5
    assert older_link(second) is None


def test_a_cursor_that_cannot_be_read_shows_the_first_page(many_cases, supervisor):
    client = client_of(supervisor)
    response = client.get(reverse("casework:case-list"), {"after": "not-a-cursor%%"})

    assert response.status_code == 200
    assert numbers_on(response.content.decode())[0] == many_cases[-1].number


def test_a_later_page_costs_the_queries_of_the_first(many_cases, supervisor):
    client = client_of(supervisor)
    url = reverse("casework:case-list")
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        page = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as later:
        client.get(f"{url}{older_link(page)}")

    assert len(later.captured_queries) == len(first.captured_queries)
    for statement in [q["sql"] for q in first.captured_queries + later.captured_queries]:
        assert " OFFSET " not in statement
        assert not re.search(r'COUNT\(\*\).*FROM "casework_case"', statement), statement


# Plan nodes that read their whole input before returning a first row (an incremental sort does not:
# it sorts one group of its presorted input at a time).
BLOCKING = {"Sort", "Aggregate", "Hash", "Materialize", "Unique", "SetOp", "WindowAgg"}


def full_reads(node: dict, *, limited: bool = False) -> list[str]:
    """The nodes of a JSON plan that read a big table whole: a sequential scan, or an index scan
    with no condition (a walk of the whole index) unless a ``Limit`` above it stops the walk
    (a keyset page reads its sort index from the cursor on, for one page)."""
    found = []
    table = node.get("Relation Name", "")
    if table in BIG_TABLES:
        if node["Node Type"] == "Seq Scan":
            found.append(f"Seq Scan on {table}")
        elif "Index" in node["Node Type"] and "Index Cond" not in node and not limited:
            found.append(f"{node['Node Type']} of all {table} ({node.get('Index Name')})")
    if node["Node Type"] == "Limit":
        limited = True
    elif node["Node Type"] in BLOCKING:  # reads all its input before giving the Limit a row
        limited = False
    for child in node.get("Plans", []):
        found += full_reads(child, limited=limited)
    return found


def seq_scans_of_big_tables(statements: list[str]) -> list[str]:
    """Each statement planned with sequential scans disabled, and what in it still reads a big table whole.

    A partial index (``WHERE …`` in its definition: the triage queue's) holds only the rows it is
    for, so reading it all is not reading the table."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '% WHERE %'")
        partial = {row[0] for row in cursor.fetchall()}
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            found += [
                f"{what}: {sql[:300]} … {sql[-600:]}"
                for what in full_reads(plan[0]["Plan"])
                if not any(f"({name})" in what for name in partial)
            ]
    return found


# The seeded size of the plan test: big enough that PostgreSQL plans as it does at a million cases
# (an index walk or a scan of a few dozen rows costs nothing, and it would pick those), quick to load;
# many attorneys, so that one attorney's cases are as small a part of all as in a large network.
SEEDED = {"cases": 5000, "attorneys": 200, "access_events": 20000, "donations": 400, "check": 20, "seed": 7}


@pytest.fixture
def seeded_network(settings):
    """A network loaded by ``seed_scale`` (as bench/ loads a million cases), with fresh statistics."""
    settings.DEBUG = True  # seed_scale's own guard: it makes accounts with a published password
    call_command("seed_scale", stdout=StringIO(), force=True, **SEEDED)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_no_hot_casework_page_reads_a_big_table_in_full(seeded_network):
    supervisor = User.objects.filter(groups__name=Role.SUPERVISOR).order_by("pk").first()
    intake_worker = User.objects.filter(groups__name=Role.INTAKE).order_by("pk").first()
    attorney = User.objects.get(pk=Caseload.objects.order_by("-active_cases").values_list("attorney", flat=True)[0])
    case = cases_visible_to(attorney).filter(status="active").select_related("detainee").first()
    person = case.detainee
    boss, lawyer, intake = client_of(supervisor), client_of(attorney), client_of(intake_worker)
    first = boss.get(reverse("casework:case-list")).content.decode()
    visits = [
        (boss, reverse("casework:case-list"), None),
        (boss, f"{reverse('casework:case-list')}{older_link(first)}", None),
        (boss, f"{reverse('casework:case-list')}?last=1", None),
        (boss, f"{reverse('casework:case-list')}?status=active&custody=detained", None),
        (boss, searched(boss, case.number), None),
        (boss, searched(boss, format_a_number(person.a_number)), None) if person.a_number else None,
        (boss, searched(boss, f"{person.given_names} {person.family_names}"), None),
        (lawyer, searched(lawyer, person.family_names, "casework:case-list"), None),
        (lawyer, reverse("casework:case-list"), None),
        (boss, reverse("casework:triage"), None),
        (boss, reverse("casework:workload"), None),
        (lawyer, reverse("casework:dashboard"), None),
        (lawyer, reverse("casework:case-detail", args=[case.number]), None),
        (
            intake,
            reverse("casework:intake-check"),
            {
                "given_names": person.given_names,
                "family_names": person.family_names,
                "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
            },
        ),
    ]
    statements = []
    for client, url, posted in filter(None, visits):
        with CaptureQueriesContext(connection) as seen:
            response = client.post(url, posted, HTTP_HX_REQUEST="true") if posted else client.get(url)
        assert response.status_code == 200, url
        statements += [q["sql"] for q in seen.captured_queries]
    assert case.number in boss.get(searched(boss, case.number)).content.decode()  # the searches do find

    assert len(statements) > 80  # every page's statements were captured
    found = seq_scans_of_big_tables(statements)
    assert not found, "\n".join(found)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_check_finds_a_statement_no_index_serves(many_cases):
    """The check itself: a filter on an unindexed column of a big table is reported."""
    with CaptureQueriesContext(connection) as seen:
        list(Case.objects.filter(close_note="x"))

    assert seq_scans_of_big_tables([q["sql"] for q in seen.captured_queries]) != []


def test_workload_lists_attorneys_a_hundred_to_a_page(supervisor):
    for n in range(105):
        UserFactory(role=Role.ATTORNEY, full_name=f"Abogada {n:03d}")
    client = client_of(supervisor)

    first = client.get(reverse("casework:workload")).content.decode()
    second = client.get(reverse("casework:workload"), {"page": 2}).content.decode()

    assert first.count("Abogada ") == 100 and "Abogada 099" in first
    assert "Abogada 100" in second and "Abogada 104" in second


def test_the_last_page_is_the_oldest_cases_and_newer_walks_back(many_cases, supervisor):
    client = client_of(supervisor)
    base = reverse("casework:case-list")
    first = client.get(base).content.decode()
    last_link = re.search(r'<a href="([^"]+)">Oldest</a>', first)
    assert last_link is not None

    last = client.get(f"{base}{unescape(last_link.group(1))}").content.decode()
    newer = re.search(r'<a href="([^"]+)" rel="prev">', last)
    middle = client.get(f"{base}{unescape(newer.group(1))}").content.decode()

    assert numbers_on(last) == [case.number for case in reversed(many_cases[:25])]
    assert older_link(last) is None and "Oldest</a>" not in last
    assert numbers_on(middle) == [case.number for case in reversed(many_cases[25:50])]


@pytest.mark.parametrize("walked", [True, False])
def test_sorted_by_next_hearing_every_case_comes_once_soonest_first_then_the_rest_by_number(
    many_cases, supervisor, court, monkeypatch, walked
):
    """Walked from the hearings (many cases) or sorted whole (a few): the same order, page by page."""
    monkeypatch.setattr("casework.views.cases.SORTED_WHOLE", 0 if walked else 10_000)
    now = timezone.now()
    soon = {}
    for n, case in enumerate(many_cases[5:45]):  # 40 cases with hearings, some with two
        first = now + timedelta(days=40 - n, hours=1)
        services.hearing_schedule(case=case, kind="master", starts_at=first, court=court, by=supervisor)
        if n % 3 == 0:
            services.hearing_schedule(
                case=case, kind="individual", starts_at=first + timedelta(days=90), court=court, by=supervisor
            )
        soon[case.number] = first
    services.hearing_schedule(  # a past hearing is nobody's next
        case=many_cases[0], kind="master", starts_at=now - timedelta(days=3), court=court, by=supervisor
    )
    client = client_of(supervisor)
    base = reverse("casework:case-list")
    url, seen = f"{base}?sort=next_hearing", []
    while url:
        page = client.get(url).content.decode()
        seen += numbers_on(page)
        link = older_link(page)
        url = f"{base}{link}" if link else ""

    with_hearing = sorted(soon, key=soon.get)
    without = sorted(case.number for case in many_cases if case.number not in soon)
    assert seen == with_hearing + without
