from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
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
    DecisionForm,
    HearingForm,
    HearingOutcomeForm,
)
from casework.models import Case, Deadline, Decision, Hearing
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
                venue=data["venue"],
                judge=data["judge"],
                medium=data["medium"],
                interpreter_language=data["interpreter_language"],
                timezone_override=data["timezone_override"],
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


def _deadlines_message(request: AuthenticatedHttpRequest, deadlines: list[Deadline]) -> None:
    for deadline in deadlines:
        messages.info(
            request,
            _("Deadline: %(title)s, due %(due)s.") % {"title": deadline.title, "due": deadline.due_on.isoformat()},
        )


@case_view("change", methods=("GET", "POST"))
def hearing_edit(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    try:
        hearing = case.hearings.select_related("court", "decision").get(pk=pk)
    except Hearing.DoesNotExist as exc:
        raise Http404 from exc
    local = hearing.local_start
    initial = {
        "kind": hearing.kind,
        "court": hearing.court_id,
        "venue": hearing.venue,
        "date": local.date(),
        "time": local.time().replace(second=0, microsecond=0),
        "timezone_override": hearing.timezone_override,
        "judge": hearing.judge,
        "medium": hearing.medium,
        "interpreter_language": hearing.interpreter_language,
    }
    decision = getattr(hearing, "decision", None)
    outcome_initial = DecisionForm.initial_for(decision) if decision else {"outcome": hearing.outcome}
    outcome_initial["note"] = decision.note if decision else hearing.outcome_note
    form = HearingForm(request.POST or None, initial=initial)
    outcome_form = HearingOutcomeForm(request.POST or None, initial=outcome_initial, prefix="outcome")
    if request.method == "POST" and form.is_valid() and outcome_form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("date"), data.pop("time")
        outcome_changed = outcome_form.has_changed()
        try:
            with transaction.atomic():
                services.hearing_update(hearing=hearing, by=request.user, ip_address=client_ip(request), **data)
                deadlines: list[Deadline] = []
                if outcome_changed:
                    hearing.refresh_from_db()
                    _made, deadlines = services.hearing_record_outcome(
                        hearing=hearing,
                        outcome=outcome_form.hearing_outcome,
                        note=outcome_form.cleaned_data["note"],
                        decision=outcome_form.decision_fields_for(hearing.local_start.date()),
                        by=request.user,
                        ip_address=client_ip(request),
                    )
        except ValidationError as exc:
            errors = getattr(exc, "error_dict", {})
            about_outcome = bool(errors) and not set(errors) & set(form.fields) - {"outcome"}
            add_validation_errors(outcome_form if about_outcome else form, exc)
        else:
            messages.success(request, _("Hearing saved."))
            _deadlines_message(request, deadlines)
            return redirect(_case_url(case, "#hearings"))
    status = 400 if request.method == "POST" else 200
    context = {"case": case, "form": form, "outcome_form": outcome_form, "hearing": hearing}
    return render(request, "casework/hearing_form.html", context, status=status)


def _decision(case: Case, pk: int) -> Decision:
    try:
        return case.decisions.select_related("hearing__court").get(pk=pk)
    except Decision.DoesNotExist as exc:
        raise Http404 from exc


@case_view("change", methods=("GET", "POST"))
def decision_new(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    """A written decision of the immigration judge, or a decision of the Board."""
    form = DecisionForm(request.POST or None, initial={"decided_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            _made, deadlines = services.decision_record(
                case=case, by=request.user, ip_address=client_ip(request), **form.decision_fields()
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Decision recorded."))
            _deadlines_message(request, deadlines)
            return redirect(_case_url(case, "#decisions"))
    status = 400 if request.method == "POST" else 200
    return render(request, "casework/decision_form.html", {"case": case, "form": form}, status=status)


@case_view("change", methods=("GET", "POST"))
def decision_edit(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    """Correct a decision, or record DHS's automatic stay and appeal; its deadlines follow."""
    decision = _decision(case, pk)
    form = DecisionForm(request.POST or None, initial=DecisionForm.initial_for(decision))
    if decision.hearing_id is not None:
        form.fields["forum"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            deadlines = services.decision_update(
                decision=decision, by=request.user, ip_address=client_ip(request), **form.decision_fields()
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Decision saved."))
            _deadlines_message(request, deadlines)
            return redirect(_case_url(case, "#decisions"))
    status = 400 if request.method == "POST" else 200
    context = {"case": case, "form": form, "decision": decision}
    return render(request, "casework/decision_form.html", context, status=status)


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
                        **rule_form.rule_options(),
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
