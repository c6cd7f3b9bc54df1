"""The period a report covers, and the few labels every builder shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.clock import booking_day_start, fund_time_zone


@dataclass(frozen=True)
class Period:
    """Both dates inclusive, in the fund's time zone (``settings.TIME_ZONE``).

    ``start`` is midnight at the beginning of ``date_from`` and ``end`` midnight after
    ``date_to``, so a datetime is in the period when ``start <= at < end``.
    """

    date_from: date
    date_to: date
    zone: ZoneInfo

    @classmethod
    def of(cls, date_from: date, date_to: date) -> Period:
        if date_from > date_to:
            raise ValueError("date_from is after date_to")
        return cls(date_from=date_from, date_to=date_to, zone=fund_time_zone())

    @property
    def start(self) -> datetime:
        return booking_day_start(self.date_from)

    @property
    def end(self) -> datetime:
        return booking_day_start(self.date_to + timedelta(days=1))

    def local(self, moment: datetime | None) -> datetime | None:
        return timezone.localtime(moment, self.zone) if moment else None

    def local_date(self, moment: datetime | None) -> date | None:
        return timezone.localtime(moment, self.zone).date() if moment else None

    def parameters(self, *, fund=None, with_fund: bool = True) -> list[tuple[str, str]]:
        params = [
            (
                _("Period"),
                _("%(from)s to %(to)s") % {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()},
            ),
            (_("Time zone"), str(self.zone)),
        ]
        if with_fund:
            params.append((_("Fund"), fund.name if fund is not None else _("All funds")))
        return params


def staff_label(user) -> str:
    """Staff are not protected data: name and e-mail, so an auditor knows exactly who."""
    if user is None:
        return ""
    return f"{user.full_name} <{user.email}>" if user.full_name else user.email


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


class Progress:
    """Calls ``report(percent)`` as work advances, never going back and never past 100."""

    def __init__(self, report=None):
        self._report = report
        self._last = -1

    def __call__(self, percent: float) -> None:
        percent = max(0, min(100, int(percent)))
        if self._report is not None and percent > self._last:
            self._last = percent
            self._report(percent)
