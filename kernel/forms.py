"""Form helpers every app's views share."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.utils.translation import gettext_lazy as _

from kernel.money import cents_as_decimal_text


def add_validation_errors(form: BaseForm, exc: ValidationError) -> None:
    """Show a service's ``ValidationError`` on ``form``: each message on its field when the
    form has that field, otherwise (and for an error without fields) as a non-field error.

    Side effects: ``form.errors`` gains the messages; the form becomes invalid.
    """
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class MoneyField(forms.CharField):
    """Dollars and cents typed by a person ("1,500", "$1500.00") → integer cents.

    Zero is refused unless ``allow_zero`` (a refund the government withheld entirely, say).
    """

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        super().__init__(**kwargs)  # no max_length validator: the cleaned value is an int
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off", "maxlength": "20"})

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        value = (super().to_python(value) or "").replace("$", "").replace(",", "").strip()
        if not value:
            return None
        try:
            amount = Decimal(value)
            if not amount.is_finite():
                raise InvalidOperation
        except InvalidOperation as exc:
            raise ValidationError(_("Enter an amount in dollars, e.g. 1500 or 1,500.00.")) from exc
        if amount < 0 or (amount == 0 and not self.allow_zero):
            raise ValidationError(_("Enter an amount above zero."))
        if amount > 1_000_000:
            raise ValidationError(_("That is more than this system handles in one payment."))
        if amount != amount.quantize(Decimal("0.01")):
            raise ValidationError(_("Use at most two decimals (cents)."))
        cents = int(amount * 100)
        if cents > 100_000_000:
            raise ValidationError(_("That is more than this system handles in one payment."))
        return cents

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            return cents_as_decimal_text(value)
        return value
