"""``{% load money %}`` works in every app's templates."""

from __future__ import annotations

import pytest
from django.template import Context, Template


@pytest.mark.parametrize(
    ("value", "text"), [(150000, "$1,500.00"), ("-505", "-$5.05"), (0, "$0.00"), (None, ""), ("", "")]
)
def test_cents_filter_formats_integer_cents(value, text):
    template = Template("{% load money %}{{ value|cents }}")

    assert template.render(Context({"value": value})) == text
