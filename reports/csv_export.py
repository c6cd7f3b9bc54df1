"""A report's data as CSV for spreadsheets: UTF-8 with a byte-order mark, so Excel reads accents.

Layout: the report's title and parameters, a blank line, then one block per section (a title
row, a header row, the rows, a totals row when the section has totals, a blank line), then the
notes. Money is written as dollars with two decimals computed from the integer cents
(``-12.34``), dates and datetimes in ISO 8601.

Cells that a spreadsheet would run as a formula (beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) get a leading apostrophe — except the numbers written here from
money and integer columns, which are ours and must stay numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from django.utils.translation import gettext as _

from kernel.money import cents_as_decimal_text
from reports.data import Column, ReportData

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet would take for a formula is prefixed with an apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value, kind: str = "text") -> str:
    """One value as CSV text for a column of ``kind``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if kind == "money" and isinstance(value, int):
        return cents_as_decimal_text(value)
    if kind == "int" and isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def _totals_row(columns: list[Column], totals: dict) -> list[str]:
    row = [cell(totals.get(column.key), column.kind) for column in columns]
    if columns and not row[0]:
        row[0] = _("Total")
    return row


def write_rows(data: ReportData, writer) -> None:
    writer.writerow([neutralise(data.title)])
    for label, value in data.parameters:
        writer.writerow([neutralise(str(label)), neutralise(str(value))])
    writer.writerow([])
    for section in data.sections:
        writer.writerow([neutralise(section.title)])
        writer.writerow([neutralise(column.label) for column in section.columns])
        for row in section.rows:
            writer.writerow([cell(row.get(column.key), column.kind) for column in section.columns])
        if section.totals is not None:
            writer.writerow(_totals_row(section.columns, section.totals))
        writer.writerow([])
    for note in data.notes:
        writer.writerow([neutralise(note)])


def write_csv(data: ReportData, fileobj) -> None:
    """Write ``data`` as CSV to ``fileobj``: a binary file (UTF-8 with BOM) or a text stream.

    A text stream gets the BOM as its first character; open it with ``newline=""``.
    """
    if isinstance(fileobj, io.TextIOBase):
        fileobj.write("\ufeff")
        write_rows(data, csv.writer(fileobj, lineterminator="\r\n"))
        return
    text = io.TextIOWrapper(fileobj, encoding="utf-8-sig", newline="", write_through=True)
    try:
        write_rows(data, csv.writer(text, lineterminator="\r\n"))
        text.flush()
    finally:
        text.detach()  # leave the caller's file open
