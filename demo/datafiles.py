"""Readers for the demo's data files (``demo/data/``): invented names, places, notes and donors.

Each file is read once per process. Lists come back as tuples so a caller cannot change what the
next caller reads.
"""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


@cache
def json_data(name: str) -> dict[str, Any]:
    """The contents of ``demo/data/<name>.json``, with lists as tuples."""
    with (DATA_DIR / f"{name}.json").open(encoding="utf-8") as f:
        return _frozen(json.load(f))


@cache
def csv_rows(name: str) -> tuple[dict[str, str], ...]:
    """The rows of ``demo/data/<name>.csv``, each a dict keyed by the header line."""
    with (DATA_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))
