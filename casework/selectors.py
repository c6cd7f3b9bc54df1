"""Reads of casework that views share. Everything is filtered in the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypedDict

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from casework.deadlines import Rule, compute_deadline
from casework.identity import (
    ANumberError,
    a_number_index,
    date_of_birth_index,
    name_index_keys,
    normalise_a_number,
    required_matches,
)
from casework.models import (
    HELD_BY,
    WAITING,
    Appearance,
    AppearanceForum,
    Assignment,
    AssignmentRole,
    Case,
    CaseEvent,
    CaseStatus,
    CustodyPeriod,
    Deadline,
    DeadlineStatus,
    Decision,
    DecisionOutcome,
    Detainee,
    DetaineeANumberKey,
    DetaineeNameKey,
    Document,
    FamilyContact,
    Hearing,
    Note,
    Relief,
)
from casework.permissions import cases_visible_to
from kernel.clock import local_date
from kernel.pagination import AFTER, InvalidCursor, KeysetPage, decode_values, encode_cursor
from kernel.pagination import query_string as _keyset_query


def with_lead(cases: QuerySet[Case]) -> QuerySet[Case]:
    lead = Assignment.objects.filter(case=OuterRef("pk"), role=AssignmentRole.LEAD, ended_at__isnull=True)
    return cases.annotate(lead_name=Subquery(lead.values("attorney__full_name")[:1]))


def with_next_hearing(cases: QuerySet[Case], now: datetime | None = None) -> QuerySet[Case]:
    """Annotate each case's next hearing: its start (``next_hearing_at``, None if there is none), its
    zone (``next_hearing_zone``: the override or the court's), the court's zone and city
    (``next_hearing_court_zone``, ``next_hearing_court_city``) — what ``{% next_hearing_time %}`` shows."""
    now = now or timezone.now()
    upcoming = (
        Hearing.objects.filter(case=OuterRef("pk"), starts_at__gte=now)
        .order_by("starts_at", "pk")
        .annotate(
            notice_zone=Coalesce(NullIf("timezone_override", Value("")), "court__timezone"),
            # An appointment away from the court has no court: its own zone stands in.
            court_zone=Coalesce("court__timezone", "timezone_override"),
        )
    )
    return cases.annotate(
        next_hearing_at=Subquery(upcoming.values("starts_at")[:1]),
        next_hearing_zone=Subquery(upcoming.values("notice_zone")[:1]),
        next_hearing_court_zone=Subquery(upcoming.values("court_zone")[:1]),
        next_hearing_court_city=Subquery(upcoming.values("court__city")[:1]),
    )


# The detainee's fields the case tables (the case list, "My day") never show: left unread, they are
# not decrypted either (three of the six encrypted values of every row).
CASE_TABLE_DEFERRED = ("detainee__other_names", "detainee__a_number", "detainee__other_a_numbers")


# The custody filter's value for "held by anyone" (ICE, CBP, ORR or a jail on an ICE detainer).
DETAINED = "detained"


def case_list(
    user: User,
    *,
    q: str = "",
    status: str = "",
    custody: str = "",
    authority: str = "",
    court: int | None = None,
    sort: str = "-registered_at",
    visible_ids: list[int] | None = None,
) -> QuerySet[Case]:
    # ``visible_ids``: these cases only, read from ``cases_visible_to(user)`` in this request
    # (``my_open_case_ids``), so not filtered by it twice.
    cases = cases_visible_to(user) if visible_ids is None else Case.objects.filter(pk__in=visible_ids)
    cases = cases.select_related("detainee", "court", "facility")
    if q:
        cases = cases.filter(search_filter(q))
    if status:
        cases = cases.filter(status=status)
    if custody == DETAINED:
        cases = cases.filter(custodian__in=HELD_BY)
    elif custody:
        cases = cases.filter(custodian=custody)
    if authority:
        cases = cases.filter(detention_authority=authority)
    if court:
        cases = cases.filter(court_id=court)
    cases = with_next_hearing(with_lead(cases))
    orderings: dict[str, list[str | OrderBy]] = {
        "number": ["number"],
        "-number": ["-number"],
        "registered_at": ["registered_at"],
        "-registered_at": ["-registered_at"],
        "next_hearing": [F("next_hearing_at").asc(nulls_last=True), "number"],
        # No sorting by name: names are encrypted, and an order-preserving token would leak their order.
    }
    return cases.order_by(*orderings.get(sort, orderings["-registered_at"]))


# The case list's sorts that are columns, as keyset orderings (``kernel.pagination``): each ends
# with a unique field, and an index serves each (``casework_case_registered`` and the number's).
CASE_LIST_KEYSETS: dict[str, tuple[str, ...]] = {
    "-registered_at": ("-registered_at", "-id"),
    "registered_at": ("registered_at", "id"),
    "number": ("number",),
    "-number": ("-number",),
}


def at_most(cases: QuerySet[Case], limit: int) -> bool:
    """Whether ``cases`` are no more than ``limit``, counting no further than ``limit + 1``."""
    return cases.order_by().values("pk")[: limit + 1].count() <= limit


def next_hearing_page(
    cases: QuerySet[Case], *, params: Mapping[str, Any], per_page: int, now: datetime | None = None
) -> KeysetPage[Case]:
    """The page of ``cases`` (``case_list``'s, annotated) that ``params`` asks for, soonest next hearing
    first, then the cases with none by number: a keyset page in two runs, never a sort of all cases.

    The first run walks the upcoming hearings by time (the ``starts_at`` index) and keeps each
    case's first; the second walks the cases with no upcoming hearing by number. The cursor
    (``after``) is the last row's hearing time and id, or ``n`` and its case number. Cases whose
    next hearings start at the same moment come in the order their hearings were scheduled.
    """
    now = now or timezone.now()
    upcoming = Hearing.objects.filter(starts_at__gte=now)
    earlier = upcoming.filter(case=OuterRef("case")).filter(
        Q(starts_at__lt=OuterRef("starts_at")) | Q(starts_at=OuterRef("starts_at"), pk__lt=OuterRef("pk"))
    )
    firsts = upcoming.filter(Exists(cases.filter(pk=OuterRef("case")))).exclude(Exists(earlier))
    cursor = _next_hearing_cursor(str(params.get(AFTER) or ""))
    rows: list[Case] = []
    if cursor is None or cursor[0] == "h":
        if cursor is not None:
            at, pk = cursor[1], cursor[2]
            firsts = firsts.filter(Q(starts_at__gt=at) | Q(starts_at=at, pk__gt=pk), starts_at__gte=at)
        hearings = list(firsts.order_by("starts_at", "pk").values_list("case", "starts_at", "pk")[: per_page + 1])
        found = {case.pk: case for case in cases.filter(pk__in=[h[0] for h in hearings])}
        rows = [found[h[0]] for h in hearings if h[0] in found]
        keys: list[tuple[Any, ...]] = [("h", h[1].isoformat(), h[2]) for h in hearings if h[0] in found]
    if len(rows) <= per_page:
        after_number = cursor[1] if cursor is not None and cursor[0] == "n" else ""
        none_soon = cases.exclude(Exists(upcoming.filter(case=OuterRef("pk")))).order_by("number")
        if after_number:
            none_soon = none_soon.filter(number__gt=after_number)
        more = list(none_soon[: per_page + 1 - len(rows)])
        keys = [*(keys if rows else []), *[("n", case.number) for case in more]]
        rows += more
    page = KeysetPage(
        object_list=rows[:per_page],
        has_next=len(rows) > per_page,
        has_previous=cursor is not None,
        descending=False,
        ordering=("next_hearing",),
    )
    if page.has_next:
        page.next_query = _keyset_query(params, **{AFTER: encode_cursor(list(keys[per_page - 1]))})
    if cursor is not None:
        page.first_query = _keyset_query(params)
    return page


def _next_hearing_cursor(cursor: str) -> tuple[Any, ...] | None:
    """``("h", when, hearing id)`` or ``("n", case number)`` from an ``after`` cursor; None if unreadable."""
    if not cursor:
        return None
    try:
        kind, *values = decode_values(cursor)
        if kind == "h" and len(values) == 2:
            return ("h", datetime.fromisoformat(values[0]), int(values[1]))
        if kind == "n" and len(values) == 1 and isinstance(values[0], str):
            return ("n", values[0])
    except (InvalidCursor, TypeError, ValueError):
        return None
    return None


class CaseIdRow(TypedDict):
    pk: int


class CaseOfAssignmentRow(TypedDict):
    case: int


def search_case_ids(q: str) -> QuerySet[Case, CaseIdRow]:
    """Ids of cases matching a case number, an A-number in any format, or a name (see ``search_filter``)."""
    return Case.objects.filter(search_filter(q)).values("pk")


# A person having every word of a name: one join per word of the query over the name keys, so that
# PostgreSQL starts from the rarest word (its statistics know how common each key is).
_ALL_NAME_KEYS = "SELECT k0.detainee_id FROM casework_detaineenamekey k0{joins} WHERE k0.key = %s"
_ONE_MORE_KEY = " JOIN casework_detaineenamekey k{n} ON k{n}.detainee_id = k0.detainee_id AND k{n}.key = %s"


def search_filter(q: str) -> Q:
    """The cases matching a case number, an A-number in any format, or a name, as a filter on cases.

    Each way in is its own indexed lookup, never one ``OR`` across a join (which no index can
    serve: at a million cases it sorted every case to probe each one). A case number and an
    A-number are exact: their few ids are read first, through unique indexes. A name is a join of
    its words' blind keys (``_ALL_NAME_KEYS``).
    """
    q = q.strip()
    if not q:
        return Q(pk__in=[])
    numbered = list(Case.objects.filter(number=q).values_list("pk", flat=True))
    try:
        digits = normalise_a_number(q)
    except ANumberError:
        digits = None
    if digits:
        key = a_number_index(digits)
        people = [
            *Detainee.objects.filter(a_number_index=key).values_list("pk", flat=True),
            *DetaineeANumberKey.objects.filter(key=key).values_list("detainee", flat=True),
        ]
        return Q(pk__in=numbered) | Q(detainee__in=people)
    keys = name_index_keys(q)
    if not keys:
        return Q(pk__in=numbered)
    joins = "".join(_ONE_MORE_KEY.format(n=n) for n in range(1, len(keys)))
    # The first key goes last in the parameters: the joins' keys come first in the SQL text.
    # Bound parameters only: the text varies by the number of words, never by what they are.
    named = Q(detainee__in=RawSQL(_ALL_NAME_KEYS.format(joins=joins), [*keys[1:], keys[0]]))  # noqa: S611
    return Q(pk__in=numbered) | named if numbered else named


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
        key = a_number_index(a_number)
        others = DetaineeANumberKey.objects.filter(key=key).values("detainee")
        same = Detainee.objects.filter(Q(a_number_index=key) | Q(pk__in=others))
        for detainee_id in same.values_list("pk", flat=True):
            found[detainee_id] = "a_number"
    keys = name_index_keys(*names)
    if keys and date_of_birth:
        needed = required_matches(len(keys))
        born = date_of_birth_index(date_of_birth)
        similar = (
            DetaineeNameKey.objects.filter(key__in=keys, detainee__date_of_birth_index=born)
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
    """Cases waiting for an attorney, most urgent first: a claim to U.S. citizenship, a minor (at
    detention), imminent removal, medical needs, minor children, the soonest hearing, then the
    longest wait."""
    # Read from the partial index casework_case_waiting, which holds these cases in this order.
    cases = Case.objects.filter(WAITING).select_related("detainee", "court", "facility")
    return with_next_hearing(cases).order_by(
        F("citizenship_claimed").desc(),
        F("detained_as_minor").desc(nulls_last=True),
        F("flag_imminent_removal").desc(),
        F("flag_medical").desc(),
        F("flag_minor_children").desc(),
        F("next_hearing_at").asc(nulls_last=True),
        "registered_at",
    )


def attorneys() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name__in=[Role.ATTORNEY, Role.SUPERVISOR]).order_by("full_name")


def workload() -> QuerySet[User]:
    """The workload page's people, each with its ``caseload`` (None until first counted): every
    active attorney and supervisor, and leavers while they still hold open cases; leavers first.

    The counts are read, not computed: ``casework.services.workload`` keeps them.
    """
    in_role = Exists(
        User.groups.through.objects.filter(user=OuterRef("pk"), group__name__in=[Role.ATTORNEY, Role.SUPERVISOR])
    )
    people = User.objects.filter(Q(is_active=True) & in_role | Q(caseload__active_cases__gt=0))
    return people.select_related("caseload").order_by("-is_active", "full_name", "pk")


def my_case_ids(user: User) -> QuerySet[Assignment, CaseOfAssignmentRow]:
    """The open cases ``user`` is on now (closed cases leave dashboards, feeds and reminders)."""
    return (
        Assignment.objects.filter(attorney=user, ended_at__isnull=True)
        .exclude(case__status=CaseStatus.CLOSED)
        .values("case")
    )


def my_open_case_ids(user: User) -> list[int]:
    """The open cases ``user`` is on now and may see, as ids: read once, they make the dashboard's
    other queries plain index lookups (an attorney's few hundred cases among a million)."""
    return list(cases_visible_to(user).filter(pk__in=my_case_ids(user)).values_list("pk", flat=True))


def upcoming_hearings(user: User, *, days: int = 14, mine: list[int] | None = None) -> QuerySet[Hearing]:
    """Hearings in the next ``days`` on ``user``'s open cases (``mine``: their ids, if read already)."""
    now = timezone.now()
    return (
        Hearing.objects.filter(
            case__in=my_open_case_ids(user) if mine is None else mine,
            starts_at__gte=now,
            starts_at__lt=now + timedelta(days=days),
        )
        .select_related("case", "court")
        .order_by("starts_at")
    )


def deadlines_due(user: User, *, days: int = 7, mine: list[int] | None = None) -> QuerySet[Deadline]:
    """Open deadlines on ``user``'s cases that are overdue or due within ``days``."""
    today = timezone.localdate()
    return (
        Deadline.objects.filter(
            case__in=my_open_case_ids(user) if mine is None else mine,
            status=DeadlineStatus.OPEN,
            due_on__lte=today + timedelta(days=days),
        )
        .select_related("case")
        .annotate(overdue=ExpressionWrapper(Q(due_on__lt=today), output_field=BooleanField()))
        .order_by("due_on")
    )


def recent_activity(user: User, *, limit: int = 15, mine: list[int] | None = None) -> QuerySet[CaseEvent]:
    return (
        CaseEvent.objects.filter(case__in=my_open_case_ids(user) if mine is None else mine)
        # The 15 events' cases by their ids afterwards: joined in, PostgreSQL may read every case to
        # merge them with the events instead of looking up each one.
        .select_related("actor")
        .prefetch_related(Prefetch("case", queryset=Case.objects.only("pk", "number")))
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
    decisions: list[Decision]
    automatic_stay: AutomaticStay | None
    appearances: list[AppearanceOfRecord]
    asylum_deadline: Deadline | None


def case_page(case: Case, *, privileged_notes: bool = True) -> CasePage:
    """Everything the case page shows, in a fixed number of queries.

    Without ``privileged_notes`` (intake staff), privileged notes are not even fetched (so never decrypted).
    """
    notes = case.notes.select_related("author")
    if not privileged_notes:
        notes = notes.filter(privileged=False)
    deadlines = list(case.deadlines.order_by("status", "due_on"))
    asylum = [d for d in deadlines if d.rule == Rule.ASYLUM_ONE_YEAR]
    return {
        "asylum_deadline": next((d for d in asylum if d.is_open), asylum[-1] if asylum else None),
        "contacts": list(case.detainee.contacts.all()),
        "custody": list(case.custody_periods.select_related("facility")),
        "hearings": list(case.hearings.select_related("court", "decision").order_by("-starts_at")),
        "deadlines": deadlines,
        "relief": list(case.relief.all()),
        "notes": list(notes),
        "documents": list(case.documents.select_related("uploaded_by")),
        "assignments": list(case.assignments.select_related("attorney").order_by("-ended_at", "started_at")),
        "events": list(case.events.select_related("actor")[:50]),
        "decisions": list(case.decisions.select_related("hearing__court").order_by("-decided_on", "-id")),
        "automatic_stay": automatic_stay(case),
        "appearances": appearances_of_record(case),
    }


@dataclass(frozen=True)
class AppearanceOfRecord:
    """Who is attorney of record before one forum, and whether they are still on the case."""

    forum: AppearanceForum
    appearance: Appearance | None  # None: nobody has filed there
    still_assigned: bool


def appearances_of_record(case: Case) -> list[AppearanceOfRecord]:
    """The current appearance in each forum (court, BIA, DHS), in that order; two queries."""
    current = {
        a.forum: a for a in Appearance.objects.filter(case=case, ended_on__isnull=True).select_related("attorney")
    }
    on_case = set(Assignment.objects.filter(case=case, ended_at__isnull=True).values_list("attorney_id", flat=True))
    return [
        AppearanceOfRecord(
            forum=forum,
            appearance=current.get(forum),
            still_assigned=forum in current and current[forum].attorney_id in on_case,
        )
        for forum in AppearanceForum
    ]


# --- The automatic stay of a bond order --------------------------------------------------


@dataclass(frozen=True)
class AutomaticStay:
    """Whether DHS's automatic stay keeps a bond from being posted, until when, and why."""

    in_effect: bool
    until: date | None
    explanation: str


def automatic_stay_of(decision: Decision, *, today: date | None = None) -> AutomaticStay | None:
    """The automatic stay of ``decision`` on ``today``; None when DHS cannot stay this order at all.

    The stay exists only where DHS had set no bond or a bond of $10,000 or more
    (8 CFR 1003.19(i)(2)). DHS invokes it by filing Form EOIR-43 within one business day of the
    order (8 CFR 1003.6(c)(1)); it lapses unless DHS files its notice of appeal within ten
    business days, and 90 days after that notice unless the Board acts (8 CFR 1003.6(c)(4)).
    Until DHS's first business day has passed the bond must not be posted: the order may yet be
    stayed.
    """
    if not decision.stay_eligible:
        return None
    today = today or local_date(timezone.now())
    notice = compute_deadline(Rule.DHS_STAY_NOTICE, decision.decided_on)
    appeal = compute_deadline(Rule.DHS_STAY_APPEAL, decision.decided_on)
    if decision.stay_ended_on and decision.stay_ended_on <= today:
        return AutomaticStay(
            False,
            None,
            _("The automatic stay ended on %(date)s.") % {"date": decision.stay_ended_on.isoformat()},
        )
    if decision.dhs_stay_filed_on is None:
        if today <= notice.due:
            return AutomaticStay(
                True,
                notice.due,
                _(
                    "DHS may still stay this bond order by filing Form EOIR-43 by %(date)s (8 CFR 1003.6(c)(1)); "
                    "do not post the bond before then."
                )
                % {"date": notice.due.isoformat()},
            )
        return AutomaticStay(
            False,
            None,
            _("DHS did not file Form EOIR-43 by %(date)s: no automatic stay.") % {"date": notice.due.isoformat()},
        )
    if decision.dhs_appeal_filed_on is None:
        if today <= appeal.due:
            return AutomaticStay(
                True,
                appeal.due,
                _(
                    "DHS invoked the automatic stay on %(filed)s (Form EOIR-43). It lapses unless DHS files its "
                    "notice of appeal by %(date)s (8 CFR 1003.19(i)(2)). The bond cannot be posted while it runs."
                )
                % {"filed": decision.dhs_stay_filed_on.isoformat(), "date": appeal.due.isoformat()},
            )
        return AutomaticStay(
            False,
            None,
            _("The automatic stay lapsed: DHS filed no notice of appeal by %(date)s.")
            % {"date": appeal.due.isoformat()},
        )
    lapse = compute_deadline(Rule.DHS_STAY_LAPSE, decision.dhs_appeal_filed_on)
    if today <= lapse.due:
        return AutomaticStay(
            True,
            lapse.due,
            _(
                "DHS appealed on %(filed)s; the automatic stay runs until the Board decides or it lapses on "
                "%(date)s (8 CFR 1003.6(c)(4)). The bond cannot be posted while it runs."
            )
            % {"filed": decision.dhs_appeal_filed_on.isoformat(), "date": lapse.due.isoformat()},
        )
    return AutomaticStay(False, None, _("The automatic stay lapsed on %(date)s.") % {"date": lapse.due.isoformat()})


def automatic_stay(case: Case, *, today: date | None = None) -> AutomaticStay | None:
    """The automatic stay of the case's latest bond grant, if DHS could stay it (see ``automatic_stay_of``)."""
    decision = case.decisions.filter(outcome=DecisionOutcome.BOND_GRANTED).order_by("-decided_on", "-id").first()
    return automatic_stay_of(decision, today=today) if decision is not None else None
