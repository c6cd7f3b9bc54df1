"""Form helpers every app's views share: service errors onto a form, and the fields for money, days and phone
numbers, each with its one rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.utils import timezone
from django.utils.formats import date_format
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


# --- Days ---------------------------------------------------------------------------------
#
# Every date a form takes lies in a range that fits what it is: a date far in the future
# (9999-12-31) would overflow the arithmetic of "the end of that day" or of a time zone change,
# and year 1 is a typing slip. The ends are worked out when a form is checked, so "today" is today.


@dataclass(frozen=True)
class DayRange:
    """The days a ``BoundedDateField`` accepts, both ends included."""

    earliest: Callable[[], date]
    latest: Callable[[], date]


def _today() -> date:
    return timezone.localdate()


def _the_day(day: date) -> Callable[[], date]:
    return lambda: day


def _years_from_today(years: int) -> Callable[[], date]:
    def day() -> date:
        today = _today()
        try:
            return today.replace(year=today.year + years)
        except ValueError:  # 29 February, in a year without one
            return today.replace(year=today.year + years, day=28)

    return day


# A day of a living person's past: a date of birth, the last arrival in the US.
LIFETIME_DAYS = DayRange(earliest=_the_day(date(1900, 1, 1)), latest=_today)
# The days of a case's work: hearings, appointments, deadlines, decisions, filings, custody changes.
CASE_DAYS = DayRange(earliest=_years_from_today(-20), latest=_years_from_today(10))
# The fund's own records (legal demands): nothing it keeps is from before 2000.
RECORD_DAYS = DayRange(earliest=_the_day(date(2000, 1, 1)), latest=_years_from_today(10))
# Money: payments and the steps of a bond (the services also refuse a day in the future).
MONEY_DAYS = DayRange(earliest=_the_day(date(2000, 1, 1)), latest=_years_from_today(1))
# The ends of a period to filter or report on.
PERIOD_DAYS = DayRange(earliest=_the_day(date(2000, 1, 1)), latest=_the_day(date(2100, 12, 31)))


class BoundedDateInput(forms.DateInput):
    """The browser's date picker (``YYYY-MM-DD``), offering only the days of its range."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, days: DayRange | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")
        self.days = days

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        if self.days is not None:
            widget_attrs = context["widget"]["attrs"]
            widget_attrs.setdefault("min", self.days.earliest().isoformat())
            widget_attrs.setdefault("max", self.days.latest().isoformat())
        return context


class BoundedDateField(forms.DateField):
    """A day within ``days`` (a ``DayRange``); outside it, a form error naming the range.

    A field may give its own message for a day too early or too late:
    ``error_messages={"too_late": _("The date of birth cannot be in the future.")}``.
    """

    widget = BoundedDateInput
    default_error_messages = {
        "too_early": _("Choose a day between %(earliest)s and %(latest)s."),
        "too_late": _("Choose a day between %(earliest)s and %(latest)s."),
    }

    def __init__(self, *, days: DayRange, **kwargs: Any) -> None:
        self.days = days
        super().__init__(**kwargs)
        if isinstance(self.widget, BoundedDateInput) and self.widget.days is None:
            self.widget.days = days

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value in self.empty_values:
            return
        earliest, latest = self.days.earliest(), self.days.latest()
        if earliest <= value <= latest:
            return
        code = "too_early" if value < earliest else "too_late"
        raise ValidationError(
            self.error_messages[code],
            code=code,
            params={"earliest": date_format(earliest), "latest": date_format(latest)},
        )


# --- Phone numbers ------------------------------------------------------------------------

PHONE_MAX_LENGTH = 40
PHONE_MIN_DIGITS, PHONE_MAX_DIGITS = 7, 20
_PHONE_CHARACTERS = re.compile(r"\+?[0-9 ().\-]+", re.ASCII)


def validate_phone(value: str) -> None:
    """A phone number as people write one: 7 to 20 digits, a leading ``+`` if any, and between the
    digits only spaces, ``-``, ``.``, ``(`` and ``)``. No letters, so no extensions ("x12"): put
    those in a note."""
    digits = sum(character.isdigit() for character in value)
    if not _PHONE_CHARACTERS.fullmatch(value) or not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
        raise ValidationError(
            _(
                "Enter a phone number of %(min)s to %(max)s digits, e.g. +1 202-555-0147; only spaces, "
                "dashes, dots, brackets and a leading + may go with the digits."
            ),
            code="phone",
            params={"min": PHONE_MIN_DIGITS, "max": PHONE_MAX_DIGITS},
        )


class PhoneInput(forms.TextInput):
    input_type = "tel"


class PhoneField(forms.CharField):
    """A phone number, checked by ``validate_phone``; at most ``PHONE_MAX_LENGTH`` characters."""

    widget = PhoneInput
    default_validators = [validate_phone]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", PHONE_MAX_LENGTH)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
