from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import AccessEvent
from accounts.permissions import AuthenticatedHttpRequest
from accounts.services import access_event_record
from casework.models import Case
from kernel.client_ip import client_ip
from kernel.concurrency import VERSION_FIELD, EditConflict, save_if_unchanged, show_conflict
from kernel.forms import add_validation_errors
from kernel.once import Submission, submission
from kernel.readlog import logged_read

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)


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
    """A request the case's state does not allow: say why, with a 422 (the request was understood, and refused)."""
    return render(request, "casework/refused.html", {"case": case, "reasons": exc.messages}, status=422)


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


@dataclass(frozen=True)
class StampedSave(Generic[T]):
    """What ``save_stamped`` did: saved (``result`` is what the save returned), or not, with the
    form saying why and ``status`` the answer's (409 someone else's change, 422 a refusal)."""

    saved: bool
    status: int
    result: T | None = None


def save_stamped(
    form: forms.BaseForm, *, instance: M, values: Callable[[M], Mapping[str, Any]], save: Callable[[M], T]
) -> StampedSave[T]:
    """``kernel.concurrency.save_if_unchanged`` with the validated edit ``form``'s stamp. Not saved,
    the form shows why: someone else's change since it was opened (``show_conflict``), or the
    service's ``ValidationError`` on its fields.

    Side effects: those of ``save``, when it saves."""
    try:
        result = save_if_unchanged(
            instance=instance, version=form.cleaned_data[VERSION_FIELD], values=values, save=save
        )
    except EditConflict as conflict:
        show_conflict(form, conflict)
        return StampedSave(saved=False, status=409)
    except ValidationError as exc:
        add_validation_errors(form, exc)
        return StampedSave(saved=False, status=422)
    return StampedSave(saved=True, status=200, result=result)
