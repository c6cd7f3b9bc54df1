from __future__ import annotations

from typing import Any

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
    DecisionEditForm,
    DecisionForm,
    DecisionNewForm,
    HearingEditForm,
    HearingForm,
    HearingOutcomeForm,
)
from casework.models import Case, Deadline, DeadlineStatus, Decision, Hearing
from casework.permissions import case_view
from casework.views._common import refused, save_stamped, sent_once
from kernel.client_ip import client_ip
from kernel.concurrency import (
    VERSION_FIELD,
    EditConflict,
    changed_fields,
    save_if_unchanged,
    show_conflict,
    versioned,
)
from kernel.forms import add_validation_errors
from kernel.once import ONCE_FIELD, AlreadySubmitted, already_submitted_redirect


def _case_url(case: Case, anchor: str) -> str:
    return reverse("casework:case-detail", kwargs={"number": case.number}) + anchor


@case_view("change", methods=("GET", "POST"))
def hearing_new(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    form = HearingForm(request.POST or None, initial={"court": case.court_id})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result_url = _case_url(case, "#hearings")
        try:
            with sent_once(key=data[ONCE_FIELD], form="casework.hearing-add", user=request.user) as sent:
                _hearing_schedule(request, case, data)
                sent.result_url = result_url
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=result_url)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Hearing added."))
            return redirect(result_url)
    status = 422 if request.method == "POST" else 200
    return render(request, "casework/hearing_form.html", {"case": case, "form": form}, status=status)


def _hearing_schedule(request: AuthenticatedHttpRequest, case: Case, data: dict[str, Any]) -> None:
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


def _deadlines_message(request: AuthenticatedHttpRequest, deadlines: list[Deadline]) -> None:
    for deadline in deadlines:
        messages.info(
            request,
            _("Deadline: %(title)s, due %(due)s.") % {"title": deadline.title, "due": deadline.due_on.isoformat()},
        )


def _hearing_values(hearing: Hearing) -> dict[str, Any]:
    """What the hearing form shows of ``hearing`` (and is stamped with)."""
    local = hearing.local_start
    return {
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


def _outcome_values(hearing: Hearing) -> dict[str, Any]:
    """What the outcome form shows of ``hearing``: its outcome, or the judge's decision there."""
    decision = Decision.objects.filter(hearing=hearing).first()
    values = DecisionForm.initial_for(decision) if decision else {"outcome": hearing.outcome}
    values.pop("forum", None)  # not on the outcome form: a decision at a hearing is the judge's
    values["note"] = decision.note if decision else hearing.outcome_note
    return values


def _check_hearing_unchanged(hearing: Hearing, version: str, outcome_version: str) -> Hearing:
    """Lock ``hearing`` and refuse (``HearingConflict``) if what either form showed changed since."""
    locked = Hearing.objects.select_for_update(of=("self",)).select_related("court").get(pk=hearing.pk)
    current, current_outcome = _hearing_values(locked), _outcome_values(locked)
    changed, changed_outcome = changed_fields(version, current), changed_fields(outcome_version, current_outcome)
    if changed or changed_outcome:
        raise HearingConflict(
            EditConflict(fields=changed, current=current),
            EditConflict(fields=changed_outcome, current=current_outcome),
        )
    return locked


class HearingConflict(Exception):  # a state the person resolves: both forms' conflicts
    def __init__(self, hearing: EditConflict, outcome: EditConflict) -> None:
        super().__init__("edit conflict")
        self.hearing, self.outcome = hearing, outcome


@case_view("change", methods=("GET", "POST"))
def hearing_edit(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    try:
        hearing = case.hearings.select_related("court", "decision").get(pk=pk)
    except Hearing.DoesNotExist as exc:
        raise Http404 from exc
    form = HearingEditForm(request.POST or None, initial=versioned(_hearing_values(hearing)))
    outcome_form = HearingOutcomeForm(
        request.POST or None, initial=versioned(_outcome_values(hearing)), prefix="outcome"
    )
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid() and outcome_form.is_valid():
        data = dict(form.cleaned_data)
        version, outcome_version = data.pop(VERSION_FIELD), outcome_form.cleaned_data[VERSION_FIELD]
        data.pop("date"), data.pop("time")
        # The stamp is not an outcome: a form sent again from a conflict page carries a fresh one.
        outcome_changed = bool(set(outcome_form.changed_data) - {VERSION_FIELD})
        try:
            with transaction.atomic():
                locked = _check_hearing_unchanged(hearing, version, outcome_version)
                services.hearing_update(hearing=locked, by=request.user, ip_address=client_ip(request), **data)
                deadlines: list[Deadline] = []
                if outcome_changed:
                    locked.refresh_from_db()
                    _made, deadlines = services.hearing_record_outcome(
                        hearing=locked,
                        outcome=outcome_form.hearing_outcome,
                        note=outcome_form.cleaned_data["note"],
                        decision=outcome_form.decision_fields_for(locked.local_start.date()),
                        by=request.user,
                        ip_address=client_ip(request),
                    )
        except HearingConflict as conflict:
            status = 409
            if conflict.hearing.fields:
                show_conflict(form, conflict.hearing)
            if conflict.outcome.fields:
                show_conflict(outcome_form, conflict.outcome)
        except ValidationError as exc:
            errors = getattr(exc, "error_dict", {})
            about_outcome = bool(errors) and not set(errors) & set(form.fields) - {"outcome"}
            add_validation_errors(outcome_form if about_outcome else form, exc)
        else:
            messages.success(request, _("Hearing saved."))
            _deadlines_message(request, deadlines)
            return redirect(_case_url(case, "#hearings"))
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
    form = DecisionNewForm(request.POST or None, initial={"decided_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        result_url = _case_url(case, "#decisions")
        try:
            with sent_once(key=form.cleaned_data[ONCE_FIELD], form="casework.decision-add", user=request.user) as sent:
                _made, deadlines = services.decision_record(
                    case=case, by=request.user, ip_address=client_ip(request), **form.decision_fields()
                )
                sent.result_url = result_url
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=result_url)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Decision recorded."))
            _deadlines_message(request, deadlines)
            return redirect(_case_url(case, "#decisions"))
    status = 422 if request.method == "POST" else 200
    return render(request, "casework/decision_form.html", {"case": case, "form": form}, status=status)


@case_view("change", methods=("GET", "POST"))
def decision_edit(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    """Correct a decision, or record DHS's automatic stay and appeal; its deadlines follow."""
    decision = _decision(case, pk)
    form = DecisionEditForm(request.POST or None, initial=versioned(DecisionForm.initial_for(decision)))
    if decision.hearing_id is not None:
        form.fields["forum"].disabled = True
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        edit = save_stamped(
            form,
            instance=decision,
            values=DecisionForm.initial_for,
            save=lambda locked: services.decision_update(
                decision=locked, by=request.user, ip_address=client_ip(request), **form.decision_fields()
            ),
        )
        if edit.saved:
            messages.success(request, _("Decision saved."))
            _deadlines_message(request, edit.result or [])
            return redirect(_case_url(case, "#decisions"))
        status = edit.status
    context = {"case": case, "form": form, "decision": decision}
    return render(request, "casework/decision_form.html", context, status=status)


@case_view("change", methods=("GET", "POST"))
def deadline_new(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    kind = request.POST.get("kind") or request.GET.get("kind") or "rule"
    posted = request.POST if request.method == "POST" else None  # opened (GET), both forms are unbound: no errors
    rule_form = DeadlineRuleForm(posted if kind == "rule" else None, prefix="rule")
    manual_form = DeadlineManualForm(posted if kind == "manual" else None, prefix="manual")
    if request.method == "POST":
        form = rule_form if kind == "rule" else manual_form
        if form.is_valid():
            data = form.cleaned_data
            result_url = _case_url(case, "#deadlines")
            try:
                with sent_once(key=data[ONCE_FIELD], form="casework.deadline-add", user=request.user) as sent:
                    deadline = _deadline_add(request, case, kind, form)
                    sent.result_url = result_url
            except AlreadySubmitted as done:
                return already_submitted_redirect(request, done, fallback=result_url)
            except (ValidationError, ValueError) as exc:
                form.add_error(None, str(exc) if isinstance(exc, ValueError) else exc)
            else:
                messages.success(
                    request,
                    _("Deadline added: %(title)s, due %(due)s.") % {"title": deadline.title, "due": deadline.due_on},
                )
                return redirect(result_url)
    status = 422 if request.method == "POST" else 200
    context = {"case": case, "rule_form": rule_form, "manual_form": manual_form, "today": timezone.localdate()}
    return render(request, "casework/deadline_form.html", context, status=status)


def _deadline_add(
    request: AuthenticatedHttpRequest, case: Case, kind: str, form: DeadlineRuleForm | DeadlineManualForm
) -> Deadline:
    data = form.cleaned_data
    if isinstance(form, DeadlineRuleForm):
        return services.deadline_add_from_rule(
            case=case,
            rule=data["rule"],
            source_date=data["source_date"],
            title=data["title"],
            by=request.user,
            ip_address=client_ip(request),
            **form.rule_options(),
        )
    return services.deadline_add_manual(
        case=case,
        title=data["title"],
        due_on=data["due_on"],
        by=request.user,
        ip_address=client_ip(request),
    )


def _deadline(case: Case, pk: int) -> Deadline:
    try:
        return case.deadlines.get(pk=pk)
    except Deadline.DoesNotExist as exc:
        raise Http404 from exc


def _deadline_values(deadline: Deadline) -> dict[str, Any]:
    return {"title": deadline.title, "due_on": deadline.due_on}


@case_view("change", methods=("GET", "POST"))
def deadline_edit(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    deadline = _deadline(case, pk)
    form = DeadlineEditForm(request.POST or None, initial=versioned(_deadline_values(deadline)))
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop(VERSION_FIELD)
        edit = save_stamped(
            form,
            instance=deadline,
            values=_deadline_values,
            save=lambda locked: services.deadline_update(
                deadline=locked, by=request.user, ip_address=client_ip(request), **data
            ),
        )
        if edit.saved:
            messages.success(request, _("Deadline saved."))
            return redirect(_case_url(case, "#deadlines"))
        status = edit.status
    return render(
        request, "casework/deadline_edit.html", {"case": case, "form": form, "deadline": deadline}, status=status
    )


@case_view("change", methods=("POST",))
def deadline_status(request: AuthenticatedHttpRequest, case: Case, pk: int) -> HttpResponse:
    """Done, waived or open again: refused (409) if someone else changed the status the page showed."""
    deadline = _deadline(case, pk)
    form = DeadlineStatusForm(request.POST)
    if not form.is_valid():
        return refused(request, case, ValidationError(_("Choose done, waived or open.")))
    wanted = form.cleaned_data["status"]
    if deadline.status != wanted:  # else a repeat of this very change: nothing to do again
        try:
            save_if_unchanged(
                instance=deadline,
                version=form.cleaned_data[VERSION_FIELD],
                values=lambda locked: {"status": locked.status},
                save=lambda locked: services.deadline_set_status(
                    deadline=locked, status=wanted, by=request.user, ip_address=client_ip(request)
                ),
            )
        except EditConflict as conflict:
            current = DeadlineStatus(conflict.current["status"]).label
            reason = _(
                "Someone else changed this deadline after you opened the page, so your change was not saved: "
                "“%(title)s” is now %(status)s. Go back to the case to see it."
            ) % {"title": deadline.title, "status": current}
            return render(request, "casework/refused.html", {"case": case, "reasons": [reason]}, status=409)
    messages.success(request, _("Deadline updated."))
    return redirect(_case_url(case, "#deadlines"))
