from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import User
from accounts.roles import Role, user_role
from casework.models import Assignment, AssignmentRole, Case, CaseEvent, CaseStatus
from casework.services.appearances import appearance_tasks_for_new_lead
from casework.services.history import case_changed, case_event
from casework.services.workload import caseload_add

CASE_PERMS = ("view_case", "change_case")


def _grant(attorney: User, case: Case) -> None:
    for perm in CASE_PERMS:
        assign_perm(perm, attorney, case)


def _revoke_unless_still_assigned(attorney: User, case: Case) -> None:
    if not Assignment.objects.filter(case=case, attorney=attorney, ended_at__isnull=True).exists():
        for perm in CASE_PERMS:
            remove_perm(perm, attorney, case)


def _check_attorney(attorney: User) -> None:
    if not attorney.is_active or user_role(attorney) not in (Role.ATTORNEY, Role.SUPERVISOR):
        raise ValidationError(_("Cases can only be assigned to active attorneys."))


def _end(assignment: Assignment, by: User, now: datetime) -> None:
    assignment.ended_at = now
    assignment.ended_by = by
    assignment.save(update_fields=["ended_at", "ended_by"])


@transaction.atomic
def case_assign(
    *, case: Case, attorney: User, role: AssignmentRole, by: User, ip_address: str | None = None
) -> Assignment:
    """Put ``attorney`` on ``case`` in ``role``. A new lead replaces the current lead.

    Side effects: ends the attorney's other active assignment on this case (a role change)
    and, for a lead, the previous lead's assignment (whose access is revoked unless they
    are still on the case otherwise); grants the attorney ``view_case``/``change_case`` on
    the case; a case in intake or triage becomes active; for a new lead, a filing task for each
    forum (court, BIA, DHS) where an attorney no longer on the case is still of record
    (``appearance_tasks_for_new_lead``); timeline events; an ``AccessEvent``.
    """
    _check_attorney(attorney)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:  # checked on the locked row, not the caller's copy
        raise ValidationError(_("Reopen the case before assigning attorneys."))
    now = timezone.now()
    counted: list[tuple[Assignment, int]] = []  # what leaves and joins the attorneys' caseloads
    current = Assignment.objects.filter(case=case, attorney=attorney, ended_at__isnull=True).first()
    if current is not None:
        if current.role == role:
            raise ValidationError(_("%(name)s is already on this case in that role.") % {"name": attorney})
        _end(current, by, now)
        counted.append((current, -1))
    previous = None
    if role == AssignmentRole.LEAD:
        previous = Assignment.objects.filter(case=case, role=AssignmentRole.LEAD, ended_at__isnull=True).first()
        if previous is not None:
            _end(previous, by, now)
            counted.append((previous, -1))
            _revoke_unless_still_assigned(previous.attorney, case)
            case_event(
                case, CaseEvent.Kind.UNASSIGNED, _("%(name)s is no longer lead.") % {"name": previous.attorney}, by
            )
    assignment = Assignment.objects.create(case=case, attorney=attorney, role=role, started_at=now, assigned_by=by)
    caseload_add([*counted, (assignment, 1)])
    _grant(attorney, case)
    fields = []
    if case.status in (CaseStatus.INTAKE, CaseStatus.TRIAGE):
        case.status = CaseStatus.ACTIVE
        fields.append("status")
    if case.first_assigned_at is None:
        case.first_assigned_at = now
        fields.append("first_assigned_at")
    if role == AssignmentRole.LEAD and case.needs_reassignment:
        case.needs_reassignment = False
        fields.append("needs_reassignment")
    if fields:
        case.save(update_fields=fields)
    if role == AssignmentRole.LEAD:
        appearance_tasks_for_new_lead(case=case, lead=attorney, by=by)
    case_event(
        case,
        CaseEvent.Kind.ASSIGNED,
        _("%(name)s assigned as %(role)s.") % {"name": attorney, "role": AssignmentRole(role).label.lower()},
        by,
    )
    case_changed(case, by, f"assigned {attorney} (user {attorney.pk}) as {role}", ip_address=ip_address)
    return assignment


@transaction.atomic
def assignment_end(*, assignment: Assignment, by: User, ip_address: str | None = None) -> None:
    """End an assignment; the attorney loses access at their next request.

    Side effects: permissions revoked (unless still assigned in another role); if the case
    is left without a lead while open, it goes back to triage flagged for reassignment;
    timeline event; ``AccessEvent``.
    """
    if not assignment.is_active:
        raise ValidationError(_("This assignment has already ended."))
    case = Case.objects.select_for_update().get(pk=assignment.case_id)
    _end(assignment, by, timezone.now())
    if case.is_open:
        caseload_add([(assignment, -1)])
    _revoke_unless_still_assigned(assignment.attorney, case)
    _send_back_to_triage_if_leaderless(case)
    case_event(case, CaseEvent.Kind.UNASSIGNED, _("%(name)s taken off the case.") % {"name": assignment.attorney}, by)
    case_changed(
        case, by, f"ended assignment of {assignment.attorney} (user {assignment.attorney_id})", ip_address=ip_address
    )


def _send_back_to_triage_if_leaderless(case: Case) -> None:
    has_lead = Assignment.objects.filter(case=case, role=AssignmentRole.LEAD, ended_at__isnull=True).exists()
    if case.status == CaseStatus.ACTIVE and not has_lead:
        case.status = CaseStatus.TRIAGE
        case.needs_reassignment = True
        case.save(update_fields=["status", "needs_reassignment"])


@transaction.atomic
def cases_bulk_reassign(*, from_attorney: User, to_attorneys: Sequence[User], by: User) -> int:
    """Move every active assignment of ``from_attorney`` on open cases to ``to_attorneys``.

    Cases are dealt out one by one to whichever target currently has the fewest active
    cases (ties by the order given), skipping a target already on that case; if every target
    is already on it, ``from_attorney`` simply leaves it. All in one transaction: on any error
    nothing changes. Returns the number of cases moved. Side effects: those of
    ``case_assign`` and ``assignment_end`` for each case, including the filing tasks of a new
    lead where the leaver is still attorney of record (EOIR-28, EOIR-27, G-28).
    """
    targets = [t for t in to_attorneys if t.pk != from_attorney.pk]
    if not targets:
        raise ValidationError(_("Choose at least one other attorney to take the cases."))
    for target in targets:
        _check_attorney(target)
    load = dict(
        Assignment.objects.filter(attorney__in=targets, ended_at__isnull=True)
        .exclude(case__status=CaseStatus.CLOSED)
        .values_list("attorney")
        .annotate(n=Count("id"))
    )
    load = {t.pk: load.get(t.pk, 0) for t in targets}
    moving = (
        Assignment.objects.filter(attorney=from_attorney, ended_at__isnull=True)
        .exclude(case__status=CaseStatus.CLOSED)
        .select_related("case")
        .order_by("case__registered_at")
    )
    moved = 0
    for assignment in moving:
        case = assignment.case
        on_case = set(Assignment.objects.filter(case=case, ended_at__isnull=True).values_list("attorney_id", flat=True))
        candidates = sorted((t for t in targets if t.pk not in on_case), key=lambda t: load[t.pk])
        role = AssignmentRole(assignment.role)
        if candidates:
            target = candidates[0]
            assignment_end(assignment=assignment, by=by)
            case_assign(case=Case.objects.get(pk=case.pk), attorney=target, role=role, by=by)
            load[target.pk] += 1
        else:
            assignment_end(assignment=assignment, by=by)
        moved += 1
    return moved


@transaction.atomic
def cases_flag_for_reassignment(*, attorney: User, by: User) -> int:
    """Flag every open case led by ``attorney`` for reassignment (e.g. they are leaving).

    Side effect: ``needs_reassignment`` set, a timeline event per case. Access is not
    changed here (deactivation already stops the person from signing in).
    """
    cases = Case.objects.filter(
        assignments__attorney=attorney, assignments__ended_at__isnull=True, assignments__role=AssignmentRole.LEAD
    ).filter(~Q(status=CaseStatus.CLOSED))
    count = 0
    for case in cases:
        case.needs_reassignment = True
        case.save(update_fields=["needs_reassignment"])
        case_event(case, CaseEvent.Kind.STATUS, _("Flagged for reassignment: the lead attorney left."), by)
        count += 1
    return count
