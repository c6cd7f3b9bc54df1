"""Oversight pages: the legal-demand log, who read a case or what a staff member read, and read alerts.

The log and the read histories are for administrators and supervising attorneys; the alerts for
administrators. Anyone else gets 404. Reading any of these pages is itself in the access log.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import AccessEvent, User
from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.roles import Role, user_role
from accounts.services import access_event_record
from casework import selectors_oversight
from casework.forms_oversight import (
    AlertAcknowledgeForm,
    LegalDemandForm,
    LegalDemandUpdateForm,
    ReadsFilterForm,
    demand_values,
)
from casework.models import LegalDemand, ReadAlert
from casework.selectors_oversight import DEMAND_OBJECT_TYPE
from casework.services import oversight
from casework.views._common import save_stamped
from kernel.client_ip import client_ip
from kernel.forms import add_validation_errors
from kernel.once import ONCE_FIELD, AlreadySubmitted, already_submitted_redirect, submission

OVERSIGHT_ROLES = (Role.ADMIN, Role.SUPERVISOR)
PER_PAGE = 50


def _logged_view(request: AuthenticatedHttpRequest, object_type: str, object_ref: str, detail: str = "") -> None:
    access_event_record(
        user=request.user,
        action=AccessEvent.Action.VIEW,
        object_type=object_type,
        object_ref=object_ref,
        detail=detail,
        ip_address=client_ip(request),
    )


# --- The legal-demand log -------------------------------------------------------------------------


@role_required(*OVERSIGHT_ROLES)
@require_GET
def legal_demand_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors_oversight.legal_demands(), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "casework/oversight/demand_list.html", {"page": page, "today": timezone.localdate()})


@role_required(*OVERSIGHT_ROLES)
@require_http_methods(["GET", "POST"])
def legal_demand_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LegalDemandForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # The key is claimed with the demand: a retried or doubled POST shows the demand it recorded.
            with submission(key=data[ONCE_FIELD], form="casework.legal-demand", user=request.user) as sent:
                demand = oversight.legal_demand_record(
                    received_at=data["received_at"],
                    received_how=data["received_how"],
                    source=data["source"],
                    source_detail=data["source_detail"],
                    kind=data["kind"],
                    asked=data["asked"],
                    respond_by=data["respond_by"],
                    counsel=data["counsel"],
                    cases=data["cases"],
                    by=request.user,
                    ip_address=client_ip(request),
                )
                sent.result_url = reverse("casework:legal-demand-detail", kwargs={"reference": demand.reference})
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=reverse("casework:legal-demand-list"))
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(
                request,
                _("Legal demand %(reference)s recorded. Notify counsel today if you have not.")
                % {"reference": demand.reference},
            )
            return redirect("casework:legal-demand-detail", reference=demand.reference)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "casework/oversight/demand_new.html",
        {"form": form, "title": _("Record a legal demand")},
        status=status,
    )


def _demand_or_404(reference: str) -> LegalDemand:
    demand = selectors_oversight.legal_demand_get(reference)
    if demand is None:
        raise Http404
    return demand


@role_required(*OVERSIGHT_ROLES)
@require_http_methods(["GET", "POST"])
def legal_demand_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """The demand, its cases and attorneys, its history, and the form to record what followed."""
    demand = _demand_or_404(reference)
    form = LegalDemandUpdateForm.for_demand(demand, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = save_stamped(
            form,
            instance=demand,
            values=demand_values,
            save=lambda locked: oversight.legal_demand_update(
                demand=locked,
                status=data["status"],
                counsel=data["counsel"],
                counsel_notified_at=data["counsel_notified_at"],
                response=data["response"],
                produced=data["produced"],
                by=request.user,
                ip_address=client_ip(request),
            ),
        )
        if saved.saved:
            messages.success(request, _("Legal demand %(reference)s updated.") % {"reference": demand.reference})
            return redirect("casework:legal-demand-detail", reference=demand.reference)
        status = saved.status  # 409 someone else's change, 422 a refusal
    elif request.method == "POST":
        status = 422
    _logged_view(request, DEMAND_OBJECT_TYPE, demand.reference)
    history = Paginator(selectors_oversight.legal_demand_history(demand), PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "demand": demand,
        "form": form,
        "cases": selectors_oversight.legal_demand_cases(demand),
        "history": history,
        "opens_cases": user_role(request.user) == Role.SUPERVISOR,
    }
    return render(request, "casework/oversight/demand_detail.html", context, status=status)


# --- Read histories -------------------------------------------------------------------------------


@role_required(*OVERSIGHT_ROLES)
@require_GET
def case_reads(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """Who read case ``number``: when, who, what (view, download, export), newest first."""
    if not selectors_oversight.case_exists(number):
        raise Http404
    form = ReadsFilterForm(request.GET or None)
    _logged_view(request, "case_reads", number)
    events = selectors_oversight.case_reads(number=number, **form.filters())
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "number": number, "title": _("Who read %(number)s") % {"number": number}}
    return render(request, "casework/oversight/reads.html", context, status=422 if form.errors else 200)


@role_required(*OVERSIGHT_ROLES)
@require_GET
def staff_reads(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    """What one staff member read, newest first."""
    member = get_object_or_404(User, pk=user_id)
    form = ReadsFilterForm(request.GET or None)
    _logged_view(request, "staff_reads", member.email)
    events = selectors_oversight.staff_reads(user=member, **form.filters())
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "member": member,
        "title": _("What %(name)s read") % {"name": member},
    }
    return render(request, "casework/oversight/reads.html", context, status=422 if form.errors else 200)


# --- Read alerts ----------------------------------------------------------------------------------


@role_required(Role.ADMIN)
@require_GET
def read_alert_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors_oversight.read_alerts(), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "casework/oversight/alert_list.html", {"page": page, "form": AlertAcknowledgeForm()})


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def read_alert_acknowledge(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(ReadAlert.objects.select_related("user", "acknowledged_by"), pk=pk)
    form = AlertAcknowledgeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            oversight.read_alert_acknowledge(
                alert=alert, note=form.cleaned_data["note"], by=request.user, ip_address=client_ip(request)
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Alert acknowledged."))
            return redirect("casework:read-alert-list")
    status = 422 if request.method == "POST" else 200
    return render(request, "casework/oversight/alert_acknowledge.html", {"alert": alert, "form": form}, status=status)
