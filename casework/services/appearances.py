"""Appearances of record before the immigration court, the Board and DHS, and the filings a new lead owes.

A new lead inside the fund is not counsel of record anywhere until they file: Form EOIR-28 with the
immigration court (8 CFR 1003.17; with a motion to substitute counsel, and until it is granted the
prior attorney stays of record, EOIR Policy Manual Part I, 5.4(a)), Form EOIR-27 with the Board
(8 CFR 1003.38(g), 1292.4(a)), Form G-28 with DHS (8 CFR 292.4(a)). So when the lead changes, each
forum where the leaver is still of record gets a filing task, due the next business day.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role, user_role
from casework.deadlines import Rule, next_business_day
from casework.models import (
    Appearance,
    AppearanceForum,
    Assignment,
    Case,
    CaseEvent,
    Deadline,
    DeadlineStatus,
)
from casework.services.history import case_changed, case_event
from kernel.clock import local_date


def filing_task_title(forum: AppearanceForum, attorney: User) -> str:
    """What the new lead must file, in the active language."""
    words = {"name": attorney.full_name or attorney.email}
    if forum == AppearanceForum.COURT:
        return _("File Form EOIR-28 for %(name)s with the immigration court") % words
    if forum == AppearanceForum.BIA:
        return _("File Form EOIR-27 for %(name)s with the BIA") % words
    return _("File Form G-28 for %(name)s with DHS") % words


def _filing_task_explanation(forum: AppearanceForum, leaver: User) -> str:
    words = {"name": leaver.full_name or leaver.email}
    if forum == AppearanceForum.COURT:
        return (
            _(
                "%(name)s is still attorney of record with the immigration court. A new attorney files Form EOIR-28 "
                "with a motion to substitute counsel; until it is granted the prior attorney remains of record "
                "(8 CFR 1003.17; EOIR Policy Manual, Part I, 5.4(a)). Set for the next business day."
            )
            % words
        )
    if forum == AppearanceForum.BIA:
        return (
            _(
                "%(name)s is still attorney of record with the BIA. A new attorney files Form EOIR-27 "
                "(8 CFR 1003.38(g), 1292.4(a)). Set for the next business day."
            )
            % words
        )
    return (
        _(
            "%(name)s is still attorney of record with DHS. A new attorney files Form G-28 (8 CFR 292.4(a)). "
            "Set for the next business day."
        )
        % words
    )


def appearance_tasks_for_new_lead(*, case: Case, lead: User, by: User) -> list[Deadline]:
    """Filing tasks for ``lead`` in each forum where someone no longer on the case is still of record.

    Call inside the transaction that assigns ``lead``. An attorney still on the case in another role
    stays of record without a task; a forum that already has its task is left alone. Side effects:
    a manual deadline per forum, due the next business day after today, with its reason; the
    appearance remembers its task (recording the new appearance completes it); timeline events.
    """
    today = local_date(timezone.now())
    on_case = set(Assignment.objects.filter(case=case, ended_at__isnull=True).values_list("attorney_id", flat=True))
    tasks: list[Deadline] = []
    current = Appearance.objects.select_for_update().filter(case=case, ended_on__isnull=True).select_related("attorney")
    for appearance in current:
        if appearance.attorney_id == lead.pk or appearance.attorney_id in on_case:
            continue
        if (
            appearance.replacement_task_id is not None
            and Deadline.objects.filter(pk=appearance.replacement_task_id, status=DeadlineStatus.OPEN).exists()
        ):
            continue
        forum = AppearanceForum(appearance.forum)
        task = Deadline.objects.create(
            case=case,
            title=filing_task_title(forum, lead),
            due_on=next_business_day(today + timedelta(days=1)),
            rule=Rule.MANUAL,
            explanation=_filing_task_explanation(forum, appearance.attorney),
            created_by=by,
        )
        appearance.replacement_task = task
        appearance.save(update_fields=["replacement_task"])
        case_event(
            case,
            CaseEvent.Kind.DEADLINE,
            _("Deadline added: %(title)s, due %(due)s") % {"title": task.title, "due": task.due_on.isoformat()},
            by,
        )
        tasks.append(task)
    return tasks


@transaction.atomic
def appearance_record(
    *,
    case: Case,
    attorney: User,
    forum: AppearanceForum,
    filed_on: date,
    by: User,
    ip_address: str | None = None,
) -> Appearance:
    """Record that ``attorney`` filed a notice of appearance before ``forum`` on ``filed_on``.

    Refused (``ValidationError`` by field) for someone who is not an attorney or supervisor, a date
    in the future, a date before the current appearance there began, or the attorney already of
    record there. Side effects: the current appearance in that forum ends on ``filed_on`` and its
    open filing task is marked done; timeline; ``AccessEvent``.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    forum = AppearanceForum(forum)
    if user_role(attorney) not in (Role.ATTORNEY, Role.SUPERVISOR):
        raise ValidationError({"attorney": _("Only an attorney can be of record.")})
    if filed_on > local_date(timezone.now()):
        raise ValidationError({"filed_on": _("Record an appearance once it has been filed.")})
    current = Appearance.objects.select_for_update().filter(case=case, forum=forum, ended_on__isnull=True).first()
    if current is not None:
        if current.attorney_id == attorney.pk:
            raise ValidationError({"attorney": _("%(name)s is already of record there.") % {"name": attorney}})
        if filed_on < current.filed_on:
            raise ValidationError(
                {
                    "filed_on": _("The current appearance there was filed on %(date)s; a new one comes after it.")
                    % {"date": current.filed_on.isoformat()}
                }
            )
        current.ended_on = filed_on
        current.save(update_fields=["ended_on"])
        task = current.replacement_task
        if task is not None and task.is_open:
            task.status, task.completed_at, task.completed_by = DeadlineStatus.DONE, timezone.now(), by
            task.save(update_fields=["status", "completed_at", "completed_by"])
            case_event(case, CaseEvent.Kind.DEADLINE, _("Deadline %(title)s: done") % {"title": task.title}, by)
    appearance = Appearance.objects.create(case=case, attorney=attorney, forum=forum, filed_on=filed_on, recorded_by=by)
    case_event(
        case,
        CaseEvent.Kind.ASSIGNED,
        _("%(name)s of record: %(forum)s, filed %(date)s")
        % {"name": attorney, "forum": forum.label, "date": filed_on.isoformat()},
        by,
    )
    case_changed(case, by, f"appearance {forum} by user {attorney.pk}", ip_address=ip_address)
    return appearance
