"""What a rule counts for one request (a plan), and the words every planner shares."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext

from casework.deadlines.choices import Forum, Rule, Service


class _Unit(enum.Enum):
    DAYS = "days"
    BUSINESS_DAYS = "business_days"
    HOURS = "hours"
    YEARS = "years"


class _Closed(enum.Enum):
    """What a last day on a weekend or holiday does."""

    FORWARD = "forward"  # moves to the next business day
    BACKWARD = "backward"  # moves to the business day before (counting back from a hearing)
    STAYS = "stays"  # does not move; the plan says why


@dataclass(frozen=True)
class _Request:
    """One call's arguments, checked and coerced."""

    rule: Rule
    source: date
    service: Service
    forum: Forum
    hearing_kind: str | None
    detained: bool
    days: object  # checked by the one rule that takes it

    @property
    def words(self) -> dict[str, str]:
        return {"date": _long_date(self.source)}


@dataclass(frozen=True)
class _Plan:
    """How one rule counts for one request, and the words that go with it (already translated)."""

    amount: int
    unit: _Unit
    closed: _Closed
    period: str  # "30 days after the immigration judge's oral decision of March 5, 2026"
    citation: str  # the rule itself
    counted_under: str = ""  # the day-count rule, when it is not the rule itself
    notes: list[str] = field(default_factory=list)
    stays_reason: str = ""  # why a last day on a closed day is not moved (``_Closed.STAYS``)
    leap_note: str = ""  # for years: the sentence when a February 29 becomes February 28 (``%(year)s``)


def _eoir_days() -> str:
    # Translators: a legal citation; normally left as it is.
    return gettext("8 CFR 1001.1(h)")


def _not_from_arrival(request: _Request) -> list[str]:
    """For periods that run from the order itself: say so when the order was served in writing."""
    if request.service == Service.ORAL:
        return []
    return [gettext("It runs from the date of the order itself, not from the day it arrived.")]


def _long_date(d: date) -> str:
    return date_format(d, "DATE_FORMAT")
