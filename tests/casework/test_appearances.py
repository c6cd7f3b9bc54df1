"""Appearances of record: who the court, the Board and DHS hold as counsel, and the filings a new lead owes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import services
from casework.models import Appearance, AppearanceForum, AssignmentRole, Deadline, DeadlineStatus
from tests.factories import UserFactory
from tests.forms import once

pytestmark = pytest.mark.django_db

# Friday 16 January 2026, noon in the fund's zone; Monday the 19th is Martin Luther King Jr. Day.
FRIDAY_BEFORE_A_HOLIDAY = datetime(2026, 1, 16, 18, 0, tzinfo=UTC)


@pytest.fixture
def friday(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: FRIDAY_BEFORE_A_HOLIDAY)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _appear(case, attorney, forum, by, filed_on=date(2026, 1, 5)):
    return services.appearance_record(case=case, attorney=attorney, forum=forum, filed_on=filed_on, by=by)


def test_the_case_page_shows_the_attorney_of_record_per_forum(assigned_case, attorney):
    response = _client(attorney).post(
        reverse("casework:appearance-record", args=[assigned_case.number]),
        once({"forum": "court", "attorney": attorney.pk, "filed_on": "2026-01-05"}),
    )

    assert response.status_code == 302
    appearance = Appearance.objects.get(case=assigned_case)
    assert (appearance.forum, appearance.attorney, appearance.filed_on) == ("court", attorney, date(2026, 1, 5))
    page = _client(attorney).get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()
    assert "Immigration court (Form EOIR-28)" in page
    assert "nobody has filed" in page  # the BIA and DHS
    assert "no longer on the case" not in page


def test_a_new_lead_gets_a_filing_task_for_each_forum_the_leaver_is_of_record(
    friday, assigned_case, attorney, other_attorney, supervisor
):
    _appear(assigned_case, attorney, AppearanceForum.COURT, attorney)
    _appear(assigned_case, attorney, AppearanceForum.DHS, attorney)

    services.case_assign(case=assigned_case, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor)

    tasks = list(Deadline.objects.filter(case=assigned_case).order_by("title"))
    assert [t.title for t in tasks] == [
        "File Form EOIR-28 for Beto Abogado with the immigration court",
        "File Form G-28 for Beto Abogado with DHS",
    ]
    # Friday → Monday is a federal holiday → Tuesday.
    assert {t.due_on for t in tasks} == {date(2026, 1, 20)}
    assert all(t.rule == "manual" for t in tasks)
    assert "remains of record" in tasks[0].explanation and "8 CFR 1003.17" in tasks[0].explanation
    assert "8 CFR 292.4(a)" in tasks[1].explanation
    page = _client(supervisor).get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()
    assert "no longer on the case: still of record until a new Form EOIR-28 is filed" in page


def test_recording_the_new_appearance_ends_the_old_one_and_completes_the_task(
    friday, assigned_case, attorney, other_attorney, supervisor
):
    old = _appear(assigned_case, attorney, AppearanceForum.COURT, attorney)
    services.case_assign(case=assigned_case, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor)

    new = _appear(assigned_case, other_attorney, AppearanceForum.COURT, other_attorney, filed_on=date(2026, 1, 16))

    old.refresh_from_db()
    assert old.ended_on == date(2026, 1, 16) and new.is_current
    assert Deadline.objects.get(case=assigned_case).status == DeadlineStatus.DONE
    assert list(Appearance.objects.filter(case=assigned_case, ended_on=None)) == [new]


def test_bulk_reassignment_creates_the_filing_tasks_on_every_case(friday, register_case, intake_worker, supervisor):
    leaver, taker = UserFactory(role=Role.ATTORNEY), UserFactory(role=Role.ATTORNEY, full_name="Carla Nueva")
    cases = [register_case(by=intake_worker, a_number="", given_names=f"P{n}") for n in range(2)]
    for case in cases:
        services.case_assign(case=case, attorney=leaver, role=AssignmentRole.LEAD, by=supervisor)
    _appear(cases[0], leaver, AppearanceForum.COURT, leaver)
    _appear(cases[1], leaver, AppearanceForum.BIA, leaver)

    moved = services.cases_bulk_reassign(from_attorney=leaver, to_attorneys=[taker], by=supervisor)

    assert moved == 2
    assert [Deadline.objects.get(case=case).title for case in cases] == [
        "File Form EOIR-28 for Carla Nueva with the immigration court",
        "File Form EOIR-27 for Carla Nueva with the BIA",
    ]


def test_an_attorney_still_on_the_case_stays_of_record_without_a_task(
    assigned_case, attorney, other_attorney, supervisor
):
    _appear(assigned_case, attorney, AppearanceForum.COURT, attorney)
    services.case_assign(case=assigned_case, attorney=attorney, role=AssignmentRole.CO_COUNSEL, by=supervisor)

    services.case_assign(case=assigned_case, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor)

    assert not Deadline.objects.filter(case=assigned_case).exists()


def test_a_second_change_of_lead_does_not_repeat_an_open_task(
    friday, assigned_case, attorney, other_attorney, supervisor
):
    _appear(assigned_case, attorney, AppearanceForum.COURT, attorney)
    services.case_assign(case=assigned_case, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor)

    services.case_assign(
        case=assigned_case, attorney=UserFactory(role=Role.ATTORNEY), role=AssignmentRole.LEAD, by=supervisor
    )

    assert Deadline.objects.filter(case=assigned_case).count() == 1


def test_appearances_are_refused_in_the_future_and_for_non_attorneys(assigned_case, attorney, intake_worker):
    with pytest.raises(ValidationError) as future:
        _appear(assigned_case, attorney, AppearanceForum.COURT, attorney, filed_on=date(2999, 1, 1))
    with pytest.raises(ValidationError) as not_attorney:
        _appear(assigned_case, intake_worker, AppearanceForum.COURT, attorney)

    assert "filed_on" in future.value.message_dict
    assert "attorney" in not_attorney.value.message_dict
    assert not Appearance.objects.exists()


def test_the_database_holds_one_current_appearance_per_forum(assigned_case, attorney, other_attorney):
    from django.db import IntegrityError, transaction

    _appear(assigned_case, attorney, AppearanceForum.COURT, attorney)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appearance.objects.create(
            case=assigned_case, attorney=other_attorney, forum="court", filed_on=date(2026, 1, 6), recorded_by=attorney
        )
