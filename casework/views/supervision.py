from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.roles import Role
from casework import selectors, services
from casework.forms import AssignForm, BulkReassignForm, SearchForm
from casework.models import Assignment, AssignmentRole, Case
from casework.permissions import case_view
from casework.views._common import refused, sent_once
from casework.views.search import (
    SEARCH_TOKEN_PARAMETER,
    search_recall,
    search_remember,
    see_other,
    without_search_words,
)
from kernel.client_ip import client_ip
from kernel.concurrency import VERSION_FIELD, EditConflict, save_if_unchanged, show_conflict, versioned
from kernel.forms import add_validation_errors
from kernel.once import ONCE_FIELD, AlreadySubmitted, already_submitted_redirect


@role_required(Role.SUPERVISOR)
@require_GET
def triage(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.triage_queue(), 50).get_page(request.GET.get("page"))
    return render(request, "casework/triage.html", {"page": page})


def _lead_values(case: Case) -> dict[str, Any]:
    """The lead attorney the assignment form shows (and is stamped with)."""
    lead = case.assignments.filter(role=AssignmentRole.LEAD, ended_at__isnull=True).select_related("attorney").first()
    return {"attorney": lead.attorney if lead else None}


@case_view("change", methods=("GET", "POST"), roles=(Role.SUPERVISOR,))
def case_assign(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    """Put an attorney on the case: once per form, and refused (409) if the lead changed since the
    form was opened, so that two supervisors reassigning at once do not replace each other unseen."""
    form = AssignForm(request.POST or None, initial=versioned(_lead_values(case)))
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        after = "triage" if request.POST.get("next") == "triage" else "case"
        result_url = reverse("casework:triage") if after == "triage" else _case_url(case)
        try:
            with sent_once(key=data[ONCE_FIELD], form="casework.assign", user=request.user) as sent:
                save_if_unchanged(
                    instance=case,
                    version=data[VERSION_FIELD],
                    values=_lead_values,
                    save=lambda locked: services.case_assign(
                        case=locked,
                        attorney=data["attorney"],
                        role=data["role"],
                        by=request.user,
                        ip_address=client_ip(request),
                    ),
                )
                sent.result_url = result_url
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=result_url)
        except EditConflict as conflict:
            show_conflict(form, conflict)
            status = 409
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(
                request, _("%(name)s assigned to %(number)s.") % {"name": data["attorney"], "number": case.number}
            )
            return redirect(result_url)
    context = {
        "case": case,
        "form": form,
        "active": case.assignments.filter(ended_at__isnull=True).select_related("attorney"),
    }
    return render(request, "casework/assign.html", context, status=status)


def _case_url(case: Case) -> str:
    return reverse("casework:case-detail", kwargs={"number": case.number})


@case_view("change", methods=("POST",), roles=(Role.SUPERVISOR,))
def assignment_end(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    try:
        assignment = case.assignments.select_related("attorney").get(pk=pk)
    except Assignment.DoesNotExist as exc:
        raise Http404 from exc
    try:
        services.assignment_end(assignment=assignment, by=request.user, ip_address=client_ip(request))
    except ValidationError as exc:
        return refused(request, case, exc)
    messages.success(request, _("%(name)s is off the case.") % {"name": assignment.attorney})
    return redirect("casework:case-detail", number=case.number)


@role_required(Role.SUPERVISOR)
@require_GET
def workload(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each attorney's counts, as ``casework.services.workload`` keeps them, a hundred to a page."""
    page = Paginator(selectors.workload(), WORKLOAD_PER_PAGE).get_page(request.GET.get("page"))
    counted = [row.caseload.counted_at for row in page.object_list if getattr(row, "caseload", None)]
    context = {
        "page": page,
        "rows": page.object_list,
        "counted_at": min(counted, default=None),
        "recount_minutes": settings.WORKLOAD_RECOUNT_MINUTES,
    }
    return render(request, "casework/workload.html", context)


WORKLOAD_PER_PAGE = 100


@role_required(Role.SUPERVISOR)
def bulk_reassign(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = BulkReassignForm(request.POST or None, initial={"from_attorney": request.GET.get("from")})
    if request.method == "POST" and form.is_valid():
        result_url = reverse("casework:workload")
        try:
            with sent_once(key=form.cleaned_data[ONCE_FIELD], form="casework.bulk-reassign", user=request.user) as sent:
                moved = services.cases_bulk_reassign(
                    from_attorney=form.cleaned_data["from_attorney"],
                    to_attorneys=list(form.cleaned_data["to_attorneys"]),
                    by=request.user,
                )
                sent.result_url = result_url
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=result_url)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("%(count)s case(s) moved.") % {"count": moved})
            return redirect(result_url)
    status = 422 if request.method == "POST" else 200
    return render(request, "casework/bulk_reassign.html", {"form": form}, status=status)


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
def search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Find any case by number, A-number or name. The words are POSTed and come back as ``?s=<token>``."""
    if request.method == "POST":
        form = SearchForm(request.POST)
        if form.is_valid():
            token = search_remember(request, form.cleaned_data["q"])
            return see_other(f"{reverse('casework:search')}?{urlencode({SEARCH_TOKEN_PARAMETER: token})}")
        return render(request, "casework/search.html", {"form": form, "results": None}, status=422)
    if (redirect_without := without_search_words(request)) is not None:
        return redirect_without
    token = request.GET.get(SEARCH_TOKEN_PARAMETER, "")
    words = search_recall(request, token)
    results = selectors.case_list(request.user, q=words, sort="-registered_at")[:50] if words else None
    context = {"form": SearchForm(initial={"q": words or ""}), "results": results, "expired": bool(token) and not words}
    return render(request, "casework/search.html", context)
