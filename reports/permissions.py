"""Who may read which audit page, request which report, and open which report run.

Pages (everything here is read-only except requesting a report and checking a file):

=====================  =======  =======  ==========
page                   auditor  finance  supervisor
=====================  =======  =======  ==========
funds and balances     yes      yes      yes
ledger                 yes      yes      —
donations              yes      yes      —
disbursements          yes      yes      yes
bonds                  yes      yes      yes
access log             yes      —        —
reports (request/list) yes      yes      yes
verification           yes      yes      yes
=====================  =======  =======  ==========

- Auditors read everything above and write nothing but report requests. Donor e-mail
  addresses and every detainee's personal data stay out of these pages: a case is its number.
- Finance staff already work with money; the ledger and the registers are theirs to read too.
  Who looked at what (the access log) is the auditors' (and administrators', on their own page).
- Supervisors watch what is spent on cases (funds, disbursements, bonds) but have no business
  with donors' names or the access log.
- Intake, attorneys and administrators get 404 on every page here.

Report kinds follow the same lines (a report is a page printed): donation register for
auditors and finance, the access log for auditors only, the rest for all three roles.

Report runs: auditors open and download any run (an audit team shares its evidence); finance
staff and supervisors open and download only the runs they requested themselves. A run someone
may not open is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponseNotAllowed
from django.http.response import HttpResponseBase

from accounts.permissions import AuthenticatedHttpRequest, View
from accounts.roles import Role, user_role
from reports.models import ReportKind, ReportRun

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from accounts.models import User

# (value, label) pairs for a choice field; the labels are lazy translations.
KindChoices = list[tuple[str, "str | StrPromise"]]

READERS = (Role.AUDITOR, Role.FINANCE, Role.SUPERVISOR)
MONEY_READERS = (Role.AUDITOR, Role.FINANCE)
AUDITORS = (Role.AUDITOR,)

PAGE_ROLES: dict[str, tuple[Role, ...]] = {
    "funds": READERS,
    "ledger": MONEY_READERS,
    "donations": MONEY_READERS,
    "disbursements": READERS,
    "bonds": READERS,
    "access-log": AUDITORS,
    "reports": READERS,
    "verify": READERS,
}

REPORT_KIND_ROLES: dict[str, tuple[Role, ...]] = {
    ReportKind.FUND_STATEMENT: READERS,
    ReportKind.DONATION_REGISTER: MONEY_READERS,
    ReportKind.DISBURSEMENT_REGISTER: READERS,
    ReportKind.BOND_REGISTER: READERS,
    ReportKind.ACCESS_LOG: AUDITORS,
    ReportKind.CASELOAD: READERS,
}


def report_kinds_for(user: User) -> KindChoices:
    """The (value, label) report kinds ``user`` may request, in ``ReportKind`` order."""
    role = user_role(user)
    return [(value, label) for value, label in ReportKind.choices if role in REPORT_KIND_ROLES[value]]


def runs_visible_to(user: User) -> QuerySet[ReportRun]:
    """Report runs ``user`` may open, filtered in the database."""
    role = user_role(user)
    runs = ReportRun.objects.select_related("requested_by")
    if role == Role.AUDITOR:
        return runs
    if role in READERS:
        return runs.filter(requested_by=user)
    return runs.none()


def get_run_for_user(user: User, pk: int) -> ReportRun:
    """The run ``pk`` if ``user`` may open it (and download its files); otherwise ``Http404``."""
    try:
        return runs_visible_to(user).get(pk=pk)
    except ReportRun.DoesNotExist as exc:
        raise Http404 from exc


def run_view(methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Decorate a view of one report run: role, then the run (or 404), then the method.

    The run is checked before the method, so someone who may not open a run gets 404 whatever
    they send. The view receives the run instead of its id.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: AuthenticatedHttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if user_role(request.user) not in PAGE_ROLES["reports"]:
                raise Http404
            run = get_run_for_user(request.user, pk)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, run, *args, **kwargs)

        return wrapper

    return decorator
