"""Minors: "minor at detention" from the date of birth, triage order, the unaccompanied-child determination,
ORR custody, the asylum year that does not apply, and age-out."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework import selectors, services
from casework.deadlines import Rule
from casework.models import (
    Case,
    Custodian,
    Deadline,
    DeadlineStatus,
    Detainee,
    UacDetermination,
    age_on,
    eighteenth_birthday,
)
from tests.casework.pages import case_form

pytestmark = pytest.mark.django_db


def _case(born: date | None, detained: date | None) -> Case:
    return Case(detainee=Detainee(date_of_birth=born), detained_on=detained, registered_at=timezone.now())


# --- Minor at detention -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "detained", "minor"),
    [
        (date(2010, 3, 15), date(2026, 3, 1), True),  # 15
        (date(2008, 3, 15), date(2026, 3, 14), True),  # the day before the 18th birthday
        (date(2008, 3, 15), date(2026, 3, 15), False),  # the 18th birthday itself
        (date(1990, 5, 17), date(2026, 3, 1), False),
        # Born on February 29: still 17 on February 28 of a common year, 18 on March 1.
        (date(2008, 2, 29), date(2026, 2, 28), True),
        (date(2008, 2, 29), date(2026, 3, 1), False),
    ],
)
def test_minor_at_detention_from_the_date_of_birth(born, detained, minor):
    assert _case(born, detained).minor_at_detention is minor
    assert (age_on(born, detained) < 18) is minor


def test_minor_at_detention_is_unknown_without_a_date_of_birth():
    assert _case(None, date(2026, 3, 1)).minor_at_detention is None


def test_without_a_detention_date_a_child_at_registration_was_a_child_when_detained():
    today = timezone.localdate()
    child = _case(today - timedelta(days=16 * 365), None)
    adult_now = _case(today - timedelta(days=18 * 365 + 30), None)

    assert child.minor_at_detention is True
    assert adult_now.minor_at_detention is None  # may have been 17 when detained: not known


def test_eighteenth_birthday_of_a_leap_day_birth_is_the_earlier_february_28():
    assert eighteenth_birthday(date(2008, 2, 29)) == date(2026, 2, 28)
    assert eighteenth_birthday(date(2008, 3, 15)) == date(2026, 3, 15)


def test_a_minor_is_flagged_everywhere_flags_show(lawyer, register_case, intake_worker, supervisor, attorney):
    today = timezone.localdate()
    case = register_case(by=intake_worker, date_of_birth=today - timedelta(days=16 * 365), detained_on=today)
    services.case_assign(case=case, attorney=attorney, role="lead", by=supervisor)

    case = Case.objects.select_related("detainee").get(pk=case.pk)
    assert case.urgent_flags[0] == "minor"
    page = lawyer.get(reverse("casework:case-detail", args=[case.number])).content.decode()
    assert "Minor at detention." in page
    assert "Record whether the child is unaccompanied" in page
    listed = lawyer.get(reverse("casework:case-list")).content.decode()
    assert '<span class="badge badge-danger">minor</span>' in listed


def test_triage_puts_minors_first(register_case, intake_worker, supervisor):
    today = timezone.localdate()
    imminent = register_case(by=intake_worker, a_number="", flag_imminent_removal=True, detained_on=today)
    adult = register_case(by=intake_worker, a_number="", given_names="Ana", detained_on=today)
    child = register_case(
        by=intake_worker,
        a_number="",
        given_names="Niño",
        date_of_birth=date(today.year - 15, 1, 10),
        detained_on=today,
    )
    no_birth_date = register_case(by=intake_worker, a_number="", given_names="Sin", date_of_birth=None)

    queue = list(selectors.triage_queue())

    assert queue[:2] == [child, imminent]
    assert set(queue[2:]) == {adult, no_birth_date}
    client = Client()
    client.force_login(supervisor)
    page = client.get(reverse("casework:triage")).content.decode()
    assert page.index(child.number) < page.index(imminent.number)


def test_a_claim_to_us_citizenship_comes_before_a_minor_in_triage(register_case, intake_worker, supervisor):
    today = timezone.localdate()
    child = register_case(
        by=intake_worker, a_number="", given_names="Niño", date_of_birth=date(today.year - 15, 1, 10), detained_on=today
    )
    citizen = register_case(by=intake_worker, a_number="", given_names="Ciudadano")
    services.relief_save(
        case=citizen, kind="citizenship_claim", status="considering", filed_on=None, decided_on=None, by=supervisor
    )

    assert list(selectors.triage_queue())[:2] == [citizen, child]


# --- The unaccompanied-child determination ---------------------------------------------------------


@pytest.fixture
def child_case(register_case, intake_worker, supervisor, attorney):
    """A 16-year-old detained on 2026-03-02 (a Monday), with an attorney."""
    case = register_case(by=intake_worker, date_of_birth=date(2009, 11, 20), detained_on=date(2026, 3, 2))
    services.case_assign(case=case, attorney=attorney, role="lead", by=supervisor)
    return Case.objects.select_related("detainee").get(pk=case.pk)


def test_a_child_whose_determination_is_missing_has_its_form_open_on_the_case_page(lawyer, child_case):
    page = lawyer.get(reverse("casework:case-detail", args=[child_case.number])).content.decode()

    assert re.search(r"<details open><summary>Unaccompanied-child determination</summary>\s*<form", page)


def test_unaccompanied_adds_the_hhs_notice_transfer_and_age_out_deadlines(lawyer, child_case):
    response = lawyer.post(
        reverse("casework:uac-determination", args=[child_case.number]),
        case_form(lawyer, child_case, "uac_form", {"determination": "unaccompanied", "determined_on": "2026-03-02"}),
    )

    assert response.status_code == 302
    deadlines = {d.rule: d for d in Deadline.objects.filter(case=child_case)}
    assert set(deadlines) == {Rule.UAC_HHS_NOTICE, Rule.UAC_TRANSFER, Rule.AGE_OUT}
    notice, transfer, age_out = (deadlines[r] for r in (Rule.UAC_HHS_NOTICE, Rule.UAC_TRANSFER, Rule.AGE_OUT))
    # 48 and 72 hours from Monday 2 March: the last whole days inside them are 3 and 4 March.
    assert (notice.source_date, notice.due_on) == (date(2026, 3, 2), date(2026, 3, 3))
    assert (transfer.source_date, transfer.due_on) == (date(2026, 3, 2), date(2026, 3, 4))
    assert "8 U.S.C. 1232(b)(2)" in notice.explanation and "8 U.S.C. 1232(b)(3)" in transfer.explanation
    assert (age_out.source_date, age_out.due_on) == (date(2009, 11, 20), date(2027, 11, 20))
    assert "8 U.S.C. 1232(c)(2)(B)" in age_out.explanation
    child_case.refresh_from_db()
    assert (child_case.uac_determination, child_case.uac_determined_on) == ("unaccompanied", date(2026, 3, 2))
    assert child_case.urgent_flags[0] == "unaccompanied child"
    assert not child_case.asylum_one_year_applies


def test_recording_unaccompanied_twice_does_not_duplicate_deadlines(child_case, attorney):
    for _ in range(2):
        services.case_record_uac_determination(
            case=child_case, determination=UacDetermination.UNACCOMPANIED, determined_on=date(2026, 3, 2), by=attorney
        )

    assert Deadline.objects.filter(case=child_case).count() == 3


def test_unaccompanied_waives_an_open_asylum_one_year_deadline(child_case, attorney):
    asylum = services.deadline_add_from_rule(
        case=child_case, rule=Rule.ASYLUM_ONE_YEAR, source_date=date(2026, 2, 27), by=attorney
    )

    services.case_record_uac_determination(
        case=child_case, determination=UacDetermination.UNACCOMPANIED, determined_on=date(2026, 3, 2), by=attorney
    )

    asylum.refresh_from_db()
    assert asylum.status == DeadlineStatus.WAIVED
    assert asylum.explanation.endswith(
        "The one-year deadline does not apply to an unaccompanied child (INA 208(a)(2)(E))."
    )


def test_unaccompanied_needs_a_date_and_a_person_under_18(child_case, register_case, intake_worker, attorney):
    with pytest.raises(ValidationError) as no_date:
        services.case_record_uac_determination(
            case=child_case, determination=UacDetermination.UNACCOMPANIED, determined_on=None, by=attorney
        )
    adult = register_case(by=intake_worker, a_number="", date_of_birth=date(1990, 5, 17))
    with pytest.raises(ValidationError) as too_old:
        services.case_record_uac_determination(
            case=adult, determination=UacDetermination.UNACCOMPANIED, determined_on=date(2026, 3, 2), by=attorney
        )

    assert "determined_on" in no_date.value.message_dict
    assert "determination" in too_old.value.message_dict
    assert not Deadline.objects.exists()


def test_transfer_to_orr_meets_the_notice_and_transfer_deadlines(child_case, attorney):
    services.case_record_uac_determination(
        case=child_case, determination=UacDetermination.UNACCOMPANIED, determined_on=date(2026, 3, 2), by=attorney
    )

    services.custody_record_change(
        case=child_case, custodian=Custodian.ORR, facility=None, started_on=date(2026, 3, 4), by=attorney
    )

    child_case.refresh_from_db()
    assert child_case.custodian == Custodian.ORR and child_case.is_detained and child_case.facility is None
    statuses = dict(Deadline.objects.filter(case=child_case).values_list("rule", "status"))
    assert statuses == {Rule.UAC_HHS_NOTICE: "done", Rule.UAC_TRANSFER: "done", Rule.AGE_OUT: "open"}


def test_case_page_shows_age_out_for_a_child_in_orr_custody(lawyer, child_case, attorney):
    services.case_record_uac_determination(
        case=child_case, determination=UacDetermination.UNACCOMPANIED, determined_on=date(2026, 3, 2), by=attorney
    )
    services.custody_record_change(
        case=child_case, custodian=Custodian.ORR, facility=None, started_on=date(2026, 3, 4), by=attorney
    )

    page = lawyer.get(reverse("casework:case-detail", args=[child_case.number])).content.decode()

    assert "Unaccompanied child." in page
    assert "ORR custody (unaccompanied child)" in page
    assert eighteenth_birthday(date(2009, 11, 20)) == date(2027, 11, 20)
    if timezone.localdate() < date(2027, 11, 20):
        assert "Turns 18 on" in page and "custody ends then" in page


def test_changing_the_determination_away_waives_the_child_deadlines(child_case, attorney):
    services.case_record_uac_determination(
        case=child_case, determination=UacDetermination.UNACCOMPANIED, determined_on=date(2026, 3, 2), by=attorney
    )

    services.case_record_uac_determination(
        case=child_case, determination=UacDetermination.ACCOMPANIED, determined_on=date(2026, 3, 3), by=attorney
    )

    assert set(Deadline.objects.filter(case=child_case).values_list("status", flat=True)) == {"waived"}
    child_case.refresh_from_db()
    assert child_case.asylum_one_year_applies
