"""Decisions and the deadlines they start (issue 9): whose appeal, from which day, and what is final.

Worked dates: an oral decision on Thursday, March 5, 2026 (Eloy, America/Phoenix).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import selectors, services
from casework.deadlines import Forum, Rule, Service
from casework.models import Appeal, Deadline, DeadlineStatus, Decision, DecisionOutcome, DhsCustody, Hearing
from kernel.clock import local_date
from tests.casework.pages import hearing_stamps
from tests.factories import UserFactory
from tests.forms import once

PHOENIX = ZoneInfo("America/Phoenix")
DECIDED = date(2026, 3, 5)  # a Thursday


@pytest.fixture
def held_hearing(assigned_case, court, attorney):
    return services.hearing_schedule(
        case=assigned_case,
        kind="individual",
        starts_at=datetime(2026, 3, 5, 9, 0, tzinfo=PHOENIX),
        court=court,
        by=attorney,
    )


def _decide(case, by, **fields):
    fields.setdefault("decided_on", DECIDED)
    decision, _ = services.decision_record(case=case, by=by, **fields)
    return decision


def _deadlines(case) -> dict[str, date]:
    return {d.rule: d.due_on for d in Deadline.objects.filter(case=case, status=DeadlineStatus.OPEN)}


# --- Who may appeal, and what is final ---------------------------------------------------


def test_a_removal_order_with_appeal_reserved_gives_the_client_30_days_from_the_decision(assigned_case, attorney):
    _decide(assigned_case, attorney, outcome=DecisionOutcome.REMOVAL_ORDERED, appeal=Appeal.RESERVED)

    # 30 days after March 5 is Saturday, April 4: the notice is due Monday, April 6.
    assert _deadlines(assigned_case) == {Rule.BIA_APPEAL: date(2026, 4, 6)}


def test_an_in_absentia_order_has_no_appeal_but_a_motion_to_rescind(assigned_case, attorney):
    decision = _decide(assigned_case, attorney, outcome=DecisionOutcome.IN_ABSENTIA)

    assert decision.appeal == Appeal.NOT_APPLICABLE
    deadlines = _deadlines(assigned_case)
    assert Rule.BIA_APPEAL not in deadlines
    assert deadlines == {Rule.MOTION_TO_RESCIND: date(2026, 9, 1)}  # 180 days: Tuesday, September 1
    rescind = Deadline.objects.get(case=assigned_case, rule=Rule.MOTION_TO_RESCIND)
    assert "240(b)(5)(C)" in rescind.explanation


def test_an_in_absentia_order_cannot_be_recorded_with_appeal_reserved(assigned_case, attorney):
    with pytest.raises(ValidationError) as excinfo:
        _decide(assigned_case, attorney, outcome=DecisionOutcome.IN_ABSENTIA, appeal=Appeal.RESERVED)

    assert "1240.15" in str(excinfo.value.error_dict["appeal"])
    assert not Decision.objects.exists()


def test_a_waived_appeal_makes_the_order_final_that_day_and_leaves_the_motions(assigned_case, attorney):
    _decide(assigned_case, attorney, outcome=DecisionOutcome.REMOVAL_ORDERED, appeal=Appeal.WAIVED)

    assert _deadlines(assigned_case) == {
        Rule.MOTION_TO_RECONSIDER: date(2026, 4, 6),  # 30 days: Saturday, April 4 → Monday
        Rule.MOTION_TO_REOPEN: date(2026, 6, 3),  # 90 days: Wednesday, June 3
    }


def test_a_stipulated_order_waives_appeal(assigned_case, attorney):
    decision = _decide(assigned_case, attorney, outcome=DecisionOutcome.STIPULATED_REMOVAL)

    assert decision.appeal == Appeal.WAIVED
    assert Rule.BIA_APPEAL not in _deadlines(assigned_case)
    assert Rule.MOTION_TO_REOPEN in _deadlines(assigned_case)


def test_an_appealable_decision_needs_to_say_whether_appeal_was_reserved(assigned_case, attorney):
    with pytest.raises(ValidationError) as excinfo:
        _decide(assigned_case, attorney, outcome=DecisionOutcome.RELIEF_DENIED)

    assert list(excinfo.value.error_dict) == ["appeal"]


@pytest.mark.parametrize("outcome", [DecisionOutcome.RELIEF_GRANTED, DecisionOutcome.TERMINATED])
def test_a_win_watches_dhs_appeal_period_and_gives_the_client_no_appeal_task(assigned_case, attorney, outcome):
    _decide(assigned_case, attorney, outcome=outcome, appeal=Appeal.RESERVED)

    assert _deadlines(assigned_case) == {Rule.DHS_APPEAL_PERIOD: date(2026, 4, 6)}
    watch = Deadline.objects.get(case=assigned_case)
    assert "DHS" in watch.title
    assert "1241.1" in watch.explanation


def test_a_win_dhs_waived_appeal_on_is_final_with_nothing_to_watch(assigned_case, attorney):
    _decide(assigned_case, attorney, outcome=DecisionOutcome.RELIEF_GRANTED, appeal=Appeal.WAIVED)

    assert _deadlines(assigned_case) == {}


@pytest.mark.parametrize(
    "outcome", [DecisionOutcome.ADMIN_CLOSED, DecisionOutcome.VENUE_CHANGED, DecisionOutcome.FEAR_AFFIRMED]
)
def test_decisions_that_start_nothing(assigned_case, attorney, outcome):
    decision = _decide(assigned_case, attorney, outcome=outcome)

    assert decision.appeal == Appeal.NOT_APPLICABLE
    assert _deadlines(assigned_case) == {}


# --- The appeal clock runs from the decision, not the hearing ------------------------------


def test_a_written_decision_counts_from_its_mailing(assigned_case, attorney):
    _decide(
        assigned_case,
        attorney,
        outcome=DecisionOutcome.RELIEF_DENIED,
        appeal=Appeal.RESERVED,
        service=Service.MAIL,
        served_on=date(2026, 3, 9),
    )

    deadline = Deadline.objects.get(case=assigned_case, rule=Rule.BIA_APPEAL)
    assert (deadline.source_date, deadline.due_on) == (date(2026, 3, 9), date(2026, 4, 8))
    assert "mail" in deadline.explanation.lower()


def test_a_written_decision_needs_its_service_date(assigned_case, attorney):
    with pytest.raises(ValidationError) as excinfo:
        _decide(assigned_case, attorney, outcome=DecisionOutcome.RELIEF_DENIED, appeal="reserved", service="mail")

    assert list(excinfo.value.error_dict) == ["served_on"]


def test_rescheduling_the_hearing_does_not_move_the_appeal_clock(held_hearing, assigned_case, attorney):
    services.hearing_record_outcome(
        hearing=held_hearing,
        outcome="decided",
        decision={"outcome": DecisionOutcome.REMOVAL_ORDERED, "decided_on": DECIDED, "appeal": Appeal.RESERVED},
        by=attorney,
    )

    services.hearing_update(hearing=held_hearing, starts_at=datetime(2026, 3, 4, 9, tzinfo=PHOENIX), by=attorney)

    assert _deadlines(assigned_case) == {Rule.BIA_APPEAL: date(2026, 4, 6)}


def test_correcting_the_service_date_moves_the_open_deadline(assigned_case, attorney):
    decision = _decide(assigned_case, attorney, outcome=DecisionOutcome.REMOVAL_ORDERED, appeal=Appeal.RESERVED)

    services.decision_update(decision=decision, service=Service.ELECTRONIC, served_on=date(2026, 3, 10), by=attorney)

    assert _deadlines(assigned_case) == {Rule.BIA_APPEAL: date(2026, 4, 9)}


def test_correcting_the_outcome_waives_what_no_longer_applies_and_adds_what_does(assigned_case, attorney):
    decision = _decide(assigned_case, attorney, outcome=DecisionOutcome.REMOVAL_ORDERED, appeal=Appeal.RESERVED)

    services.decision_update(decision=decision, outcome=DecisionOutcome.IN_ABSENTIA, appeal=None, by=attorney)

    appeal = Deadline.objects.get(case=assigned_case, rule=Rule.BIA_APPEAL)
    assert appeal.status == DeadlineStatus.WAIVED
    assert "No longer applies: the decision was corrected." in appeal.explanation
    assert _deadlines(assigned_case) == {Rule.MOTION_TO_RESCIND: date(2026, 9, 1)}


def test_a_decision_cannot_be_dated_in_the_future(assigned_case, attorney):
    with pytest.raises(ValidationError) as excinfo:
        _decide(
            assigned_case, attorney, outcome=DecisionOutcome.TERMINATED, decided_on=date(2099, 1, 1), appeal="reserved"
        )

    assert "decided_on" in excinfo.value.error_dict


def test_a_hearing_not_yet_held_takes_no_outcome(assigned_case, court, attorney):
    hearing = services.hearing_schedule(
        case=assigned_case, kind="master", starts_at=datetime(2099, 1, 5, 9, tzinfo=PHOENIX), court=court, by=attorney
    )

    with pytest.raises(ValidationError) as excinfo:
        services.hearing_record_outcome(
            hearing=hearing,
            outcome="decided",
            decision={"outcome": DecisionOutcome.REMOVAL_ORDERED, "decided_on": DECIDED, "appeal": Appeal.RESERVED},
            by=attorney,
        )

    assert list(excinfo.value.error_dict) == ["outcome"]
    assert not Decision.objects.exists() and not Deadline.objects.exists()


def test_a_continued_hearing_after_a_mistaken_decision_withdraws_it(held_hearing, assigned_case, attorney):
    services.hearing_record_outcome(
        hearing=held_hearing,
        outcome="decided",
        decision={"outcome": DecisionOutcome.REMOVAL_ORDERED, "decided_on": DECIDED, "appeal": Appeal.RESERVED},
        by=attorney,
    )

    services.hearing_record_outcome(hearing=held_hearing, outcome="continued", by=attorney)

    held_hearing.refresh_from_db()
    assert held_hearing.outcome == "continued"
    assert not Decision.objects.exists()
    assert Deadline.objects.get(case=assigned_case).status == DeadlineStatus.WAIVED


# --- Bond and DHS's automatic stay --------------------------------------------------------


def test_the_minimum_delivery_bond_is_checked(assigned_case, attorney):
    with pytest.raises(ValidationError) as excinfo:
        _decide(assigned_case, attorney, outcome=DecisionOutcome.BOND_GRANTED, appeal="reserved", bond_cents=1_000_00)

    assert "236(a)(2)(A)" in str(excinfo.value.error_dict["bond_cents"])


def test_a_bond_grant_where_dhs_set_no_bond_opens_the_automatic_stay_watches(assigned_case, attorney):
    decision = _decide(
        assigned_case,
        attorney,
        outcome=DecisionOutcome.BOND_GRANTED,
        appeal=Appeal.RESERVED,
        bond_cents=5_000_00,
        bond_conditions=["atd"],
        dhs_custody=DhsCustody.NO_BOND,
    )

    assert _deadlines(assigned_case) == {
        Rule.DHS_APPEAL_PERIOD: date(2026, 4, 6),
        Rule.DHS_STAY_NOTICE: date(2026, 3, 6),  # 1 business day: Friday
        Rule.DHS_STAY_APPEAL: date(2026, 3, 19),  # 10 business days: Thursday, March 19
    }
    assert decision.condition_labels == ["Alternatives to detention (ISAP)"]
    # Until DHS's business day has passed the bond must not be posted.
    stay = selectors.automatic_stay_of(decision, today=date(2026, 3, 6))
    assert stay is not None and stay.in_effect and stay.until == date(2026, 3, 6)
    assert not selectors.automatic_stay_of(decision, today=date(2026, 3, 9)).in_effect


def test_the_stay_runs_while_dhs_appeals_and_lapses_after_90_days(assigned_case, attorney):
    decision = _decide(
        assigned_case,
        attorney,
        outcome=DecisionOutcome.BOND_GRANTED,
        appeal=Appeal.RESERVED,
        bond_cents=20_000_00,
        dhs_custody=DhsCustody.BOND_SET,
        dhs_bond_cents=25_000_00,
    )
    services.decision_update(decision=decision, dhs_stay_filed_on=date(2026, 3, 6), by=attorney)
    decision.refresh_from_db()

    running = selectors.automatic_stay_of(decision, today=date(2026, 3, 18))
    assert running.in_effect and running.until == date(2026, 3, 19)
    lapsed = selectors.automatic_stay_of(decision, today=date(2026, 3, 20))
    assert not lapsed.in_effect and "lapsed" in lapsed.explanation

    services.decision_update(decision=decision, dhs_appeal_filed_on=date(2026, 3, 12), by=attorney)
    decision.refresh_from_db()
    lapse = Deadline.objects.get(case=assigned_case, rule=Rule.DHS_STAY_LAPSE)
    assert lapse.source_date == date(2026, 3, 12)
    stay = selectors.automatic_stay_of(decision, today=date(2026, 5, 1))
    assert stay.in_effect and stay.until == lapse.due_on
    assert not selectors.automatic_stay_of(decision, today=lapse.due_on + timedelta(days=1)).in_effect
    assert selectors.automatic_stay(assigned_case, today=date(2026, 5, 1)) == stay


def test_no_automatic_stay_where_dhs_set_a_bond_under_10000(assigned_case, attorney):
    decision = _decide(
        assigned_case,
        attorney,
        outcome=DecisionOutcome.BOND_GRANTED,
        appeal=Appeal.RESERVED,
        bond_cents=3_000_00,
        dhs_custody=DhsCustody.BOND_SET,
        dhs_bond_cents=9_999_99,
    )

    assert selectors.automatic_stay_of(decision) is None
    assert set(_deadlines(assigned_case)) == {Rule.DHS_APPEAL_PERIOD}


# --- Voluntary departure and the Board ----------------------------------------------------


def test_voluntary_departure_at_the_end_sets_the_bond_and_the_departure_date(assigned_case, attorney):
    _decide(
        assigned_case,
        attorney,
        outcome=DecisionOutcome.VD_GRANTED,
        appeal=Appeal.WAIVED,
        vd_days=60,
        vd_bond_cents=500_00,
        alternate_order="Guatemala",
    )

    deadlines = _deadlines(assigned_case)
    assert deadlines[Rule.VD_BOND] == date(2026, 3, 12)  # 5 business days after Thursday, March 5
    assert deadlines[Rule.VD_DEPARTURE] <= date(2026, 5, 4)  # 60 days, never later


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"vd_days": 61, "vd_bond_cents": 500_00}, "vd_days"),
        ({"vd_days": 30, "vd_bond_cents": 499_99}, "vd_bond_cents"),
        ({"vd_days": 30}, "vd_bond_cents"),
    ],
)
def test_voluntary_departure_limits(assigned_case, attorney, fields, field):
    with pytest.raises(ValidationError) as excinfo:
        _decide(assigned_case, attorney, outcome=DecisionOutcome.VD_GRANTED, appeal=Appeal.WAIVED, **fields)

    assert field in excinfo.value.error_dict


def test_a_final_bia_order_starts_the_petition_for_review_and_motions_to_the_board(assigned_case, attorney):
    _decide(assigned_case, attorney, forum=Forum.BIA, outcome=DecisionOutcome.BIA_REMOVAL_FINAL)

    deadlines = Deadline.objects.filter(case=assigned_case)
    by_rule = {d.rule: d for d in deadlines}
    assert set(by_rule) == {Rule.PETITION_FOR_REVIEW, Rule.MOTION_TO_RECONSIDER, Rule.MOTION_TO_REOPEN}
    assert by_rule[Rule.PETITION_FOR_REVIEW].due_on == date(2026, 4, 6)
    assert "BIA" in by_rule[Rule.MOTION_TO_REOPEN].title or "Board" in by_rule[Rule.MOTION_TO_REOPEN].title
    assert "1003.2" in by_rule[Rule.MOTION_TO_REOPEN].explanation


def test_a_board_outcome_needs_the_board_as_forum(assigned_case, attorney):
    with pytest.raises(ValidationError) as excinfo:
        _decide(assigned_case, attorney, outcome=DecisionOutcome.BIA_REMOVAL_FINAL)

    assert "outcome" in excinfo.value.error_dict


# --- Through the pages ---------------------------------------------------------------------


def _hearing_post(court, **outcome):
    data = {"kind": "individual", "court": court.pk, "date": "2026-03-05", "time": "09:00", "medium": "in_person"}
    data.update({f"outcome-{name}": value for name, value in outcome.items()})
    return data


def test_recording_an_in_absentia_order_on_the_hearing_page(lawyer, held_hearing, assigned_case, court):
    url = reverse("casework:hearing-edit", args=[assigned_case.number, held_hearing.pk])

    response = lawyer.post(
        url, hearing_stamps(lawyer, url, _hearing_post(court, outcome="in_absentia", service="oral"))
    )

    assert response.status_code == 302
    held_hearing.refresh_from_db()
    assert held_hearing.outcome == "decided"
    assert held_hearing.decision.decided_on == DECIDED  # empty: the day of the hearing
    assert _deadlines(assigned_case) == {Rule.MOTION_TO_RESCIND: date(2026, 9, 1)}
    page = lawyer.get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()
    assert "Removal ordered in absentia" in page


def test_the_hearing_page_refuses_an_appeal_the_law_does_not_allow(lawyer, held_hearing, assigned_case, court):
    url = reverse("casework:hearing-edit", args=[assigned_case.number, held_hearing.pk])

    response = lawyer.post(
        url, hearing_stamps(lawyer, url, _hearing_post(court, outcome="in_absentia", service="oral", appeal="reserved"))
    )

    assert response.status_code == 422
    assert "motion to rescind" in response.content.decode()
    assert not Decision.objects.exists()
    assert Hearing.objects.get(pk=held_hearing.pk).outcome == ""


def test_recording_a_board_decision_and_the_stay_banner(lawyer, assigned_case, attorney):
    response = lawyer.post(
        reverse("casework:decision-new", args=[assigned_case.number]),
        once(
            {
                "forum": "bia",
                "outcome": "bia_removal_final",
                "decided_on": "2026-03-05",
                "service": "electronic",
                "served_on": "2026-03-05",
            }
        ),
    )

    assert response.status_code == 302
    assert Rule.PETITION_FOR_REVIEW in _deadlines(assigned_case)


def test_the_case_page_shows_a_running_automatic_stay(lawyer, assigned_case, attorney):
    today = local_date(timezone.now())
    services.decision_record(
        case=assigned_case,
        by=attorney,
        outcome=DecisionOutcome.BOND_GRANTED,
        decided_on=today,
        appeal=Appeal.RESERVED,
        bond_cents=8_000_00,
        dhs_custody=DhsCustody.NO_BOND,
    )

    page = lawyer.get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()

    assert 'id="automatic-stay"' in page
    assert "EOIR-43" in page


# --- Appointments away from the immigration court -------------------------------------------


def test_an_ice_check_in_has_a_venue_and_its_own_zone(lawyer, assigned_case):
    response = lawyer.post(
        reverse("casework:hearing-new", args=[assigned_case.number]),
        once(
            {
                "kind": "ice_check_in",
                "venue": "ICE ERO Chicago Field Office",
                "timezone_override": "America/Chicago",
                "date": "2027-01-12",
                "time": "08:00",
                "medium": "in_person",
            }
        ),
    )

    assert response.status_code == 302
    check_in = Hearing.objects.get(case=assigned_case)
    assert check_in.court is None and check_in.place_name == "ICE ERO Chicago Field Office"
    assert check_in.local_start.hour == 8 and check_in.timezone_name == "America/Chicago"
    page = lawyer.get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()
    assert "08:00 CST (Chicago)" in page
    assert "ICE ERO Chicago Field Office" in page


def test_an_appointment_without_a_place_or_a_court_hearing_without_a_court_is_refused(lawyer, assigned_case):
    url = reverse("casework:hearing-new", args=[assigned_case.number])
    base = once({"date": "2027-01-12", "time": "08:00", "medium": "in_person"})

    no_venue = lawyer.post(url, {**base, "kind": "uscis_interview", "timezone_override": "America/Chicago"})
    no_court = lawyer.post(
        url, {**base, "kind": "joseph", "venue": "somewhere", "timezone_override": "America/Chicago"}
    )

    assert no_venue.status_code == 422 and "Say where the appointment is" in no_venue.content.decode()
    assert no_court.status_code == 422 and "needs its court" in no_court.content.decode()
    assert not Hearing.objects.exists()


def test_a_check_in_does_not_end_in_a_decision(assigned_case, attorney):
    check_in = services.hearing_schedule(
        case=assigned_case,
        kind="ice_check_in",
        starts_at=datetime(2026, 3, 5, 9, tzinfo=ZoneInfo("America/Chicago")),
        court=None,
        venue="ICE ERO Chicago",
        timezone_override="America/Chicago",
        by=attorney,
    )

    with pytest.raises(ValidationError) as excinfo:
        services.hearing_record_outcome(
            hearing=check_in,
            outcome="decided",
            decision={"outcome": DecisionOutcome.TERMINATED, "decided_on": DECIDED, "appeal": Appeal.RESERVED},
            by=attorney,
        )

    assert "outcome" in excinfo.value.error_dict
    services.hearing_record_outcome(hearing=check_in, outcome="other", note="Reported; next in 90 days", by=attorney)
    check_in.refresh_from_db()
    assert check_in.outcome == "other"


def test_a_motion_to_the_board_from_the_rule_form(lawyer, assigned_case):
    response = lawyer.post(
        reverse("casework:deadline-new", args=[assigned_case.number]),
        once(
            {"kind": "rule", "rule-rule": "motion_to_reopen", "rule-source_date": "2026-03-05", "rule-forum": "bia"},
            prefix="rule",
        ),
    )

    assert response.status_code == 302
    deadline = Deadline.objects.get(case=assigned_case)
    assert "1003.2(c)" in deadline.explanation


def test_the_rule_form_explains_an_option_a_rule_does_not_take(lawyer, assigned_case):
    response = lawyer.post(
        reverse("casework:deadline-new", args=[assigned_case.number]),
        once({"kind": "rule", "rule-rule": "vd_departure", "rule-source_date": "2026-03-05"}, prefix="rule"),
    )

    assert response.status_code == 422
    assert not Deadline.objects.exists()


# --- The migration carries hearings' old outcomes over to decisions ---------------------------


@pytest.mark.django_db(transaction=True)
def test_old_hearing_outcomes_become_decisions_and_a_wins_appeal_task_becomes_dhs_watch():
    user = UserFactory(role=Role.SUPERVISOR)
    latest = list(MigrationExecutor(connection).loader.graph.leaf_nodes())
    before = [("casework", "0005_hearing_timezone_override")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    person = apps.get_model("casework", "Detainee").objects.create(
        given_names="Old", family_names="Oyuela", created_by_id=user.pk
    )
    case = apps.get_model("casework", "Case").objects.create(
        number="2020-00001", detainee=person, registered_by_id=user.pk
    )
    court = apps.get_model("casework", "ImmigrationCourt").objects.get(name="Eloy Immigration Court")
    OldHearing = apps.get_model("casework", "Hearing")
    OldDeadline = apps.get_model("casework", "Deadline")

    def old_hearing(day: int, outcome: str, note: str = ""):
        return OldHearing.objects.create(
            case=case,
            kind="individual",
            starts_at=datetime(2026, 3, day, 23, 30, tzinfo=PHOENIX),  # late evening: the next day in UTC
            court=court,
            outcome=outcome,
            outcome_note=note,
            created_by_id=user.pk,
        )

    won = old_hearing(5, "relief_granted", "Asylum granted.")
    lost = old_hearing(6, "removal_ordered")
    bond = old_hearing(9, "bond_granted", "Bond set at $7,500.")
    old_hearing(10, "continued")
    for hearing in (won, lost):
        OldDeadline.objects.create(
            case=case,
            title="File notice of appeal to the BIA (Form EOIR-26)",
            due_on=date(2026, 4, 6),
            rule="bia_appeal",
            source_date=date(2026, 3, hearing.starts_at.astimezone(PHOENIX).day),
            explanation="30 days after the decision.",
            hearing=hearing,
            created_by_id=user.pk,
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)

    decisions = {d.hearing_id: d for d in Decision.objects.all()}
    assert set(decisions) == {won.pk, lost.pk, bond.pk}
    assert decisions[won.pk].decided_on == date(2026, 3, 5)  # the court's day, not UTC's
    assert (decisions[won.pk].appeal, decisions[won.pk].note) == ("reserved", "Asylum granted.")
    assert decisions[bond.pk].bond_cents == 7_500_00
    assert set(Hearing.objects.values_list("outcome", flat=True)) == {"decided", "continued"}
    watch = Deadline.objects.get(hearing_id=won.pk)
    assert (watch.rule, watch.decision_id) == ("dhs_appeal_period", decisions[won.pk].pk)
    assert "appeal is DHS's" in watch.explanation
    appeal = Deadline.objects.get(hearing_id=lost.pk)
    assert (appeal.rule, appeal.decision_id) == ("bia_appeal", decisions[lost.pk].pk)


# --- Filings counted back from a non-detained client's hearing ------------------------------


def test_a_released_clients_hearing_gets_its_filing_deadline_counted_back_and_moved(assigned_case, court, attorney):
    services.custody_record_change(
        case=assigned_case,
        custodian="released",
        release_basis="recognizance",
        facility=None,
        started_on=local_date(timezone.now()),
        by=attorney,
    )
    hearing = services.hearing_schedule(
        case=assigned_case,
        kind="individual",
        starts_at=datetime(2027, 3, 15, 9, tzinfo=PHOENIX),
        court=court,
        by=attorney,
    )

    filing = Deadline.objects.get(case=assigned_case, rule=Rule.PREHEARING_FILING)
    # 30 days before Monday, March 15, 2027 is Saturday, February 13: the business day before, Friday the 12th.
    assert (filing.hearing, filing.due_on) == (hearing, date(2027, 2, 12))
    assert "EOIR Policy Manual Part II 3.1(b)" in filing.explanation

    services.hearing_update(hearing=hearing, starts_at=datetime(2027, 4, 19, 9, tzinfo=PHOENIX), by=attorney)

    filing.refresh_from_db()
    assert filing.due_on == date(2027, 3, 19)  # 30 days before Monday, April 19: Friday, March 19


def test_a_detained_clients_hearing_has_its_filing_deadline_set_by_the_judge(assigned_case, court, attorney):
    assert assigned_case.is_detained
    services.hearing_schedule(
        case=assigned_case, kind="master", starts_at=datetime(2027, 3, 15, 9, tzinfo=PHOENIX), court=court, by=attorney
    )

    assert not Deadline.objects.filter(case=assigned_case, rule=Rule.PREHEARING_FILING).exists()


def test_a_detained_clients_bia_brief_is_simultaneous_and_their_filing_deadline_the_judges(lawyer, assigned_case):
    url = reverse("casework:deadline-new", args=[assigned_case.number])

    brief = lawyer.post(
        url, once({"kind": "rule", "rule-rule": "bia_brief", "rule-source_date": "2026-03-05"}, prefix="rule")
    )
    filing = lawyer.post(
        url,
        once(
            {
                "kind": "rule",
                "rule-rule": "prehearing_filing",
                "rule-source_date": "2027-03-15",
                "rule-hearing_kind": "master",
            },
            prefix="rule",
        ),
    )

    assert brief.status_code == 302
    assert "simultaneous" in Deadline.objects.get(case=assigned_case, rule=Rule.BIA_BRIEF).explanation.lower()
    assert filing.status_code == 422
    assert not Deadline.objects.filter(rule=Rule.PREHEARING_FILING).exists()
