"""The fund's calendar: its time zone, the local date of a moment, and when a booking day starts.

Money and dates on receipts, ledgers and reports belong to the fund's own time zone
(``settings.TIME_ZONE``), whatever time zone a request or a worker happens to have active.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def fund_time_zone() -> ZoneInfo:
    """The fund's time zone (``settings.TIME_ZONE``)."""
    return ZoneInfo(settings.TIME_ZONE)


def local_date(moment: datetime) -> date:
    """The calendar date of an aware ``moment`` in the fund's time zone."""
    return timezone.localtime(moment, fund_time_zone()).date()


def booking_day_start(day: date) -> datetime:
    """The first instant of ``day`` in the fund's time zone, as an aware datetime.

    A payment dated ``day`` is booked at this moment, and a period of whole days runs from the
    start of its first day to the start of the day after its last. Where a zone's clocks jump
    forward at midnight, 00:00 does not exist; ``fold=0`` then resolves it with the offset in
    force before the jump, which is the instant the day really begins (01:00 new time).
    """
    return datetime.combine(day, time.min, tzinfo=fund_time_zone())
