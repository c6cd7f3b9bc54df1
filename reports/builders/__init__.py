"""Build a report's data (``reports.data.ReportData``) for a period: one entry point, one builder per kind.

``build_report(kind, date_from=…, date_to=…, fund=…, progress=…)`` returns the rows both
renderers (CSV, PDF) print. Both dates are inclusive, in ``settings.TIME_ZONE``. Labels and
titles are translated in the active language. No report carries a detainee's personal data:
cases appear by their public number only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from funds.models import Fund
from reports.builders.access_log import build_access_log
from reports.builders.caseload import build_caseload
from reports.builders.period import Period, Progress
from reports.builders.registers import build_bond_register, build_disbursement_register, build_donation_register
from reports.builders.statement import build_fund_statement
from reports.data import ReportData
from reports.models import ReportKind

_FUND_BUILDERS = {
    ReportKind.FUND_STATEMENT: build_fund_statement,
    ReportKind.DONATION_REGISTER: build_donation_register,
    ReportKind.DISBURSEMENT_REGISTER: build_disbursement_register,
    ReportKind.BOND_REGISTER: build_bond_register,
}
# These cover the whole organisation; a fund does not narrow them.
_ORGANISATION_BUILDERS = {
    ReportKind.ACCESS_LOG: build_access_log,
    ReportKind.CASELOAD: build_caseload,
}


def build_report(
    kind: str,
    *,
    date_from: date,
    date_to: date,
    fund: Fund | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReportData:
    """The data of a report of ``kind`` for ``date_from`` to ``date_to`` (inclusive), optionally one fund.

    ``progress`` (optional) is called with 0 to 100 as the work advances, ending with 100.
    Read-only: no side effects. Raises ``ValueError`` for an unknown kind or reversed dates.
    """
    period = Period.of(date_from, date_to)
    tick = Progress(progress)
    tick(0)
    if kind in _FUND_BUILDERS:
        data = _FUND_BUILDERS[ReportKind(kind)](period, fund, tick)
    elif kind in _ORGANISATION_BUILDERS:
        data = _ORGANISATION_BUILDERS[ReportKind(kind)](period, tick)
    else:
        raise ValueError(f"unknown report kind {kind!r}")
    tick(100)
    return data
