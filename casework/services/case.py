"""Case details, closing and reopening."""

from __future__ import annotations

from datetime import date
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.identity import clean_name
from casework.models import (
    Case,
    CaseEvent,
    CaseStatus,
    CloseReason,
    Detainee,
    ImmigrationCourt,
)
from casework.services.history import case_changed, case_event
from casework.services.intake import check_a_numbers_free, detainee_reindex, other_a_numbers_value
from casework.services.workload import caseload_add

DETAINEE_FIELDS = (
    "given_names",
    "family_names",
    "other_names",
    "a_number",
    "other_a_numbers",
    "date_of_birth",
    "country_of_birth",
    "citizenship",
    "languages",
    "needs_interpreter",
)


CASE_FIELDS = (
    "proceeding_type",
    "detention_authority",
    "stage",
    "scope",
    "court",
    "detained_on",
    "detained_where",
    "last_arrival_on",
    "asylum_exception",
    "asylum_exception_note",
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
    other_a_numbers: list[str] | str
    date_of_birth: date | None
    country_of_birth: str
    citizenship: str
    languages: str
    needs_interpreter: bool
    proceeding_type: str
    detention_authority: str
    stage: str
    scope: str
    court: ImmigrationCourt | None
    detained_on: date | None
    detained_where: str
    last_arrival_on: date | None
    asylum_exception: str
    asylum_exception_note: str
    flag_medical: bool
    flag_minor_children: bool
    flag_imminent_removal: bool


@transaction.atomic
def case_update_details(
    *, case: Case, by: User, ip_address: str | None = None, **changes: Unpack[CaseDetailChanges]
) -> list[str]:
    """Edit the detainee's and the case's details; returns the names of changed fields.

    Other A-numbers are stored normalised and without the main one; an A-number (main or other)
    that is another person's is refused (``ValidationError``). The note on an exception to the
    asylum deadline is cleared when no exception is claimed. Side effects: blind indexes rewritten
    when names or A-numbers change; a timeline event naming the changed fields (not their values);
    an ``AccessEvent``.
    """
    detainee = Detainee.objects.select_for_update().get(pk=case.detainee_id)
    case = Case.objects.select_for_update().get(pk=case.pk)
    case.detainee = detainee  # ``minor_at_detention`` below reads the edited date of birth
    values: dict[str, object] = dict(changes)  # read by field name below
    for field in ("given_names", "family_names", "other_names"):
        if field in values:  # names as they were shown, without bidi controls
            values[field] = clean_name(str(values[field] or ""))
    if "other_a_numbers" in values or "a_number" in values:
        primary = values.get("a_number", detainee.a_number) or None
        others = values.get("other_a_numbers", detainee.other_a_numbers)
        values["other_a_numbers"] = other_a_numbers_value(
            others if isinstance(others, (list, str)) else [], primary=str(primary) if primary else None
        )
    if not values.get("asylum_exception", case.asylum_exception):
        values["asylum_exception_note"] = ""
    changed = []
    for name in DETAINEE_FIELDS:
        value = values.get(name)
        if value is None and not Detainee._meta.get_field(name).null:
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
    if {"a_number", "other_a_numbers"} & set(changed):
        check_a_numbers_free(detainee, exclude=detainee)
    case.detained_as_minor = case.minor_at_detention
    detainee.save()
    case.save()
    if {"given_names", "family_names", "other_names", "a_number", "other_a_numbers", "date_of_birth"} & set(changed):
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
    caseload_add((a, -1) for a in case.assignments.filter(ended_at__isnull=True))


@transaction.atomic
def case_reopen(*, case: Case, by: User, ip_address: str | None = None) -> None:
    """Reopen a closed case: active if it still has a lead attorney, else back to triage."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != CaseStatus.CLOSED:
        raise ValidationError(_("Only a closed case can be reopened."))
    if case.erased_at is not None:
        raise ValidationError(
            _("This case's personal data was erased, so it cannot be reopened. Register the person at intake again.")
        )
    has_lead = case.assignments.filter(role="lead", ended_at__isnull=True).exists()
    case.status = CaseStatus.ACTIVE if has_lead else CaseStatus.TRIAGE
    case.closed_at = None
    case.close_reason = ""
    case.close_note = ""
    case.save(update_fields=["status", "closed_at", "close_reason", "close_note"])
    case_event(case, CaseEvent.Kind.REOPENED, _("Reopened."), by)
    case_changed(case, by, "reopened", ip_address=ip_address)
    caseload_add((a, 1) for a in case.assignments.filter(ended_at__isnull=True))
