"""The attorney's day: the case page and what is done on it."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework import services
from casework.models import (
    CaseEvent,
    CaseStatus,
    CustodyPeriod,
    Deadline,
    DeadlineStatus,
    DetentionFacility,
    Hearing,
    Note,
    Relief,
)
from tests.casework.pages import deadline_status, hearing_stamps, relief_change
from tests.forms import once, version

pytestmark = pytest.mark.django_db


def _detail(client, case) -> str:
    return client.get(reverse("casework:case-detail", args=[case.number])).content.decode()


def test_case_page_shows_person_contacts_custody_and_attorneys(lawyer, assigned_case, attorney):
    page = _detail(lawyer, assigned_case)

    for text in [
        "José Hernández-López",
        "A-012-345-678",
        "María López",
        "(sister)",
        attorney.full_name,
        "Lead attorney",
    ]:
        assert text in page


def _custody(client, case, data):
    return version(client, reverse("casework:custody-change", args=[case.number]), once(data))


def test_transfer_between_facilities_keeps_the_custody_history(lawyer, assigned_case, facility):
    new_facility = DetentionFacility.objects.exclude(pk=facility.pk).order_by("code").first()
    today = timezone.localdate()

    response = lawyer.post(
        reverse("casework:custody-change", args=[assigned_case.number]),
        _custody(
            lawyer, assigned_case, {"custodian": "ice", "facility": new_facility.pk, "started_on": today.isoformat()}
        ),
    )

    assert response.status_code == 302
    periods = list(CustodyPeriod.objects.filter(case=assigned_case).order_by("started_on", "id"))
    assert [p.facility for p in periods] == [facility, new_facility]
    assert periods[0].ended_on == today and periods[1].ended_on is None
    assigned_case.refresh_from_db()
    assert assigned_case.facility == new_facility
    assert new_facility.name in _detail(lawyer, assigned_case)


def test_release_on_bond_clears_the_facility(lawyer, assigned_case):
    lawyer.post(
        reverse("casework:custody-change", args=[assigned_case.number]),
        _custody(
            lawyer,
            assigned_case,
            {"custodian": "released", "release_basis": "bond", "started_on": timezone.localdate().isoformat()},
        ),
    )

    assigned_case.refresh_from_db()
    assert (assigned_case.custodian, assigned_case.release_basis) == ("released", "bond")
    assert assigned_case.facility is None
    assert not assigned_case.is_detained


def test_custody_change_in_the_future_is_refused(lawyer, assigned_case):
    response = lawyer.post(
        reverse("casework:custody-change", args=[assigned_case.number]),
        _custody(
            lawyer,
            assigned_case,
            {
                "custodian": "released",
                "release_basis": "bond",
                "started_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
            },
        ),
    )

    assert response.status_code == 422
    assert "Record a change once it has happened." in response.content.decode()


def test_hearing_time_is_entered_and_shown_in_the_court_time_zone(lawyer, assigned_case, court):
    response = lawyer.post(
        reverse("casework:hearing-new", args=[assigned_case.number]),
        once(
            {
                "kind": "individual",
                "court": court.pk,
                "date": "2027-01-12",
                "time": "08:30",
                "judge": "IJ Example",
                "medium": "video",
                "interpreter_language": "Spanish",
            }
        ),
    )

    assert response.status_code == 302
    hearing = Hearing.objects.get(case=assigned_case)
    # Eloy is in Arizona: 08:30 MST is 15:30 UTC.
    assert hearing.starts_at == datetime(2027, 1, 12, 15, 30, tzinfo=UTC)
    assert hearing.local_start.tzinfo == ZoneInfo("America/Phoenix")
    page = _detail(lawyer, assigned_case)
    assert "Tue 12 Jan 2027, 08:30" in page
    assert "MST" in page


def test_an_immigration_judge_decision_adds_the_bia_appeal_deadline(lawyer, assigned_case, court, attorney):
    hearing = services.hearing_schedule(
        case=assigned_case,
        kind="individual",
        starts_at=datetime(2026, 3, 5, 9, 0, tzinfo=ZoneInfo("America/Phoenix")),
        court=court,
        by=attorney,
    )

    url = reverse("casework:hearing-edit", args=[assigned_case.number, hearing.pk])
    form = {
        "kind": "individual",
        "court": court.pk,
        "date": "2026-03-05",
        "time": "09:00",
        "medium": "in_person",
        "outcome-outcome": "relief_denied",
        "outcome-service": "oral",
        "outcome-appeal": "reserved",
    }
    response = lawyer.post(url, hearing_stamps(lawyer, url, form))

    assert response.status_code == 302
    deadline = Deadline.objects.get(case=assigned_case)
    # 30 days after 5 March 2026 is Saturday 4 April: moved to Monday 6 April.
    assert deadline.due_on == date(2026, 4, 6)
    assert deadline.rule == "bia_appeal"
    assert deadline.hearing == hearing
    assert deadline.decision == hearing.decision
    assert "8 CFR 1003.38" in deadline.explanation
    # Saving the same outcome again does not add a second deadline.
    again = lawyer.post(url, hearing_stamps(lawyer, url, form))
    assert again.status_code == 302
    assert Deadline.objects.filter(case=assigned_case).count() == 1


def test_an_outcome_for_a_hearing_not_yet_held_is_refused_and_adds_no_deadline(lawyer, assigned_case, court, attorney):
    tomorrow = timezone.localtime(timezone.now(), ZoneInfo(court.timezone)) + timedelta(days=1)
    hearing = services.hearing_schedule(
        case=assigned_case, kind="individual", starts_at=tomorrow.replace(microsecond=0), court=court, by=attorney
    )

    url = reverse("casework:hearing-edit", args=[assigned_case.number, hearing.pk])
    response = lawyer.post(
        url,
        hearing_stamps(
            lawyer,
            url,
            {
                "kind": "individual",
                "court": court.pk,
                "date": tomorrow.date().isoformat(),
                "time": tomorrow.strftime("%H:%M"),
                "medium": "in_person",
                "outcome-outcome": "removal_ordered",
                "outcome-service": "oral",
                "outcome-appeal": "reserved",
            },
        ),
    )

    assert response.status_code == 422
    assert "This hearing has not been held yet" in response.content.decode()
    hearing.refresh_from_db()
    assert hearing.outcome == ""
    assert not Deadline.objects.filter(case=assigned_case).exists()
    with pytest.raises(ValidationError) as excinfo:
        services.hearing_record_outcome(hearing=hearing, outcome="continued", by=attorney)
    assert list(excinfo.value.error_dict) == ["outcome"]


@pytest.mark.parametrize(
    ("rule", "source", "due"),
    [
        ("asylum_one_year", "2025-07-04", date(2026, 7, 6)),  # Saturday 4 July 2026 and observed Friday: to Monday
        ("motion_to_reconsider", "2026-01-02", date(2026, 2, 2)),  # Sunday 1 February: to Monday
        ("motion_to_reopen", "2026-02-25", date(2026, 5, 26)),  # Monday 25 May is Memorial Day: to Tuesday
    ],
)
def test_deadline_from_a_rule_shows_the_rule_and_the_roll_over(lawyer, assigned_case, rule, source, due):
    response = lawyer.post(
        reverse("casework:deadline-new", args=[assigned_case.number]),
        once({"kind": "rule", "rule-rule": rule, "rule-source_date": source}, prefix="rule"),
    )

    assert response.status_code == 302
    deadline = Deadline.objects.get(case=assigned_case)
    assert deadline.due_on == due
    page = _detail(lawyer, assigned_case)
    assert deadline.explanation in html.unescape(page)


def test_manual_deadline_can_be_edited_done_waived_and_reopened(lawyer, assigned_case):
    lawyer.post(
        reverse("casework:deadline-new", args=[assigned_case.number]),
        once(
            {"kind": "manual", "manual-title": "Gather country conditions", "manual-due_on": "2026-12-10"},
            prefix="manual",
        ),
    )
    deadline = Deadline.objects.get(case=assigned_case)

    edit_url = reverse("casework:deadline-edit", args=[assigned_case.number, deadline.pk])
    lawyer.post(
        edit_url, version(lawyer, edit_url, {"title": "Gather country conditions evidence", "due_on": "2026-12-11"})
    )
    status_url = reverse("casework:deadline-status", args=[assigned_case.number, deadline.pk])
    lawyer.post(status_url, deadline_status(lawyer, assigned_case, deadline.pk, "done"))
    deadline.refresh_from_db()
    assert (deadline.title, deadline.due_on, deadline.status) == (
        "Gather country conditions evidence",
        date(2026, 12, 11),
        "done",
    )
    assert deadline.completed_at is not None

    lawyer.post(status_url, deadline_status(lawyer, assigned_case, deadline.pk, "open"))
    deadline.refresh_from_db()
    assert deadline.status == DeadlineStatus.OPEN and deadline.completed_at is None

    bad = lawyer.post(status_url, deadline_status(lawyer, assigned_case, deadline.pk, "lost"))
    assert bad.status_code == 422


def test_changing_a_computed_due_date_by_hand_says_so(lawyer, assigned_case, attorney):
    deadline = services.deadline_add_from_rule(
        case=assigned_case, rule="motion_to_reopen", source_date=date(2026, 1, 5), by=attorney
    )

    url = reverse("casework:deadline-edit", args=[assigned_case.number, deadline.pk])
    lawyer.post(url, version(lawyer, url, {"title": deadline.title, "due_on": "2026-04-01"}))

    deadline.refresh_from_db()
    assert deadline.due_on == date(2026, 4, 1)
    assert "changed by hand" in deadline.explanation


def test_each_relief_sought_has_its_own_status(lawyer, assigned_case):
    url = reverse("casework:relief-save", args=[assigned_case.number])
    for kind, status in [("asylum", "filed"), ("withholding", "filed"), ("cat_deferral", "considering")]:
        assert lawyer.post(url, once({"kind": kind, "status": status})).status_code == 302

    changed = lawyer.post(url, relief_change(lawyer, assigned_case, "asylum", {"status": "granted"}))
    added_again = lawyer.post(url, once({"kind": "asylum", "status": "denied"}))

    assert changed.status_code == 302
    # Adding a kind already recorded would overwrite it unseen: it is changed with its own form.
    assert added_again.status_code == 422
    assert "Asylum is already recorded" in added_again.content.decode()

    assert dict(Relief.objects.filter(case=assigned_case).values_list("kind", "status")) == {
        "asylum": "granted",
        "withholding": "filed",
        "cat_deferral": "considering",
    }


def test_privileged_and_plain_notes(lawyer, assigned_case):
    lawyer.post(
        reverse("casework:note-add", args=[assigned_case.number]),
        once({"body": "Client fears return.", "privileged": "on"}),
    )
    lawyer.post(reverse("casework:note-add", args=[assigned_case.number]), once({"body": "Sister called."}))

    # Note bodies are encrypted at rest: compared after reading, not in SQL.
    assert {n.body: n.privileged for n in Note.objects.filter(case=assigned_case)} == {
        "Client fears return.": True,
        "Sister called.": False,
    }
    # The timeline says a note was added, never what it says.
    summaries = " ".join(CaseEvent.objects.filter(case=assigned_case).values_list("summary", flat=True))
    assert "Client fears return." not in summaries
    assert "Privileged note added." in summaries


def test_only_the_attorneys_and_supervisors_read_privileged_notes(register_case, intake_worker, supervisor):
    """Intake staff see the case they registered while it is in triage, but not counsel's privileged notes."""
    case = register_case(by=intake_worker, notes="Called from the hotline.")
    services.note_add(case=case, body="Client fears return to Honduras.", privileged=True, by=supervisor)
    services.note_add(case=case, body="Sister will bring the passport.", privileged=False, by=supervisor)
    intake, boss = Client(), Client()
    intake.force_login(intake_worker)
    boss.force_login(supervisor)

    for_intake = _detail(intake, case)
    for_supervisor = _detail(boss, case)

    assert "Called from the hotline." in for_intake and "Sister will bring the passport." in for_intake
    assert "Client fears return" not in for_intake
    assert "1 privileged note is not shown" in for_intake
    assert "Client fears return to Honduras." in for_supervisor and "privileged note is not shown" not in for_supervisor


def test_the_lead_attorney_reads_privileged_notes(lawyer, assigned_case, supervisor):
    services.note_add(case=assigned_case, body="Work product: theory of the case.", privileged=True, by=supervisor)

    assert "Work product: theory of the case." in _detail(lawyer, assigned_case)


def test_empty_note_is_refused(lawyer, assigned_case):
    response = lawyer.post(reverse("casework:note-add", args=[assigned_case.number]), once({"body": "   "}))

    assert response.status_code == 422
    assert not Note.objects.filter(case=assigned_case).exists()


def test_closing_with_a_reason_and_reopening(lawyer, assigned_case):
    response = lawyer.post(
        reverse("casework:case-close", args=[assigned_case.number]),
        once({"reason": "relief_granted", "note": "Asylum granted."}),
    )

    assigned_case.refresh_from_db()
    assert response.status_code == 302
    assert assigned_case.status == CaseStatus.CLOSED
    assert assigned_case.close_reason == "relief_granted"
    assert "Relief granted" in _detail(lawyer, assigned_case)
    assert (
        lawyer.post(reverse("casework:case-close", args=[assigned_case.number]), once({"reason": "other"})).status_code
        == 422
    )

    lawyer.post(reverse("casework:case-reopen", args=[assigned_case.number]))

    assigned_case.refresh_from_db()
    assert assigned_case.status == CaseStatus.ACTIVE


def test_editing_details_reindexes_names_for_search(assigned_case, supervisor):
    boss = Client()
    boss.force_login(supervisor)
    form = {
        "given_names": "Joseph",
        "family_names": "Hernandez",
        "a_number": "A-098-765-432",
        "proceeding_type": "removal",
        "last_arrival_on": "2025-02-01",
    }

    url = reverse("casework:case-edit", args=[assigned_case.number])
    response = boss.post(url, version(boss, url, form))

    assert response.status_code == 302

    def search(words: str) -> str:
        return boss.get(boss.post(reverse("casework:search"), {"q": words})["Location"]).content.decode()

    assert assigned_case.number in search("joseph hernandez")
    assert assigned_case.number in search("098765432")
    assert assigned_case.number not in search("A-012-345-678")


def test_timeline_records_what_happened(lawyer, assigned_case):
    kinds = list(CaseEvent.objects.filter(case=assigned_case).order_by("at", "id").values_list("kind", flat=True))

    assert kinds[:2] == ["registered", "assigned"]
    assert "Registered at intake" in _detail(lawyer, assigned_case)


def test_a_hearing_does_not_overwrite_the_case_court(assigned_case, court, attorney):
    from casework.models import ImmigrationCourt

    other = ImmigrationCourt.objects.exclude(pk=court.pk).first()
    services.hearing_schedule(
        case=assigned_case, kind="master", starts_at=datetime(2027, 1, 5, 16, tzinfo=UTC), court=court, by=attorney
    )
    stale = type(assigned_case).objects.get(pk=assigned_case.pk)
    stale.court_id = None  # a stale copy

    services.hearing_schedule(
        case=stale, kind="master", starts_at=datetime(2027, 2, 5, 16, tzinfo=UTC), court=other, by=attorney
    )

    assigned_case.refresh_from_db()
    assert assigned_case.court == court


def test_reopening_clears_the_closing_note(lawyer, assigned_case, attorney):
    services.case_close(case=assigned_case, reason="other", note="Moved away", by=attorney)

    services.case_reopen(case=assigned_case, by=attorney)

    assigned_case.refresh_from_db()
    assert (assigned_case.close_reason, assigned_case.close_note) == ("", "")


def test_a_note_longer_than_twenty_thousand_characters_is_shown_again_with_the_error(lawyer, assigned_case):
    response = lawyer.post(reverse("casework:note-add", args=[assigned_case.number]), once({"body": "é" * 20_001}))

    assert response.status_code == 422
    assert "at most 20000 characters" in response.content.decode()
    assert not Note.objects.filter(case=assigned_case).exists()


@pytest.mark.parametrize("query", ["", "?kind=rule", "?kind=manual"])
def test_add_deadline_opens_without_errors(lawyer, assigned_case, query):
    """Opened from the case page, the form asks; it does not say "This field is required" yet."""
    response = lawyer.get(reverse("casework:deadline-new", args=[assigned_case.number]) + query)

    assert response.status_code == 200
    assert "This field is required" not in response.content.decode()
    assert 'class="errorlist' not in response.content.decode()
