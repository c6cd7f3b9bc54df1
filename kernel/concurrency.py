"""Edit forms that notice when the record changed after they were opened.

An edit form is rendered with a hidden ``version``: a signed stamp holding, for each field it
shows, a keyed digest of the value the person saw (``stamp``). On save the view locks the row,
recomputes the values from the locked row and compares (``save_if_unchanged``): if any field the
form shows was changed by someone else in the meantime, nothing is saved and ``EditConflict``
names those fields. The view shows the form again (``show_conflict``) with what the person typed,
the other person's saved values in the changed fields this person had left as they found them,
a message naming each changed field and what it holds now, and a fresh stamp, so saving again
(after checking) goes through. Fields the form does not show may change freely: the save does not
touch them.

Digests, not values, travel in the page: the stamp says nothing about a person's data, and being
signed it cannot be forged to skip the check. Values are compared as the form would show them
(model instances by primary key, dates in ISO form).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, time
from typing import Any, TypeVar

from django import forms
from django.core import signing
from django.db import models, transaction
from django.forms import BaseForm
from django.http import QueryDict
from django.utils.crypto import salted_hmac
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

VERSION_FIELD = "version"
_SALT = "kernel.concurrency"
T = TypeVar("T")
M = TypeVar("M", bound=models.Model)


def _canonical(value: Any) -> str:
    if isinstance(value, models.Model):
        value = value.pk
    elif isinstance(value, models.QuerySet):
        value = sorted(str(item.pk) for item in value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        value = sorted(_canonical(item) for item in value)
    return json.dumps(value, default=str, sort_keys=True)


def _digest(name: str, value: Any) -> str:
    return salted_hmac(_SALT, f"{name}\x00{_canonical(value)}", algorithm="sha256").hexdigest()[:20]


def stamp(values: Mapping[str, Any]) -> str:
    """The version stamp of ``values`` (field name → value as the form shows it)."""
    return signing.dumps({name: _digest(name, value) for name, value in values.items()}, salt=_SALT, compress=True)


class VersionField(forms.CharField):
    """The hidden stamp of an edit form (see ``stamp``)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 4000)  # some 60 fields' digests; a stamp is never near it
        message = _("This form was not sent whole. Reload the page and make your change again.")
        kwargs.setdefault("error_messages", {"required": message, "max_length": message})
        super().__init__(**kwargs)


class VersionedForm(forms.Form):
    """An edit form with a ``version`` stamp; give it ``initial=versioned(values)``."""

    version = VersionField()


def versioned(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` plus their stamp, as an edit form's ``initial``."""
    return {**values, VERSION_FIELD: stamp(values)}


class EditConflict(Exception):  # a state the person resolves, named for what happened
    """Someone else changed ``fields`` after the form was opened; ``current`` holds the saved values."""

    def __init__(self, *, fields: Sequence[str], current: Mapping[str, Any]) -> None:
        super().__init__("edit conflict")
        self.fields = list(fields)
        self.current = dict(current)


def changed_fields(version: str, current: Mapping[str, Any]) -> list[str]:
    """The fields of ``current`` whose value differs from the one stamped in ``version``.

    A stamp that does not verify (tampered, or made under another ``SECRET_KEY``) counts every
    field as changed: the person is asked to check, never silently overwritten.
    """
    try:
        seen = signing.loads(version, salt=_SALT)
    except signing.BadSignature:
        return list(current)
    if not isinstance(seen, dict):
        return list(current)
    return [name for name, value in current.items() if seen.get(name) != _digest(name, value)]


def save_if_unchanged(
    *, instance: M, version: str, values: Callable[[M], Mapping[str, Any]], save: Callable[[M], T]
) -> T:
    """Lock ``instance``'s row, compare ``values(locked row)`` with ``version``, then ``save(locked row)``.

    All in one transaction, so nobody can change the row between the comparison and the save.
    Raises ``EditConflict`` (nothing saved) if a field changed since the form was stamped, and
    ``instance.DoesNotExist`` if the row is gone.

    Side effects: those of ``save``; a row lock until the transaction ends.
    """
    with transaction.atomic():
        locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
        current = values(locked)
        changed = changed_fields(version, current)
        if changed:
            raise EditConflict(fields=changed, current=current)
        return save(locked)


def _shown(field: forms.Field, value: Any) -> str:
    if value in (None, "", [], ()):
        return gettext("(empty)")
    if isinstance(field, forms.ModelChoiceField):
        return str(value) if isinstance(value, models.Model) else str(field.to_python(value) or value)
    if isinstance(field, forms.ChoiceField):
        choices = {str(key): label for key, label in field.choices if not isinstance(label, (list, tuple))}  # type: ignore[union-attr, misc]
        return str(choices.get(str(value), value))
    if isinstance(field, forms.BooleanField):
        return gettext("yes") if value else gettext("no")
    return str(value)


def _as_sent(field: forms.Field, value: Any) -> str | list[str] | None:
    """``value`` (as the form's initial would hold it) as a browser would send it for ``field``
    (``None``: not sent at all, as an unticked checkbox)."""
    value = field.prepare_value(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return "" if value is None else str(value)


def show_conflict(form: BaseForm, conflict: EditConflict) -> BaseForm:
    """Turn the validated ``form`` into the conflict page's form: a fresh stamp (so saving again goes
    through), an error naming each changed field and what it holds now, and in each field:

    - changed meanwhile, but left by this person as they found it: the value saved since, so saving
      the page again keeps the other person's change;
    - changed by this person (meanwhile or not): what they typed, saved only where they typed it.

    Whether the person changed a field is told by the stamp the form was opened with (a stamp that
    does not verify counts every field as theirs). Returns ``form``, which is now invalid.
    """
    typed = dict(getattr(form, "cleaned_data", {}))
    version_key = form.add_prefix(VERSION_FIELD)
    opened = str(form.data.get(version_key) or "")
    data = QueryDict(mutable=True)
    data.update(form.data)
    data[version_key] = stamp(conflict.current)
    changes = []
    for name in conflict.fields:
        field = form.fields.get(name)
        if field is None:
            continue
        if not field.disabled and name in typed and not changed_fields(opened, {name: typed[name]}):
            _put(data, form.add_prefix(name), _as_sent(field, conflict.current[name]))
        label = field.label or name.replace("_", " ").capitalize()
        changes.append(
            gettext("%(field)s is now “%(value)s”") % {"field": label, "value": _shown(field, conflict.current[name])}
        )
    form.data = data
    message = format_lazy(
        "{} {} {}",
        _("Someone else changed this record after you opened the form, so your changes were not saved."),
        "; ".join(changes) + ("." if changes else ""),
        _("What you typed is kept below: check it against the saved values and save again."),
    )
    form.add_error(None, str(message))
    return form


def _put(data: QueryDict, key: str, value: str | list[str] | None) -> None:
    if value is None:
        data.pop(key, None)
    elif isinstance(value, list):
        data.setlist(key, value)
    else:
        data[key] = value
