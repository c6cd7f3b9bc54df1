"""Deadlines: from a rule (with how the date was computed) or entered by hand; done, waived, reopened."""

from __future__ import annotations

from datetime import date
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casework.deadlines import Forum, Rule, Service, compute_deadline, default_title
from casework.models import (
    Case,
    CaseEvent,
    Deadline,
    DeadlineStatus,
    Hearing,
)
from casework.services.history import case_changed, case_event


class RuleOptions(TypedDict, total=False):
    """Options of ``compute_deadline`` some rules need (see there); a rule refuses the others."""

    service: Service
    forum: Forum
    hearing_kind: str
    days: int
    detained: bool


@transaction.atomic
def deadline_add_from_rule(
    *,
    case: Case,
    rule: Rule,
    source_date: date,
    by: User,
    title: str = "",
    hearing: Hearing | None = None,
    ip_address: str | None = None,
    **options: Unpack[RuleOptions],
) -> Deadline:
    """Add a deadline computed by ``rule`` from ``source_date``; the rule's explanation is kept.

    Raises ValueError (with a message for the user) when the rule cannot be computed with these
    options, and ``ValidationError`` for the asylum year of an unaccompanied child. Side effects: timeline; ``AccessEvent``.
    """
    if Rule(rule) == Rule.ASYLUM_ONE_YEAR and not case.asylum_one_year_applies:
        raise ValidationError(
            {"rule": _("The one-year deadline does not apply to an unaccompanied child (INA 208(a)(2)(E)).")}
        )
    if Rule(rule) in {Rule.BIA_BRIEF, Rule.PREHEARING_FILING}:
        # Detained cases brief simultaneously, and their pre-hearing deadlines are the judge's to set.
        options["detained"] = case.is_detained
    computed = compute_deadline(Rule(rule), source_date, **options)
    deadline = Deadline.objects.create(
        case=case,
        title=title.strip() or default_title(Rule(rule), forum=options.get("forum", Forum.IJ)),
        due_on=computed.due,
        rule=rule,
        source_date=source_date,
        explanation=computed.explanation,
        hearing=hearing,
        created_by=by,
    )
    case_event(
        case, CaseEvent.Kind.DEADLINE, _("Deadline added: %(title)s, due %(due)s") % _deadline_words(deadline), by
    )
    case_changed(case, by, f"deadline {deadline.pk} added", ip_address=ip_address)
    return deadline


def _deadline_words(deadline: Deadline) -> dict[str, str]:
    return {"title": deadline.title, "due": deadline.due_on.isoformat()}


@transaction.atomic
def deadline_add_manual(*, case: Case, title: str, due_on: date, by: User, ip_address: str | None = None) -> Deadline:
    """Add a deadline set by hand. Side effects: timeline; ``AccessEvent``."""
    deadline = Deadline.objects.create(case=case, title=title.strip(), due_on=due_on, rule=Rule.MANUAL, created_by=by)
    case_event(
        case, CaseEvent.Kind.DEADLINE, _("Deadline added: %(title)s, due %(due)s") % _deadline_words(deadline), by
    )
    case_changed(case, by, f"deadline {deadline.pk} added", ip_address=ip_address)
    return deadline


@transaction.atomic
def deadline_update(
    *, deadline: Deadline, title: str, due_on: date, by: User, ip_address: str | None = None
) -> Deadline:
    """Edit a deadline's title or due date. A changed rule-computed date says so in its explanation."""
    deadline = Deadline.objects.select_for_update().get(pk=deadline.pk)
    if due_on != deadline.due_on and deadline.rule != Rule.MANUAL:
        note = _("Due date changed by hand from %(old)s to %(new)s.") % {
            "old": deadline.due_on.isoformat(),
            "new": due_on.isoformat(),
        }
        deadline.explanation = f"{deadline.explanation} {note}".strip()
    deadline.title = title.strip()
    deadline.due_on = due_on
    deadline.save(update_fields=["title", "due_on", "explanation"])
    case_event(
        deadline.case,
        CaseEvent.Kind.DEADLINE,
        _("Deadline edited: %(title)s, due %(due)s") % _deadline_words(deadline),
        by,
    )
    case_changed(deadline.case, by, f"deadline {deadline.pk} edited", ip_address=ip_address)
    return deadline


@transaction.atomic
def deadline_set_status(*, deadline: Deadline, status: DeadlineStatus, by: User, ip_address: str | None = None) -> None:
    """Mark a deadline done or waived, or open it again. Side effects: timeline; ``AccessEvent``."""
    deadline = Deadline.objects.select_for_update().get(pk=deadline.pk)
    if deadline.status == status:
        return
    deadline.status = status
    if status == DeadlineStatus.OPEN:
        deadline.completed_at, deadline.completed_by = None, None
    else:
        deadline.completed_at, deadline.completed_by = timezone.now(), by
    deadline.save(update_fields=["status", "completed_at", "completed_by"])
    case_event(
        deadline.case,
        CaseEvent.Kind.DEADLINE,
        _("Deadline %(title)s: %(status)s") % {"title": deadline.title, "status": DeadlineStatus(status).label},
        by,
    )
    case_changed(deadline.case, by, f"deadline {deadline.pk} {status}", ip_address=ip_address)
