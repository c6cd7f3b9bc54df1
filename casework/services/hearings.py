"""Hearings: scheduling, rescheduling and recording their outcome (which may add a deadline)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypedDict, Unpack
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.models import (
    COURT_KINDS,
    Case,
    CaseEvent,
    Deadline,
    Decision,
    Hearing,
    HearingKind,
    HearingMedium,
    HearingOutcome,
    ImmigrationCourt,
)
from casework.services.decisions import DecisionFields, decision_record, decision_update, decision_withdraw
from casework.services.history import case_changed, case_event


def _hearing_summary(hearing: Hearing) -> str:
    local = hearing.local_start
    return f"{HearingKind(hearing.kind).label}, {hearing.place_name}, {local:%Y-%m-%d %H:%M} ({hearing.timezone_name})"


def _check_place(hearing: Hearing) -> None:
    """A hearing before an immigration judge needs a court; any other appointment a venue and its zone."""
    hearing.venue = hearing.venue.strip()
    if hearing.kind in COURT_KINDS:
        if hearing.court is None:
            raise ValidationError({"court": _("A hearing before an immigration judge needs its court.")})
        hearing.venue = ""
    else:
        errors = {}
        if not hearing.venue:
            errors["venue"] = _("Say where the appointment is (the office or the federal court).")
        if not hearing.timezone_override and hearing.court is None:
            errors["timezone_override"] = _("Give the time zone of the appointment's place.")
        if errors:
            raise ValidationError(errors)
    if hearing.timezone_override and hearing.timezone_override not in available_timezones():
        raise ValidationError({"timezone_override": _("Choose a time zone from the list.")})


@transaction.atomic
def hearing_schedule(
    *,
    case: Case,
    kind: HearingKind,
    starts_at: datetime,
    court: ImmigrationCourt | None,
    venue: str = "",
    judge: str = "",
    medium: HearingMedium = HearingMedium.IN_PERSON,
    interpreter_language: str = "",
    timezone_override: str = "",
    by: User,
    ip_address: str | None = None,
) -> Hearing:
    """Record a scheduled hearing. ``starts_at`` is timezone-aware (the time the notice gives, in its zone).

    ``timezone_override`` names the zone of a hearing held by video from a court elsewhere.

    Side effects: the case's court is set if it had none; timeline; ``AccessEvent``.
    """
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": _("A hearing time needs a time zone.")})
    hearing = Hearing(
        case=case,
        kind=kind,
        starts_at=starts_at,
        court=court,
        venue=venue,
        judge=judge.strip(),
        medium=medium,
        interpreter_language=interpreter_language.strip(),
        timezone_override=timezone_override,
        created_by=by,
    )
    _check_place(hearing)
    hearing.save()
    # Only a case without a court takes the hearing's (never trust a possibly stale object).
    if court is not None:
        Case.objects.filter(pk=case.pk, court__isnull=True).update(court=court)
    case_event(case, CaseEvent.Kind.HEARING, _("Scheduled: %(hearing)s") % {"hearing": _hearing_summary(hearing)}, by)
    case_changed(case, by, f"hearing {hearing.pk} scheduled", ip_address=ip_address)
    return hearing


class HearingChanges(TypedDict, total=False):
    """What ``hearing_update`` may change; a missing key is left alone."""

    kind: HearingKind
    starts_at: datetime
    court: ImmigrationCourt | None
    venue: str
    judge: str
    medium: HearingMedium
    interpreter_language: str
    timezone_override: str


_CHANGEABLE = tuple(HearingChanges.__annotations__)


@transaction.atomic
def hearing_update(
    *, hearing: Hearing, by: User, ip_address: str | None = None, **changes: Unpack[HearingChanges]
) -> Hearing:
    """Edit or reschedule a hearing.

    Deadlines counted from a decision stay where they are: the appeal clock runs from the decision,
    not from the hearing (8 CFR 1003.38(b)). A hearing that already has an outcome cannot move into
    the future (``ValidationError`` on ``date``). Side effects: timeline; ``AccessEvent``.
    """
    hearing = Hearing.objects.select_for_update(of=("self",)).select_related("court", "case").get(pk=hearing.pk)
    values: Mapping[str, object] = changes  # read by field name below
    for name in _CHANGEABLE:
        if name in values:
            setattr(hearing, name, values[name])
    if timezone.is_naive(hearing.starts_at):
        raise ValidationError({"starts_at": _("A hearing time needs a time zone.")})
    _check_place(hearing)
    if hearing.outcome and hearing.starts_at > timezone.now():
        raise ValidationError(
            {"date": _("This hearing already has an outcome, so it cannot be moved into the future.")}
        )
    hearing.save()
    case_event(
        hearing.case, CaseEvent.Kind.HEARING, _("Updated: %(hearing)s") % {"hearing": _hearing_summary(hearing)}, by
    )
    case_changed(hearing.case, by, f"hearing {hearing.pk} updated", ip_address=ip_address)
    return hearing


@transaction.atomic
def hearing_record_outcome(
    *,
    hearing: Hearing,
    outcome: HearingOutcome,
    by: User,
    note: str = "",
    decision: DecisionFields | None = None,
    ip_address: str | None = None,
) -> tuple[Decision | None, list[Deadline]]:
    """Record what happened at a hearing that has been held.

    ``outcome`` "decided" needs ``decision`` (the judge's decision, recorded by
    ``decision_record``, or corrected by ``decision_update`` when the hearing already has one);
    any other outcome withdraws a decision recorded by mistake. Returns the decision and the
    deadlines added or moved. An outcome for a hearing that starts in the future is refused
    (``ValidationError`` on ``outcome``). Side effects: deadlines; timeline; ``AccessEvent``.
    """
    hearing = Hearing.objects.select_for_update(of=("self",)).select_related("court", "case").get(pk=hearing.pk)
    if outcome and hearing.starts_at > timezone.now():
        # An outcome of a hearing not yet held would also start deadlines from a decision not yet made.
        raise ValidationError(
            {
                "outcome": _(
                    "This hearing has not been held yet (%(start)s). Record its outcome after the hearing, "
                    "or correct the hearing's date first."
                )
                % {"start": f"{hearing.local_start:%Y-%m-%d %H:%M} {hearing.timezone_name}"}
            }
        )
    case = hearing.case
    existing = Decision.objects.filter(hearing=hearing).first()
    changed: list[Deadline] = []
    result: Decision | None = None
    if outcome == HearingOutcome.DECIDED:
        if decision is None:
            raise ValidationError({"outcome": _("Record the judge's decision.")})
        if existing is None:
            result, changed = decision_record(case=case, hearing=hearing, by=by, ip_address=ip_address, **decision)
        else:
            changed = decision_update(decision=existing, by=by, ip_address=ip_address, **decision)
            result = existing
    elif existing is not None:
        decision_withdraw(decision=existing, by=by, ip_address=ip_address)
    hearing.refresh_from_db(fields=["outcome"])
    before = hearing.outcome
    hearing.outcome, hearing.outcome_note = outcome, note.strip()
    hearing.save(update_fields=["outcome", "outcome_note"])
    if outcome != HearingOutcome.DECIDED and outcome != before:
        case_event(
            case,
            CaseEvent.Kind.HEARING,
            _("Outcome of %(hearing)s: %(outcome)s")
            % {"hearing": _hearing_summary(hearing), "outcome": HearingOutcome(outcome).label},
            by,
        )
    case_changed(case, by, f"hearing {hearing.pk} outcome", ip_address=ip_address)
    return result, changed
