"""Hearings: scheduling, rescheduling and recording their outcome (which may add a deadline)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.deadlines import Rule, compute_deadline
from casework.models import (
    APPEALABLE_OUTCOMES,
    Case,
    CaseEvent,
    Deadline,
    DeadlineStatus,
    Hearing,
    HearingKind,
    HearingMedium,
    HearingOutcome,
    ImmigrationCourt,
)
from casework.services.deadlines import deadline_add_from_rule, deadline_set_status
from casework.services.history import case_changed, case_event


def _hearing_summary(hearing: Hearing) -> str:
    local = hearing.local_start
    return f"{HearingKind(hearing.kind).label}, {hearing.court.name}, {local:%Y-%m-%d %H:%M} ({hearing.court.timezone})"


@transaction.atomic
def hearing_schedule(
    *,
    case: Case,
    kind: HearingKind,
    starts_at: datetime,
    court: ImmigrationCourt,
    judge: str = "",
    medium: HearingMedium = HearingMedium.IN_PERSON,
    interpreter_language: str = "",
    by: User,
    ip_address: str | None = None,
) -> Hearing:
    """Record a scheduled hearing. ``starts_at`` is timezone-aware (the court's local time).

    Side effects: the case's court is set if it had none; timeline; ``AccessEvent``.
    """
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": _("A hearing time needs a time zone.")})
    hearing = Hearing.objects.create(
        case=case,
        kind=kind,
        starts_at=starts_at,
        court=court,
        judge=judge.strip(),
        medium=medium,
        interpreter_language=interpreter_language.strip(),
        created_by=by,
    )
    # Only a case without a court takes the hearing's (never trust a possibly stale object).
    Case.objects.filter(pk=case.pk, court__isnull=True).update(court=court)
    case_event(case, CaseEvent.Kind.HEARING, _("Scheduled: %(hearing)s") % {"hearing": _hearing_summary(hearing)}, by)
    case_changed(case, by, f"hearing {hearing.pk} scheduled", ip_address=ip_address)
    return hearing


class HearingChanges(TypedDict, total=False):
    """What ``hearing_update`` may change; a missing key is left alone."""

    kind: HearingKind
    starts_at: datetime
    court: ImmigrationCourt
    judge: str
    medium: HearingMedium
    interpreter_language: str
    outcome: HearingOutcome | str  # "" while the hearing has no outcome
    outcome_note: str


@transaction.atomic
def hearing_update(
    *, hearing: Hearing, by: User, ip_address: str | None = None, **changes: Unpack[HearingChanges]
) -> Deadline | None:
    """Edit a hearing or record its outcome.

    When the outcome is an immigration judge's decision that can be appealed, an "Appeal to
    the BIA" deadline (30 days, rolled to a business day) is added unless one already comes
    from this hearing; that deadline is returned. An outcome for a hearing that starts in the
    future is refused (``ValidationError`` on ``outcome``). Side effects: timeline; ``AccessEvent``.
    """
    hearing = Hearing.objects.select_for_update().select_related("court", "case").get(pk=hearing.pk)
    before_outcome, before_start = hearing.outcome, hearing.starts_at
    values: Mapping[str, object] = changes  # read by field name below
    for name in ("kind", "starts_at", "court", "judge", "medium", "interpreter_language", "outcome", "outcome_note"):
        if name in values:
            setattr(hearing, name, values[name])
    if timezone.is_naive(hearing.starts_at):
        raise ValidationError({"starts_at": _("A hearing time needs a time zone.")})
    if hearing.outcome and hearing.starts_at > timezone.now():
        # An outcome of a hearing not yet held would also start deadlines from a decision not yet made.
        raise ValidationError(
            {
                "outcome": _(
                    "This hearing has not been held yet (%(start)s). Record its outcome after the hearing, "
                    "or correct the hearing's date first."
                )
                % {"start": f"{hearing.local_start:%Y-%m-%d %H:%M} {hearing.court.timezone}"}
            }
        )
    hearing.save()
    case = hearing.case
    deadline = None
    appeal = hearing.deadlines.filter(rule=Rule.BIA_APPEAL).first()
    if hearing.outcome and hearing.outcome != before_outcome:
        case_event(
            case,
            CaseEvent.Kind.HEARING,
            _("Outcome of %(hearing)s: %(outcome)s")
            % {"hearing": _hearing_summary(hearing), "outcome": HearingOutcome(hearing.outcome).label},
            by,
        )
    else:
        case_event(case, CaseEvent.Kind.HEARING, _("Updated: %(hearing)s") % {"hearing": _hearing_summary(hearing)}, by)
    if hearing.outcome in APPEALABLE_OUTCOMES:
        if appeal is None:
            deadline = deadline_add_from_rule(
                case=case, rule=Rule.BIA_APPEAL, source_date=hearing.local_start.date(), by=by, hearing=hearing
            )
        elif appeal.is_open and hearing.starts_at != before_start:
            # The decision date was corrected: the appeal deadline follows it.
            computed = compute_deadline(Rule.BIA_APPEAL, hearing.local_start.date())
            appeal.source_date, appeal.due_on, appeal.explanation = (
                computed.source_date,
                computed.due,
                computed.explanation,
            )
            appeal.save(update_fields=["source_date", "due_on", "explanation"])
            deadline = appeal
    elif appeal is not None and appeal.is_open and before_outcome in APPEALABLE_OUTCOMES:
        # The outcome was corrected to one that cannot be appealed: the deadline no longer applies.
        deadline_set_status(deadline=appeal, status=DeadlineStatus.WAIVED, by=by)
    case_changed(case, by, f"hearing {hearing.pk} updated", ip_address=ip_address)
    return deadline
