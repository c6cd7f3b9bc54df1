"""The arithmetic of a plan (days, business days, hours, years; rolled off closed days) and the
sentences that explain it.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.utils.formats import date_format
from django.utils.translation import gettext

from casework.deadlines.calendar import (
    add_business_days,
    is_business_day,
    next_business_day,
    previous_business_day,
    us_federal_holiday_name,
)
from casework.deadlines.plans import _Closed, _long_date, _Plan, _Unit


def _add_years(source: date, years: int) -> tuple[date, bool]:
    """``source`` plus whole years; the flag says a February 29 had to become February 28."""
    year = source.year + years
    if source.month == 2 and source.day == 29 and not calendar.isleap(year):
        # February 29 has no anniversary in a common year. We found no immigration ruling on whether
        # the year then ends on February 28 or March 1 (the "anniversary method" some courts use for
        # other limitation periods could point to March 1). The statute allows filing "within 1 year",
        # and 365 days after February 29 is February 28 (the Ninth Circuit treats a common year as
        # 365 days: Lagandaon v. Ashcroft, 383 F.3d 983 (9th Cir. 2004)). A deadline must never be
        # later than the law allows, so take the earlier date; the explanation says so.
        return date(year, 2, 28), True
    return source.replace(year=year), False


def _count(plan: _Plan, source: date) -> tuple[date, date, bool]:
    """(unadjusted, due, whether a February 29 became February 28)."""
    if plan.unit is _Unit.BUSINESS_DAYS:
        due = add_business_days(source, plan.amount)
        return due, due, False
    if plan.unit is _Unit.HOURS:
        # The period ends at the event's hour ``amount // 24`` days later; without the hour, the day before.
        unadjusted = source + timedelta(days=plan.amount // 24)
        return unadjusted, unadjusted - timedelta(days=1), False
    if plan.unit is _Unit.YEARS:
        unadjusted, leap = _add_years(source, plan.amount)
    elif plan.closed is _Closed.BACKWARD:
        unadjusted, leap = source - timedelta(days=plan.amount), False
    else:
        unadjusted, leap = source + timedelta(days=plan.amount), False
    if plan.closed is _Closed.FORWARD:
        return unadjusted, next_business_day(unadjusted), leap
    if plan.closed is _Closed.BACKWARD:
        return unadjusted, previous_business_day(unadjusted), leap
    return unadjusted, unadjusted, leap


def _weekday(d: date) -> str:
    return date_format(d, "l")


def _holidays_between(first: date, last: date) -> list[str]:
    """A sentence for each weekday holiday from ``first`` to ``last`` (weekends explain themselves)."""
    sentences = []
    day = first
    while day <= last:
        holiday = us_federal_holiday_name(day)
        if holiday and day.weekday() < 5:
            sentences.append(
                gettext("%(weekday)s, %(date)s is also a federal holiday, %(holiday)s.")
                % {"weekday": _weekday(day), "date": _long_date(day), "holiday": holiday}
            )
        day += timedelta(days=1)
    return sentences


def _moved_sentence(words: dict[str, str | None], *, forward: bool, weekend: bool) -> str:
    if forward and weekend and words["holiday"]:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, which is a weekend day and a federal holiday, "
            "%(holiday)s, so it moves to the next business day: %(due_weekday)s, %(due)s."
        )
    elif forward and weekend:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, which is a weekend day, "
            "so it moves to the next business day: %(due_weekday)s, %(due)s."
        )
    elif forward:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, which is a federal holiday, %(holiday)s, "
            "so it moves to the next business day: %(due_weekday)s, %(due)s."
        )
    elif weekend and words["holiday"]:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, which is a weekend day and a federal holiday, "
            "%(holiday)s, so it moves back to the business day before: %(due_weekday)s, %(due)s."
        )
    elif weekend:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, which is a weekend day, "
            "so it moves back to the business day before: %(due_weekday)s, %(due)s."
        )
    else:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, which is a federal holiday, %(holiday)s, "
            "so it moves back to the business day before: %(due_weekday)s, %(due)s."
        )
    return template % words


def _explain(plan: _Plan, source: date, unadjusted: date, due: date, citation: str, *, leap: bool) -> str:
    """The sentences shown with the deadline and stored with it (keep them under about 900 characters)."""
    words: dict[str, str | None] = {
        "period": plan.period,
        "citation": citation,
        "weekday": _weekday(unadjusted),
        "date": _long_date(unadjusted),
        "due_weekday": _weekday(due),
        "due": _long_date(due),
        "holiday": us_federal_holiday_name(unadjusted),
        "source": _long_date(source),
    }
    sentences: list[str] = []
    if plan.unit is _Unit.BUSINESS_DAYS:
        sentences.append(
            gettext(
                "%(period)s (%(citation)s) is %(weekday)s, %(date)s. Day 1 is the first business day after "
                "%(source)s; weekends and federal holidays are not counted."
            )
            % words
        )
        sentences.extend(
            gettext("%(weekday)s, %(date)s is not counted: it is a federal holiday, %(holiday)s.")
            % {"weekday": _weekday(day), "date": _long_date(day), "holiday": us_federal_holiday_name(day)}
            for day in (source + timedelta(days=n) for n in range(1, (due - source).days + 1))
            if day.weekday() < 5 and us_federal_holiday_name(day)
        )
    elif plan.unit is _Unit.HOURS:
        sentences.append(
            gettext(
                "%(period)s (%(citation)s) end at the same hour on %(weekday)s, %(date)s. The hour is not recorded "
                "here, so the deadline shown is the day before, %(due_weekday)s, %(due)s, the earlier and safer "
                "date; hours run through weekends and holidays."
            )
            % words
        )
    elif due == unadjusted:
        if plan.closed is _Closed.STAYS:
            sentences.append(gettext("%(period)s (%(citation)s) is %(weekday)s, %(date)s.") % words)
            if not is_business_day(unadjusted):
                sentences.append(
                    gettext("That day is not moved off a weekend or holiday: %(reason)s")
                    % {"reason": plan.stays_reason}
                )
        else:
            sentences.append(
                gettext("%(period)s (%(citation)s) is %(weekday)s, %(date)s, a business day, so that is the deadline.")
                % words
            )
    elif plan.closed is _Closed.FORWARD:
        sentences.append(_moved_sentence(words, forward=True, weekend=unadjusted.weekday() >= 5))
        sentences.extend(_holidays_between(unadjusted + timedelta(days=1), due - timedelta(days=1)))
    else:
        sentences.append(_moved_sentence(words, forward=False, weekend=unadjusted.weekday() >= 5))
        sentences.extend(_holidays_between(due + timedelta(days=1), unadjusted - timedelta(days=1)))
    if plan.closed is _Closed.BACKWARD:
        sentences.append(gettext("Counted back: the day before the hearing is day 1."))
        if due != unadjusted:
            later = next_business_day(unadjusted)
            sentences.append(
                gettext(
                    "Filing by then is on time under any reading of the EOIR Policy Manual (Part II 3.1(c)), which "
                    "may allow the next business day, %(weekday)s, %(date)s."
                )
                % {"weekday": _weekday(later), "date": _long_date(later)}
            )
    if leap:
        sentences.append(plan.leap_note % {"year": unadjusted.year})
    sentences.extend(plan.notes)
    return " ".join(sentences)
