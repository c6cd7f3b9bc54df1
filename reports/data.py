"""The shape every report has, whatever its kind: sections of rows with typed columns.

Builders (``reports.builders``) produce a ``ReportData``; the CSV writer and the PDF renderer
(``reports.pdf``) consume it, so both files carry exactly the same rows. Money is integer
cents everywhere; dates are ``date`` objects; nothing here is rendered yet.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ColumnKind = Literal["text", "money", "int", "date", "datetime"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # already translated
    kind: ColumnKind = "text"


@dataclass
class Section:
    title: str
    columns: list[Column]
    rows: list[dict]
    totals: dict | None = None  # same keys as rows, for a totals line (money and int columns)


@dataclass
class ReportData:
    kind: str
    title: str
    parameters: list[tuple[str, str]]  # human-readable (label, value) pairs, e.g. ("Period", "…")
    sections: list[Section]
    notes: list[str] = field(default_factory=list)  # e.g. "Reconciles to the ledger to the cent."

    @property
    def row_count(self) -> int:
        return sum(len(section.rows) for section in self.sections)


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def content_digest(data: ReportData) -> str:
    """SHA-256 of the report's content: kind, parameters and every row and total, canonically."""
    canonical = {
        "kind": data.kind,
        "parameters": [[label, value] for label, value in data.parameters],
        "sections": [
            {
                "title": section.title,
                "columns": [column.key for column in section.columns],
                "rows": [[_plain(row.get(column.key)) for column in section.columns] for row in section.rows],
                "totals": [_plain((section.totals or {}).get(column.key)) for column in section.columns],
            }
            for section in data.sections
        ],
    }
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
