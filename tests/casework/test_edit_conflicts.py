"""Two people editing the same record: the second save of a stale form is refused (409) with what
they typed kept and what changed named, never silently reverting the first (issue 11, item 1)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import services
from casework.models import Assignment, AssignmentRole, Case, Deadline, DetentionFacility, Hearing, ReliefKind
from tests.casework.pages import case_form, deadline_status, hearing_stamps, relief_change
from tests.factories import UserFactory
from tests.forms import once, version

pytestmark = pytest.mark.django_db

PHOENIX = ZoneInfo("America/Phoenix")
CONFLICT = "Someone else changed this record after you opened the form, so your changes were not saved."


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def co_counsel(assigned_case, supervisor, other_attorney) -> Client:
    services.case_assign(case=assigned_case, attorney=other_attorney, role=AssignmentRole.CO_COUNSEL, by=supervisor)
    return _client(other_attorney)


@pytest.fixture
def hearing(assigned_case, court, attorney) -> Hearing:
    return services.hearing_schedule(
        case=assigned_case,
        kind="individual",
        starts_at=datetime(2026, 9, 14, 9, 0, tzinfo=PHOENIX),
        court=court,
        medium="in_person",
        interpreter_language="Spanish",
        by=attorney,
    )


def _hearing_form(court, **changes):
    form = {
        "kind": "individual",
        "court": court.pk,
        "date": "2026-09-14",
        "time": "09:00",
        "judge": "",
        "medium": "in_person",
        "interpreter_language": "Spanish",
        "outcome-service": "oral",  # as the page shows it: the outcome form's default
    }
    return {**form, **changes}


# --- The scenario: a reschedule that was reverted --------------------------------------


def test_a_stale_hearing_form_does_not_revert_a_reschedule(lawyer, co_counsel, assigned_case, court, hearing):
    url = reverse("casework:hearing-edit", args=[assigned_case.number, hearing.pk])
    a_opened = hearing_stamps(lawyer, url, {})
    b_opened = hearing_stamps(co_counsel, url, {})

    a_saved = lawyer.post(url, {**_hearing_form(court, date="2027-01-15", judge="IJ Morales"), **a_opened})
    b_form = _hearing_form(court, medium="video", interpreter_language="Mam")
    b_stale = co_counsel.post(url, {**b_form, **b_opened})

    assert a_saved.status_code == 302
    assert b_stale.status_code == 409
    page = b_stale.content.decode()
    assert CONFLICT in page
    assert "Date is now “2027-01-15”" in page
    assert "Immigration judge is now “IJ Morales”" in page
    assert "Time (as the notice gives it) is now" not in page  # not changed by A: not reported
    assert 'value="Mam"' in page  # what B typed is kept
    hearing.refresh_from_db()
    assert hearing.local_start.date() == date(2027, 1, 15)
    assert (hearing.judge, hearing.interpreter_language, hearing.medium) == ("IJ Morales", "Spanish", "in_person")

    # B checks the page and saves it again as it stands: B's change goes in, A's stays.
    shown = b_stale.context["form"]
    assert shown.data["date"] == "2027-01-15" and shown.data["judge"] == "IJ Morales"
    again = co_counsel.post(url, {**b_form, **b_opened, **shown.data.dict()})

    assert again.status_code == 302
    hearing.refresh_from_db()
    assert hearing.local_start.date() == date(2027, 1, 15)
    assert (hearing.judge, hearing.interpreter_language, hearing.medium) == ("IJ Morales", "Mam", "video")


def test_saving_a_hearing_unchanged_does_not_block_the_other_editor(lawyer, co_counsel, assigned_case, court, hearing):
    url = reverse("casework:hearing-edit", args=[assigned_case.number, hearing.pk])
    a_opened, b_opened = hearing_stamps(lawyer, url, {}), hearing_stamps(co_counsel, url, {})

    a_saved = lawyer.post(url, {**_hearing_form(court), **a_opened})
    b_saved = co_counsel.post(url, {**_hearing_form(court, judge="IJ Morales"), **b_opened})

    assert (a_saved.status_code, b_saved.status_code) == (302, 302)
    hearing.refresh_from_db()
    assert hearing.judge == "IJ Morales"


def test_both_changing_the_same_hearing_field_keeps_what_the_second_typed(
    lawyer, co_counsel, assigned_case, court, hearing
):
    url = reverse("casework:hearing-edit", args=[assigned_case.number, hearing.pk])
    a_opened, b_opened = hearing_stamps(lawyer, url, {}), hearing_stamps(co_counsel, url, {})
    lawyer.post(url, {**_hearing_form(court, judge="IJ Morales"), **a_opened})

    b_stale = co_counsel.post(url, {**_hearing_form(court, judge="IJ Ortega"), **b_opened})

    assert b_stale.status_code == 409
    assert "Immigration judge is now “IJ Morales”" in b_stale.content.decode()
    assert b_stale.context["form"].data["judge"] == "IJ Ortega"
    assert Hearing.objects.get(pk=hearing.pk).judge == "IJ Morales"


# --- Case details: what the second person left alone takes the first person's values ------------

DETAILS = {
    "given_names": "José",
    "family_names": "Hernández-López",
    "a_number": "012345678",
    "date_of_birth": "1990-05-17",
    "country_of_birth": "Honduras",
    "languages": "Spanish",
    "proceeding_type": "removal",
    "detained_where": "",
}


def test_a_stale_details_form_shows_the_saved_values_where_it_was_left_alone(lawyer, co_counsel, assigned_case):
    url = reverse("casework:case-edit", args=[assigned_case.number])
    assert lawyer.post(url, version(lawyer, url, DETAILS)).status_code == 302  # the page as both will open it
    a_opened, b_opened = version(lawyer, url), version(co_counsel, url)

    a_changes = {"family_names": "Hernández López", "detained_where": "Tucson check-in"}
    b_changes = {"given_names": "José Luis", "family_names": "Hernandez-Lopez"}
    assert lawyer.post(url, {**DETAILS, **a_changes, **a_opened}).status_code == 302
    b_stale = co_counsel.post(url, {**DETAILS, **b_changes, **b_opened})

    assert b_stale.status_code == 409
    page = b_stale.content.decode()
    assert "Family names is now “Hernández López”" in page
    assert "Where detained is now “Tucson check-in”" in page
    assert "Given names is now" not in page  # not changed by A: not reported
    shown = b_stale.context["form"].data
    assert shown["detained_where"] == "Tucson check-in"  # B left it alone: A's saved value
    assert shown["family_names"] == "Hernandez-Lopez"  # B changed it too: what B typed
    assert shown["given_names"] == "José Luis"
    detainee = Case.objects.get(pk=assigned_case.pk).detainee
    assert (detainee.given_names, detainee.family_names) == ("José", "Hernández López")

    again = co_counsel.post(url, shown.dict())

    assert again.status_code == 302
    case = Case.objects.get(pk=assigned_case.pk)
    assert (case.detainee.given_names, case.detainee.family_names) == ("José Luis", "Hernandez-Lopez")
    assert case.detained_where == "Tucson check-in"


# --- Custody, deadlines, relief, assignment, closing --------------------------------------------


def test_a_stale_custody_form_does_not_undo_a_transfer(lawyer, co_counsel, assigned_case, facility):
    url = reverse("casework:custody-change", args=[assigned_case.number])
    moved_to = DetentionFacility.objects.filter(in_use=True).exclude(pk=facility.pk).order_by("code").first()
    today = timezone.localdate().isoformat()
    a_form = case_form(lawyer, assigned_case, "custody_form", {"custodian": "ice", "started_on": today})
    b_form = case_form(co_counsel, assigned_case, "custody_form", {"custodian": "ice", "started_on": today})

    a_saved = lawyer.post(url, {**a_form, "facility": moved_to.pk})
    b_stale = co_counsel.post(url, {**b_form, "facility": facility.pk})

    assert a_saved.status_code == 302
    assert b_stale.status_code == 409
    assert "Facility is now" in b_stale.content.decode()
    assert Case.objects.get(pk=assigned_case.pk).facility == moved_to


def test_a_stale_deadline_form_names_the_new_due_date(lawyer, co_counsel, assigned_case, attorney):
    deadline = services.deadline_add_manual(
        case=assigned_case, title="File I-589", due_on=date(2027, 2, 1), by=attorney
    )
    url = reverse("casework:deadline-edit", args=[assigned_case.number, deadline.pk])
    a_opened, b_opened = version(lawyer, url), version(co_counsel, url)

    lawyer.post(url, {"title": "File I-589", "due_on": "2027-02-15", **a_opened})
    b_stale = co_counsel.post(url, {"title": "File I-589 with evidence", "due_on": "2027-02-01", **b_opened})

    assert b_stale.status_code == 409
    page = b_stale.content.decode()
    assert "Due on is now “2027-02-15”" in page
    assert 'value="File I-589 with evidence"' in page
    deadline.refresh_from_db()
    assert (deadline.title, deadline.due_on) == ("File I-589", date(2027, 2, 15))

    again = co_counsel.post(url, b_stale.context["form"].data.dict())

    assert again.status_code == 302
    deadline.refresh_from_db()
    assert (deadline.title, deadline.due_on) == ("File I-589 with evidence", date(2027, 2, 15))


def test_a_deadline_status_change_does_not_block_editing_its_title(lawyer, co_counsel, assigned_case, attorney):
    deadline = services.deadline_add_manual(
        case=assigned_case, title="File I-589", due_on=date(2027, 2, 1), by=attorney
    )
    url = reverse("casework:deadline-edit", args=[assigned_case.number, deadline.pk])
    b_opened = version(co_counsel, url)

    status_url = reverse("casework:deadline-status", args=[assigned_case.number, deadline.pk])
    lawyer.post(status_url, deadline_status(lawyer, assigned_case, deadline.pk, "done"))
    b_saved = co_counsel.post(url, {"title": "File I-589 (filed)", "due_on": "2027-02-01", **b_opened})

    assert b_saved.status_code == 302
    deadline.refresh_from_db()
    assert (deadline.title, deadline.status) == ("File I-589 (filed)", "done")


def test_a_stale_status_button_does_not_turn_done_into_waived(lawyer, co_counsel, assigned_case, attorney):
    deadline = services.deadline_add_manual(
        case=assigned_case, title="File I-589", due_on=date(2027, 2, 1), by=attorney
    )
    url = reverse("casework:deadline-status", args=[assigned_case.number, deadline.pk])
    a_button = deadline_status(lawyer, assigned_case, deadline.pk, "done")
    b_button = deadline_status(co_counsel, assigned_case, deadline.pk, "waived")

    lawyer.post(url, a_button)
    repeated = lawyer.post(url, a_button)  # A's double click: the same change, nothing to refuse
    b_stale = co_counsel.post(url, b_button)

    assert repeated.status_code == 302
    assert b_stale.status_code == 409
    assert "is now Done" in b_stale.content.decode()
    assert Deadline.objects.get(pk=deadline.pk).status == "done"


def test_a_stale_relief_form_does_not_overwrite_a_grant(lawyer, co_counsel, assigned_case, attorney):
    services.relief_save(
        case=assigned_case, kind=ReliefKind.ASYLUM, status="filed", filed_on=None, decided_on=None, by=attorney
    )
    url = reverse("casework:relief-save", args=[assigned_case.number])
    a_form = relief_change(lawyer, assigned_case, "asylum", {"status": "granted", "decided_on": "2026-11-02"})
    b_form = relief_change(co_counsel, assigned_case, "asylum", {"status": "denied", "decided_on": "2026-11-02"})

    assert lawyer.post(url, a_form).status_code == 302
    b_stale = co_counsel.post(url, b_form)

    assert b_stale.status_code == 409
    assert "Status is now “Granted”" in b_stale.content.decode()
    assert assigned_case.relief.get(kind="asylum").status == "granted"


def test_concurrent_reassignments_do_not_silently_replace_each_other(assigned_case, supervisor, other_attorney):
    second_supervisor = UserFactory(role=Role.SUPERVISOR, full_name="Sol Supervisora")
    third = UserFactory(role=Role.ATTORNEY, full_name="Carla Tercera")
    first, second = _client(supervisor), _client(second_supervisor)
    url = reverse("casework:case-assign", args=[assigned_case.number])
    first_form = version(first, url, once({"attorney": other_attorney.pk, "role": "lead"}))
    second_form = version(second, url, once({"attorney": third.pk, "role": "lead"}))

    assert first.post(url, first_form).status_code == 302
    stale = second.post(url, second_form)

    assert stale.status_code == 409
    assert "Attorney is now “Beto Abogado”" in stale.content.decode()
    lead = Assignment.objects.get(case=assigned_case, role="lead", ended_at__isnull=True)
    assert lead.attorney == other_attorney

    again = second.post(url, {**second_form, **stale.context["form"].data.dict(), "attorney": third.pk})

    assert again.status_code == 302
    assert Assignment.objects.get(case=assigned_case, role="lead", ended_at__isnull=True).attorney == third


def test_closing_a_case_someone_just_closed_is_refused(lawyer, co_counsel, assigned_case):
    url = reverse("casework:case-close", args=[assigned_case.number])
    a_form, b_form = once({"reason": "relief_granted"}), once({"reason": "other", "note": "Client moved."})

    assert lawyer.post(url, a_form).status_code == 302
    late = co_counsel.post(url, b_form)

    assert late.status_code == 422
    assert "This case is already closed." in late.content.decode()
    assert Case.objects.get(pk=assigned_case.pk).close_reason == "relief_granted"
