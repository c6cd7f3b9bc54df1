from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import AuthenticatedHttpRequest
from casework import services
from casework.forms import (
    DeadlineEditForm,
    DeadlineManualForm,
    DeadlineRuleForm,
    DeadlineStatusForm,
    HearingForm,
    HearingOutcomeForm,
)
from casework.models import Case, Deadline, Hearing
from casework.permissions import case_view
from casework.views._common import refused
from kernel.client_ip import client_ip
from kernel.forms import add_validation_errors


def _case_url(case: Case, anchor: str) -> str:
    return reverse("casework:case-detail", kwargs={"number": case.number}) + anchor


@case_view("change", methods=("GET", "POST"))
def hearing_new(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    form = HearingForm(request.POST or None, initial={"court": case.court_id})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.hearing_schedule(
                case=case,
                kind=data["kind"],
                starts_at=data["starts_at"],
                court=data["court"],
                judge=data["judge"],
                medium=data["medium"],
                interpreter_language=data["interpreter_language"],
                by=request.user,
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Hearing added."))
            return redirect(_case_url(case, "#hearings"))
    status = 400 if request.method == "POST" else 200
    return render(request, "casework/hearing_form.html", {"case": case, "form": form}, status=status)


@case_view("change", methods=("GET", "POST"))
def hearing_edit(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    try:
        hearing = case.hearings.select_related("court").get(pk=pk)
    except Hearing.DoesNotExist as exc:
        raise Http404 from exc
    local = hearing.local_start
    initial = {
        "kind": hearing.kind,
        "court": hearing.court_id,
        "date": local.date(),
        "time": local.time().replace(second=0, microsecond=0),
        "judge": hearing.judge,
        "medium": hearing.medium,
        "interpreter_language": hearing.interpreter_language,
        "outcome": hearing.outcome,
        "outcome_note": hearing.outcome_note,
    }
    form = HearingForm(request.POST or None, initial=initial)
    outcome_form = HearingOutcomeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and outcome_form.is_valid():
        data = {**form.cleaned_data, **outcome_form.cleaned_data}
        data.pop("date"), data.pop("time")
        try:
            deadline = services.hearing_update(hearing=hearing, by=request.user, ip_address=client_ip(request), **data)
        except ValidationError as exc:
            about_outcome = "outcome" in getattr(exc, "error_dict", {})
            add_validation_errors(outcome_form if about_outcome else form, exc)
        else:
            messages.success(request, _("Hearing saved."))
            if deadline is not None:
                messages.info(
                    request,
                    _("Deadline added: %(title)s, due %(due)s.") % {"title": deadline.title, "due": deadline.due_on},
                )
            return redirect(_case_url(case, "#hearings"))
    status = 400 if request.method == "POST" else 200
    context = {"case": case, "form": form, "outcome_form": outcome_form, "hearing": hearing}
    return render(request, "casework/hearing_form.html", context, status=status)


@case_view("change", methods=("GET", "POST"))
def deadline_new(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    kind = request.POST.get("kind") or request.GET.get("kind") or "rule"
    rule_form = DeadlineRuleForm(request.POST if kind == "rule" else None, prefix="rule")
    manual_form = DeadlineManualForm(request.POST if kind == "manual" else None, prefix="manual")
    if request.method == "POST":
        form = rule_form if kind == "rule" else manual_form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if kind == "rule":
                    deadline = services.deadline_add_from_rule(
                        case=case,
                        rule=data["rule"],
                        source_date=data["source_date"],
                        title=data["title"],
                        by=request.user,
                        ip_address=client_ip(request),
                    )
                else:
                    deadline = services.deadline_add_manual(
                        case=case,
                        title=data["title"],
                        due_on=data["due_on"],
                        by=request.user,
                        ip_address=client_ip(request),
                    )
            except (ValidationError, ValueError) as exc:
                form.add_error(None, str(exc) if isinstance(exc, ValueError) else exc)
            else:
                messages.success(
                    request,
                    _("Deadline added: %(title)s, due %(due)s.") % {"title": deadline.title, "due": deadline.due_on},
                )
                return redirect(_case_url(case, "#deadlines"))
    status = 400 if request.method == "POST" else 200
    context = {"case": case, "rule_form": rule_form, "manual_form": manual_form, "today": timezone.localdate()}
    return render(request, "casework/deadline_form.html", context, status=status)


def _deadline(case: Case, pk: int) -> Deadline:
    try:
        return case.deadlines.get(pk=pk)
    except Deadline.DoesNotExist as exc:
        raise Http404 from exc


@case_view("change", methods=("GET", "POST"))
def deadline_edit(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    deadline = _deadline(case, pk)
    form = DeadlineEditForm(request.POST or None, initial={"title": deadline.title, "due_on": deadline.due_on})
    if request.method == "POST" and form.is_valid():
        services.deadline_update(deadline=deadline, by=request.user, ip_address=client_ip(request), **form.cleaned_data)
        messages.success(request, _("Deadline saved."))
        return redirect(_case_url(case, "#deadlines"))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "casework/deadline_edit.html", {"case": case, "form": form, "deadline": deadline}, status=status
    )


@case_view("change", methods=("POST",))
def deadline_status(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    deadline = _deadline(case, pk)
    form = DeadlineStatusForm(request.POST)
    if not form.is_valid():
        return refused(request, case, ValidationError(_("Choose done, waived or open.")))
    services.deadline_set_status(
        deadline=deadline, status=form.cleaned_data["status"], by=request.user, ip_address=client_ip(request)
    )
    messages.success(request, _("Deadline updated."))
    return redirect(_case_url(case, "#deadlines"))
