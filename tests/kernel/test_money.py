"""Money as text: one behaviour for people (``format_cents``), one for machines."""

from __future__ import annotations

import pytest

from kernel.money import cents_as_decimal_text, format_cents


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "$0.00"),
        (5, "$0.05"),
        (99, "$0.99"),
        (12500, "$125.00"),
        (123456789, "$1,234,567.89"),
        (-500, "-$5.00"),
        (-1, "-$0.01"),
        (-123456, "-$1,234.56"),
    ],
)
def test_format_cents_reads_as_dollars(cents, text):
    assert format_cents(cents) == text


def test_format_cents_is_exact_for_amounts_a_float_would_round():
    # 2**53 + 1 cents cannot be held by a float; integer arithmetic keeps the last cent.
    assert format_cents(2**53 + 1) == "$90,071,992,547,409.93"
    assert format_cents(123_456_789_012_345_678) == "$1,234,567,890,123,456.78"


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0.00"), (5, "0.05"), (-5, "-0.05"), (-1234, "-12.34"), (150000, "1500.00"), (-100, "-1.00")],
)
def test_cents_as_decimal_text_has_no_sign_or_separators(cents, text):
    assert cents_as_decimal_text(cents) == text


def test_cents_as_decimal_text_is_exact_for_large_amounts():
    assert cents_as_decimal_text(123_456_789_012_345_678) == "1234567890123456.78"
