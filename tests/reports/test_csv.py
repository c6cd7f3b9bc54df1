"""CSV export: the same rows as the report data, money from cents, no formulas, a BOM for Excel."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from funds.models import Donation, Donor, Fund
from funds.services import bookkeeping
from reports.builders import build_report
from reports.csv_export import write_csv
from reports.data import Column, ReportData, Section
from reports.models import ReportKind

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("America/New_York")


def sample() -> ReportData:
    return ReportData(
        kind="donation_register",
        title="Sample",
        parameters=[("Period", "2026-01-01 to 2026-01-31"), ("Fund", "=HYPERLINK(\"http://x\")")],
        sections=[
            Section(
                title="Rows",
                columns=[
                    Column("when", "When", "datetime"),
                    Column("day", "Day", "date"),
                    Column("who", "Who"),
                    Column("count", "Count", "int"),
                    Column("amount", "Amount", "money"),
                ],
                rows=[
                    {"when": datetime(2026, 1, 5, 10, 0, 7, 123, tzinfo=ZONE), "day": date(2026, 1, 5),
                     "who": "=cmd|' /C calc'!A0", "count": -3, "amount": -1234},
                    {"when": None, "day": None, "who": "+1 555 0100", "count": 0, "amount": 5},
                    {"when": None, "day": None, "who": "@SUM(A1)", "count": 7, "amount": 100_000},
                    {"when": None, "day": None, "who": "-12.34", "count": 1, "amount": 0},
                    {"when": None, "day": None, "who": "\tx", "count": 1, "amount": -1},
                    {"when": None, "day": None, "who": "\rx", "count": 1, "amount": 99},
                    {"when": None, "day": None, "who": "Ñandú, \"quoted\"\nline", "count": 1, "amount": -100},
                ],
                totals={"amount": 98_763},
            ),
            Section(title="Empty", columns=[Column("who", "Who")], rows=[]),
        ],
        notes=["A note."],
    )  # fmt: skip


def exported(data: ReportData) -> bytes:
    out = io.BytesIO()
    write_csv(data, out)
    return out.getvalue()


def parsed(data: ReportData) -> list[list[str]]:
    return list(csv.reader(io.StringIO(exported(data).decode("utf-8-sig"), newline="")))


def test_csv_starts_with_a_byte_order_mark_and_is_utf8():
    raw = exported(sample())

    assert raw.startswith(b"\xef\xbb\xbf")
    assert "Ñandú".encode() in raw


def test_csv_layout_title_parameters_then_one_block_per_section():
    rows = parsed(sample())

    assert rows[:4] == [["Sample"], ["Period", "2026-01-01 to 2026-01-31"], ["Fund", '\'=HYPERLINK("http://x")'], []]
    assert rows[4:6] == [["Rows"], ["When", "Day", "Who", "Count", "Amount"]]
    assert rows[6] == ["2026-01-05T10:00:07-05:00", "2026-01-05", "'=cmd|' /C calc'!A0", "-3", "-12.34"]
    assert rows[13] == ["Total", "", "", "", "987.63"]
    assert rows[14:] == [[], ["Empty"], ["Who"], [], ["A note."]]


def test_csv_money_is_dollars_from_integer_cents():
    amounts = [row[4] for row in parsed(sample())[6:13]]

    assert amounts == ["-12.34", "0.05", "1000.00", "0.00", "-0.01", "0.99", "-1.00"]


def test_csv_neutralises_formulas_but_not_our_own_negative_numbers():
    who = [row[2] for row in parsed(sample())[6:13]]

    assert who == [
        "'=cmd|' /C calc'!A0",
        "'+1 555 0100",
        "'@SUM(A1)",
        "'-12.34",
        "'\tx",
        "'\rx",
        'Ñandú, "quoted"\nline',
    ]
    counts = [row[3] for row in parsed(sample())[6:13]]
    assert counts[0] == "-3"


def test_csv_to_a_text_stream_also_gets_the_bom():
    out = io.StringIO(newline="")

    write_csv(sample(), out)

    assert out.getvalue().startswith("\ufeffSample\r\n")


def test_csv_leaves_the_callers_file_open():
    out = io.BytesIO()

    write_csv(sample(), out)

    assert not out.closed


def test_csv_of_a_built_report_has_the_same_rows_as_its_data():
    donor = Donor.objects.create(email="d@example.org", name="-Minus Donor")
    now = timezone.now()
    for cents, fee in [(5_000, 175), (12_345, 388)]:
        donation = Donation.objects.create(
            donor=donor, fund=Fund.objects.get(slug="general"), amount_cents=cents, status="paid", paid_at=now,
            stripe_fee_cents=fee,
        )  # fmt: skip
        bookkeeping.book_donation(donation=donation, fee_cents=fee, occurred_at=now)
    today = timezone.localdate()

    for kind in (ReportKind.FUND_STATEMENT, ReportKind.DONATION_REGISTER):
        data = build_report(kind, date_from=today - timedelta(days=7), date_to=today)
        rows = parsed(data)

        position = len(data.parameters) + 2
        for section in data.sections:
            assert rows[position] == [section.title]
            assert rows[position + 1] == [column.label for column in section.columns]
            body = rows[position + 2 : position + 2 + len(section.rows)]
            assert len(body) == len(section.rows)
            for cells, row in zip(body, section.rows, strict=True):
                for cell, column in zip(cells, section.columns, strict=True):
                    value = row[column.key]
                    if column.kind == "money":
                        assert int(Decimal(cell) * 100) == value
                    elif column.kind == "date":
                        assert cell == value.isoformat()
                    elif value.startswith("-"):
                        assert cell == "'" + value
                    else:
                        assert cell == str(value)
            position += 2 + len(section.rows) + (1 if section.totals is not None else 0)
            if section.totals is not None:
                totals = rows[position - 1]
                for cell, column in zip(totals, section.columns, strict=True):
                    if column.kind == "money":
                        assert int(Decimal(cell) * 100) == section.totals[column.key]
            assert rows[position] == []
            position += 1
        assert rows[position:] == [[note] for note in data.notes]
