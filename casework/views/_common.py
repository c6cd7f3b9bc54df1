from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from accounts.models import AccessEvent
from accounts.permissions import AuthenticatedHttpRequest
from accounts.services import access_event_record
from casework.models import Case
from kernel.client_ip import client_ip
from kernel.concurrency import EditConflict, changed_fields, show_conflict
from kernel.once import Submission, submission
from kernel.readlog import logged_read


def record_view(request: AuthenticatedHttpRequest, case: Case, what: str = "case") -> None:
    """Every read of a detainee's record is written to the access log first; if it cannot be, the read is
    refused (``kernel.readlog``): the view's data is never rendered."""
    with logged_read():
        access_event_record(
            user=request.user,
            action=AccessEvent.Action.VIEW,
            object_type=what,
            object_ref=case.number,
            ip_address=client_ip(request),
        )


def refused(request: HttpRequest, case: Case, exc: ValidationError) -> HttpResponse:
    """A request the case's state does not allow: say why, with a 400."""
    return render(request, "casework/refused.html", {"case": case, "reasons": exc.messages}, status=400)


@contextmanager
def sent_once(*, key: str | None, form: str, user: Any) -> Iterator[Submission]:
    """``kernel.once.submission`` for a form with a one-time key; for one without (``key`` None), a
    plain transaction: the form's work then runs the same way either way."""
    if key is None:
        with transaction.atomic():
            yield Submission()
        return
    with submission(key=key, form=form, user=user) as sent:
        yield sent


def _as_data(field: forms.Field, value: Any) -> str | list[str] | None:
    """``value`` (as the form's initial would hold it) as a browser would send it for ``field``."""
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


def show_edit_conflict(form: forms.BaseForm, conflict: EditConflict, version: str) -> None:
    """``kernel.concurrency.show_conflict``, and each changed field the person had left as they found
    it now shows the value saved since: saving the page again keeps the other person's change
    there, and what this person did change (kept as typed) is saved over it only where they typed it."""
    typed = dict(form.cleaned_data)
    show_conflict(form, conflict)
    data = form.data
    assert isinstance(data, QueryDict)  # show_conflict gave the form a mutable copy of what was sent
    for name in conflict.fields:
        field = form.fields.get(name)
        if field is None or field.disabled or name not in typed:
            continue
        if changed_fields(version, {name: typed[name]}):
            continue  # the person changed this field too: what they typed stays, the message names the other value
        value = _as_data(field, conflict.current[name])
        key = form.add_prefix(name)
        if value is None:
            data.pop(key, None)
        elif isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
