"""Intake: a detained person registered and their first case opened; or a new matter for a person already known."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NotRequired, TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.identity import a_number_index, clean_name, date_of_birth_index, format_a_number, name_index_keys
from casework.models import (
    HELD_BY,
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStatus,
    Custodian,
    CustodyPeriod,
    Detainee,
    DetaineeANumberKey,
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
    other_a_numbers: list[str] = field(default_factory=list)  # normalised 9 digits each
    date_of_birth: date | None = None
    country_of_birth: str = ""
    citizenship: str = ""
    languages: str = ""
    needs_interpreter: bool = False
    detained_on: date | None = None
    detained_where: str = ""
    facility: DetentionFacility | None = None
    custodian: str = Custodian.ICE
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


def other_a_numbers_value(numbers: list[str] | str, *, primary: str | None) -> str:
    """The stored form of a person's other A-numbers: normalised, unique, in order, without the main one."""
    if isinstance(numbers, str):
        numbers = numbers.split(",")
    kept: list[str] = []
    for number in numbers:
        number = number.strip()
        if number and number != primary and number not in kept:
            kept.append(number)
    return ",".join(kept)


def detainee_with_a_number(digits: str, *, exclude: Detainee | None = None) -> Detainee | None:
    """The person one of whose A-numbers (the main one or another) is ``digits``; matched by blind index."""
    key = a_number_index(digits)
    others = DetaineeANumberKey.objects.filter(key=key).values("detainee")
    people = Detainee.objects.filter(Q(a_number_index=key) | Q(pk__in=others))
    if exclude is not None:
        people = people.exclude(pk=exclude.pk)
    return people.order_by("pk").first()


def check_a_numbers_free(detainee: Detainee, *, exclude: Detainee | None = None) -> None:
    """Refuse an A-number (main or other) that is already another person's. Raises ``ValidationError``."""
    if detainee.a_number and detainee_with_a_number(detainee.a_number, exclude=exclude):
        raise ValidationError({"a_number": _("A person with this A-number is already registered.")})
    for number in detainee.other_a_number_list:
        if detainee_with_a_number(number, exclude=exclude):
            raise ValidationError(
                {
                    "other_a_numbers": _("%(number)s is already another registered person's A-number.")
                    % {"number": format_a_number(number)}
                }
            )


def detainee_reindex(detainee: Detainee) -> None:
    """Rewrite the blind indexes of a detainee's A-numbers, names and date of birth."""
    detainee.a_number_index = a_number_index(detainee.a_number) if detainee.a_number else None
    detainee.date_of_birth_index = date_of_birth_index(detainee.date_of_birth)
    detainee.save(update_fields=["a_number_index", "date_of_birth_index"])
    other_keys = {a_number_index(number) for number in detainee.other_a_number_list}
    DetaineeANumberKey.objects.filter(detainee=detainee).exclude(key__in=other_keys).delete()
    known = set(DetaineeANumberKey.objects.filter(detainee=detainee).values_list("key", flat=True))
    DetaineeANumberKey.objects.bulk_create([DetaineeANumberKey(detainee=detainee, key=k) for k in other_keys - known])
    keys = set(name_index_keys(detainee.given_names, detainee.family_names, detainee.other_names))
    DetaineeNameKey.objects.filter(detainee=detainee).exclude(key__in=keys).delete()
    existing = set(DetaineeNameKey.objects.filter(detainee=detainee).values_list("key", flat=True))
    DetaineeNameKey.objects.bulk_create([DetaineeNameKey(detainee=detainee, key=k) for k in keys - existing])


def _add_contacts(detainee: Detainee, contacts: list[ContactData]) -> None:
    """Keep the named contacts; one already on file under the same name is not added twice."""
    known = {name.casefold() for name in FamilyContact.objects.filter(detainee=detainee).values_list("name", flat=True)}
    for contact in contacts:
        name = clean_name(contact.get("name"))
        if name and name.casefold() not in known:
            known.add(name.casefold())
            FamilyContact.objects.create(
                detainee=detainee,
                name=name,
                relationship=(contact.get("relationship") or "").strip(),
                phone=(contact.get("phone") or "").strip(),
                preferred_language=(contact.get("preferred_language") or "").strip(),
            )


def _open_case(detainee: Detainee, data: IntakeData, by: User) -> Case:
    """A new case in triage for ``detainee`` from the intake data, with its first custody period and notes."""
    now = timezone.now()
    custodian = Custodian(data.custodian)
    facility = data.facility if custodian in HELD_BY else None
    case = Case.objects.create(
        number=next_case_number(timezone.localdate(now).year),
        detainee=detainee,
        status=CaseStatus.TRIAGE,
        custodian=custodian,
        facility=facility,
        detained_on=data.detained_on,
        detained_where=data.detained_where.strip(),
        flag_medical=data.flag_medical,
        flag_minor_children=data.flag_minor_children,
        flag_imminent_removal=data.flag_imminent_removal,
        registered_by=by,
        registered_at=now,
    )
    case.detained_as_minor = case.minor_at_detention
    case.save(update_fields=["detained_as_minor"])
    CustodyPeriod.objects.create(
        case=case,
        custodian=custodian,
        facility=facility,
        started_on=data.detained_on or timezone.localdate(now),
        recorded_by=by,
    )
    if data.notes.strip():
        Note.objects.create(case=case, author=by, body=data.notes.strip(), privileged=False)
    return case


@transaction.atomic
def case_register(*, data: IntakeData, by: User, ip_address: str | None = None) -> Case:
    """Register a detained person and open a case for them, straight into triage.

    Side effects: a ``Detainee`` with its blind indexes (names, the A-number and any other
    A-numbers) and family contacts; a ``Case`` with a new public number; the first custody
    period; the intake notes as a (non-privileged) ``Note``; a timeline event; an
    ``AccessEvent``. Raises ``ValidationError`` if an A-number is already registered (for a
    person already known, ``case_open_new_matter`` opens a new case instead).
    """
    detainee = Detainee(
        given_names=clean_name(data.given_names),
        family_names=clean_name(data.family_names),
        other_names=clean_name(data.other_names),
        a_number=data.a_number or "",
        other_a_numbers=other_a_numbers_value(data.other_a_numbers, primary=data.a_number),
        date_of_birth=data.date_of_birth,
        country_of_birth=data.country_of_birth.strip(),
        citizenship=data.citizenship.strip(),
        languages=data.languages.strip(),
        needs_interpreter=data.needs_interpreter,
        created_by=by,
    )
    check_a_numbers_free(detainee)
    detainee.save()
    try:
        with transaction.atomic():
            detainee_reindex(detainee)
    except IntegrityError as exc:  # a concurrent registration of the same A-number
        raise ValidationError({"a_number": _("A person with this A-number is already registered.")}) from exc
    _add_contacts(detainee, data.contacts)
    case = _open_case(detainee, data, by)
    case_event(case, CaseEvent.Kind.REGISTERED, _("Registered at intake and sent to triage."), by)
    case_changed(case, by, "registered", ip_address=ip_address)
    return case


@transaction.atomic
def case_open_new_matter(*, detainee: Detainee, data: IntakeData, by: User, ip_address: str | None = None) -> Case:
    """Open a new case for a person already registered (a new arrest, a new matter), straight into triage.

    The person's record is kept as it is (corrections are made on the case page); the intake's
    detention, custody, flags and notes make the new case, and its family contacts are added unless
    one of the same name is on file. Side effects: the ``Case``, its first custody period, the
    notes; a timeline event on the new case naming the person's earlier cases by number; an
    ``AccessEvent``.
    """
    detainee = Detainee.objects.select_for_update().get(pk=detainee.pk)
    earlier = list(Case.objects.filter(detainee=detainee).order_by("registered_at").values_list("number", flat=True))
    _add_contacts(detainee, data.contacts)
    case = _open_case(detainee, data, by)
    case_event(
        case,
        CaseEvent.Kind.REGISTERED,
        _("Registered at intake as a new matter for a person already registered (earlier cases: %(numbers)s).")
        % {"numbers": ", ".join(earlier) or "—"},
        by,
    )
    case_changed(case, by, f"registered as a new matter of detainee {detainee.pk}", ip_address=ip_address)
    return case
