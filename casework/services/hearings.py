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
from casework.deadlines import PREHEARING_KINDS, Rule, compute_deadline, default_title
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
from kernel.clock import local_date


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

    Side effects: the case's court is set if it had none; for a client not detained, the
    pre-hearing filing deadline (``_sync_prehearing_filing``); timeline; ``AccessEvent``.
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
    _sync_prehearing_filing(hearing, by)
    case_changed(case, by, f"hearing {hearing.pk} scheduled", ip_address=ip_address)
    return hearing


def _sync_prehearing_filing(hearing: Hearing, by: User) -> None:
    """Keep the filing deadline counted back from a non-detained client's master or individual hearing.

    15 days before a master calendar hearing, 30 before an individual one (EOIR Policy Manual Part II
    3.1(b)). For a detained client the judge sets the deadline, so none is computed. Added when
    the hearing is scheduled (if that day is still ahead); moved when the hearing is; a done or
    waived one is left alone.
    """
    if hearing.kind not in PREHEARING_KINDS:
        return
    case = Case.objects.get(pk=hearing.case_id)  # fresh: the custody decides, and a caller's copy may be stale
    if case.is_detained:
        return
    existing = hearing.deadlines.filter(rule=Rule.PREHEARING_FILING).first()
    computed = compute_deadline(Rule.PREHEARING_FILING, hearing.local_start.date(), hearing_kind=hearing.kind)
    if existing is None:
        if computed.due >= local_date(timezone.now()):
            Deadline.objects.create(
                case=case,
                hearing=hearing,
                title=default_title(Rule.PREHEARING_FILING),
                due_on=computed.due,
                rule=Rule.PREHEARING_FILING,
                source_date=computed.source_date,
                explanation=computed.explanation,
                created_by=by,
            )
            case_event(
                case,
                CaseEvent.Kind.DEADLINE,
                _("Deadline added: %(title)s, due %(due)s")
                % {"title": default_title(Rule.PREHEARING_FILING), "due": computed.due.isoformat()},
                by,
            )
    elif existing.is_open and existing.due_on != computed.due:
        existing.due_on, existing.source_date, existing.explanation = (
            computed.due,
            computed.source_date,
            computed.explanation,
        )
        existing.save(update_fields=["due_on", "source_date", "explanation"])
        case_event(
            case,
            CaseEvent.Kind.DEADLINE,
            _("Deadline moved with the hearing: %(title)s, due %(due)s")
            % {"title": existing.title, "due": computed.due.isoformat()},
            by,
        )


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
    """Edit or reschedule a hearing; a filing deadline counted back from it moves with it.

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
    _sync_prehearing_filing(hearing, by)
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
