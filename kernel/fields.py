"""Model fields whose values are encrypted in the database (see ``kernel.crypto``).

``EncryptedTextField`` stores ``str`` values, ``EncryptedDateField`` ``date`` values; both keep an empty
value (``""`` or ``None``) as it is, so "no other names" stays visible as empty but nothing else does.
The column is always ``text``: a ciphertext is longer than its plaintext, so ``max_length`` is kept for
validation and forms only.

An encrypted value cannot be compared in SQL (each encryption of the same text differs), so these
fields offer no lookups but ``isnull`` and equality with the empty string (empty values are stored
as they are, so a check constraint can require a value): a ``filter(family_names="Lopez")`` is a
``FieldError`` at once, not a query that silently matches nothing. Match people through the keyed blind
indexes in ``casework.identity`` instead.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.core import exceptions
from django.core.exceptions import FieldError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import Exact, IsNull
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from kernel.crypto import keyring

if TYPE_CHECKING:
    from django.db.models.expressions import Combinable

    _TextFieldBase = models.TextField[Any, Any]
else:
    _TextFieldBase = models.TextField


class EmptyExact(Exact):
    """``= ''`` only: any other value would be compared with a ciphertext and never match."""

    def get_prep_lookup(self) -> Any:
        if self.rhs_is_direct_value() and self.rhs not in ("", None):
            raise FieldError(f"An encrypted field can only be compared with '' in SQL, not {type(self.rhs).__name__}.")
        return super().get_prep_lookup()


class EncryptedTextField(_TextFieldBase):
    """A text value encrypted with the newest field key; ``single_line`` gives forms a text input."""

    _pyi_private_set_type: str | Combinable
    _pyi_private_get_type: str

    description = "Encrypted text"

    def __init__(self, *args: Any, single_line: bool = False, **kwargs: Any) -> None:
        self.single_line = single_line
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.single_line:
            kwargs["single_line"] = True
        return name, path, args, kwargs

    @property
    def place(self) -> str:
        """The associated data binding each value to its column: ``app_label.model.field``."""
        return f"{self.model._meta.label_lower}.{self.name}"

    def get_lookup(self, lookup_name: str) -> Any:
        return {"isnull": IsNull, "exact": EmptyExact}.get(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        return None

    def to_plain(self, value: Any) -> str | None:
        """The value as the text that is encrypted (subclasses convert from their type)."""
        return None if value is None else str(value)

    def from_plain(self, text: str) -> Any:
        return text

    def get_prep_value(self, value: Any) -> Any:
        if hasattr(value, "resolve_expression"):  # F(), Value(), a subquery: left to the database
            return value
        text = self.to_plain(value)
        if text is None or text == "":
            return text
        return keyring().encrypt_text(text, place=self.place)

    def from_db_value(self, value: str | None, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None or value == "":
            return self.from_plain(value) if value == "" else None
        return self.from_plain(keyring().decrypt_text(value, place=self.place))

    def formfield(self, **kwargs: Any) -> Any:
        if self.single_line:
            kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(**kwargs)


class EncryptedDateField(EncryptedTextField):
    """A ``date`` stored as its encrypted ISO text."""

    _pyi_private_set_type: datetime.date | str | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: datetime.date  # type: ignore[assignment]

    description = "Encrypted date"

    def to_plain(self, value: Any) -> str | None:
        value = self.to_python(value)
        return None if value is None else value.isoformat()

    def from_plain(self, text: str) -> datetime.date | None:
        return self.to_python(text)

    def to_python(self, value: Any) -> datetime.date | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            parsed = parse_date(str(value))
        except ValueError:
            parsed = None
        if parsed is None:
            raise exceptions.ValidationError(_("Enter a valid date."), code="invalid")
        return parsed

    def formfield(self, **kwargs: Any) -> Any:
        return models.Field.formfield(self, **{"form_class": forms.DateField, **kwargs})
