"""Deadline arithmetic: each rule, rolling off weekends and federal holidays, and the explanation.

Pure functions, so no database. Dates are checked against a calendar by hand; the property test
then covers every rule over a century of dates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import holidays
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.deadlines import (
    ComputedDeadline,
    Rule,
    compute_deadline,
    default_title,
    is_business_day,
    next_business_day,
    us_federal_holiday_name,
)

COMPUTED_RULES = [rule for rule in Rule if rule != Rule.MANUAL]


@pytest.fixture(autouse=True)
def _english():
    # Exact wording is asserted in English; one test switches to Spanish on its own.
    with translation.override("en"):
        yield


# --- Each rule's arithmetic --------------------------------------------------------------


def test_bia_appeal_counts_thirty_calendar_days_from_the_day_after_the_decision():
    # Day 1 is March 3, so day 30 is April 1 (a Wednesday).
    computed = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 2))
    assert computed == ComputedDeadline(
        rule=Rule.BIA_APPEAL,
        source_date=date(2026, 3, 2),
        unadjusted=date(2026, 4, 1),
        due=date(2026, 4, 1),
        explanation=computed.explanation,
    )


def test_motion_to_reconsider_counts_thirty_calendar_days():
    computed = compute_deadline(Rule.MOTION_TO_RECONSIDER, date(2026, 3, 2))
    assert (computed.unadjusted, computed.due) == (date(2026, 4, 1), date(2026, 4, 1))


def test_motion_to_reopen_counts_ninety_calendar_days():
    # January 6 + 25 = January 31, + 28 = February 28, + 31 = March 31, + 6 = April 6 (a Monday).
    computed = compute_deadline(Rule.MOTION_TO_REOPEN, date(2026, 1, 6))
    assert (computed.unadjusted, computed.due) == (date(2026, 4, 6), date(2026, 4, 6))


def test_asylum_one_year_ends_on_the_anniversary_of_last_arrival():
    computed = compute_deadline(Rule.ASYLUM_ONE_YEAR, date(2025, 6, 10))
    assert (computed.unadjusted, computed.due) == (date(2026, 6, 10), date(2026, 6, 10))


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


# --- Rolling forward ---------------------------------------------------------------------


def test_compute_deadline_on_saturday_moves_to_monday():
    computed = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 5))
    assert (computed.unadjusted, computed.due) == (date(2026, 4, 4), date(2026, 4, 6))
    assert computed.explanation == (
        "30 days after the immigration judge's decision of March 5, 2026 (8 CFR 1003.38(b)) is Saturday, "
        "April 4, 2026, which is a weekend day, so it moves to the next business day: Monday, April 6, 2026."
    )


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
        (Rule.BIA_APPEAL, "(8 CFR 1003.38(b))", "30 days after the immigration judge's decision of March 2, 2026"),
        (
            Rule.ASYLUM_ONE_YEAR,
            "(INA 208(a)(2)(B); 8 CFR 1208.4(a)(2))",
            "One year after the last arrival in the United States on March 2, 2026",
        ),
        (
            Rule.MOTION_TO_RECONSIDER,
            "(INA 240(c)(6)(B); 8 CFR 1003.23(b)(1))",
            "30 days after the final order of March 2, 2026",
        ),
        (
            Rule.MOTION_TO_REOPEN,
            "(INA 240(c)(7)(C)(i); 8 CFR 1003.23(b)(1))",
            "90 days after the final order of March 2, 2026",
        ),
    ],
)
def test_explanation_names_rule_and_source(rule, citation, phrase):
    explanation = compute_deadline(rule, date(2026, 3, 2)).explanation
    assert explanation.startswith(f"{phrase} {citation} is ")


def test_explanation_on_business_day_says_it_did_not_move():
    explanation = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 2)).explanation
    assert explanation.endswith("is Wednesday, April 1, 2026, a business day, so that is the deadline.")
    assert "moves" not in explanation


def test_explanation_localises_dates_in_spanish():
    with translation.override("es"):
        explanation = compute_deadline(Rule.BIA_APPEAL, date(2026, 3, 5)).explanation
    assert "5 de marzo de 2026" in explanation
    assert "sábado 4 de abril de 2026" in explanation
    assert "lunes 6 de abril de 2026" in explanation


def test_explanation_fits_the_stored_field():
    # Deadline.explanation is a CharField(max_length=500); the longest English cases leave room for
    # longer translations.
    longest = max(
        len(compute_deadline(rule, date(2026, 6, 1) - timedelta(days=offset)).explanation)
        for rule in COMPUTED_RULES
        for offset in range(366 * 3)
    )
    assert longest < 400


# --- Labels and bad input ----------------------------------------------------------------


@pytest.mark.parametrize("rule", COMPUTED_RULES)
def test_default_title_present_for_computed_rules(rule):
    assert default_title(rule)


def test_default_title_empty_for_manual():
    assert default_title(Rule.MANUAL) == ""


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


# --- Property ----------------------------------------------------------------------------


@settings(max_examples=500, deadline=None, database=None)
@given(
    rule=st.sampled_from(COMPUTED_RULES),
    source=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
)
def test_compute_deadline_due_is_first_business_day_on_or_after_unadjusted(rule, source):
    computed = compute_deadline(rule, source)
    assert computed.due >= computed.unadjusted
    assert is_business_day(computed.due)
    # In practice at most 3 (Saturday, Sunday and a Monday holiday); 5 leaves room for rule changes.
    assert (computed.due - computed.unadjusted).days <= 5
    # Every day from unadjusted up to (not including) due was closed; that covers "strictly between" too.
    day = computed.unadjusted
    while day < computed.due:
        assert not is_business_day(day), day
        day += timedelta(days=1)
