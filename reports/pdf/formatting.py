"""Report PDF formatting: every cell of a ``ReportData`` becomes a string, in the active language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kernel.clock import fund_time_zone
from kernel.money import format_cents
from reports.data import Column, Section

# --- Formatting: every cell becomes a string in the parent process ----------------------------

NUMERIC_KINDS = {"money", "int"}


class CellFormatter:
    """Formats values for the active language; dates are memoised (a register repeats them)."""

    def __init__(self) -> None:
        self.zone = fund_time_zone()
        self._dates: dict = {}

    def cell(self, value, kind: str) -> str:
        if value is None or value == "":
            return ""
        if kind == "money":
            return format_cents(value)
        if kind == "int":
            return f"{int(value):,}"
        if kind in ("date", "datetime") and isinstance(value, date):
            found = self._dates.get(value)
            if found is None:
                found = self._dates[value] = self._date(value)
            return found
        return str(value)

    def _date(self, value: date) -> str:
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value, self.zone)
            return date_format(value, "SHORT_DATETIME_FORMAT")
        return date_format(value, "SHORT_DATE_FORMAT")

    def moment(self, value: datetime) -> str:
        local = timezone.localtime(value, self.zone)
        return f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


@dataclass
class FormattedTable:
    """One section, formatted: header labels, cell strings, column widths in points."""

    title: str
    kinds: list[str]
    labels: list[str]
    rows: list[list[str]]
    totals: list[str] | None
    widths: list[float] = field(default_factory=list)


def format_section(section: Section, formatter: CellFormatter) -> FormattedTable:
    columns: list[Column] = section.columns
    kinds: list[str] = [column.kind for column in columns]
    rows = [[formatter.cell(row.get(column.key), column.kind) for column in columns] for row in section.rows]
    totals = None
    if section.totals is not None:
        totals = [formatter.cell(section.totals.get(column.key), column.kind) for column in columns]
        if totals and not totals[0] and kinds[0] not in NUMERIC_KINDS:
            totals[0] = _("Total")
    return FormattedTable(
        title=section.title, kinds=kinds, labels=[column.label for column in columns], rows=rows, totals=totals
    )
