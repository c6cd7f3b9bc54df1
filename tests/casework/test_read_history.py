"""Who read what: a case's readers and a staff member's reads, for supervisors and administrators.

Every row comes from the access log (views, downloads, exports), newest first; the pages are paginated,
filter by day (a day out of range is a form error, not a server error), and are logged themselves.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.roles import Role
from kernel.clock import fund_time_zone
from tests.factories import UserFactory
from tests.personas import ADMIN, ATTORNEY_ON_CASE, PERSONAS, SUPERVISOR, outcome, staff_page

pytestmark = pytest.mark.django_db

OVERSIGHT = {ADMIN, SUPERVISOR}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _event(user, action="view", object_type="case", object_ref="", at=None, detail="") -> AccessEvent:
    return AccessEvent.objects.create(
        user=user, action=action, object_type=object_type, object_ref=object_ref, detail=detail, at=at or timezone.now()
    )


def _local(day_offset: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour), tzinfo=fund_time_zone())


@pytest.mark.parametrize(
    ("name", "expected"),
    [("case-reads", staff_page(OVERSIGHT, 200, 405)), ("staff-reads", staff_page(OVERSIGHT, 200, 405))],
)
def test_read_histories_are_for_administrators_and_supervisors_only(personas, name, expected):
    kwargs = (
        {"number": personas.case.number} if name == "case-reads" else {"user_id": personas.user(ATTORNEY_ON_CASE).pk}
    )
    url = reverse(f"casework:{name}", kwargs=kwargs)

    seen = {}
    for persona in PERSONAS:
        client = personas.client(persona)
        seen[persona] = (outcome(client.get(url)), outcome(client.post(url, {})))

    assert seen == expected


def test_an_unknown_case_or_staff_member_is_404(client_for):
    client = client_for(Role.SUPERVISOR)

    assert client.get(reverse("casework:case-reads", args=["2099-99999"])).status_code == 404
    assert client.get(reverse("casework:staff-reads", args=[999_999])).status_code == 404


def test_a_cases_readers_newest_first_with_its_documents_and_payments(assigned_case, attorney, supervisor):
    number = assigned_case.number
    finance = UserFactory(role=Role.FINANCE, full_name="Fran Finanzas")
    outsider = UserFactory(role=Role.INTAKE, full_name="Iván Otro")
    _event(attorney, object_ref=number, at=_local(-2, 9))
    _event(
        attorney, action="download", object_type="document", object_ref=number, detail="document 5", at=_local(-1, 9)
    )
    _event(finance, object_type="disbursement", object_ref=f"{number} #3", at=_local(0, 0))
    _event(outsider, object_ref="2026-99998", at=_local(0, 1))  # another case
    _event(attorney, action="change", object_ref=number, detail="details edited", at=_local(0, 0))  # not a read

    response = _client(supervisor).get(reverse("casework:case-reads", args=[number]))

    page = response.content.decode()
    assert response.status_code == 200
    rows = [page.index(text) for text in (f"disbursement {number} #3", "document 5", f"case {number}")]
    assert rows == sorted(rows)
    assert "Fran Finanzas" in page and "Iván Otro" not in page
    assert "details edited" not in page
    assert "Hernández" not in page  # the person is not on this page; the case number is


def test_reading_a_cases_history_is_itself_logged(assigned_case, supervisor):
    _client(supervisor).get(reverse("casework:case-reads", args=[assigned_case.number]))

    event = AccessEvent.objects.get(object_type="case_reads")
    assert (event.user, event.action, event.object_ref) == (supervisor, "view", assigned_case.number)


def test_a_staff_members_reads_are_theirs_only_and_logged(attorney, other_attorney, client_for):
    _event(attorney, object_ref="2026-00011", at=_local(-1, 10))
    _event(attorney, action="export", object_type="report", object_ref="4", detail="fund_statement", at=_local(0, 0))
    _event(attorney, action="sign_in")
    _event(other_attorney, object_ref="2026-00012")
    admin = client_for(Role.ADMIN)

    page = admin.get(reverse("casework:staff-reads", args=[attorney.pk])).content.decode()

    assert "2026-00011" in page and "fund_statement" in page
    assert "2026-00012" not in page
    assert "signed in" not in page
    event = AccessEvent.objects.get(object_type="staff_reads")
    assert (event.user, event.object_ref) == (admin.user, attorney.email)


def test_reads_filter_by_local_days_both_included(attorney, supervisor):
    for offset, ref in [(-3, "2026-00001"), (-2, "2026-00002"), (-1, "2026-00003"), (0, "2026-00004")]:
        _event(attorney, object_ref=ref, at=_local(offset, 0))
    day = timezone.localdate()
    params = {"date_from": (day - timedelta(days=2)).isoformat(), "date_to": (day - timedelta(days=1)).isoformat()}

    page = _client(supervisor).get(reverse("casework:staff-reads", args=[attorney.pk]), params).content.decode()

    assert ("2026-00001" in page, "2026-00002" in page, "2026-00003" in page, "2026-00004" in page) == (
        False,
        True,
        True,
        False,
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "0001-01-01"}, "Choose a day between"),
        ({"date_to": "9999-12-31"}, "Choose a day between"),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, "Choose a day between"),
        ({"date_from": "2026-13-40"}, "Enter a valid date."),
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "The period must start on or before the day it ends."),
    ],
)
@pytest.mark.parametrize("name", ["case-reads", "staff-reads"])
def test_bad_days_are_a_form_error_not_a_server_error(assigned_case, attorney, supervisor, name, params, message):
    _event(attorney, object_ref=assigned_case.number)
    arg = assigned_case.number if name == "case-reads" else attorney.pk

    response = _client(supervisor).get(reverse(f"casework:{name}", args=[arg]), params)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert assigned_case.number in response.content.decode()  # shown unfiltered, with the error


def test_reads_are_paginated_fifty_a_page(attorney, supervisor):
    AccessEvent.objects.bulk_create(
        AccessEvent(user=attorney, action="view", object_type="case", object_ref=f"2026-{n:05d}") for n in range(1, 61)
    )
    client = _client(supervisor)
    url = reverse("casework:staff-reads", args=[attorney.pk])

    first, second = client.get(url).content.decode(), client.get(url, {"page": 2}).content.decode()

    assert first.count("<td>viewed</td>") == 50
    assert second.count("<td>viewed</td>") == 10
    assert "Page 2 of 2" in second


def test_read_history_costs_the_same_queries_for_one_reader_or_three(assigned_case, supervisor):
    client = _client(supervisor)
    url = reverse("casework:case-reads", args=[assigned_case.number])
    _event(UserFactory(role=Role.ATTORNEY), object_ref=assigned_case.number)
    client.get(url)  # the session's first request costs more
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    _event(UserFactory(role=Role.ATTORNEY), object_ref=assigned_case.number)
    _event(UserFactory(role=Role.FINANCE), object_ref=f"{assigned_case.number} #1", object_type="disbursement")
    with CaptureQueriesContext(connection) as three:
        client.get(url)

    assert len(three) == len(one)
