"""The supervisors' workload page reads counts kept ahead of time (``casework.services.workload``).

Active cases and cases as lead are exact as soon as an assignment change commits, without any
recount; hearings in the next 14 days and overdue deadlines come from the beat task's recount.
Whatever happened, a recount of everyone gives the same numbers as counting from scratch.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.services import staff_deactivate
from casework import selectors, services, tasks
from casework.models import Assignment, AssignmentRole, Caseload, CaseStatus, CloseReason
from casework.services.workload import caseload_recount
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def load(user) -> tuple[int, int]:
    row = Caseload.objects.get(attorney=user)
    return row.active_cases, row.lead_cases


def from_scratch() -> dict[int, tuple[int, int]]:
    """Active cases and cases as lead per attorney, counted the slow way from the assignments."""
    counts: dict[int, list[int]] = {}
    for a in Assignment.objects.filter(ended_at__isnull=True).exclude(case__status=CaseStatus.CLOSED):
        row = counts.setdefault(a.attorney_id, [0, 0])
        row[0] += 1
        row[1] += a.role == AssignmentRole.LEAD
    return {pk: (n, lead) for pk, (n, lead) in counts.items()}


def test_assigning_ending_closing_and_reopening_keep_the_counts_exact_without_a_recount(
    register_case, intake_worker, supervisor, attorney, other_attorney
):
    first = register_case(by=intake_worker)
    second = register_case(by=intake_worker, a_number="", given_names="Ana", family_names="Ruiz")

    services.case_assign(case=first, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    services.case_assign(case=second, attorney=attorney, role=AssignmentRole.CO_COUNSEL, by=supervisor)
    assert load(attorney) == (2, 1)

    services.case_assign(case=first, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor)
    assert (load(attorney), load(other_attorney)) == ((1, 0), (1, 1))  # the old lead lost it at once

    services.case_close(case=first, reason=CloseReason.DUPLICATE, note="", by=supervisor)
    assert load(other_attorney) == (0, 0)
    services.case_reopen(case=first, by=supervisor)
    assert load(other_attorney) == (1, 1)

    services.assignment_end(assignment=Assignment.objects.get(case=second, ended_at__isnull=True), by=supervisor)
    assert load(attorney) == (0, 0)


def test_an_attorney_counted_for_the_first_time_during_a_role_change_is_counted_once(
    assigned_case, supervisor, attorney
):
    Caseload.objects.filter(attorney=attorney).delete()  # e.g. before the first recount after an upgrade

    services.case_assign(case=assigned_case, attorney=attorney, role=AssignmentRole.CO_COUNSEL, by=supervisor)

    assert load(attorney) == (1, 0)


def test_a_bulk_reassignment_moves_the_counts_for_everyone(
    register_case, intake_worker, supervisor, attorney, other_attorney
):
    third = UserFactory(role=Role.ATTORNEY)
    for n in range(4):
        case = register_case(by=intake_worker, a_number="", given_names=f"P{n}", family_names="Bulk")
        services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)

    services.cases_bulk_reassign(from_attorney=attorney, to_attorneys=[other_attorney, third], by=supervisor)

    assert (load(attorney), load(other_attorney), load(third)) == ((0, 0), (2, 2), (2, 2))


def test_hearings_and_overdue_deadlines_come_with_the_recount_and_the_page_says_when(
    assigned_case, supervisor, attorney, court
):
    services.hearing_schedule(
        case=assigned_case,
        kind="master",
        starts_at=timezone.now() + timedelta(days=3),
        court=court,
        by=attorney,
    )
    services.deadline_add_manual(case=assigned_case, title="Late brief", due_on=date(2020, 1, 1), by=attorney)
    assert Caseload.objects.get(attorney=attorney).overdue_deadlines == 0  # not yet recounted

    assert tasks.caseload_recount() >= 2  # the beat task: every attorney and supervisor

    row = Caseload.objects.get(attorney=attorney)
    assert (row.active_cases, row.lead_cases, row.hearings_14_days, row.overdue_deadlines) == (1, 1, 1, 1)
    client = Client()
    client.force_login(supervisor)
    page = client.get(reverse("casework:workload")).content.decode()
    counted = page[page.index('id="counted"') :]
    assert "as counted at" in counted and timezone.localtime(row.counted_at).strftime("%Z") in counted


def test_a_leaver_stays_listed_while_they_hold_cases_and_a_newcomer_shows_as_not_counted(
    assigned_case, supervisor, attorney
):
    staff_deactivate(user=attorney, by=supervisor)
    newcomer = UserFactory(role=Role.ATTORNEY, full_name="Nuevo Abogado")
    Caseload.objects.filter(attorney=newcomer).delete()

    rows = {row.pk: row for row in selectors.workload()}

    assert attorney.pk in rows and not rows[attorney.pk].is_active
    assert newcomer.pk in rows
    client = Client()
    client.force_login(supervisor)
    page = client.get(reverse("casework:workload")).content.decode()
    assert "left — move their cases" in page and "not counted yet" in page


def test_after_any_mix_of_changes_a_recount_matches_counting_from_scratch(register_case, intake_worker, supervisor):
    rng = random.Random(12)
    lawyers = [UserFactory(role=Role.ATTORNEY) for _ in range(4)]
    cases = [register_case(by=intake_worker, a_number="", given_names=f"R{n}", family_names="Mix") for n in range(6)]
    done = set()
    for _ in range(40):
        case = rng.choice(cases)
        case.refresh_from_db()
        action = rng.choice(["lead", "co", "end", "close"])
        on_case = list(Assignment.objects.filter(case=case, ended_at__isnull=True))
        try:
            if action in ("lead", "co") and case.is_open:
                role = AssignmentRole.LEAD if action == "lead" else AssignmentRole.CO_COUNSEL
                services.case_assign(case=case, attorney=rng.choice(lawyers), role=role, by=supervisor)
            elif action == "end" and on_case:
                services.assignment_end(assignment=rng.choice(on_case), by=supervisor)
            elif action == "close":
                if case.is_open:
                    services.case_close(case=case, reason=CloseReason.DUPLICATE, note="", by=supervisor)
                else:
                    services.case_reopen(case=case, by=supervisor)
            else:
                continue
        except Exception as exc:  # noqa: BLE001 - a refused change (same attorney, same role) changes nothing
            assert exc.__class__.__name__ == "ValidationError", exc
            continue
        done.add(action)
    kept = {row.attorney_id: (row.active_cases, row.lead_cases) for row in Caseload.objects.all()}

    caseload_recount()

    recounted = {row.attorney_id: (row.active_cases, row.lead_cases) for row in Caseload.objects.all()}
    expected = from_scratch()
    assert done == {"lead", "co", "end", "close"}  # every kind of change really ran
    assert {pk: kept[pk] for pk in expected} == expected  # the running counts were already right
    assert {pk: recounted[pk] for pk in expected} == expected
    assert all(kept.get(pk, (0, 0)) == (0, 0) for pk in recounted.keys() - expected.keys())


def test_the_workload_page_costs_the_same_queries_for_3_and_30_attorneys(
    django_assert_num_queries, supervisor, register_case, intake_worker
):
    client = Client()
    client.force_login(supervisor)
    url = reverse("casework:workload")

    def queries_for_page() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.get(url)  # warm: sessions, caches
        with CaptureQueriesContext(connection) as seen:
            assert client.get(url).status_code == 200
        return len(seen.captured_queries)

    for _ in range(3):
        UserFactory(role=Role.ATTORNEY)
    caseload_recount()
    few = queries_for_page()
    for _ in range(27):
        UserFactory(role=Role.ATTORNEY)
    caseload_recount()

    assert queries_for_page() == few
