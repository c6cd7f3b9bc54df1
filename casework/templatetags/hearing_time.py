"""``{% load hearing_time %}``: hearing times as the notice of hearing gives them, with the zone named.

A hearing time is shown once, in the hearing's own zone (the court's, or the zone of the notice for
a hearing held by video from a court in another zone), with the zone's abbreviation and a city:

* ``{% hearing_time hearing %}`` → ``Tue 12 Jan, 06:00 PST (San Francisco)``; for a hearing whose
  zone is not the court's, both times:
  ``Tue 12 Jan, 09:00 EST (New York) · 06:00 PST at the court (San Francisco)``.
* ``{% next_hearing_time case %}`` → the same for a case annotated by
  ``casework.selectors.with_next_hearing`` (empty when the case has no hearing ahead).
* ``{{ moment|in_zone:"America/New_York" }}`` → ``Tue 12 Jan, 09:00 EST (New York)``: any moment in a
  named zone, the city taken from the zone's name.

The year is added when the hearing is not in the current year. The city of a court's zone is the
court's own city (what an attorney knows the court by), otherwise the city the zone is named after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from casework.models import Hearing

register = template.Library()


def zone_city(zone_name: str) -> str:
    """The place an IANA zone is named after: ``America/New_York`` → ``New York``."""
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


def _day(local: datetime) -> str:
    today = timezone.localtime(timezone.now(), local.tzinfo)
    return date_format(local, "D j M" if local.year == today.year else "D j M Y")


def _label(local: datetime, place: str, *, with_day: bool = True, at_court: bool = False) -> str:
    values = {"time": time_format(local, "H:i"), "zone": local.tzname() or "", "place": place}
    if with_day:
        values["day"] = _day(local)
        if at_court:
            return _("%(day)s, %(time)s %(zone)s at the court (%(place)s)") % values
        return _("%(day)s, %(time)s %(zone)s (%(place)s)") % values
    if at_court:
        return _("%(time)s %(zone)s at the court (%(place)s)") % values
    return _("%(time)s %(zone)s (%(place)s)") % values


def moment_in_zone(moment: datetime, zone_name: str, *, place: str = "") -> str:
    """``moment`` in the zone ``zone_name``, with the zone's abbreviation and ``place`` (or its city)."""
    return _label(timezone.localtime(moment, ZoneInfo(zone_name)), place or zone_city(zone_name))


def hearing_time_text(starts_at: datetime, *, zone_name: str, court_zone_name: str, court_city: str) -> str:
    """A hearing's start as its notice gives it (see the module docstring).

    ``zone_name`` is the hearing's zone (``Hearing.timezone_name``), ``court_zone_name`` and
    ``court_city`` the court's. When they differ, the court's local time follows, with its day
    only when that is not the same calendar day.
    """
    if zone_name == court_zone_name:
        return moment_in_zone(starts_at, zone_name, place=court_city)
    notice = timezone.localtime(starts_at, ZoneInfo(zone_name))
    at_court = timezone.localtime(starts_at, ZoneInfo(court_zone_name))
    court_part = _label(at_court, court_city, with_day=at_court.date() != notice.date(), at_court=True)
    return f"{_label(notice, zone_city(zone_name))} · {court_part}"


@register.simple_tag
def hearing_time(hearing: Hearing) -> str:
    """``{% hearing_time hearing %}``: the hearing's start in its zone, named (both times if not the court's)."""
    return hearing_time_text(
        hearing.starts_at,
        zone_name=hearing.timezone_name,
        court_zone_name=hearing.court.timezone if hearing.court else hearing.timezone_name,
        court_city=hearing.court.city if hearing.court else zone_city(hearing.timezone_name),
    )


class CaseWithNextHearing(Protocol):
    """A ``Case`` annotated by ``casework.selectors.with_next_hearing``."""

    next_hearing_at: datetime | None
    next_hearing_zone: str
    next_hearing_court_zone: str
    next_hearing_court_city: str


@register.simple_tag
def next_hearing_time(case: CaseWithNextHearing) -> str:
    """``{% next_hearing_time case %}``: the next hearing of a case from ``with_next_hearing``; "" if none."""
    if case.next_hearing_at is None:
        return ""
    return hearing_time_text(
        case.next_hearing_at,
        zone_name=case.next_hearing_zone,
        court_zone_name=case.next_hearing_court_zone,
        court_city=case.next_hearing_court_city or zone_city(case.next_hearing_zone),
    )


@register.filter
def in_zone(moment: datetime | None, zone_name: str) -> str:
    """``{{ moment|in_zone:"America/New_York" }}`` → ``Tue 12 Jan, 09:00 EST (New York)``; empty for none."""
    if moment is None:
        return ""
    return moment_in_zone(moment, zone_name)
