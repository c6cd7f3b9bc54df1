"""A service's ValidationError shown on the form that caused it."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from kernel.forms import add_validation_errors


class PaymentForm(forms.Form):
    amount = forms.IntegerField()
    payee = forms.CharField()


def bound_form() -> PaymentForm:
    form = PaymentForm(data={"amount": "10", "payee": "DHS/ICE"})
    assert form.is_valid()
    return form


def test_field_errors_land_on_their_fields():
    form = bound_form()

    add_validation_errors(form, ValidationError({"amount": "Not enough money.", "payee": ["Unknown payee."]}))

    assert not form.is_valid()
    assert form.errors == {"amount": ["Not enough money."], "payee": ["Unknown payee."]}
    assert "amount" not in form.cleaned_data


def test_errors_for_fields_the_form_lacks_become_non_field_errors():
    form = bound_form()

    add_validation_errors(form, ValidationError({"fund": "This fund is closed."}))

    assert form.non_field_errors() == ["This fund is closed."]
    assert form.cleaned_data["amount"] == 10


def test_an_error_without_fields_is_a_non_field_error():
    form = bound_form()

    add_validation_errors(form, ValidationError(["You cannot approve your own request.", "Second reason."]))

    assert form.non_field_errors() == ["You cannot approve your own request.", "Second reason."]
    assert not form.is_valid()
