"""Form helpers every app's views share."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import BaseForm


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
