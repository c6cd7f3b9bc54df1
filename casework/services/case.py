"""Case details, closing and reopening."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.identity import a_number_index
from casework.models import (
    Case,
    CaseEvent,
    CaseStatus,
    CloseReason,
    Detainee,
    ImmigrationCourt,
)
from casework.services.history import case_changed, case_event
from casework.services.intake import detainee_reindex

DETAINEE_FIELDS = (
    "given_names",
    "family_names",
    "other_names",
    "a_number",
    "date_of_birth",
    "country_of_birth",
    "citizenship",
    "languages",
    "needs_interpreter",
)


CASE_FIELDS = (
    "proceeding_type",
    "court",
    "detained_on",
    "detained_where",
    "last_arrival_on",
    "flag_medical",
    "flag_minor_children",
    "flag_imminent_removal",
)


class CaseDetailChanges(TypedDict, total=False):
    """The editable details (``DETAINEE_FIELDS`` and ``CASE_FIELDS``); a missing key is left alone."""

    given_names: str
    family_names: str
    other_names: str
    a_number: str | None
    date_of_birth: date | None
    country_of_birth: str
    citizenship: str
    languages: str
    needs_interpreter: bool
    proceeding_type: str
    court: ImmigrationCourt | None
    detained_on: date | None
    detained_where: str
    last_arrival_on: date | None
    flag_medical: bool
    flag_minor_children: bool
    flag_imminent_removal: bool


@transaction.atomic
def case_update_details(
    *, case: Case, by: User, ip_address: str | None = None, **changes: Unpack[CaseDetailChanges]
) -> list[str]:
    """Edit the detainee's and the case's details; returns the names of changed fields.

    Side effects: blind indexes rewritten when names or the A-number change; a timeline
    event naming the changed fields (not their values); an ``AccessEvent``.
    """
    detainee = Detainee.objects.select_for_update().get(pk=case.detainee_id)
    case = Case.objects.select_for_update().get(pk=case.pk)
    values: Mapping[str, object] = changes  # read by field name below
    changed = []
    for name in DETAINEE_FIELDS:
        value = values.get(name)
        if value is None and isinstance(Detainee._meta.get_field(name), models.CharField):
            value = ""  # text columns hold "" for "unknown", never NULL
        if name in values and getattr(detainee, name) != value:
            setattr(detainee, name, value)
            changed.append(name)
    for name in CASE_FIELDS:
        if name in values and getattr(case, name) != values[name]:
            setattr(case, name, values[name])
            changed.append(name)
    if not changed:
        return []
    if "a_number" in changed and detainee.a_number:
        clash = Detainee.objects.filter(a_number_index=a_number_index(detainee.a_number)).exclude(pk=detainee.pk)
        if clash.exists():
            raise ValidationError({"a_number": _("A person with this A-number is already registered.")})
    detainee.save()
    case.save()
    if {"given_names", "family_names", "other_names", "a_number"} & set(changed):
        detainee_reindex(detainee)
    labels = ", ".join(str(_field_label(name)) for name in changed)
    case_event(case, CaseEvent.Kind.DETAILS, _("Details edited: %(fields)s.") % {"fields": labels}, by)
    case_changed(case, by, "details edited: " + ", ".join(changed), ip_address=ip_address)
    return changed


def _field_label(name: str) -> str:
    model = Detainee if name in DETAINEE_FIELDS else Case
    field = model._meta.get_field(name)
    # Every listed name is a concrete field of its model, never a reverse relation.
    return str(field.verbose_name) if isinstance(field, models.Field) else name


@transaction.atomic
def case_close(*, case: Case, reason: CloseReason, note: str, by: User, ip_address: str | None = None) -> None:
    """Close a case with a reason. Side effects: status, ``closed_at``; timeline; ``AccessEvent``."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status == CaseStatus.CLOSED:
        raise ValidationError(_("This case is already closed."))
    case.status = CaseStatus.CLOSED
    case.closed_at = timezone.now()
    case.close_reason = reason
    case.close_note = note.strip()
    case.needs_reassignment = False
    case.save(update_fields=["status", "closed_at", "close_reason", "close_note", "needs_reassignment"])
    case_event(case, CaseEvent.Kind.CLOSED, _("Closed: %(reason)s.") % {"reason": CloseReason(reason).label}, by)
    case_changed(case, by, f"closed ({reason})", ip_address=ip_address)


@transaction.atomic
def case_reopen(*, case: Case, by: User, ip_address: str | None = None) -> None:
    """Reopen a closed case: active if it still has a lead attorney, else back to triage."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != CaseStatus.CLOSED:
        raise ValidationError(_("Only a closed case can be reopened."))
    has_lead = case.assignments.filter(role="lead", ended_at__isnull=True).exists()
    case.status = CaseStatus.ACTIVE if has_lead else CaseStatus.TRIAGE
    case.closed_at = None
    case.close_reason = ""
    case.close_note = ""
    case.save(update_fields=["status", "closed_at", "close_reason", "close_note"])
    case_event(case, CaseEvent.Kind.REOPENED, _("Reopened."), by)
    case_changed(case, by, "reopened", ip_address=ip_address)
