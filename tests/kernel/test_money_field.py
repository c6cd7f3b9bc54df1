"""The one field for amounts typed by a person: dollars in, integer cents out, clear refusals."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kernel.forms import MoneyField


@pytest.mark.parametrize(
    ("typed", "cents"), [("1500", 150_000), ("1,500.00", 150_000), ("$ 7,500.5", 750_050), ("", None)]
)
def test_amounts_as_people_type_them(typed, cents):
    assert MoneyField(required=False).clean(typed) == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12.345", "at most two decimals"),
        ("abc", "Enter an amount in dollars"),
        ("1e400", "more than this system handles"),
        ("NaN", "Enter an amount in dollars"),
        ("0", "above zero"),
        ("-5", "above zero"),
        ("2000000", "more than this system handles"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(typed, message):
    with pytest.raises(ValidationError) as excinfo:
        MoneyField().clean(typed)

    assert message in str(excinfo.value)


def test_zero_only_where_allowed():
    assert MoneyField(allow_zero=True).clean("0") == 0
