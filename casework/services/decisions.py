"""Decisions and the deadlines they start.

Which deadlines a decision starts depends on what was decided, by whom, whether appeal was reserved
or waived, and how the decision was served — never on the hearing's date (8 CFR 1003.38(b)). The
mapping is ``deadline_plan``; ``decision_record`` and ``decision_update`` keep a decision's open
deadlines equal to its plan, so correcting a decision corrects its deadlines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict, Unpack, cast

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.deadlines import Forum, Rule, Service, compute_deadline, default_title
from casework.models import (
    APPEALABLE_DECISIONS,
    BIA_OUTCOMES,
    CLIENT_LOSSES,
    CLIENT_WINS,
    COURT_KINDS,
    FINAL_WHEN_MADE,
    IJ_OUTCOMES,
    Appeal,
    BondCondition,
    Case,
    CaseEvent,
    Deadline,
    DeadlineStatus,
    Decision,
    DecisionOutcome,
    DhsCustody,
    Hearing,
    HearingKind,
)
from casework.services.history import case_changed, case_event
from kernel.clock import local_date
from kernel.money import format_cents

# The statutory minimums a judge may set (and ICE accepts).
MINIMUM_DELIVERY_BOND_CENTS = 1_500_00  # INA 236(a)(2)(A)
MINIMUM_VD_BOND_CENTS = 500_00  # INA 240B(b)(3)
# Voluntary departure periods: up to 120 days before the end of proceedings (INA 240B(a)(2)(A),
# 8 CFR 1240.26(b)), up to 60 days at their conclusion (INA 240B(b)(2), 8 CFR 1240.26(c)).
VD_MAX_DAYS_BEFORE_END = 120
VD_MAX_DAYS_AT_END = 60


@dataclass(frozen=True)
class PlannedDeadline:
    """One deadline a decision starts: the rule, the day it counts from and the rule's options."""

    rule: Rule
    source_date: date
    forum: Forum = Forum.IJ
    service: Service = Service.ORAL
    days: int | None = None


def _motions(source: date, forum: Forum) -> list[PlannedDeadline]:
    return [
        PlannedDeadline(Rule.MOTION_TO_RECONSIDER, source, forum=forum),
        PlannedDeadline(Rule.MOTION_TO_REOPEN, source, forum=forum),
    ]


def deadline_plan(decision: Decision) -> list[PlannedDeadline]:
    """The deadlines ``decision`` starts, in the order they are shown.

    * The client lost and reserved appeal: the notice of appeal (EOIR-26), 30 days from the oral
      decision or the service of the written one (8 CFR 1003.38(b)).
    * The client lost and waived appeal, or the order was stipulated: the order is final that day
      (8 CFR 1241.1(b)); what remains are the motions to reconsider and reopen.
    * An in-absentia order: no appeal lies (8 CFR 1240.15); the motion to rescind (180 days for
      exceptional circumstances, INA 240(b)(5)(C)(i)).
    * The client won: DHS's appeal period, a watch (the order becomes final if DHS does not
      appeal, 8 CFR 1241.1(c)); for a bond grant DHS could stay, the automatic-stay watches
      (8 CFR 1003.19(i)(2), 1003.6(c)).
    * Voluntary departure: the bond within 5 business days and the departure date.
    * The Board made the removal order final: the petition for review (30 days, INA 242(b)(1))
      and the motions, now to the Board.
    """
    source, service = decision.clock_starts_on, Service(decision.service)
    outcome, appeal = DecisionOutcome(decision.outcome), Appeal(decision.appeal)
    plan: list[PlannedDeadline] = []
    if outcome == DecisionOutcome.VD_GRANTED:
        if decision.vd_bond_cents:
            plan.append(PlannedDeadline(Rule.VD_BOND, decision.decided_on))
        plan.append(PlannedDeadline(Rule.VD_DEPARTURE, decision.decided_on, days=decision.vd_days))
    if outcome == DecisionOutcome.IN_ABSENTIA:
        plan.append(PlannedDeadline(Rule.MOTION_TO_RESCIND, decision.decided_on))
    elif outcome == DecisionOutcome.STIPULATED_REMOVAL:
        plan.extend(_motions(decision.decided_on, Forum.IJ))
    elif outcome in CLIENT_LOSSES:
        if appeal == Appeal.RESERVED:
            plan.append(PlannedDeadline(Rule.BIA_APPEAL, source, service=service))
        elif outcome not in {DecisionOutcome.BOND_DENIED, DecisionOutcome.BOND_NO_JURISDICTION}:
            # A custody decision is not a final order; a new bond request needs changed circumstances
            # (8 CFR 1003.19(e)) and has no deadline.
            plan.extend(_motions(decision.decided_on, Forum.IJ))
    elif outcome in CLIENT_WINS and appeal == Appeal.RESERVED:
        plan.append(PlannedDeadline(Rule.DHS_APPEAL_PERIOD, source, service=service))
        if decision.stay_eligible:
            plan.append(PlannedDeadline(Rule.DHS_STAY_NOTICE, decision.decided_on))
            plan.append(PlannedDeadline(Rule.DHS_STAY_APPEAL, decision.decided_on))
            if decision.dhs_appeal_filed_on:
                plan.append(PlannedDeadline(Rule.DHS_STAY_LAPSE, decision.dhs_appeal_filed_on))
    elif outcome == DecisionOutcome.BIA_REMOVAL_FINAL:
        plan.append(PlannedDeadline(Rule.PETITION_FOR_REVIEW, source, service=service))
        plan.extend(_motions(source, Forum.BIA))
    return plan


# --- Writes --------------------------------------------------------------------------------


class DecisionFields(TypedDict, total=False):
    """What a decision records; missing keys take their defaults (or stay as they are on an update)."""

    forum: Forum
    outcome: DecisionOutcome
    decided_on: date
    service: Service
    served_on: date | None
    appeal: Appeal | None  # None: as the law sets it for this outcome (or ask, if it cannot say)
    bond_cents: int | None
    bond_conditions: list[str]
    dhs_custody: DhsCustody | str
    dhs_bond_cents: int | None
    dhs_stay_filed_on: date | None
    dhs_appeal_filed_on: date | None
    stay_ended_on: date | None
    vd_days: int | None
    vd_bond_cents: int | None
    alternate_order: str
    note: str


_FIELDS = tuple(DecisionFields.__annotations__)
_BOND_FIELDS = ("bond_cents", "bond_conditions", "dhs_custody", "dhs_bond_cents")
_STAY_FIELDS = ("dhs_stay_filed_on", "dhs_appeal_filed_on", "stay_ended_on")
_VD_FIELDS = ("vd_days", "vd_bond_cents", "alternate_order")


def _clear(decision: Decision, names: tuple[str, ...]) -> None:
    for name in names:
        field = cast("models.Field[Any, Any]", Decision._meta.get_field(name))
        setattr(decision, name, field.get_default())


def _check_dates(decision: Decision, errors: dict[str, str]) -> None:
    today = local_date(timezone.now())
    if decision.decided_on > today:
        errors["decided_on"] = _("A decision cannot be dated in the future.")
    hearing = decision.hearing
    if hearing is not None:
        if hearing.starts_at > timezone.now():
            errors["decided_on"] = _("This hearing has not been held yet: record its outcome after the hearing.")
        elif decision.decided_on < hearing.local_start.date():
            errors["decided_on"] = _("The decision cannot come before the hearing (%(date)s).") % {
                "date": hearing.local_start.date().isoformat()
            }
    if decision.service == Service.ORAL:
        decision.served_on = None
    elif decision.served_on is None:
        errors["served_on"] = _(
            "Give the date the written decision was mailed or served: the appeal clock runs from it."
        )
    elif decision.served_on < decision.decided_on:
        errors["served_on"] = _("A decision is served on or after the day it was made.")
    elif decision.served_on > today:
        errors["served_on"] = _("The service date cannot be in the future.")
    for name in _STAY_FIELDS:
        value = getattr(decision, name)
        if value is not None and (value < decision.decided_on or value > today):
            errors[name] = _("This date must fall between the decision and today.")


def _check_forum(decision: Decision, errors: dict[str, str]) -> None:
    outcome = DecisionOutcome(decision.outcome)
    if decision.hearing is not None and decision.hearing.kind not in COURT_KINDS:
        errors["outcome"] = _("Only a hearing before an immigration judge ends in a decision.")
    if decision.forum == Forum.BIA:
        if decision.hearing_id is not None:
            errors["forum"] = _("The Board decides on the papers; a hearing's decision is the immigration judge's.")
        if outcome not in BIA_OUTCOMES | {DecisionOutcome.OTHER}:
            errors["outcome"] = _("Choose one of the Board's outcomes.")
    elif outcome not in IJ_OUTCOMES | {DecisionOutcome.OTHER}:
        errors["outcome"] = _("That is a Board outcome: choose “decided by the BIA”.")


def _settle_appeal(decision: Decision, asked: Appeal | None, errors: dict[str, str]) -> None:
    """Set ``decision.appeal`` from what was asked and what the law allows for the outcome."""
    outcome = DecisionOutcome(decision.outcome)
    if outcome in FINAL_WHEN_MADE:
        fixed = FINAL_WHEN_MADE[outcome]
        if asked == Appeal.RESERVED:
            errors["appeal"] = (
                _("No appeal lies from an in-absentia order (8 CFR 1240.15): the remedy is a motion to rescind.")
                if outcome == DecisionOutcome.IN_ABSENTIA
                else _("A stipulated removal order waives appeal (8 CFR 1003.25(b)).")
            )
        decision.appeal = fixed
    elif outcome in APPEALABLE_DECISIONS:
        if asked in {None, Appeal.NOT_APPLICABLE}:
            errors["appeal"] = _(
                "Say whether appeal was reserved or waived: it decides whether the order is final today."
            )
        else:
            decision.appeal = asked
    else:
        decision.appeal = Appeal.NOT_APPLICABLE


def _check_bond(decision: Decision, errors: dict[str, str]) -> None:
    outcome = DecisionOutcome(decision.outcome)
    if outcome not in {DecisionOutcome.BOND_GRANTED, DecisionOutcome.BOND_DENIED, DecisionOutcome.BOND_NO_JURISDICTION}:
        _clear(decision, _BOND_FIELDS)
    if outcome != DecisionOutcome.BOND_GRANTED:
        _clear(decision, ("bond_cents", "bond_conditions", *_STAY_FIELDS))
    else:
        if decision.bond_cents is None:
            errors["bond_cents"] = _("Give the amount of the bond the judge set.")
        elif decision.bond_cents < MINIMUM_DELIVERY_BOND_CENTS:
            errors["bond_cents"] = _("The minimum delivery bond is %(minimum)s (INA 236(a)(2)(A)).") % {
                "minimum": format_cents(MINIMUM_DELIVERY_BOND_CENTS)
            }
        unknown = [code for code in decision.bond_conditions if code not in BondCondition.values]
        if unknown:
            errors["bond_conditions"] = _("Unknown condition: %(codes)s.") % {"codes": ", ".join(unknown)}
        if not decision.stay_eligible:
            _clear(decision, _STAY_FIELDS)
        elif decision.dhs_appeal_filed_on and not decision.dhs_stay_filed_on:
            errors["dhs_stay_filed_on"] = _("The automatic stay starts with DHS's Form EOIR-43: give its date first.")
    if decision.dhs_custody == DhsCustody.BOND_SET:
        if not decision.dhs_bond_cents:
            errors["dhs_bond_cents"] = _("Give the amount DHS set.")
    else:
        decision.dhs_bond_cents = None


def _check_voluntary_departure(decision: Decision, errors: dict[str, str]) -> None:
    if decision.outcome != DecisionOutcome.VD_GRANTED:
        _clear(decision, _VD_FIELDS)
        return
    before_end = decision.hearing is not None and decision.hearing.kind == HearingKind.MASTER
    limit = VD_MAX_DAYS_BEFORE_END if before_end else VD_MAX_DAYS_AT_END
    if not decision.vd_days:
        errors["vd_days"] = _("Give the number of days the judge allowed for departure.")
    elif decision.vd_days > limit:
        errors["vd_days"] = (
            _("Before the end of proceedings a judge may allow at most 120 days (8 CFR 1240.26(b)).")
            if before_end
            else _("At the end of proceedings a judge may allow at most 60 days (8 CFR 1240.26(c)).")
        )
    if decision.vd_bond_cents is None and not before_end:
        errors["vd_bond_cents"] = _(
            "Voluntary departure at the end of proceedings needs a bond (INA 240B(b)(3)): give its amount."
        )
    elif decision.vd_bond_cents is not None and decision.vd_bond_cents < MINIMUM_VD_BOND_CENTS:
        errors["vd_bond_cents"] = _("The minimum voluntary departure bond is %(minimum)s (INA 240B(b)(3)).") % {
            "minimum": format_cents(MINIMUM_VD_BOND_CENTS)
        }


def _validate(decision: Decision, asked_appeal: Appeal | None) -> None:
    errors: dict[str, str] = {}
    decision.note = decision.note.strip()
    decision.alternate_order = decision.alternate_order.strip()
    _check_forum(decision, errors)
    _check_dates(decision, errors)
    _settle_appeal(decision, asked_appeal, errors)
    _check_bond(decision, errors)
    _check_voluntary_departure(decision, errors)
    if errors:
        raise ValidationError(errors)


def _apply(decision: Decision, fields: Mapping[str, object]) -> Appeal | None:
    for name in _FIELDS:
        if name in fields and name != "appeal":
            value = fields[name]
            setattr(decision, name, list(value) if name == "bond_conditions" else value)  # type: ignore[call-overload]
    asked = fields.get("appeal", decision.appeal if decision.pk else None)
    return Appeal(str(asked)) if asked else None


def _sync_deadlines(decision: Decision, by: User) -> list[Deadline]:
    """Make the decision's open deadlines match its plan; return the ones added or moved."""
    changed: list[Deadline] = []
    existing = {d.rule: d for d in decision.deadlines.select_for_update()}
    planned = deadline_plan(decision)
    for item in planned:
        computed = compute_deadline(item.rule, item.source_date, service=item.service, forum=item.forum, days=item.days)
        deadline = existing.get(item.rule)
        if deadline is None:
            deadline = Deadline.objects.create(
                case=decision.case,
                decision=decision,
                hearing=decision.hearing,
                title=default_title(item.rule, forum=item.forum),
                due_on=computed.due,
                rule=item.rule,
                source_date=item.source_date,
                explanation=computed.explanation,
                created_by=by,
            )
            changed.append(deadline)
            case_event(
                decision.case,
                CaseEvent.Kind.DEADLINE,
                _("Deadline added: %(title)s, due %(due)s")
                % {"title": deadline.title, "due": deadline.due_on.isoformat()},
                by,
            )
        elif deadline.is_open and (deadline.due_on, deadline.source_date) != (computed.due, item.source_date):
            old = deadline.due_on
            deadline.due_on, deadline.source_date, deadline.explanation = (
                computed.due,
                item.source_date,
                computed.explanation,
            )
            deadline.save(update_fields=["due_on", "source_date", "explanation"])
            changed.append(deadline)
            case_event(
                decision.case,
                CaseEvent.Kind.DEADLINE,
                _("Deadline moved with the corrected decision: %(title)s, from %(old)s to %(due)s")
                % {"title": deadline.title, "old": old.isoformat(), "due": deadline.due_on.isoformat()},
                by,
            )
    still = {item.rule for item in planned}
    for rule, deadline in existing.items():
        if rule not in still and deadline.is_open:
            deadline.status, deadline.completed_at, deadline.completed_by = DeadlineStatus.WAIVED, timezone.now(), by
            note = _("No longer applies: the decision was corrected.")
            deadline.explanation = f"{deadline.explanation} {note}".strip()
            deadline.save(update_fields=["status", "completed_at", "completed_by", "explanation"])
            case_event(
                decision.case,
                CaseEvent.Kind.DEADLINE,
                _("Deadline %(title)s: no longer applies after the decision was corrected") % {"title": deadline.title},
                by,
            )
    return changed


def _summary(decision: Decision) -> str:
    forum = Forum(decision.forum).label
    return f"{DecisionOutcome(decision.outcome).label} ({forum}, {decision.decided_on.isoformat()})"


@transaction.atomic
def decision_record(
    *,
    case: Case,
    by: User,
    hearing: Hearing | None = None,
    ip_address: str | None = None,
    **fields: Unpack[DecisionFields],
) -> tuple[Decision, list[Deadline]]:
    """Record a decision (at ``hearing``, or written, or the Board's) and add the deadlines it starts.

    Raises ``ValidationError`` (by field) for a decision in the future or before its hearing, a
    written decision without its service date, an appeal the law does not allow, a bond below the
    statutory minimum, or a voluntary departure period longer than allowed. A hearing's decision
    marks the hearing decided. Side effects: deadlines; timeline; ``AccessEvent``.
    """
    if hearing is not None:
        hearing = Hearing.objects.select_for_update(of=("self",)).select_related("court").get(pk=hearing.pk, case=case)
        if Decision.objects.filter(hearing=hearing).exists():
            raise ValidationError({"outcome": _("This hearing already has a decision: correct that one instead.")})
    decision = Decision(case=case, hearing=hearing, recorded_by=by)
    asked = _apply(decision, fields)
    if "outcome" not in fields or "decided_on" not in fields:
        raise ValidationError(_("A decision needs its outcome and its date."))
    _validate(decision, asked)
    decision.save()
    if hearing is not None:
        hearing.outcome = "decided"
        hearing.save(update_fields=["outcome"])
    case_event(case, CaseEvent.Kind.DECISION, _("Decision: %(decision)s") % {"decision": _summary(decision)}, by)
    changed = _sync_deadlines(decision, by)
    case_changed(case, by, f"decision {decision.pk} recorded", ip_address=ip_address)
    return decision, changed


@transaction.atomic
def decision_update(
    *, decision: Decision, by: User, ip_address: str | None = None, **fields: Unpack[DecisionFields]
) -> list[Deadline]:
    """Correct a decision (or record DHS's stay and appeal); its open deadlines follow.

    Deadlines no longer in the decision's plan are waived with a note; done ones are left alone.
    Returns the deadlines added or moved. Side effects: timeline; ``AccessEvent``.
    """
    decision = (
        Decision.objects.select_for_update(of=("self",)).select_related("hearing__court", "case").get(pk=decision.pk)
    )
    asked = _apply(decision, fields)
    _validate(decision, asked)
    decision.save()
    case_event(
        decision.case,
        CaseEvent.Kind.DECISION,
        _("Decision corrected: %(decision)s") % {"decision": _summary(decision)},
        by,
    )
    changed = _sync_deadlines(decision, by)
    case_changed(decision.case, by, f"decision {decision.pk} updated", ip_address=ip_address)
    return changed


@transaction.atomic
def decision_withdraw(*, decision: Decision, by: User, ip_address: str | None = None) -> None:
    """Remove a decision recorded by mistake; its open deadlines are waived, the timeline keeps both.

    Side effects: the hearing goes back to "held" without an outcome; timeline; ``AccessEvent``.
    """
    decision = Decision.objects.select_for_update(of=("self",)).select_related("case").get(pk=decision.pk)
    for deadline in decision.deadlines.select_for_update().filter(status=DeadlineStatus.OPEN):
        deadline.status, deadline.completed_at, deadline.completed_by = DeadlineStatus.WAIVED, timezone.now(), by
        note = _("No longer applies: the decision was withdrawn.")
        deadline.explanation = f"{deadline.explanation} {note}".strip()
        deadline.save(update_fields=["status", "completed_at", "completed_by", "explanation"])
    if decision.hearing_id is not None:
        Hearing.objects.filter(pk=decision.hearing_id).update(outcome="")
    case_event(
        decision.case,
        CaseEvent.Kind.DECISION,
        _("Decision withdrawn: %(decision)s") % {"decision": _summary(decision)},
        by,
    )
    case_changed(decision.case, by, f"decision {decision.pk} withdrawn", ip_address=ip_address)
    decision.delete()
