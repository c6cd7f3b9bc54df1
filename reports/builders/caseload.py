"""Caseload statistics: counts only, with small cells suppressed so nobody can be singled out.

Suppression (the standard primary + complementary cell suppression of statistical agencies):

* **Primary**: every count from 1 to 4 is shown as ``<5``. Zeros are shown (an empty
  category singles nobody out).
* **Complementary**: each group (one table with a total) is audited as a reader would attack
  it: knowing the total, every shown cell, that a ``<5`` cell is 1 to 4 and that a ``*`` cell is at
  least 5. If any ``<5`` cell could then be worked out exactly — typically because it is the
  only one hidden, so total minus the rest gives it away — the smallest other non-zero cell is
  hidden as well (``*``), and the audit runs again until no suppressed cell can be pinned down.
* If the group runs out of cells to hide, its total is hidden too (``*``). A total from 1 to 4
  is itself shown as ``<5``.
* Median and mean times are shown only when at least 5 cases contribute.

Counts by status, custody, court and relief describe the cases open at any time in the period,
as they stand when the report is produced. Nothing here reads a detainee's record.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from casework.models import (
    Case,
    CaseStatus,
    Custodian,
    Decision,
    DecisionOutcome,
    DetentionAuthority,
    Hearing,
    ReleaseBasis,
    Relief,
    ReliefKind,
    ReliefStatus,
)
from reports.builders.period import Period, Progress
from reports.data import Column, ReportData, Section

THRESHOLD = 5
SMALL = "<5"
HIDDEN = "*"


def _pinned_down(hidden_sum: int, primaries: int, secondaries: int) -> bool:
    """Could a reader work out one ``<5`` cell exactly from the sum of the hidden cells?

    Each of the other primaries is 1 to 4, each secondary is 5 or more (no upper bound), so one
    primary lies in [max(1, sum - others' maximum), min(4, sum - others' minimum)].
    """
    others_min = (primaries - 1) + THRESHOLD * secondaries
    low = 1 if secondaries else max(1, hidden_sum - (THRESHOLD - 1) * (primaries - 1))
    high = min(THRESHOLD - 1, hidden_sum - others_min)
    return high <= low


def suppress(counts: list[int]) -> tuple[list[str], str]:
    """Display values for one group's cells and its total (see the module docstring)."""
    total = sum(counts)
    primary = {i for i, count in enumerate(counts) if 0 < count < THRESHOLD}
    secondary: set[int] = set()
    total_shown = str(total)
    if 0 < total < THRESHOLD:
        total_shown = SMALL  # every non-zero cell is then below 5 as well
    else:
        while primary and _pinned_down(sum(counts[i] for i in primary | secondary), len(primary), len(secondary)):
            candidates = [i for i, count in enumerate(counts) if count > 0 and i not in primary | secondary]
            if not candidates:
                total_shown = HIDDEN
                break
            secondary.add(min(candidates, key=lambda i: (counts[i], i)))
    cells = [SMALL if i in primary else HIDDEN if i in secondary else str(count) for i, count in enumerate(counts)]
    return cells, total_shown


def small(count: int) -> str:
    """One count on its own (not part of a group with a total)."""
    return SMALL if 0 < count < THRESHOLD else str(count)


def _group_section(title: str, unit: str, categories: Iterable[tuple[str, int]]) -> Section:
    categories = list(categories)
    cells, total = suppress([count for _label, count in categories])
    columns = [Column("category", _("Category")), Column("count", unit)]
    rows = [{"category": label, "count": cell} for (label, _count), cell in zip(categories, cells, strict=True)]
    return Section(title=title, columns=columns, rows=rows, totals={"count": total})


def _counts(queryset, field: str) -> dict:
    return {row[field]: row["n"] for row in queryset.values(field).annotate(n=Count("id")).order_by()}


def _choices(counts: dict, choices) -> list[tuple[str, int]]:
    return [(str(label), counts.get(value, 0)) for value, label in choices]


# Upper bound (exclusive) of each bucket, in whole days elapsed; the last is open-ended.
BUCKET_BOUNDS = [1, 4, 8, 31, None]


def _bucket_labels() -> list[str]:
    return [_("less than 1 day"), _("1 to 3 days"), _("4 to 7 days"), _("8 to 30 days"), _("more than 30 days")]


def _time_to_assignment(period: Period) -> tuple[Section, Section]:
    registered = Case.objects.filter(registered_at__gte=period.start, registered_at__lt=period.end)
    days = [
        (assigned - registered_at) / timedelta(days=1)
        for registered_at, assigned in registered.filter(first_assigned_at__lt=period.end).values_list(
            "registered_at", "first_assigned_at"
        )
        if assigned is not None  # always true: the query filters on it
    ]
    not_assigned = registered.count() - len(days)
    bucket_counts = [0] * len(BUCKET_BOUNDS)
    for elapsed in days:
        whole = int(max(elapsed, 0))
        index = next(i for i, bound in enumerate(BUCKET_BOUNDS) if bound is None or whole < bound)
        bucket_counts[index] += 1
    buckets = _group_section(
        _("Time from intake to first assignment (cases registered in the period)"),
        _("Cases"),
        [
            *zip(_bucket_labels(), bucket_counts, strict=True),
            (_("not assigned by the end of the period"), not_assigned),
        ],
    )
    enough = len(days) >= THRESHOLD
    summary = Section(
        title=_("Time from intake to first assignment: summary"),
        columns=[Column("measure", _("Measure")), Column("value", _("Days"))],
        rows=[
            {"measure": _("Cases assigned"), "value": small(len(days))},
            {"measure": _("Median (days)"), "value": f"{statistics.median(days):.1f}" if enough else HIDDEN},
            {"measure": _("Mean (days)"), "value": f"{statistics.fmean(days):.1f}" if enough else HIDDEN},
        ],
    )
    return buckets, summary


def build_caseload(period: Period, progress: Progress) -> ReportData:
    open_in_period = Case.objects.filter(registered_at__lt=period.end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=period.start)
    )
    hearings = Hearing.objects.filter(starts_at__gte=period.start, starts_at__lt=period.end)
    decisions = Decision.objects.filter(decided_on__gte=period.date_from, decided_on__lte=period.date_to)
    overview = Section(
        title=_("Overview"),
        columns=[Column("measure", _("Measure")), Column("count", _("Count"))],
        rows=[
            {"measure": _("Cases open at any time in the period"), "count": small(open_in_period.count())},
            {
                "measure": _("Cases registered in the period"),
                "count": small(
                    Case.objects.filter(registered_at__gte=period.start, registered_at__lt=period.end).count()
                ),
            },
            {
                "measure": _("Cases closed in the period"),
                "count": small(Case.objects.filter(closed_at__gte=period.start, closed_at__lt=period.end).count()),
            },
            {"measure": _("Hearings in the period"), "count": small(hearings.count())},
        ],
    )
    progress(15)
    cases = _("Cases")
    sections = [
        overview,
        _group_section(_("Cases by status"), cases, _choices(_counts(open_in_period, "status"), CaseStatus.choices)),
        _group_section(
            _("Cases by custody (who holds the person)"),
            cases,
            _choices(_counts(open_in_period, "custodian"), Custodian.choices),
        ),
        _group_section(
            _("Released cases, by basis of release"),
            cases,
            _choices(
                _counts(open_in_period.filter(custodian=Custodian.RELEASED), "release_basis"),
                [c for c in ReleaseBasis.choices if c[0]],
            ),
        ),
        _group_section(
            _("Cases by detention authority"),
            cases,
            _choices(_counts(open_in_period, "detention_authority"), DetentionAuthority.choices),
        ),
    ]
    by_court = _counts(open_in_period, "court__name")
    sections.append(
        _group_section(
            _("Cases by immigration court"),
            cases,
            [(name, by_court[name]) for name in sorted(n for n in by_court if n)]
            + ([(_("No court yet"), by_court[None])] if by_court.get(None) else []),
        )
    )
    progress(40)
    relief = Relief.objects.filter(case__in=open_in_period)
    forms = _("Forms of relief")
    sections += [
        _group_section(
            _("Relief sought, by kind (a case may seek several)"),
            forms,
            _choices(_counts(relief, "kind"), ReliefKind.choices),
        ),
        _group_section(_("Relief sought, by status"), forms, _choices(_counts(relief, "status"), ReliefStatus.choices)),
    ]
    progress(60)
    sections.append(
        _group_section(
            _("Decisions in the period, by outcome"),
            _("Decisions"),
            _choices(_counts(decisions, "outcome"), DecisionOutcome.choices),
        )
    )
    progress(75)
    sections += list(_time_to_assignment(period))
    return ReportData(
        kind="caseload",
        title=_("Caseload statistics"),
        parameters=period.parameters(with_fund=False),
        sections=sections,
        notes=[
            _("Counts only: no case and no person can be identified from this report."),
            _(
                "<5: a count from 1 to 4, hidden. *: hidden as well, so that a small count cannot be "
                "worked out from the total and the other counts (complementary suppression)."
            ),
            _("Median and mean are shown only when at least 5 cases contribute."),
            _(
                "Status, custody, court and relief describe the cases open at any time in the period, "
                "as they stand today."
            ),
        ],
    )
