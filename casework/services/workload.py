"""Keep ``Caseload`` (each attorney's counts for the workload page) up to date.

Active cases and cases as lead are kept exact by ``caseload_add``: every service that changes who
is on an open case or whether a case is open (assigning, ending an assignment, closing,
reopening) adds or takes one in its own transaction, an ``UPDATE … SET n = n + 1`` on the
attorney's row, so a change costs one small write whatever the attorney's caseload (recounting
instead would read all of it: thousands of rows for a busy attorney). Hearings in the next 14
days and overdue deadlines move with the clock and with every hearing and deadline: the beat
task ``casework.tasks.caseload_recount`` recounts everything every ``WORKLOAD_RECOUNT_MINUTES``,
which also puts right any count that could ever have drifted.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework.models import Assignment, AssignmentRole, Caseload, CaseStatus, Deadline, DeadlineStatus, Hearing

HEARING_DAYS = 14
# Whom the page lists: every active attorney and supervisor, and a leaver while they hold open cases.
CASELOAD_ROLES = (Role.ATTORNEY, Role.SUPERVISOR)


def caseload_add(changes: Iterable[tuple[Assignment, int]]) -> None:
    """Count each ``(assignment, sign)`` into its attorney's caseload (``sign`` 1) or out of it (-1).

    The assignments are on an open case. Side effects: the attorneys' ``Caseload`` rows updated in
    the caller's transaction, in attorney order (two changes touching the same two attorneys never
    wait for each other crosswise); an attorney with no row yet is counted from scratch
    (``caseload_recount``).
    """
    recounted: set[int] = set()  # counted from scratch: their later changes are in that count already
    for assignment, sign in sorted(changes, key=lambda change: change[0].attorney_id):
        if assignment.attorney_id in recounted:
            continue
        lead = sign if assignment.role == AssignmentRole.LEAD else 0
        updated = Caseload.objects.filter(attorney=assignment.attorney_id).update(
            active_cases=Greatest(F("active_cases") + sign, Value(0)),
            lead_cases=Greatest(F("lead_cases") + lead, Value(0)),
        )
        if not updated:
            caseload_recount(attorney_ids=[assignment.attorney_id])
            recounted.add(assignment.attorney_id)


def _by_attorney(rows: Iterable[tuple[int, int]]) -> dict[int, int]:
    return dict(rows)


@transaction.atomic
def caseload_recount(*, attorney_ids: Collection[int] | None = None, now: datetime | None = None) -> int:
    """Recount the caseloads of ``attorney_ids`` (everyone's when None); returns how many rows were written.

    Side effects: ``Caseload`` rows written (one per attorney listed on the workload page) and
    removed for people the page no longer lists (no longer an active attorney or supervisor,
    and holding no open case).
    """
    if attorney_ids is not None and not attorney_ids:
        return 0
    # Lock the rows first, in one order: a recount running beside an assignment change waits for
    # it (or it for the recount), so the later one counts what the earlier one committed.
    locked = Caseload.objects.select_for_update().order_by("pk")
    list((locked if attorney_ids is None else locked.filter(pk__in=attorney_ids)).values_list("pk", flat=True))
    now = now or timezone.now()
    today = timezone.localdate(now)
    scope = Q() if attorney_ids is None else Q(attorney__in=attorney_ids)
    current = Assignment.objects.filter(scope, ended_at__isnull=True).exclude(case__status=CaseStatus.CLOSED)
    active: dict[int, tuple[int, int]] = {
        attorney: (n, lead)
        for attorney, n, lead in current.order_by()
        .values("attorney")
        .annotate(n=Count("id"), lead=Count("id", filter=Q(role=AssignmentRole.LEAD)))
        .values_list("attorney", "n", "lead")
    }
    # A hearing or deadline counts for each attorney now on its (open) case.
    on_case = Q(case__assignments__ended_at__isnull=True) & ~Q(case__status=CaseStatus.CLOSED)
    if attorney_ids is not None:
        on_case &= Q(case__assignments__attorney__in=attorney_ids)
    hearings = _by_attorney(
        Hearing.objects.filter(on_case, starts_at__gte=now, starts_at__lt=now + timedelta(days=HEARING_DAYS))
        .order_by()
        .values("case__assignments__attorney")
        .annotate(n=Count("id"))
        .values_list("case__assignments__attorney", "n")
    )
    overdue = _by_attorney(
        Deadline.objects.filter(on_case, status=DeadlineStatus.OPEN, due_on__lt=today)
        .order_by()
        .values("case__assignments__attorney")
        .annotate(n=Count("id"))
        .values_list("case__assignments__attorney", "n")
    )
    in_role = Exists(User.groups.through.objects.filter(user=OuterRef("pk"), group__name__in=CASELOAD_ROLES))
    listed = User.objects.filter(Q(is_active=True) & in_role | Q(pk__in=list(active)))
    if attorney_ids is not None:
        listed = listed.filter(pk__in=attorney_ids)
    rows = [
        Caseload(
            attorney_id=pk,
            active_cases=active.get(pk, (0, 0))[0],
            lead_cases=active.get(pk, (0, 0))[1],
            hearings_14_days=hearings.get(pk, 0),
            overdue_deadlines=overdue.get(pk, 0),
            counted_at=now,
        )
        for pk in listed.values_list("pk", flat=True)
    ]
    kept = {row.attorney_id for row in rows}
    gone = Caseload.objects.exclude(attorney__in=kept)
    if attorney_ids is not None:
        gone = gone.filter(attorney__in=attorney_ids)
    gone.delete()
    Caseload.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["attorney"],
        update_fields=["active_cases", "lead_cases", "hearings_14_days", "overdue_deadlines", "counted_at"],
    )
    return len(rows)
