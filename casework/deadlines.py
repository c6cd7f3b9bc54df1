"""Immigration-court deadlines computed from the rule that sets them.

A missed filing deadline can end a detained person's case, and the people entering dates are
often working from a decision handed over in a hearing room. So the arithmetic lives here, in one
pure module (no models, no database) that can be tested exhaustively, and every result carries a
sentence saying how it was reached, so a lawyer can check it against the regulation at a glance.

Conventions, and why:

* Periods in days are calendar days. The triggering day is day 0 and the next day is day 1
  (Immigration Court Practice Manual ch. 3.1(c); BIA Practice Manual ch. 3.1(b)), so a decision on
  March 2 plus 30 days is April 1.
* A year runs to the same calendar date a year later: the arrival day is "day zero" (Minasyan v.
  Mukasey, 553 F.3d 1224 (9th Cir. 2009), followed by the USCIS Asylum Division).
* A last day on a Saturday, Sunday or legal holiday moves to the next business day, as often as
  needed (8 CFR 1003.38(b); 8 CFR 1208.4(a)(2)(ii); ICPM ch. 3.1(c)).
* "Legal holiday" means the US federal holidays of 5 U.S.C. 6103, including the day observed when a
  holiday falls on a weekend (Friday for Saturday, Monday for Sunday), as published by the
  ``holidays`` package. One-off closures by executive order (e.g. December 24, 2024, or the
  national day of mourning on January 9, 2025) are deliberately not counted: they are not in the
  package's default "public" category, and when in doubt the earlier date is the safe one.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from django.db import models
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Rule(models.TextChoices):
    """The rule that set a deadline; stored on ``casework.Deadline.rule``."""

    BIA_APPEAL = "bia_appeal", _("Appeal to the BIA")
    ASYLUM_ONE_YEAR = "asylum_one_year", _("Asylum application (one-year deadline)")
    MOTION_TO_RECONSIDER = "motion_to_reconsider", _("Motion to reconsider")
    MOTION_TO_REOPEN = "motion_to_reopen", _("Motion to reopen")
    MANUAL = "manual", _("Set by hand")


@dataclass(frozen=True)
class ComputedDeadline:
    """A deadline and how it was reached, kept together so the reasoning is never lost."""

    rule: Rule
    source_date: date  # the triggering date (decision, arrival, final order)
    unadjusted: date  # source_date + the rule's period
    due: date  # unadjusted, moved forward off weekends and federal holidays
    explanation: str  # one or more sentences in the language active when computed


@dataclass(frozen=True)
class _RuleSpec:
    """Everything one computed rule needs, in one row, so the period and its wording cannot drift apart."""

    days: int
    years: int
    citation: Promise
    title: Promise
    # "<period> after <event> of %(date)s": the subject of the explanation sentence.
    period_phrase: Promise


_SPECS: dict[Rule, _RuleSpec] = {
    Rule.BIA_APPEAL: _RuleSpec(
        days=30,
        years=0,
        # Translators: a legal citation; normally left as it is.
        citation=_("8 CFR 1003.38(b)"),
        title=_("File notice of appeal to the BIA (Form EOIR-26)"),
        period_phrase=_("30 days after the immigration judge's decision of %(date)s"),
    ),
    Rule.ASYLUM_ONE_YEAR: _RuleSpec(
        days=0,
        years=1,
        # Translators: a legal citation; normally left as it is.
        citation=_("INA 208(a)(2)(B); 8 CFR 1208.4(a)(2)"),
        title=_("File asylum application (Form I-589)"),
        period_phrase=_("One year after the last arrival in the United States on %(date)s"),
    ),
    Rule.MOTION_TO_RECONSIDER: _RuleSpec(
        days=30,
        years=0,
        # Translators: a legal citation; normally left as it is.
        citation=_("INA 240(c)(6)(B); 8 CFR 1003.23(b)(1)"),
        title=_("File motion to reconsider"),
        period_phrase=_("30 days after the final order of %(date)s"),
    ),
    Rule.MOTION_TO_REOPEN: _RuleSpec(
        days=90,
        years=0,
        # Translators: a legal citation; normally left as it is.
        citation=_("INA 240(c)(7)(C)(i); 8 CFR 1003.23(b)(1)"),
        title=_("File motion to reopen"),
        period_phrase=_("90 days after the final order of %(date)s"),
    ),
}

# The ``holidays`` package has no Spanish names for the US, so its English names are translated
# here. Keys are exactly the names it returns for the "public" category; anything it adds later
# is shown untranslated rather than dropped.
_HOLIDAY_NAMES: dict[str, Promise] = {
    "New Year's Day": _("New Year's Day"),
    "Martin Luther King Jr. Day": _("Martin Luther King Jr. Day"),
    "Washington's Birthday": _("Washington's Birthday"),
    "Memorial Day": _("Memorial Day"),
    "Juneteenth National Independence Day": _("Juneteenth National Independence Day"),
    "Independence Day": _("Independence Day"),
    "Labor Day": _("Labor Day"),
    "Columbus Day": _("Columbus Day"),
    "Veterans Day": _("Veterans Day"),
    "Thanksgiving Day": _("Thanksgiving Day"),
    "Christmas Day": _("Christmas Day"),
}
_OBSERVED_SUFFIX = " (observed)"


# --- Business days -----------------------------------------------------------------------


@lru_cache(maxsize=256)
def _holidays_for_year(year: int) -> holidays.HolidayBase:
    """The federal holidays of one year, built once: building them is far slower than a lookup.

    ``expand=False`` keeps the cached object from silently growing (and being mutated from several
    threads) when asked about another year. That is safe because the package files an observed
    day under the year it falls in: New Year's Day 2028 is a Saturday, and its observed Friday,
    December 31, 2027, is in the 2027 calendar.
    """
    return holidays.country_holidays("US", years=year, observed=True, expand=False, language="en_US")


def _require_date(value: object) -> date:
    """Reject anything but a plain date: a datetime's day depends on a time zone we do not know here."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(gettext("A deadline needs a calendar date, not %(value)r.") % {"value": value})
    return value


def _translated_holiday_name(raw: str) -> str:
    """Translate a name from the ``holidays`` package, which joins same-day holidays with "; "."""
    parts = []
    for part in raw.split("; "):
        base, observed = part.removesuffix(_OBSERVED_SUFFIX), part.endswith(_OBSERVED_SUFFIX)
        name = str(_HOLIDAY_NAMES.get(base, base))
        parts.append(gettext("%(holiday)s (observed)") % {"holiday": name} if observed else name)
    return "; ".join(parts)


def us_federal_holiday_name(d: date) -> str | None:
    """The name of the US federal holiday (or observed holiday) on ``d`` in the active language, else None."""
    raw = _holidays_for_year(_require_date(d).year).get(d)
    return _translated_holiday_name(raw) if raw else None


def is_business_day(d: date) -> bool:
    """Whether a filing due on ``d`` is due that day: a weekday that is not a federal holiday."""
    d = _require_date(d)
    return d.weekday() < 5 and _holidays_for_year(d.year).get(d) is None


def next_business_day(d: date) -> date:
    """``d`` itself if it is a business day, else the first business day after it.

    Repeats past runs of closed days (a Friday holiday and the weekend; a weekend and a Monday holiday).
    """
    d = _require_date(d)
    while not is_business_day(d):
        d += timedelta(days=1)
    return d


# --- Rules -------------------------------------------------------------------------------


def _spec(rule: Rule | str) -> _RuleSpec:
    """The spec of a computed rule; accepts the stored string value too (a model field gives a str)."""
    rule = Rule(rule)
    if rule not in _SPECS:
        raise ValueError(gettext("“%(rule)s” deadlines are set by hand, not computed.") % {"rule": rule.label})
    return _SPECS[rule]


def default_title(rule: Rule | str) -> str:
    """A title for a new deadline of this rule, in the active language; "" for a deadline set by hand."""
    spec = _SPECS.get(Rule(rule))
    return str(spec.title) if spec else ""


def _add_period(source: date, spec: _RuleSpec) -> tuple[date, bool]:
    """``source`` plus the rule's period; the flag says a February 29 had to become February 28."""
    if not spec.years:
        return source + timedelta(days=spec.days), False
    year = source.year + spec.years
    if source.month == 2 and source.day == 29 and not calendar.isleap(year):
        # February 29 has no anniversary in a common year. We found no immigration ruling on whether
        # the year then ends on February 28 or March 1 (the "anniversary method" some courts use for
        # other limitation periods could point to March 1). The statute allows filing "within 1 year",
        # and 365 days after February 29 is February 28 (the Ninth Circuit treats a common year as
        # 365 days: Lagandaon v. Ashcroft, 383 F.3d 983 (9th Cir. 2004)). A deadline must never be
        # later than the law allows, so take the earlier date; the explanation says so.
        return date(year, 2, 28), True
    return source.replace(year=year), False


def _long_date(d: date) -> str:
    return date_format(d, "DATE_FORMAT")


def _weekday(d: date) -> str:
    return date_format(d, "l")


def _explain(spec: _RuleSpec, source: date, unadjusted: date, due: date, *, leap_day_moved: bool) -> str:
    """The sentences shown with the deadline (and stored with it, so keep them well under 500 characters)."""
    words = {
        "period": str(spec.period_phrase) % {"date": _long_date(source)},
        "citation": str(spec.citation),
        "weekday": _weekday(unadjusted),
        "date": _long_date(unadjusted),
        "due_weekday": _weekday(due),
        "due": _long_date(due),
        "holiday": us_federal_holiday_name(unadjusted),
    }
    weekend = unadjusted.weekday() >= 5
    if due == unadjusted:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, a business day, so that is the deadline."
        )
    elif weekend and words["holiday"]:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, which is a weekend day and a federal holiday, "
            "%(holiday)s, so it moves to the next business day: %(due_weekday)s, %(due)s."
        )
    elif weekend:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, which is a weekend day, "
            "so it moves to the next business day: %(due_weekday)s, %(due)s."
        )
    else:
        template = gettext(
            "%(period)s (%(citation)s) is %(weekday)s, %(date)s, which is a federal holiday, %(holiday)s, "
            "so it moves to the next business day: %(due_weekday)s, %(due)s."
        )
    sentences = [template % words]
    # Weekends explain themselves; a weekday holiday further along (the Monday after a weekend) does not.
    day = unadjusted + timedelta(days=1)
    while day < due:
        holiday = us_federal_holiday_name(day)
        if holiday and day.weekday() < 5:
            sentences.append(
                gettext("%(weekday)s, %(date)s is also a federal holiday, %(holiday)s.")
                % {"weekday": _weekday(day), "date": _long_date(day), "holiday": holiday}
            )
        day += timedelta(days=1)
    if leap_day_moved:
        sentences.append(
            gettext("%(year)s has no February 29, so the year ends on February 28, the earlier and safer date.")
            % {"year": unadjusted.year}
        )
    return " ".join(sentences)


def compute_deadline(rule: Rule | str, source_date: date) -> ComputedDeadline:
    """Compute the deadline ``rule`` sets from ``source_date``, with the reasoning in words.

    Raises ValueError for ``Rule.MANUAL`` (nothing to compute), an unknown rule, anything that is
    not a plain ``date`` (including a ``datetime``), or a date so late the deadline would pass the
    end of the calendar.
    """
    spec = _spec(rule)
    source = _require_date(source_date)
    try:
        unadjusted, leap_day_moved = _add_period(source, spec)
        due = next_business_day(unadjusted)
    except (OverflowError, ValueError) as exc:
        raise ValueError(
            gettext("%(date)s is too late to count a deadline from.") % {"date": source.isoformat()}
        ) from exc
    return ComputedDeadline(
        rule=Rule(rule),
        source_date=source,
        unadjusted=unadjusted,
        due=due,
        explanation=_explain(spec, source, unadjusted, due, leap_day_moved=leap_day_moved),
    )
