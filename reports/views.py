"""Audit pages (read-only), report runs (request, progress, download) and file verification.

Who sees which page is written down in ``reports.permissions``. Every page here is a GET
except requesting a report and checking a file; neither changes any record of the fund.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import AuthenticatedHttpRequest, role_required
from funds.models import Account, AccountKind, Fund, TransactionKind
from funds.selectors import fund_balances, ledger_check_status
from kernel.client_ip import client_ip
from kernel.once import ONCE_FIELD, AlreadySubmitted, ForeignKey, already_submitted_redirect, submission
from kernel.pagination import keyset_page
from kernel.readlog import logged_read
from kernel.uploads import DOWNLOAD_CSP
from reports import selectors, services
from reports.forms import (
    AccessLogFilterForm,
    BondFilterForm,
    DisbursementFilterForm,
    DonationFilterForm,
    LedgerFilterForm,
    ReportRequestForm,
    VerifyForm,
)
from reports.models import ReportRun
from reports.permissions import PAGE_ROLES, report_kinds_for, run_view, runs_visible_to

PER_PAGE = 50
FILE_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


def _page(request: AuthenticatedHttpRequest, items, per_page: int = PER_PAGE):
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _keyset(request: AuthenticatedHttpRequest, items, ordering: tuple[str, ...], per_page: int = PER_PAGE):
    """A page of ``items`` after (or before) the cursor in the URL: no count, no offset (``kernel.pagination``)."""
    return keyset_page(items, params=request.GET, ordering=ordering, per_page=per_page)


def _filter_status(form) -> int:
    """422 for a filter that was given and is invalid (the page still shows, unfiltered, with the form's errors)."""
    return 422 if form.is_bound and not form.is_valid() else 200


# --- Audit pages ------------------------------------------------------------------------


@role_required(*PAGE_ROLES["funds"])
@require_GET
def funds(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {
        "balances": fund_balances(Fund.objects.all()),
        "accounts": Account.objects.select_related("fund").order_by("fund__sort_order", "fund__name", "kind"),
        "ledger": ledger_check_status(now=timezone.now()),
        "zone": settings.TIME_ZONE,
    }
    return render(request, "reports/funds.html", context)


@role_required(*PAGE_ROLES["ledger"])
@require_GET
def ledger(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LedgerFilterForm(request.GET or None)
    page = _keyset(request, selectors.ledger_transactions(**form.filters()), ("-occurred_at", "-id"))
    # Labels looked up once: ``get_kind_display`` translates every choice on each call (100 postings a page).
    kinds, account_kinds = dict(TransactionKind.choices), dict(AccountKind.choices)
    rows = [
        {
            "t": txn,
            "kind": kinds.get(txn.kind, txn.kind),
            "span": len(postings),
            "postings": [(p, account_kinds.get(p.account.kind, p.account.kind)) for p in postings],
        }
        for txn in page.object_list
        for postings in [list(txn.postings.all())]
    ]
    context = {"form": form, "page": page, "rows": rows}
    return render(request, "reports/ledger.html", context, status=_filter_status(form))


@role_required(*PAGE_ROLES["donations"])
@require_GET
def donations(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = DonationFilterForm(request.GET or None)
    page = _keyset(request, selectors.donations(**form.filters()), ("-created_at", "-id"))
    return render(request, "reports/donations.html", {"form": form, "page": page}, status=_filter_status(form))


@role_required(*PAGE_ROLES["disbursements"])
@require_GET
def disbursements(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = DisbursementFilterForm(request.GET or None)
    page = _keyset(request, selectors.disbursements(**form.filters()), ("-requested_at", "-id"))
    return render(request, "reports/disbursements.html", {"form": form, "page": page}, status=_filter_status(form))


@role_required(*PAGE_ROLES["bonds"])
@require_GET
def bonds(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = BondFilterForm(request.GET or None)
    today = timezone.localdate()
    page = _keyset(request, selectors.bonds(**form.filters()), ("paid_on", "id"))
    rows = [(bond, ((bond.closed_on or today) - bond.paid_on).days) for bond in page.object_list]
    context = {"form": form, "page": page, "rows": rows}
    return render(request, "reports/bonds.html", context, status=_filter_status(form))


@role_required(*PAGE_ROLES["access-log"])
@require_GET
def access_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AccessLogFilterForm(request.GET or None)
    page = _keyset(request, selectors.access_events(**form.filters()), ("-at", "-id"), per_page=100)
    return render(request, "reports/access_log.html", {"form": form, "page": page}, status=_filter_status(form))


# --- Report runs ------------------------------------------------------------------------


@role_required(*PAGE_ROLES["reports"])
@require_GET
def report_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = _keyset(request, runs_visible_to(request.user), ("-requested_at", "-id"))
    return render(request, "reports/report_list.html", {"page": page})


@role_required(*PAGE_ROLES["reports"])
@require_http_methods(["GET", "POST"])
def report_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    kinds = report_kinds_for(request.user)
    if request.method == "POST":
        form = ReportRequestForm(request.POST, kinds=kinds)
        if form.is_valid():
            try:
                with submission(
                    key=form.cleaned_data[ONCE_FIELD], form="reports.report-new", user=request.user
                ) as sent:
                    run = services.report_request(
                        kind=form.cleaned_data["kind"],
                        date_from=form.cleaned_data["date_from"],
                        date_to=form.cleaned_data["date_to"],
                        fund=form.cleaned_data["fund"],
                        by=request.user,
                        legal_demand=form.cleaned_data["legal_demand"],
                    )
                    sent.result_url = reverse("reports:report-detail", kwargs={"pk": run.pk})
            except AlreadySubmitted as done:
                return already_submitted_redirect(request, done, fallback=reverse("reports:report-list"))
            except ForeignKey as refused:
                form.add_error(None, refused)
            except services.ReportRunsLimited as limited:
                form.add_error(None, limited.message)
                response = render(request, "reports/report_new.html", {"form": form}, status=429)
                response["Retry-After"] = str(limited.retry_after)
                return response
            else:
                return redirect("reports:report-detail", pk=run.pk)
        return render(request, "reports/report_new.html", {"form": form}, status=422)
    today = timezone.localdate()
    form = ReportRequestForm(kinds=kinds, initial={"date_from": today.replace(month=1, day=1), "date_to": today})
    return render(request, "reports/report_new.html", {"form": form})


@run_view()
def report_detail(request: AuthenticatedHttpRequest, run: ReportRun) -> HttpResponse:
    return render(request, "reports/report_detail.html", {"run": run})


@run_view()
def report_progress(request: AuthenticatedHttpRequest, run: ReportRun) -> HttpResponse:
    """The run's status fragment, which polls itself (htmx) until the run is finished."""
    return render(request, "reports/partials/run_status.html", {"run": run})


@run_view()
def report_download(request: AuthenticatedHttpRequest, run: ReportRun, file_format: str) -> HttpResponseBase:
    """A run's PDF or CSV, as an attachment. Side effect: an ``AccessEvent`` (download)."""
    if file_format not in FILE_TYPES or run.status != ReportRun.Status.DONE:
        raise Http404
    if run.files_deleted_at:
        context = {"run": run}
        return render(request, "reports/files_deleted.html", context, status=410)
    field_file = run.pdf if file_format == "pdf" else run.csv
    if not field_file:
        raise Http404
    with logged_read():
        services.report_record_download(
            run=run, file_format=file_format, by=request.user, ip_address=client_ip(request)
        )
    parameters = run.parameters
    filename = f"amparo-{run.kind.replace('_', '-')}-{parameters['from']}-{parameters['to']}-run{run.pk}.{file_format}"
    response = FileResponse(
        field_file.open("rb"), as_attachment=True, filename=filename, content_type=FILE_TYPES[file_format]
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


# --- Verification -----------------------------------------------------------------------


def _file_sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


@role_required(*PAGE_ROLES["verify"])
@require_http_methods(["GET", "POST"])
def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Did Amparo produce this file? Answers from the hashes of every run, files kept or not."""
    if request.method != "POST":
        return render(request, "reports/verify.html", {"form": VerifyForm()})
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "reports/verify.html", {"form": form}, status=422)
    upload = form.cleaned_data["file"]
    if upload:
        digest = _file_sha256(upload)
        found = selectors.report_run_by_sha256(digest, files_only=True)
    else:
        digest = form.cleaned_data["sha256"]
        found = selectors.report_run_by_sha256(digest)
    context = {
        "form": VerifyForm(),
        "checked": True,
        "digest": digest,
        "file_name": upload.name if upload else "",
        "run": found[0] if found else None,
        "matched": found[1] if found else "",
    }
    return render(request, "reports/verify.html", context)
