"""Reads for oversight: the legal-demand log, who read what, and the read alerts.

Every page that uses these is for administrators and supervising attorneys only (see
``casework.views.oversight``); none of them returns a detainee's personal data. Cases appear by
number, staff by name and e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Case as Conditional
from django.db.models import Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Length

from accounts.models import AccessEvent, User
from casework.models import OPEN_DEMAND_STATUSES, Assignment, Case, LegalDemand, ReadAlert
from kernel.clock import booking_day_start

# What "reading" is in the access log: opening a record, downloading a file, exporting data.
READ_ACTIONS = (AccessEvent.Action.VIEW, AccessEvent.Action.DOWNLOAD, AccessEvent.Action.EXPORT)
# The access log's object type of a legal demand's rows (its ``object_ref`` is the reference).
DEMAND_OBJECT_TYPE = "legal_demand"
# What an export made to answer a demand says in its access-log row's detail.
FOR_DEMAND = "for legal demand"


def cases_on_legal_hold() -> QuerySet[Case, int]:
    """The ids of every case an open legal demand concerns: nothing about them may be erased."""
    return (
        Case.objects.filter(legal_demands__status__in=OPEN_DEMAND_STATUSES)
        .order_by()
        .values_list("pk", flat=True)
        .distinct()
    )


def legal_demands() -> QuerySet[LegalDemand]:
    """Every demand, open ones first (soonest response due first), then the rest, newest first."""
    return (
        LegalDemand.objects.annotate(
            case_count=Count("cases", distinct=True),
            open_rank=Conditional(
                When(status__in=OPEN_DEMAND_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .select_related("recorded_by")
        .order_by("open_rank", "respond_by", "-received_at", "-id")
    )


def legal_demand_get(reference: str) -> LegalDemand | None:
    """The demand with ``reference`` (``LD-2026-001``), or ``None``."""
    return LegalDemand.objects.select_related("recorded_by").filter(reference=reference.strip().upper()).first()


def last_reference(year: int) -> str | None:
    """The highest reference issued in ``year`` (``LD-2026-1000`` sorts after ``LD-2026-999``)."""
    prefix = f"LD-{year}-"
    return (
        LegalDemand.objects.filter(reference__startswith=prefix)
        .order_by(Length("reference").desc(), "-reference")
        .values_list("reference", flat=True)
        .first()
    )


@dataclass(frozen=True)
class DemandCase:
    """A case a demand concerns, with the attorneys to tell (staff, never the client)."""

    number: str
    attorneys: list[User]
    erased: bool


def legal_demand_cases(demand: LegalDemand) -> list[DemandCase]:
    """The demand's cases by number, each with its current attorneys."""
    current = Assignment.objects.filter(ended_at__isnull=True).select_related("attorney").order_by("started_at")
    cases = demand.cases.order_by("number").prefetch_related(Prefetch("assignments", queryset=current))
    return [
        DemandCase(
            number=case.number,
            attorneys=[assignment.attorney for assignment in case.assignments.all()],
            erased=case.erased_at is not None,
        )
        for case in cases.only("pk", "number", "erased_at")
    ]


def legal_demand_history(demand: LegalDemand) -> QuerySet[AccessEvent]:
    """Who recorded, read and changed the demand, and every export made to answer it; newest first."""
    return (
        AccessEvent.objects.filter(
            Q(object_type=DEMAND_OBJECT_TYPE, object_ref=demand.reference)
            | Q(action=AccessEvent.Action.EXPORT, detail__endswith=f"{FOR_DEMAND} {demand.reference}")
        )
        .select_related("user")
        .order_by("-at", "-id")
    )


def cases_by_number(numbers: Iterable[str]) -> dict[str, Case]:
    """The cases with these public numbers, by number (unknown numbers are simply missing)."""
    return {case.number: case for case in Case.objects.filter(number__in=list(numbers)).only("pk", "number")}


def case_exists(number: str) -> bool:
    return Case.objects.filter(number=number).exists()


def _in_days(events: QuerySet[AccessEvent], date_from: date | None, date_to: date | None) -> QuerySet[AccessEvent]:
    """Events on the fund's local days ``date_from`` to ``date_to``, both included (either may be open)."""
    if date_from is not None:
        events = events.filter(at__gte=booking_day_start(date_from))
    if date_to is not None:
        events = events.filter(at__lt=booking_day_start(date_to + timedelta(days=1)))
    return events


def case_reads(*, number: str, date_from: date | None = None, date_to: date | None = None) -> QuerySet[AccessEvent]:
    """Who read case ``number`` (views of it and its documents, downloads, exports), newest first.

    Payment requests appear in the log as ``<number> #<id>``; they are the case's too.
    """
    events = AccessEvent.objects.filter(
        Q(object_ref=number) | Q(object_ref__startswith=f"{number} #"), action__in=READ_ACTIONS
    )
    return _in_days(events, date_from, date_to).select_related("user").order_by("-at", "-id")


def staff_reads(*, user: User, date_from: date | None = None, date_to: date | None = None) -> QuerySet[AccessEvent]:
    """What ``user`` read (viewed, downloaded, exported), newest first."""
    events = AccessEvent.objects.filter(user=user, action__in=READ_ACTIONS)
    return _in_days(events, date_from, date_to).order_by("-at", "-id")


def read_alerts() -> QuerySet[ReadAlert]:
    """Every alert, those not yet acknowledged first, then newest first."""
    return (
        ReadAlert.objects.annotate(
            open_rank=Conditional(
                When(acknowledged_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .select_related("user", "acknowledged_by")
        .order_by("open_rank", "-raised_at", "-id")
    )
