"""Custody: who holds the person (or what their release rests on), its history, supervision, and minors.

Where a person is and who holds them are two questions: the custodian (ICE, CBP, ORR, a jail holding
them on an ICE detainer) and, once released, the basis of the release (bond, recognizance, parole,
an order of supervision, a habeas order). Supervision (ATD/ISAP) sits on top of a release.

An unaccompanied child is HHS's to hold: the agency that has the child must notify HHS within 48
hours and transfer the child to ORR within 72 hours of determining that the child is unaccompanied
(8 U.S.C. 1232(b)(2), (3)); the asylum one-year deadline does not apply to the child (INA
208(a)(2)(E)); and at 18 ORR's custody ends and ICE decides custody again, considering the least
restrictive setting (8 U.S.C. 1232(c)(2)(B)).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.deadlines import Rule
from casework.models import (
    HELD_BY,
    Case,
    CaseEvent,
    Custodian,
    CustodyPeriod,
    Deadline,
    DeadlineStatus,
    DetentionFacility,
    ReleaseBasis,
    Supervision,
    UacDetermination,
    age_on,
)
from casework.services.deadlines import deadline_add_from_rule
from casework.services.history import case_changed, case_event

# The deadlines an unaccompanied-child determination starts, each counted from its source.
UAC_RULES = (Rule.UAC_HHS_NOTICE, Rule.UAC_TRANSFER)


def _check_custody(
    case: Case, custodian: Custodian, release_basis: ReleaseBasis, supervision: Supervision, errors: dict[str, str]
) -> None:
    if custodian == Custodian.RELEASED:
        if not release_basis:
            errors["release_basis"] = _("Say what the release rests on (bond, recognizance, parole, ...).")
    else:
        if release_basis:
            errors["release_basis"] = _("A basis of release goes with “Released” only.")
        if supervision:
            errors["supervision"] = _("Supervision (ATD/ISAP) goes with a release only.")
    if custodian == Custodian.ORR and case.uac_determination != UacDetermination.UNACCOMPANIED:
        errors["custodian"] = _(
            "ORR holds unaccompanied children only: record the unaccompanied-child determination first."
        )


def _complete_uac_transfer(case: Case, by: User) -> None:
    """The child is with ORR: the notice and transfer deadlines are met."""
    now = timezone.now()
    for deadline in Deadline.objects.select_for_update().filter(
        case=case, rule__in=UAC_RULES, status=DeadlineStatus.OPEN
    ):
        deadline.status, deadline.completed_at, deadline.completed_by = DeadlineStatus.DONE, now, by
        deadline.save(update_fields=["status", "completed_at", "completed_by"])
        case_event(
            case,
            CaseEvent.Kind.DEADLINE,
            _("Deadline %(title)s: done (the child is in ORR custody)") % {"title": deadline.title},
            by,
        )


@transaction.atomic
def custody_record_change(
    *,
    case: Case,
    custodian: Custodian,
    facility: DetentionFacility | None,
    started_on: date,
    by: User,
    release_basis: ReleaseBasis = ReleaseBasis.NONE,
    supervision: Supervision = Supervision.NONE,
    ip_address: str | None = None,
) -> CustodyPeriod:
    """Record a change of custody (a transfer, a release, a removal) from ``started_on``.

    ``release_basis`` is required for a release and refused otherwise; ``supervision`` (ATD/ISAP)
    goes with a release only; the facility is kept only while the person is held. ORR custody needs
    the unaccompanied-child determination first. Raises ``ValidationError`` by field.

    Side effects: the current custody period ends that day; a new one starts; the case's current
    custody, release basis, supervision and facility follow (a new custody without supervision
    also clears the next check-in); a transfer to ORR marks the open HHS-notice and transfer
    deadlines done; a timeline event; an ``AccessEvent``.
    """
    case = Case.objects.select_for_update().select_related("detainee").get(pk=case.pk)
    custodian, release_basis, supervision = Custodian(custodian), ReleaseBasis(release_basis), Supervision(supervision)
    errors: dict[str, str] = {}
    _check_custody(case, custodian, release_basis, supervision, errors)
    current = CustodyPeriod.objects.select_for_update().filter(case=case, ended_on__isnull=True).first()
    if current is not None and started_on < current.started_on:
        errors["started_on"] = _("The change cannot be earlier than the current period, which began on %(date)s.") % {
            "date": current.started_on.isoformat()
        }
    if errors:
        raise ValidationError(errors)
    if current is not None:
        current.ended_on = started_on
        current.save(update_fields=["ended_on"])
    if custodian not in HELD_BY:
        facility = None
    period = CustodyPeriod.objects.create(
        case=case,
        custodian=custodian,
        release_basis=release_basis,
        supervision=supervision,
        facility=facility,
        started_on=started_on,
        recorded_by=by,
    )
    case.custodian, case.release_basis, case.supervision, case.facility = (
        custodian,
        release_basis,
        supervision,
        facility,
    )
    if not supervision:
        case.next_check_in_on = None
    case.save(update_fields=["custodian", "release_basis", "supervision", "facility", "next_check_in_on"])
    if custodian == Custodian.ORR:
        _complete_uac_transfer(case, by)
    where = f" — {facility.name}" if facility else ""
    case_event(case, CaseEvent.Kind.CUSTODY, f"{period.label}{where}", by)
    case_changed(case, by, f"custody {custodian} {release_basis}".strip(), ip_address=ip_address)
    return period


@transaction.atomic
def custody_update_supervision(
    *,
    case: Case,
    supervision: Supervision,
    next_check_in_on: date | None,
    by: User,
    ip_address: str | None = None,
) -> None:
    """Put a released person on ATD/ISAP (or take them off) and record the next check-in.

    Only a released person can be supervised (``ValidationError`` otherwise); nothing changed,
    nothing is written. Side effects: the case and its current custody period carry the
    supervision; a timeline event; an ``AccessEvent``.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    supervision = Supervision(supervision)
    if (case.supervision, case.next_check_in_on) == (supervision, next_check_in_on):
        return
    if case.custodian != Custodian.RELEASED and (supervision or next_check_in_on):
        raise ValidationError({"supervision": _("Supervision (ATD/ISAP) goes with a release only.")})
    case.supervision, case.next_check_in_on = supervision, next_check_in_on
    case.save(update_fields=["supervision", "next_check_in_on"])
    CustodyPeriod.objects.filter(case=case, ended_on__isnull=True).update(supervision=supervision)
    if supervision:
        summary = _("Supervision: %(supervision)s") % {"supervision": Supervision(supervision).label}
        if next_check_in_on:
            summary += " · " + _("next check-in %(date)s") % {"date": next_check_in_on.isoformat()}
    else:
        summary = _("Supervision ended.")
    case_event(case, CaseEvent.Kind.CUSTODY, summary, by)
    case_changed(case, by, f"supervision {supervision or 'none'}", ip_address=ip_address)


def _waive(deadline: Deadline, reason: str, by: User) -> None:
    deadline.status, deadline.completed_at, deadline.completed_by = DeadlineStatus.WAIVED, timezone.now(), by
    deadline.explanation = f"{deadline.explanation} {reason}".strip()
    deadline.save(update_fields=["status", "completed_at", "completed_by", "explanation"])
    case_event(
        deadline.case,
        CaseEvent.Kind.DEADLINE,
        _("Deadline %(title)s: waived. %(reason)s") % {"title": deadline.title, "reason": reason},
        by,
    )


@transaction.atomic
def case_record_uac_determination(
    *,
    case: Case,
    determination: UacDetermination,
    determined_on: date | None,
    by: User,
    ip_address: str | None = None,
) -> list[Deadline]:
    """Record whether the person is an unaccompanied child (6 U.S.C. 279(g)(2)); returns the deadlines added.

    "Unaccompanied" needs the date of the determination, on or after the date of birth and not in
    the future (``ValidationError`` by field). It adds, unless already open on the case: the HHS
    notice (48 hours) and the transfer to ORR (72 hours), counted from the determination
    (8 U.S.C. 1232(b)(2), (3)); the age-out watch, counted from the date of birth when it is known.
    An open asylum one-year deadline is waived, as the deadline does not apply to an unaccompanied
    child (INA 208(a)(2)(E)). Changing the determination away from "unaccompanied" waives the open
    HHS-notice, transfer and age-out deadlines. Side effects: those deadlines; timeline events; an
    ``AccessEvent``.
    """
    case = Case.objects.select_for_update().select_related("detainee").get(pk=case.pk)
    determination = UacDetermination(determination)
    born = case.detainee.date_of_birth
    if determination == UacDetermination.NOT_ASSESSED:
        determined_on = None
    if determination == UacDetermination.UNACCOMPANIED:
        if determined_on is None:
            raise ValidationError(
                {"determined_on": _("Give the date of the determination: the 48 and 72 hours run from it.")}
            )
        if born is not None and age_on(born, determined_on) >= 18:
            raise ValidationError(
                {"determination": _("The person was 18 or older on that date: not an unaccompanied child.")}
            )
    if determined_on is not None:
        if determined_on > timezone.localdate():
            raise ValidationError({"determined_on": _("The determination cannot be dated in the future.")})
        if born is not None and determined_on < born:
            raise ValidationError({"determined_on": _("The determination cannot come before the date of birth.")})
    before = UacDetermination(case.uac_determination)
    case.uac_determination, case.uac_determined_on = determination, determined_on
    case.save(update_fields=["uac_determination", "uac_determined_on"])
    case_event(
        case,
        CaseEvent.Kind.DETAILS,
        _("Unaccompanied-child determination: %(determination)s") % {"determination": determination.label}
        + (f" ({determined_on.isoformat()})" if determined_on else ""),
        by,
    )
    open_by_rule = {
        d.rule: d for d in Deadline.objects.select_for_update().filter(case=case, status=DeadlineStatus.OPEN)
    }
    added: list[Deadline] = []
    if determination == UacDetermination.UNACCOMPANIED:
        assert determined_on is not None  # checked above
        for rule in UAC_RULES:
            if rule not in open_by_rule:
                added.append(deadline_add_from_rule(case=case, rule=rule, source_date=determined_on, by=by))
        if born is not None and Rule.AGE_OUT not in open_by_rule:
            added.append(deadline_add_from_rule(case=case, rule=Rule.AGE_OUT, source_date=born, by=by))
        asylum = open_by_rule.get(Rule.ASYLUM_ONE_YEAR)
        if asylum is not None:
            _waive(
                asylum,
                _("The one-year deadline does not apply to an unaccompanied child (INA 208(a)(2)(E))."),
                by,
            )
    elif before == UacDetermination.UNACCOMPANIED:
        for rule in (*UAC_RULES, Rule.AGE_OUT):
            deadline = open_by_rule.get(rule)
            if deadline is not None:
                _waive(
                    deadline, _("No longer applies: the person is no longer recorded as an unaccompanied child."), by
                )
    case_changed(case, by, f"uac determination {determination}", ip_address=ip_address)
    return added
