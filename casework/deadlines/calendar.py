"""The US federal holidays (5 U.S.C. 6103) and business days that every rule counts with."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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


def previous_business_day(d: date) -> date:
    """``d`` itself if it is a business day, else the last business day before it (for counting back)."""
    d = _require_date(d)
    while not is_business_day(d):
        d -= timedelta(days=1)
    return d


def add_business_days(d: date, n: int) -> date:
    """The ``n``-th business day after ``d``: day 1 is the first business day after ``d``.

    ``d`` itself is never counted, whether or not it is a business day; ``n == 0`` returns ``d``.
    Weekends and federal holidays (observed days included) are skipped.
    """
    d = _require_date(d)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(gettext("A number of business days must be a whole number of 0 or more."))
    for _step in range(n):
        d = next_business_day(d + timedelta(days=1))
    return d
