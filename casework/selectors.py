"""Reads of casework that views share. Everything is filtered in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypedDict

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework.identity import ANumberError, a_number_index, name_index_keys, normalise_a_number, required_matches
from casework.models import (
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    CaseStatus,
    CustodyPeriod,
    Deadline,
    DeadlineStatus,
    Detainee,
    DetaineeNameKey,
    Document,
    FamilyContact,
    Hearing,
    Note,
    Relief,
)
from casework.permissions import cases_visible_to


def with_lead(cases: QuerySet[Case]) -> QuerySet[Case]:
    lead = Assignment.objects.filter(case=OuterRef("pk"), role=AssignmentRole.LEAD, ended_at__isnull=True)
    return cases.annotate(lead_name=Subquery(lead.values("attorney__full_name")[:1]))


def with_next_hearing(cases: QuerySet[Case], now: datetime | None = None) -> QuerySet[Case]:
    now = now or timezone.now()
    upcoming = Hearing.objects.filter(case=OuterRef("pk"), starts_at__gte=now).order_by("starts_at")
    return cases.annotate(next_hearing_at=Subquery(upcoming.values("starts_at")[:1]))


def case_list(
    user: User,
    *,
    q: str = "",
    status: str = "",
    custody: str = "",
    court: int | None = None,
    sort: str = "-registered_at",
    mine_only: bool = False,
) -> QuerySet[Case]:
    cases = cases_visible_to(user).select_related("detainee", "court", "facility")
    if mine_only:
        cases = cases.filter(assignments__attorney=user, assignments__ended_at__isnull=True).distinct()
    if q:
        cases = cases.filter(pk__in=search_case_ids(q))
    if status:
        cases = cases.filter(status=status)
    if custody:
        cases = cases.filter(custody_status=custody)
    if court:
        cases = cases.filter(court_id=court)
    cases = with_next_hearing(with_lead(cases))
    orderings: dict[str, list[str | OrderBy]] = {
        "number": ["number"],
        "-number": ["-number"],
        "registered_at": ["registered_at"],
        "-registered_at": ["-registered_at"],
        "next_hearing": [F("next_hearing_at").asc(nulls_last=True), "number"],
        "name": ["detainee__family_names", "detainee__given_names"],
    }
    return cases.order_by(*orderings.get(sort, orderings["-registered_at"]))


class CaseIdRow(TypedDict):
    pk: int


class CaseOfAssignmentRow(TypedDict):
    case: int


def search_case_ids(q: str) -> QuerySet[Case, CaseIdRow]:
    """Ids of cases matching a case number, an A-number in any format, or a name."""
    q = q.strip()
    if not q:
        return Case.objects.none().values("pk")
    by_number = Q(number=q)
    try:
        digits = normalise_a_number(q)
    except ANumberError:
        digits = None
    if digits:
        return Case.objects.filter(by_number | Q(detainee__a_number_index=a_number_index(digits))).values("pk")
    keys = name_index_keys(q)
    if not keys:
        return Case.objects.filter(by_number).values("pk")
    matching = (
        DetaineeNameKey.objects.filter(key__in=keys)
        .values("detainee")
        .annotate(hits=Count("key", distinct=True))
        .filter(hits__gte=len(keys))
        .values("detainee")
    )
    return Case.objects.filter(by_number | Q(detainee__in=matching)).values("pk")


@dataclass
class PossibleDuplicate:
    case: Case
    reason: str  # "a_number" or "name_and_birth_date"
    visible: bool


def possible_duplicates(
    user: User, *, a_number: str | None, names: list[str], date_of_birth: date | None
) -> list[PossibleDuplicate]:
    """Existing cases that may be the same person: same A-number, or same birth date and a similar name.

    Matching reads only blind indexes. ``visible`` says whether ``user`` may open the case.
    """
    found: dict[int, str] = {}
    if a_number:
        for detainee_id in Detainee.objects.filter(a_number_index=a_number_index(a_number)).values_list(
            "pk", flat=True
        ):
            found[detainee_id] = "a_number"
    keys = name_index_keys(*names)
    if keys and date_of_birth:
        needed = required_matches(len(keys))
        similar = (
            DetaineeNameKey.objects.filter(key__in=keys, detainee__date_of_birth=date_of_birth)
            .values("detainee")
            .annotate(hits=Count("key", distinct=True))
            .filter(hits__gte=needed)
            .values_list("detainee", flat=True)
        )
        for detainee_id in similar:
            found.setdefault(detainee_id, "name_and_birth_date")
    if not found:
        return []
    visible = set(cases_visible_to(user).filter(detainee__in=found).values_list("pk", flat=True))
    cases = Case.objects.filter(detainee__in=found).select_related("detainee").order_by("-registered_at")
    return [PossibleDuplicate(case=c, reason=found[c.detainee_id], visible=c.pk in visible) for c in cases]


def triage_queue() -> QuerySet[Case]:
    """Cases waiting for an attorney, most urgent first: imminent removal, medical needs,
    minor children, the soonest hearing, then the longest wait."""
    waiting = Q(status__in=[CaseStatus.INTAKE, CaseStatus.TRIAGE]) | Q(
        needs_reassignment=True, status=CaseStatus.ACTIVE
    )
    cases = Case.objects.filter(waiting).select_related("detainee", "court", "facility")
    return with_next_hearing(cases).order_by(
        F("flag_imminent_removal").desc(),
        F("flag_medical").desc(),
        F("flag_minor_children").desc(),
        F("next_hearing_at").asc(nulls_last=True),
        "registered_at",
    )


def attorneys() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name__in=[Role.ATTORNEY, Role.SUPERVISOR]).order_by("full_name")


def workload(today: date | None = None) -> QuerySet[User]:
    """Per attorney: active cases (as lead and in all), hearings in the next 14 days, overdue deadlines."""
    now = timezone.now()
    today = today or timezone.localdate()
    active = Assignment.objects.filter(attorney=OuterRef("pk"), ended_at__isnull=True).exclude(
        case__status=CaseStatus.CLOSED
    )

    def count(qs: QuerySet[Assignment]) -> Coalesce:
        return Coalesce(Subquery(qs.order_by().values("attorney").annotate(n=Count("id")).values("n")[:1]), 0)

    my_cases = Assignment.objects.filter(attorney=OuterRef(OuterRef("pk")), ended_at__isnull=True).values("case")
    hearings = Hearing.objects.filter(case__in=my_cases, starts_at__gte=now, starts_at__lt=now + timedelta(days=14))
    overdue = Deadline.objects.filter(case__in=my_cases, status=DeadlineStatus.OPEN, due_on__lt=today)
    # Leavers who still hold cases stay on the list until their cases are moved.
    holders = (
        Assignment.objects.filter(ended_at__isnull=True).exclude(case__status=CaseStatus.CLOSED).values("attorney")
    )
    people = User.objects.filter(
        Q(is_active=True, groups__name__in=[Role.ATTORNEY, Role.SUPERVISOR]) | Q(pk__in=holders)
    ).distinct()
    return people.order_by("-is_active", "full_name").annotate(
        active_cases=count(active),
        lead_cases=count(active.filter(role=AssignmentRole.LEAD)),
        hearings_14_days=Coalesce(
            Subquery(hearings.order_by().annotate(g=Value(1)).values("g").annotate(n=Count("id")).values("n")[:1]), 0
        ),
        overdue_deadlines=Coalesce(
            Subquery(overdue.order_by().annotate(g=Value(1)).values("g").annotate(n=Count("id")).values("n")[:1]), 0
        ),
    )


def my_case_ids(user: User) -> QuerySet[Assignment, CaseOfAssignmentRow]:
    """The open cases ``user`` is on now (closed cases leave dashboards, feeds and reminders)."""
    return (
        Assignment.objects.filter(attorney=user, ended_at__isnull=True)
        .exclude(case__status=CaseStatus.CLOSED)
        .values("case")
    )


def upcoming_hearings(user: User, *, days: int = 14) -> QuerySet[Hearing]:
    now = timezone.now()
    return (
        Hearing.objects.filter(
            case__in=cases_visible_to(user), starts_at__gte=now, starts_at__lt=now + timedelta(days=days)
        )
        .filter(case__in=my_case_ids(user))
        .select_related("case", "court")
        .order_by("starts_at")
    )


def deadlines_due(user: User, *, days: int = 7) -> QuerySet[Deadline]:
    """Open deadlines on ``user``'s cases that are overdue or due within ``days``."""
    today = timezone.localdate()
    return (
        Deadline.objects.filter(
            case__in=my_case_ids(user), status=DeadlineStatus.OPEN, due_on__lte=today + timedelta(days=days)
        )
        .filter(case__in=cases_visible_to(user))
        .select_related("case")
        .annotate(overdue=ExpressionWrapper(Q(due_on__lt=today), output_field=BooleanField()))
        .order_by("due_on")
    )


def recent_activity(user: User, *, limit: int = 15) -> QuerySet[CaseEvent]:
    return (
        CaseEvent.objects.filter(case__in=my_case_ids(user))
        .filter(case__in=cases_visible_to(user))
        .select_related("case", "actor")
        .order_by("-at", "-id")[:limit]
    )


class CasePage(TypedDict):
    contacts: list[FamilyContact]
    custody: list[CustodyPeriod]
    hearings: list[Hearing]
    deadlines: list[Deadline]
    relief: list[Relief]
    notes: list[Note]
    documents: list[Document]
    assignments: list[Assignment]
    events: list[CaseEvent]


def case_page(case: Case) -> CasePage:
    """Everything the case page shows, in a fixed number of queries."""
    return {
        "contacts": list(case.detainee.contacts.all()),
        "custody": list(case.custody_periods.select_related("facility")),
        "hearings": list(case.hearings.select_related("court").order_by("-starts_at")),
        "deadlines": list(case.deadlines.order_by("status", "due_on")),
        "relief": list(case.relief.all()),
        "notes": list(case.notes.select_related("author")),
        "documents": list(case.documents.select_related("uploaded_by")),
        "assignments": list(case.assignments.select_related("attorney").order_by("-ended_at", "started_at")),
        "events": list(case.events.select_related("actor")[:50]),
    }
