from __future__ import annotations

from urllib.parse import urlencode

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
from casework.models import Assignment, Case
from casework.permissions import case_view
from casework.views._common import refused
from casework.views.search import (
    SEARCH_TOKEN_PARAMETER,
    search_recall,
    search_remember,
    see_other,
    without_search_words,
)
from kernel.client_ip import client_ip
from kernel.forms import add_validation_errors


@role_required(Role.SUPERVISOR)
@require_GET
def triage(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.triage_queue(), 50).get_page(request.GET.get("page"))
    return render(request, "casework/triage.html", {"page": page})


@case_view("change", methods=("GET", "POST"), roles=(Role.SUPERVISOR,))
def case_assign(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    form = AssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_assign(
                case=case,
                attorney=form.cleaned_data["attorney"],
                role=form.cleaned_data["role"],
                by=request.user,
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s assigned to %(number)s.") % {"name": form.cleaned_data["attorney"], "number": case.number},
            )
            if request.POST.get("next") == "triage":
                return redirect("casework:triage")
            return redirect("casework:case-detail", number=case.number)
    status = 400 if request.method == "POST" else 200
    context = {
        "case": case,
        "form": form,
        "active": case.assignments.filter(ended_at__isnull=True).select_related("attorney"),
    }
    return render(request, "casework/assign.html", context, status=status)


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
    return render(request, "casework/workload.html", {"rows": selectors.workload()})


@role_required(Role.SUPERVISOR)
def bulk_reassign(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = BulkReassignForm(request.POST or None, initial={"from_attorney": request.GET.get("from")})
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.cases_bulk_reassign(
                from_attorney=form.cleaned_data["from_attorney"],
                to_attorneys=list(form.cleaned_data["to_attorneys"]),
                by=request.user,
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("%(count)s case(s) moved.") % {"count": moved})
            return redirect("casework:workload")
    status = 400 if request.method == "POST" else 200
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
        return render(request, "casework/search.html", {"form": form, "results": None}, status=400)
    if (redirect_without := without_search_words(request)) is not None:
        return redirect_without
    token = request.GET.get(SEARCH_TOKEN_PARAMETER, "")
    words = search_recall(request, token)
    results = selectors.case_list(request.user, q=words, sort="-registered_at")[:50] if words else None
    context = {"form": SearchForm(initial={"q": words or ""}), "results": results, "expired": bool(token) and not words}
    return render(request, "casework/search.html", context)
