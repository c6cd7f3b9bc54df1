"""Deadline arithmetic: each rule, rolling off weekends and federal holidays, and the explanation.

Pure functions, so no database. Dates are checked against a calendar by hand (each worked example
says how); the property tests then cover every rule over a century of dates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import holidays
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.deadlines import (
    PREHEARING_KINDS,
    ComputedDeadline,
    Counting,
    Forum,
    Rule,
    Service,
    add_business_days,
    compute_deadline,
    default_title,
    is_business_day,
    next_business_day,
    previous_business_day,
    rule_counting,
    us_federal_holiday_name,
)
from casework.models import Deadline, HearingKind

COMPUTED_RULES = [rule for rule in Rule if rule != Rule.MANUAL]

# The arguments a rule cannot do without; every other rule is computed from a date alone.
REQUIRED = {
    Rule.VD_DEPARTURE: {"days": 60},
    Rule.PREHEARING_FILING: {"hearing_kind": "master"},
}

# How a last day on a weekend or federal holiday is treated, rule by rule.
ROLLS_FORWARD = {
    Rule.BIA_APPEAL,
    Rule.DHS_APPEAL_PERIOD,
    Rule.ASYLUM_ONE_YEAR,
    Rule.MOTION_TO_RECONSIDER,
    Rule.MOTION_TO_REOPEN,
    Rule.MOTION_TO_RESCIND,
    Rule.PETITION_FOR_REVIEW,
    Rule.VD_DEPARTURE,
    Rule.BIA_BRIEF,
    Rule.CHANGE_OF_ADDRESS,
    Rule.BOND_BREACH_APPEAL,
}
BUSINESS_DAYS = {Rule.DHS_STAY_NOTICE: 1, Rule.DHS_STAY_APPEAL: 10, Rule.VD_BOND: 5, Rule.FOIA_RESPONSE: 20}
COUNTED_BACK = {Rule.PREHEARING_FILING}
NEVER_MOVED = {
    Rule.DHS_STAY_LAPSE,
    Rule.CREDIBLE_FEAR_REVIEW,
    Rule.REASONABLE_FEAR_REVIEW,
    Rule.FOIA_APPEAL,
    Rule.AGE_OUT,
}
IN_HOURS = {Rule.UAC_HHS_NOTICE: 48, Rule.UAC_TRANSFER: 72}


@pytest.fixture(autouse=True)
def _english():
    # Exact wording is asserted in English; the Spanish tests switch on their own.
    with translation.override("en"):
        yield


def _compute(rule, source, **options):
    return compute_deadline(rule, source, **{**REQUIRED.get(rule, {}), **options})


# --- The appeal to the BIA, and the day it runs from ---------------------------------------


def test_bia_appeal_counts_thirty_calendar_days_from_the_day_after_the_decision():
    # Day 1 is March 3, so day 30 is April 1 (a Wednesday).
    computed = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 2))
    assert computed == ComputedDeadline(
        rule=Rule.BIA_APPEAL,
        source_date=date(2026, 3, 2),
        unadjusted=date(2026, 4, 1),
        due=date(2026, 4, 1),
        explanation=computed.explanation,
        citation="8 CFR 1003.38(b); counted under 8 CFR 1001.1(h)",
    )


def test_bia_appeal_on_saturday_moves_to_monday_and_says_the_board_must_receive_it():
    # Wording changed with issue 9: the period names the oral decision, cites the EOIR day-count rule
    # (8 CFR 1001.1(h)) and says the notice must be received (8 CFR 1003.38(c)).
    computed = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 5))
    assert (computed.unadjusted, computed.due) == (date(2026, 4, 4), date(2026, 4, 6))
    assert computed.explanation == (
        "30 days after the immigration judge's oral decision of March 5, 2026 (8 CFR 1003.38(b); counted under "
        "8 CFR 1001.1(h)) is Saturday, April 4, 2026, which is a weekend day, so it moves to the next business "
        "day: Monday, April 6, 2026. The Board must receive the notice of appeal, with the fee or a fee waiver "
        "request, by that day; mailing it in time is not enough (8 CFR 1003.38(c)). A written summary mailed "
        "later does not restart the period (Matter of Iskandarani, 29 I&N Dec. 26 (BIA 2025))."
    )


@pytest.mark.parametrize(
    ("service", "phrase"),
    [
        (Service.ORAL, "30 days after the immigration judge's oral decision of March 10, 2026"),
        (Service.MAIL, "30 days after the mailing of the immigration judge's written decision on March 10, 2026"),
        (
            Service.ELECTRONIC,
            "30 days after the electronic service of the immigration judge's written decision on March 10, 2026",
        ),
    ],
)
def test_bia_appeal_names_what_the_period_runs_from(service, phrase):
    # A written decision served on Tuesday, March 10: day 30 is Thursday, April 9, whatever the service.
    computed = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 10), service=service)
    assert computed.due == date(2026, 4, 9)
    assert computed.explanation.startswith(phrase + " (8 CFR 1003.38(b)")
    assert "received" not in phrase and "must receive the notice of appeal" in computed.explanation


def test_bia_appeal_summary_note_only_for_an_oral_decision():
    written = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 10), service=Service.MAIL)
    assert "Iskandarani" not in written.explanation


def test_bia_appeal_accepts_stored_service_value():
    assert compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 10), service="electronic").due == date(2026, 4, 9)


def test_dhs_appeal_period_is_a_watch_with_the_same_thirty_days():
    computed = compute_deadline(Rule.DHS_APPEAL_PERIOD, date(2026, 3, 5))
    assert computed.due == date(2026, 4, 6)  # Saturday, April 4 → Monday
    assert "This is DHS's deadline, not a filing" in computed.explanation
    assert "8 CFR 1003.39" in computed.explanation and "8 CFR 1241.1(c)" in computed.explanation


def test_dhs_appeal_period_from_a_mailed_decision_says_so():
    computed = compute_deadline(Rule.DHS_APPEAL_PERIOD, date(2026, 3, 10), service=Service.MAIL)
    assert computed.explanation.startswith("30 days after the mailing of the immigration judge's written decision")


# --- DHS's automatic stay of a bond order (business days) --------------------------------


def test_dhs_stay_notice_is_the_next_business_day():
    # Order on Thursday, March 5, 2026: EOIR-43 due Friday, March 6.
    computed = compute_deadline(Rule.DHS_STAY_NOTICE, date(2026, 3, 5))
    assert (computed.unadjusted, computed.due) == (date(2026, 3, 6), date(2026, 3, 6))
    assert "$10,000" in computed.explanation and "Form EOIR-43" in computed.explanation


def test_dhs_stay_notice_after_a_friday_order_is_monday():
    assert compute_deadline(Rule.DHS_STAY_NOTICE, date(2026, 3, 6)).due == date(2026, 3, 9)


def test_dhs_stay_notice_skips_thanksgiving():
    # Wednesday, November 25, 2026: Thursday is Thanksgiving, so the one business day is Friday, November 27.
    computed = compute_deadline(Rule.DHS_STAY_NOTICE, date(2026, 11, 25))
    assert computed.due == date(2026, 11, 27)
    assert "Thursday, Nov. 26, 2026 is not counted: it is a federal holiday, Thanksgiving Day." in computed.explanation


def test_dhs_stay_notice_after_the_friday_before_martin_luther_king_day_is_tuesday():
    assert compute_deadline(Rule.DHS_STAY_NOTICE, date(2026, 1, 16)).due == date(2026, 1, 20)


def test_dhs_stay_appeal_counts_ten_business_days():
    # March 6, 9, 10, 11, 12, 13, 16, 17, 18, 19: Thursday, March 19, 2026.
    computed = compute_deadline(Rule.DHS_STAY_APPEAL, date(2026, 3, 5))
    assert computed.due == date(2026, 3, 19)
    assert "Day 1 is the first business day after March 5, 2026" in computed.explanation
    assert "automatic stay lapses" in computed.explanation


def test_dhs_stay_appeal_skips_juneteenth():
    # Monday, June 15, 2026: June 16-18 are days 1-3, Friday June 19 is Juneteenth, June 22-26 are 4-8,
    # June 29 and 30 are 9 and 10.
    computed = compute_deadline(Rule.DHS_STAY_APPEAL, date(2026, 6, 15))
    assert computed.due == date(2026, 6, 30)
    assert "Juneteenth National Independence Day" in computed.explanation


def test_dhs_stay_lapse_is_ninety_days_after_dhs_appealed():
    computed = compute_deadline(Rule.DHS_STAY_LAPSE, date(2026, 3, 5))
    assert computed.due == date(2026, 6, 3)
    assert "8 CFR 1003.6(c)(4)" in computed.explanation and "briefing extension" in computed.explanation


def test_dhs_stay_lapse_on_a_sunday_is_not_moved():
    # DHS appealed Monday, March 9, 2026: day 90 is Sunday, June 7; the stay lapses by itself.
    computed = compute_deadline(Rule.DHS_STAY_LAPSE, date(2026, 3, 9))
    assert (computed.unadjusted, computed.due) == (date(2026, 6, 7), date(2026, 6, 7))
    assert "not moved off a weekend or holiday: the stay lapses by the passage of time" in computed.explanation


# --- Asylum: one year --------------------------------------------------------------------


def test_asylum_one_year_ends_on_the_anniversary_of_last_arrival():
    computed = compute_deadline(Rule.ASYLUM_ONE_YEAR, date(2025, 6, 10))
    assert (computed.unadjusted, computed.due) == (date(2026, 6, 10), date(2026, 6, 10))


def test_asylum_one_year_explains_its_exceptions():
    explanation = compute_deadline(Rule.ASYLUM_ONE_YEAR, date(2025, 6, 10)).explanation
    assert "changed circumstances" in explanation and "extraordinary circumstances" in explanation
    assert "reasonable period" in explanation and "INA 208(a)(2)(D)" in explanation
    assert "8 CFR 1208.4(a)(4)-(5)" in explanation
    assert "unaccompanied child (INA 208(a)(2)(E))" in explanation
    assert "withholding of removal" in explanation and "Convention Against Torture" in explanation


def test_asylum_one_year_after_february_29_arrival_ends_february_28():
    computed = compute_deadline(Rule.ASYLUM_ONE_YEAR, date(2024, 2, 29))
    assert (computed.unadjusted, computed.due) == (date(2025, 2, 28), date(2025, 2, 28))
    assert "2025 has no February 29, so the year ends on February 28" in computed.explanation


def test_asylum_one_year_after_february_29_arrival_rolls_off_a_sunday_february_28():
    # February 28, 2021 is a Sunday: the earlier, conservative date still lands on Monday, March 1.
    computed = compute_deadline(Rule.ASYLUM_ONE_YEAR, date(2020, 2, 29))
    assert (computed.unadjusted, computed.due) == (date(2021, 2, 28), date(2021, 3, 1))


def test_asylum_one_year_after_february_28_arrival_is_not_clamped():
    # The February 28 fallback is only for a February 29 arrival; February 28 into a leap year stays February 28.
    computed = compute_deadline(Rule.ASYLUM_ONE_YEAR, date(2027, 2, 28))
    assert computed.unadjusted == date(2028, 2, 28)
    assert "February 29" not in computed.explanation


# --- Motions -----------------------------------------------------------------------------


def test_motion_to_reconsider_counts_thirty_calendar_days():
    computed = compute_deadline(Rule.MOTION_TO_RECONSIDER, date(2026, 3, 2))
    assert (computed.unadjusted, computed.due) == (date(2026, 4, 1), date(2026, 4, 1))
    assert "only one motion to reconsider is allowed (INA 240(c)(6)(A))" in computed.explanation


def test_motion_to_reopen_counts_ninety_calendar_days():
    # January 6 + 25 = January 31, + 28 = February 28, + 31 = March 31, + 6 = April 6 (a Monday).
    computed = compute_deadline(Rule.MOTION_TO_REOPEN, date(2026, 1, 6))
    assert (computed.unadjusted, computed.due) == (date(2026, 4, 6), date(2026, 4, 6))


def test_motion_to_reopen_before_the_judge_names_the_limits_and_exceptions():
    explanation = compute_deadline(Rule.MOTION_TO_REOPEN, date(2026, 1, 6)).explanation
    assert "8 CFR 1003.23(b)(1)" in explanation
    assert "only one motion to reopen is allowed (INA 240(c)(7)(A))" in explanation
    assert "changed country conditions" in explanation and "in-absentia" in explanation
    assert "jointly with DHS (8 CFR 1003.23(b)(4))" in explanation


def test_motion_to_reconsider_a_mailed_board_decision_runs_from_the_mailing():
    # 8 CFR 1003.2(b)(2): 30 days after the mailing of the Board decision.
    computed = compute_deadline(Rule.MOTION_TO_RECONSIDER, date(2026, 3, 5), forum=Forum.BIA, service=Service.MAIL)
    assert computed.due == date(2026, 4, 6)
    assert computed.explanation.startswith(
        "30 days after the mailing of the Board's decision on March 5, 2026 (INA 240(c)(6)(B); 8 CFR 1003.2(b)(2);"
    )
    assert "It must reach the Board" in computed.explanation


def test_motion_to_reopen_at_the_board_cites_the_board_rules():
    computed = compute_deadline(Rule.MOTION_TO_REOPEN, date(2026, 3, 5), forum="bia")
    assert computed.due == date(2026, 6, 3)
    assert "8 CFR 1003.2(c)(2)" in computed.explanation and "8 CFR 1003.2(c)(3)" in computed.explanation
    assert "1003.23" not in computed.explanation


def test_motion_from_a_written_order_runs_from_the_order_itself():
    computed = compute_deadline(Rule.MOTION_TO_REOPEN, date(2026, 3, 5), service=Service.MAIL)
    assert computed.due == date(2026, 6, 3)
    assert "runs from the date of the order itself, not from the day it arrived" in computed.explanation


def test_motion_to_rescind_counts_180_days_and_names_the_any_time_grounds():
    # March 5 + 26 = March 31, + 30 + 31 + 30 + 31 + 31 = August 31 (179), September 1 is day 180 (a Tuesday).
    computed = compute_deadline(Rule.MOTION_TO_RESCIND, date(2026, 3, 5))
    assert computed.due == date(2026, 9, 1)
    assert "INA 240(b)(5)(C)(i); 8 CFR 1003.23(b)(4)(ii)" in computed.explanation
    assert "at any time (INA 240(b)(5)(C)(ii))" in computed.explanation
    assert "custody" in computed.explanation and "8 CFR 1240.15" in computed.explanation


def test_motion_to_rescind_on_labor_day_moves_to_tuesday():
    # March 11, 2026 + 180 days = Monday, September 7, 2026, Labor Day.
    computed = compute_deadline(Rule.MOTION_TO_RESCIND, date(2026, 3, 11))
    assert (computed.unadjusted, computed.due) == (date(2026, 9, 7), date(2026, 9, 8))
    assert "which is a federal holiday, Labor Day" in computed.explanation


def test_motion_to_rescind_is_only_before_the_judge():
    with pytest.raises(ValueError, match="do not depend on who made the decision"):
        compute_deadline(Rule.MOTION_TO_RESCIND, date(2026, 3, 5), forum=Forum.BIA)


# --- Petition for review (FRAP 26(a)) ----------------------------------------------------


def test_petition_for_review_counts_thirty_days_under_frap():
    computed = compute_deadline(Rule.PETITION_FOR_REVIEW, date(2026, 3, 5), forum=Forum.BIA)
    assert (computed.unadjusted, computed.due) == (date(2026, 4, 4), date(2026, 4, 6))
    assert computed.citation == "INA 242(b)(1); 8 U.S.C. 1252(b)(1); counted under FRAP 26(a)(1)"
    assert "a state holiday where the court of appeals sits could extend the last day but is not counted" in (
        computed.explanation
    )
    assert "Stone v. INS, 514 U.S. 386 (1995)" in computed.explanation
    assert "a motion for a stay must be filed with the court separately (INA 242(b)(3)(B))" in computed.explanation


def test_petition_for_review_on_juneteenth_moves_to_monday():
    # May 20, 2026 + 30 = Friday, June 19, 2026 (a FRAP 26(a)(6)(A) legal holiday).
    computed = compute_deadline(Rule.PETITION_FOR_REVIEW, date(2026, 5, 20), forum=Forum.BIA)
    assert computed.due == date(2026, 6, 22)


def test_petition_for_review_from_a_mailed_order_still_runs_from_its_date():
    computed = compute_deadline(Rule.PETITION_FOR_REVIEW, date(2026, 3, 5), forum=Forum.BIA, service=Service.MAIL)
    assert computed.due == date(2026, 4, 6)
    assert "not from the day it arrived" in computed.explanation


# --- Voluntary departure -----------------------------------------------------------------


def test_vd_bond_is_due_in_five_business_days():
    # Thursday, March 5, 2026: March 6, 9, 10, 11, 12.
    computed = compute_deadline(Rule.VD_BOND, date(2026, 3, 5))
    assert computed.due == date(2026, 3, 12)
    assert "INA 240B(b)(3); 8 CFR 1240.26(c)(3)" in computed.explanation
    assert "alternate order of removal" in computed.explanation


def test_vd_bond_skips_juneteenth():
    # Monday, June 15, 2026: June 16, 17, 18, (19 is Juneteenth), 22, 23.
    assert compute_deadline(Rule.VD_BOND, date(2026, 6, 15)).due == date(2026, 6, 23)


def test_vd_departure_counts_the_days_the_judge_gave():
    computed = compute_deadline(Rule.VD_DEPARTURE, date(2026, 3, 5), days=60)
    assert computed.due == date(2026, 5, 4)  # March 5 + 60 = Monday, May 4, 2026
    assert computed.explanation.startswith("60 days after the order granting voluntary departure of March 5, 2026")
    assert "INA 240B(d)(1)" in computed.explanation


def test_vd_departure_on_a_saturday_moves_to_monday_as_in_monsalvo_velazquez():
    # The Supreme Court's facts: 60 days from October 12, 2021 ended on Saturday, December 11; the period
    # ran to Monday, December 13 (Monsalvo Velázquez v. Bondi, 2025).
    computed = compute_deadline(Rule.VD_DEPARTURE, date(2021, 10, 12), days=60)
    assert (computed.unadjusted, computed.due) == (date(2021, 12, 11), date(2021, 12, 13))
    assert "Monsalvo Velázquez v. Bondi" in computed.explanation


def test_vd_departure_beyond_sixty_days_says_when_that_is_allowed():
    computed = compute_deadline(Rule.VD_DEPARTURE, date(2026, 3, 5), days=120)
    assert computed.due == date(2026, 7, 6)  # March 5 + 120 = Friday, July 3 (Independence Day observed) → Monday
    assert "More than 60 days is possible only before the end of proceedings" in computed.explanation
    assert "More than 60" not in compute_deadline(Rule.VD_DEPARTURE, date(2026, 3, 5), days=60).explanation


def test_vd_departure_one_day_is_singular():
    computed = compute_deadline(Rule.VD_DEPARTURE, date(2026, 3, 5), days=1)
    assert computed.explanation.startswith("1 day after the order")


@pytest.mark.parametrize("days", [0, 121, -5, True, 30.0, "60"])
def test_vd_departure_impossible_period_raises_value_error(days):
    with pytest.raises(ValueError, match="from 1 to 120 days"):
        compute_deadline(Rule.VD_DEPARTURE, date(2026, 3, 5), days=days)


def test_vd_departure_without_days_raises_value_error():
    with pytest.raises(ValueError, match="need the number of days"):
        compute_deadline(Rule.VD_DEPARTURE, date(2026, 3, 5))


# --- Briefs, fear reviews ----------------------------------------------------------------


def test_bia_brief_is_due_21_days_after_the_briefing_schedule():
    computed = compute_deadline(Rule.BIA_BRIEF, date(2026, 3, 5))
    assert computed.due == date(2026, 3, 26)
    assert "The appealing party files first; the other party then has 21 more days" in computed.explanation


def test_bia_brief_in_a_detained_case_is_simultaneous():
    computed = compute_deadline(Rule.BIA_BRIEF, date(2026, 3, 5), detained=True)
    assert computed.due == date(2026, 3, 26)
    assert "simultaneous briefs" in computed.explanation


def test_bia_brief_on_christmas_moves_to_monday():
    # December 4, 2026 + 21 = Friday, December 25.
    computed = compute_deadline(Rule.BIA_BRIEF, date(2026, 12, 4))
    assert (computed.unadjusted, computed.due) == (date(2026, 12, 25), date(2026, 12, 28))
    assert "which is a federal holiday, Christmas Day" in computed.explanation


def test_credible_fear_review_limit_is_seven_days_and_not_moved():
    # Negative determination on Saturday, March 7, 2026: day 7 is Saturday, March 14; the judge's limit.
    computed = compute_deadline(Rule.CREDIBLE_FEAR_REVIEW, date(2026, 3, 7))
    assert computed.due == date(2026, 3, 14)
    assert "8 CFR 1003.42(e)" in computed.explanation and "24 hours" in computed.explanation
    assert "not moved off a weekend or holiday: it is a limit on the judge" in computed.explanation


def test_reasonable_fear_review_limit_is_ten_days_after_the_referral():
    computed = compute_deadline(Rule.REASONABLE_FEAR_REVIEW, date(2026, 3, 5))
    assert computed.due == date(2026, 3, 15)  # a Sunday, not moved
    assert "8 CFR 1208.31(g)" in computed.explanation and "Form I-863" in computed.explanation


# --- Pre-hearing filings, counted back ---------------------------------------------------


def test_prehearing_filing_before_a_master_hearing_counts_fifteen_days_back():
    # Hearing Tuesday, March 17, 2026: the day before is day 1, so day 15 is Monday, March 2.
    computed = compute_deadline(Rule.PREHEARING_FILING, date(2026, 3, 17), hearing_kind="master")
    assert (computed.unadjusted, computed.due) == (date(2026, 3, 2), date(2026, 3, 2))
    assert "EOIR Policy Manual Part II 3.1(b)(1)" in computed.explanation
    assert "Counted back: the day before the hearing is day 1." in computed.explanation


def test_prehearing_filing_landing_on_independence_day_weekend_moves_earlier():
    # Hearing Monday, July 20, 2026: day 15 is Sunday, July 5; Saturday July 4 and Friday July 3 (observed)
    # are closed too, so the filing is due Thursday, July 2.
    computed = compute_deadline(Rule.PREHEARING_FILING, date(2026, 7, 20), hearing_kind=HearingKind.MASTER)
    assert (computed.unadjusted, computed.due) == (date(2026, 7, 5), date(2026, 7, 2))
    assert "so it moves back to the business day before: Thursday, July 2, 2026" in computed.explanation
    assert "Friday, July 3, 2026 is also a federal holiday, Independence Day (observed)." in computed.explanation
    assert "may allow the next business day, Monday, July 6, 2026" in computed.explanation


def test_prehearing_filing_before_an_individual_hearing_counts_thirty_days_back():
    # Hearing Monday, December 28, 2026: day 30 is Saturday, November 28; due Friday, November 27.
    computed = compute_deadline(Rule.PREHEARING_FILING, date(2026, 12, 28), hearing_kind=HearingKind.INDIVIDUAL)
    assert (computed.unadjusted, computed.due) == (date(2026, 11, 28), date(2026, 11, 27))
    assert "30 days before the individual hearing of Dec. 28, 2026" in computed.explanation


def test_prehearing_filing_in_a_detained_case_is_set_by_the_judge():
    with pytest.raises(ValueError, match="the immigration judge sets pre-hearing filing deadlines"):
        compute_deadline(Rule.PREHEARING_FILING, date(2026, 3, 17), hearing_kind="individual", detained=True)


def test_prehearing_filing_needs_a_master_or_individual_hearing():
    with pytest.raises(ValueError, match="need the kind of hearing"):
        compute_deadline(Rule.PREHEARING_FILING, date(2026, 3, 17))
    with pytest.raises(ValueError, match="not from “bond”"):
        compute_deadline(Rule.PREHEARING_FILING, date(2026, 3, 17), hearing_kind=HearingKind.BOND)


def test_prehearing_kinds_are_hearing_kinds():
    assert set(PREHEARING_KINDS) <= set(HearingKind.values)


# --- Change of address, FOIA, bond breach ------------------------------------------------


def test_change_of_address_with_the_court_is_five_calendar_days():
    computed = compute_deadline(Rule.CHANGE_OF_ADDRESS, date(2026, 3, 5))
    assert computed.due == date(2026, 3, 10)
    assert "8 CFR 1003.15(d)(2)" in computed.explanation and "Form AR-11" in computed.explanation


def test_change_of_address_on_a_saturday_moves_to_monday():
    assert compute_deadline(Rule.CHANGE_OF_ADDRESS, date(2026, 3, 2)).due == date(2026, 3, 9)


def test_change_of_address_with_the_board_is_five_working_days():
    # 8 CFR 1003.38(e): five working days; March 6, 9, 10, 11, 12.
    computed = compute_deadline(Rule.CHANGE_OF_ADDRESS, date(2026, 3, 5), forum=Forum.BIA)
    assert computed.due == date(2026, 3, 12)
    assert "EOIR-33/BIA" in computed.explanation


def test_foia_response_is_twenty_business_days_after_receipt():
    # Friday, November 20, 2026, with Thanksgiving in between: Monday, December 21.
    computed = compute_deadline(Rule.FOIA_RESPONSE, date(2026, 11, 20))
    assert computed.due == date(2026, 12, 21)
    assert "Thanksgiving Day" in computed.explanation and "552(a)(6)(B)(i)" in computed.explanation


def test_foia_appeal_is_ninety_days_and_not_moved():
    computed = compute_deadline(Rule.FOIA_APPEAL, date(2026, 3, 9))
    assert computed.due == date(2026, 6, 7)  # a Sunday
    assert "at least 90 days" in computed.explanation and "552(a)(6)(A)(i)(III)(aa)" in computed.explanation


def test_bond_breach_appeal_served_in_person_is_thirty_days():
    computed = compute_deadline(Rule.BOND_BREACH_APPEAL, date(2026, 3, 5))
    assert computed.due == date(2026, 4, 6)  # Saturday, April 4 → Monday
    assert "No 3 days are added" in computed.explanation and "counted under 8 CFR 1.2" in computed.explanation


def test_bond_breach_appeal_mailed_notice_adds_three_days():
    # March 5 + 33 = Tuesday, April 7 (8 CFR 103.8(b)).
    computed = compute_deadline(Rule.BOND_BREACH_APPEAL, date(2026, 3, 5), service=Service.MAIL)
    assert (computed.unadjusted, computed.due) == (date(2026, 4, 7), date(2026, 4, 7))
    assert "33 days (30, plus 3 for mail)" in computed.explanation and "Form I-290B" in computed.explanation


# --- Children ----------------------------------------------------------------------------


def test_uac_hhs_notice_within_48_hours_shows_the_day_before_they_end():
    computed = compute_deadline(Rule.UAC_HHS_NOTICE, date(2026, 3, 5))
    assert (computed.unadjusted, computed.due) == (date(2026, 3, 7), date(2026, 3, 6))
    assert "8 U.S.C. 1232(b)(2)" in computed.explanation and "hours run through weekends" in computed.explanation


def test_uac_transfer_within_72_hours_is_not_moved_off_a_saturday():
    computed = compute_deadline(Rule.UAC_TRANSFER, date(2026, 3, 5))
    assert (computed.unadjusted, computed.due) == (date(2026, 3, 8), date(2026, 3, 7))
    assert "8 U.S.C. 1232(b)(3)" in computed.explanation


def test_age_out_is_the_18th_birthday():
    computed = compute_deadline(Rule.AGE_OUT, date(2008, 3, 1))
    assert computed.due == date(2026, 3, 1)  # a Sunday, not moved
    assert "ORR custody ends" in computed.explanation and "8 U.S.C. 1232(c)(2)(B)" in computed.explanation


def test_age_out_of_a_leap_day_child_is_february_28():
    computed = compute_deadline(Rule.AGE_OUT, date(2008, 2, 29))
    assert computed.due == date(2026, 2, 28)
    assert "18th birthday is taken as February 28" in computed.explanation


# --- Rolling forward ---------------------------------------------------------------------


def test_compute_deadline_on_saturday_before_monday_holiday_moves_to_tuesday():
    # Saturday January 17, 2026; Monday January 19 is Martin Luther King Jr. Day.
    computed = compute_deadline(Rule.BIA_APPEAL, date(2025, 12, 18))
    assert (computed.unadjusted, computed.due) == (date(2026, 1, 17), date(2026, 1, 20))
    assert "Monday, Jan. 19, 2026 is also a federal holiday, Martin Luther King Jr. Day." in (computed.explanation)


def test_compute_deadline_on_observed_independence_day_moves_to_monday():
    # July 4, 2026 is a Saturday, so Friday July 3 is the holiday federal offices observe.
    assert us_federal_holiday_name(date(2026, 7, 3)) == "Independence Day (observed)"
    computed = compute_deadline(Rule.BIA_APPEAL, date(2026, 6, 3))
    assert (computed.unadjusted, computed.due) == (date(2026, 7, 3), date(2026, 7, 6))
    assert "which is a federal holiday, Independence Day (observed), so it moves" in computed.explanation


def test_compute_deadline_on_thanksgiving_moves_to_friday():
    computed = compute_deadline(Rule.MOTION_TO_RECONSIDER, date(2026, 10, 27))
    assert (computed.unadjusted, computed.due) == (date(2026, 11, 26), date(2026, 11, 27))
    assert "federal holiday, Thanksgiving Day" in computed.explanation


def test_compute_deadline_on_christmas_friday_moves_to_monday():
    computed = compute_deadline(Rule.MOTION_TO_REOPEN, date(2026, 9, 26))
    assert (computed.unadjusted, computed.due) == (date(2026, 12, 25), date(2026, 12, 28))


@pytest.mark.parametrize("year", [2021, 2027])
def test_compute_deadline_on_new_years_day_observed_december_31_moves_to_january_3(year):
    # January 1 of 2022 and of 2028 is a Saturday. Under 5 U.S.C. 6103(b)(1) and OPM's rule the
    # preceding Friday, December 31, is the holiday for federal employees (OPM listed Friday,
    # December 31, 2021 as New Year's Day). The holidays package agrees, and files that Friday under
    # the year it falls in, which is what the per-year cache relies on.
    assert us_federal_holiday_name(date(year, 12, 31)) == "New Year's Day (observed)"
    assert us_federal_holiday_name(date(year + 1, 1, 1)) == "New Year's Day"
    computed = compute_deadline(Rule.BIA_APPEAL, date(year, 12, 1))
    assert (computed.unadjusted, computed.due) == (date(year, 12, 31), date(year + 1, 1, 3))


def test_compute_deadline_on_weekend_holiday_names_both():
    # Saturday, July 4, 2026.
    computed = compute_deadline(Rule.BIA_APPEAL, date(2026, 6, 4))
    assert computed.due == date(2026, 7, 6)
    assert "which is a weekend day and a federal holiday, Independence Day, so it moves" in computed.explanation


# --- The business-day calendar -----------------------------------------------------------


def test_is_business_day_juneteenth_only_from_2021():
    # Juneteenth became a federal holiday in June 2021; a deadline on June 19, 2020 (a Friday) did not move.
    assert is_business_day(date(2020, 6, 19))
    assert not is_business_day(date(2026, 6, 19))


def test_is_business_day_weekday_weekend_and_holiday():
    assert is_business_day(date(2026, 4, 1))
    assert not is_business_day(date(2026, 4, 4))
    assert not is_business_day(date(2026, 4, 5))
    assert not is_business_day(date(2026, 1, 19))


def test_next_business_day_returns_a_business_day_itself():
    assert next_business_day(date(2026, 4, 1)) == date(2026, 4, 1)


def test_previous_business_day_goes_back_over_a_holiday_weekend():
    # Monday, September 7, 2026 is Labor Day: the business day before is Friday, September 4.
    assert previous_business_day(date(2026, 9, 7)) == date(2026, 9, 4)
    assert previous_business_day(date(2026, 9, 4)) == date(2026, 9, 4)


def test_add_business_days_day_one_is_the_first_business_day_after():
    assert add_business_days(date(2026, 3, 5), 1) == date(2026, 3, 6)
    assert add_business_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday → Monday
    assert add_business_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # from a Saturday
    assert add_business_days(date(2026, 3, 5), 0) == date(2026, 3, 5)


def test_add_business_days_over_new_years_day_observed_on_december_31():
    # January 1, 2028 is a Saturday, observed Friday, December 31, 2027.
    assert add_business_days(date(2027, 12, 30), 1) == date(2028, 1, 3)


@pytest.mark.parametrize("n", [-1, 1.5, True, "3"])
def test_add_business_days_refuses_a_non_count(n):
    with pytest.raises(ValueError, match="whole number"):
        add_business_days(date(2026, 3, 5), n)


def test_us_federal_holiday_name_none_on_ordinary_day():
    assert us_federal_holiday_name(date(2026, 4, 1)) is None


def test_us_federal_holiday_name_matches_a_multi_year_calendar():
    # The per-year cache must see exactly what one calendar for the whole range sees, including the
    # observed days that fall next to a year boundary.
    reference = holidays.country_holidays("US", years=range(2000, 2101))
    day = date(2000, 1, 1)
    while day <= date(2100, 12, 31):
        assert us_federal_holiday_name(day) == reference.get(day), day
        day += timedelta(days=1)


# --- Explanation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "citation", "phrase"),
    [
        (
            Rule.BIA_APPEAL,
            "(8 CFR 1003.38(b); counted under 8 CFR 1001.1(h))",
            "30 days after the immigration judge's oral decision of March 2, 2026",
        ),
        (
            Rule.ASYLUM_ONE_YEAR,
            "(INA 208(a)(2)(B); 8 CFR 1208.4(a)(2))",
            "One year after the last arrival in the United States on March 2, 2026",
        ),
        (
            Rule.MOTION_TO_RECONSIDER,
            "(INA 240(c)(6)(B); 8 CFR 1003.23(b)(1); counted under 8 CFR 1001.1(h))",
            "30 days after the immigration judge's final order of March 2, 2026",
        ),
        (
            Rule.MOTION_TO_REOPEN,
            "(INA 240(c)(7)(C)(i); 8 CFR 1003.23(b)(1); counted under 8 CFR 1001.1(h))",
            "90 days after the immigration judge's final order of March 2, 2026",
        ),
    ],
)
def test_explanation_names_rule_and_source(rule, citation, phrase):
    explanation = compute_deadline(rule, date(2026, 3, 2)).explanation
    assert explanation.startswith(f"{phrase} {citation} is ")


def test_explanation_on_business_day_says_it_did_not_move():
    explanation = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 2)).explanation
    assert "is Wednesday, April 1, 2026, a business day, so that is the deadline." in explanation
    assert "moves" not in explanation


@pytest.mark.parametrize("rule", COMPUTED_RULES)
def test_explanation_carries_the_citation(rule):
    computed = _compute(rule, date(2026, 3, 2))
    assert computed.citation
    assert f"({computed.citation})" in computed.explanation


def test_explanation_fits_a_readable_length():
    # Stored in a TextField, but shown whole beside the deadline: under 800 English characters leaves
    # room for a longer translation within about 900.
    longest = max(
        len(_compute(rule, date(2026, 6, 1) - timedelta(days=offset), **options).explanation)
        for rule, options in [
            *((rule, {}) for rule in COMPUTED_RULES),
            (Rule.VD_DEPARTURE, {"days": 120, "service": Service.MAIL}),
            (Rule.PETITION_FOR_REVIEW, {"service": Service.ELECTRONIC, "forum": Forum.BIA}),
            (Rule.PREHEARING_FILING, {"hearing_kind": "individual"}),
        ]
        for offset in range(0, 366 * 2, 3)
    )
    assert longest < 800


# --- Spanish -----------------------------------------------------------------------------
# These need the Spanish catalogue compiled with this module's strings (locale/es, issue 9).


def test_explanation_localises_dates_in_spanish():
    with translation.override("es"):
        explanation = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 5)).explanation
    assert "5 de marzo de 2026" in explanation
    assert "sábado 4 de abril de 2026" in explanation
    assert "lunes 6 de abril de 2026" in explanation


def test_bia_appeal_explanation_in_spanish():
    with translation.override("es"):
        explanation = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 10), service=Service.MAIL).explanation
    assert explanation.startswith(
        "30 días después del envío por correo de la decisión escrita del juez de inmigración, el 10 de marzo "
        "de 2026 (8 CFR 1003.38(b); cómputo según 8 CFR 1001.1(h)) cae el jueves 9 de abril de 2026"
    )
    assert "La BIA debe recibir el aviso de apelación" in explanation


def test_prehearing_filing_explanation_in_spanish():
    with translation.override("es"):
        explanation = compute_deadline(Rule.PREHEARING_FILING, date(2026, 7, 20), hearing_kind="master").explanation
    assert explanation.startswith("15 días antes de la audiencia preliminar (master calendar) del 20 de julio de 2026")
    assert "se adelanta al día hábil anterior: el jueves 2 de julio de 2026" in explanation
    assert "Se cuenta hacia atrás: el día anterior a la audiencia es el día 1." in explanation


def test_business_days_and_titles_in_spanish():
    with translation.override("es"):
        explanation = compute_deadline(Rule.DHS_STAY_NOTICE, date(2026, 11, 25)).explanation
        title = default_title(Rule.MOTION_TO_REOPEN, forum=Forum.BIA)
        label = str(Rule.PETITION_FOR_REVIEW.label)
    assert "El jueves 26 de noviembre de 2026 no se cuenta: es día feriado federal (Día de Acción de Gracias)." in (
        explanation
    )
    assert title == "Presentar la moción de reapertura ante la BIA"
    assert label == "Petición de revisión"


def test_refusal_in_spanish():
    with translation.override("es"), pytest.raises(ValueError, match="no dependen de cómo se notificó la decisión"):
        compute_deadline(Rule.CHANGE_OF_ADDRESS, date(2026, 3, 5), service=Service.MAIL)


def test_explanation_in_spanish_fits_a_readable_length():
    with translation.override("es"):
        longest = max(
            len(_compute(rule, date(2026, 6, 1) - timedelta(days=offset), **options).explanation)
            for rule, options in [
                *((rule, {}) for rule in COMPUTED_RULES),
                (Rule.VD_DEPARTURE, {"days": 120, "service": Service.MAIL}),
                (Rule.PETITION_FOR_REVIEW, {"service": Service.ELECTRONIC, "forum": Forum.BIA}),
            ]
            for offset in range(0, 366, 7)
        )
    assert longest < 920


# --- Labels, arguments and bad input -----------------------------------------------------


@pytest.mark.parametrize("rule", COMPUTED_RULES)
def test_default_title_present_for_computed_rules(rule):
    assert default_title(rule)


def test_default_title_empty_for_manual():
    assert default_title(Rule.MANUAL) == ""


@pytest.mark.parametrize(
    ("rule", "forum", "title"),
    [
        (Rule.MOTION_TO_REOPEN, Forum.IJ, "File motion to reopen with the immigration judge"),
        (Rule.MOTION_TO_REOPEN, Forum.BIA, "File motion to reopen with the BIA"),
        (Rule.MOTION_TO_RECONSIDER, "bia", "File motion to reconsider with the BIA"),
        (Rule.CHANGE_OF_ADDRESS, Forum.BIA, "File change of address with the BIA (Form EOIR-33/BIA)"),
        (Rule.BIA_APPEAL, Forum.BIA, "File notice of appeal to the BIA (Form EOIR-26)"),
    ],
)
def test_default_title_follows_the_forum(rule, forum, title):
    assert default_title(rule, forum=forum) == title


def test_rule_values_fit_the_stored_field():
    max_length = Deadline._meta.get_field("rule").max_length
    assert all(len(rule.value) <= max_length for rule in Rule)


@pytest.mark.parametrize("rule", COMPUTED_RULES)
def test_rule_counting_matches_how_the_rule_counts(rule):
    expected = (
        Counting.BUSINESS
        if rule in BUSINESS_DAYS
        else Counting.BACKWARD
        if rule in COUNTED_BACK
        else Counting.FRAP
        if rule == Rule.PETITION_FOR_REVIEW
        else Counting.CALENDAR
    )
    assert rule_counting(rule) == expected


def test_rule_counting_of_a_change_of_address_with_the_board_is_business_days():
    assert rule_counting(Rule.CHANGE_OF_ADDRESS, forum=Forum.BIA) == Counting.BUSINESS


def test_compute_deadline_accepts_stored_string_value():
    computed = compute_deadline("bia_appeal", date(2026, 3, 2))
    assert computed.rule is Rule.BIA_APPEAL


def test_compute_deadline_manual_raises_value_error():
    with pytest.raises(ValueError, match="set by hand"):
        compute_deadline(Rule.MANUAL, date(2026, 3, 2))


@pytest.mark.parametrize("value", ["2026-03-02", None, datetime(2026, 3, 2, 12, 0), 20260302])
def test_compute_deadline_non_date_raises_value_error(value):
    with pytest.raises(ValueError, match="calendar date"):
        compute_deadline(Rule.BIA_APPEAL, value)


def test_compute_deadline_unknown_rule_raises_value_error():
    with pytest.raises(ValueError):
        compute_deadline("tps_registration", date(2026, 3, 2))


def test_compute_deadline_past_end_of_calendar_raises_value_error():
    with pytest.raises(ValueError, match="too late"):
        compute_deadline(Rule.ASYLUM_ONE_YEAR, date(9999, 6, 1))


@pytest.mark.parametrize(
    ("rule", "options", "words"),
    [
        (Rule.BIA_APPEAL, {"days": 30}, "a number of days set by the judge"),
        (Rule.CHANGE_OF_ADDRESS, {"service": Service.MAIL}, "how the decision was served"),
        (Rule.BIA_APPEAL, {"forum": Forum.BIA}, "who made the decision"),
        (Rule.ASYLUM_ONE_YEAR, {"detained": True}, "whether the person is detained"),
        (Rule.MOTION_TO_REOPEN, {"hearing_kind": "master"}, "the kind of hearing"),
        (Rule.DHS_STAY_LAPSE, {"service": Service.ELECTRONIC}, "how the decision was served"),
        (Rule.AGE_OUT, {"forum": "bia"}, "who made the decision"),
    ],
)
def test_an_argument_that_does_not_fit_the_rule_raises_value_error(rule, options, words):
    with pytest.raises(ValueError, match=f"do not depend on {words}"):
        _compute(rule, date(2026, 3, 5), **options)


@pytest.mark.parametrize(
    "options", [{"service": "fax"}, {"forum": "district_court"}, {"detained": "yes"}, {"hearing_kind": 3}]
)
def test_an_unknown_argument_value_raises_value_error(options):
    with pytest.raises(ValueError):
        compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 5), **options)


# --- Properties --------------------------------------------------------------------------


def test_every_rule_has_exactly_one_counting_behaviour():
    groups = [ROLLS_FORWARD, set(BUSINESS_DAYS), COUNTED_BACK, NEVER_MOVED, set(IN_HOURS)]
    for rule in COMPUTED_RULES:
        assert sum(rule in group for group in groups) == 1, rule


_SOURCES = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
_SERVICES = st.sampled_from(list(Service))


@settings(max_examples=400, deadline=None, database=None)
@given(rule=st.sampled_from(sorted(ROLLS_FORWARD)), source=_SOURCES)
def test_a_forward_deadline_is_the_first_business_day_on_or_after_its_last_day(rule, source):
    computed = _compute(rule, source)
    assert computed.due >= computed.unadjusted > source
    assert is_business_day(computed.due)
    # In practice at most 3 (Saturday, Sunday and a Monday holiday); 5 leaves room for rule changes.
    assert (computed.due - computed.unadjusted).days <= 5
    day = computed.unadjusted
    while day < computed.due:
        assert not is_business_day(day), day
        day += timedelta(days=1)


@settings(max_examples=300, deadline=None, database=None)
@given(rule=st.sampled_from(sorted(BUSINESS_DAYS)), source=_SOURCES)
def test_a_business_day_deadline_counts_exactly_its_business_days(rule, source):
    computed = _compute(rule, source)
    assert computed.due == computed.unadjusted
    assert is_business_day(computed.due)
    counted = sum(is_business_day(source + timedelta(days=n)) for n in range(1, (computed.due - source).days + 1))
    assert counted == BUSINESS_DAYS[rule]


@settings(max_examples=300, deadline=None, database=None)
@given(source=_SOURCES, kind=st.sampled_from(PREHEARING_KINDS))
def test_a_counted_back_deadline_is_the_last_business_day_on_or_before_its_day(source, kind):
    computed = compute_deadline(Rule.PREHEARING_FILING, source, hearing_kind=kind)
    assert (source - computed.unadjusted).days == {"master": 15, "individual": 30}[kind]
    assert computed.due <= computed.unadjusted
    assert is_business_day(computed.due)
    day = computed.due + timedelta(days=1)
    while day <= computed.unadjusted:
        assert not is_business_day(day), day
        day += timedelta(days=1)


@settings(max_examples=200, deadline=None, database=None)
@given(rule=st.sampled_from(sorted(NEVER_MOVED)), source=_SOURCES)
def test_a_fixed_deadline_is_never_moved(rule, source):
    computed = _compute(rule, source)
    assert computed.due == computed.unadjusted > source


@settings(max_examples=200, deadline=None, database=None)
@given(rule=st.sampled_from(sorted(IN_HOURS)), source=_SOURCES)
def test_an_hours_deadline_is_the_last_day_wholly_inside_the_hours(rule, source):
    computed = _compute(rule, source)
    assert computed.unadjusted == source + timedelta(hours=IN_HOURS[rule])
    assert computed.due == computed.unadjusted - timedelta(days=1)


@settings(max_examples=200, deadline=None, database=None)
@given(source=_SOURCES, service=_SERVICES)
def test_the_way_a_decision_was_served_never_moves_an_order_based_deadline(source, service):
    # Only the appeal rules (and the mailed bond-breach notice) count from service; for the others the
    # date given is the order's and the result must not change.
    for rule in (Rule.MOTION_TO_REOPEN, Rule.PETITION_FOR_REVIEW, Rule.VD_BOND, Rule.MOTION_TO_RESCIND):
        assert _compute(rule, source, service=service).due == _compute(rule, source).due
