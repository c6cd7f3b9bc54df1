"""Money as text, from integer cents. Never a float: a float cannot hold every cent exactly."""

from __future__ import annotations


def format_cents(cents: int) -> str:
    """Cents as dollars for people to read: ``12500`` → ``"$125.00"``, ``123456789`` →
    ``"$1,234,567.89"``, ``-500`` → ``"-$5.00"``."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(int(cents)), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def cents_as_decimal_text(cents: int) -> str:
    """Cents as a plain decimal number for machines (CSV cells, form inputs): ``-1234`` →
    ``"-12.34"``, ``150000`` → ``"1500.00"``; no currency sign, no thousands separator, so a
    spreadsheet reads it as a number."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{dollars}.{rest:02d}"
