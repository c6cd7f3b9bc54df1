from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NotRequired, TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.identity import a_number_index, name_index_keys
from casework.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStatus,
    CustodyPeriod,
    CustodyStatus,
    Detainee,
    DetaineeNameKey,
    DetentionFacility,
    FamilyContact,
    Note,
)
from casework.services.history import case_changed, case_event


class ContactData(TypedDict):
    """A family contact given at intake; one without a name is not kept."""

    name: str
    relationship: NotRequired[str]
    phone: NotRequired[str]
    preferred_language: NotRequired[str]


@dataclass
class IntakeData:
    given_names: str
    family_names: str
    other_names: str = ""
    a_number: str | None = None  # normalised 9 digits, or None
    date_of_birth: date | None = None
    country_of_birth: str = ""
    citizenship: str = ""
    languages: str = ""
    needs_interpreter: bool = False
    detained_on: date | None = None
    detained_where: str = ""
    facility: DetentionFacility | None = None
    custody_status: str = CustodyStatus.DETAINED
    flag_medical: bool = False
    flag_minor_children: bool = False
    flag_imminent_removal: bool = False
    notes: str = ""
    contacts: list[ContactData] = field(default_factory=list)


def next_case_number(year: int) -> str:
    """The next public case number of ``year`` (``2026-00042``); call inside a transaction."""
    CaseNumberSequence.objects.get_or_create(year=year)
    sequence = CaseNumberSequence.objects.select_for_update().get(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{year}-{sequence.last:05d}"


def detainee_reindex(detainee: Detainee) -> None:
    """Rewrite the blind indexes of a detainee's A-number and names."""
    detainee.a_number_index = a_number_index(detainee.a_number) if detainee.a_number else None
    detainee.save(update_fields=["a_number_index"])
    keys = set(name_index_keys(detainee.given_names, detainee.family_names, detainee.other_names))
    DetaineeNameKey.objects.filter(detainee=detainee).exclude(key__in=keys).delete()
    existing = set(DetaineeNameKey.objects.filter(detainee=detainee).values_list("key", flat=True))
    DetaineeNameKey.objects.bulk_create([DetaineeNameKey(detainee=detainee, key=k) for k in keys - existing])


@transaction.atomic
def case_register(*, data: IntakeData, by: User, ip_address: str | None = None) -> Case:
    """Register a detained person and open a case for them, straight into triage.

    Side effects: a ``Detainee`` with its blind indexes and family contacts; a ``Case`` with a
    new public number; the first custody period; the intake notes as a (non-privileged)
    ``Note``; a timeline event; an ``AccessEvent``. Raises ``ValidationError`` if the A-number
    is already registered.
    """
    if data.a_number and Detainee.objects.filter(a_number_index=a_number_index(data.a_number)).exists():
        raise ValidationError({"a_number": _("A person with this A-number is already registered.")})
    detainee = Detainee.objects.create(
        given_names=data.given_names.strip(),
        family_names=data.family_names.strip(),
        other_names=data.other_names.strip(),
        a_number=data.a_number or "",
        date_of_birth=data.date_of_birth,
        country_of_birth=data.country_of_birth.strip(),
        citizenship=data.citizenship.strip(),
        languages=data.languages.strip(),
        needs_interpreter=data.needs_interpreter,
        created_by=by,
    )
    try:
        with transaction.atomic():
            detainee_reindex(detainee)
    except IntegrityError as exc:  # a concurrent registration of the same A-number
        raise ValidationError({"a_number": _("A person with this A-number is already registered.")}) from exc
    for contact in data.contacts:
        name = (contact.get("name") or "").strip()
        if name:
            FamilyContact.objects.create(
                detainee=detainee,
                name=name,
                relationship=(contact.get("relationship") or "").strip(),
                phone=(contact.get("phone") or "").strip(),
                preferred_language=(contact.get("preferred_language") or "").strip(),
            )
    now = timezone.now()
    case = Case.objects.create(
        number=next_case_number(timezone.localdate(now).year),
        detainee=detainee,
        status=CaseStatus.TRIAGE,
        custody_status=data.custody_status,
        facility=data.facility,
        detained_on=data.detained_on,
        detained_where=data.detained_where.strip(),
        flag_medical=data.flag_medical,
        flag_minor_children=data.flag_minor_children,
        flag_imminent_removal=data.flag_imminent_removal,
        registered_by=by,
        registered_at=now,
    )
    CustodyPeriod.objects.create(
        case=case,
        status=data.custody_status,
        facility=data.facility,
        started_on=data.detained_on or timezone.localdate(now),
        recorded_by=by,
    )
    if data.notes.strip():
        Note.objects.create(case=case, author=by, body=data.notes.strip(), privileged=False)
    case_event(case, CaseEvent.Kind.REGISTERED, _("Registered at intake and sent to triage."), by)
    case_changed(case, by, "registered", ip_address=ip_address)
    return case
