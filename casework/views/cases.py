from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import AccessEvent
from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.roles import Role, user_role
from accounts.services import access_event_record
from casework import selectors, services
from casework.forms import (
    AppearanceForm,
    CaseDetailsForm,
    CaseFilterForm,
    CloseForm,
    CustodyForm,
    DocumentForm,
    NoteForm,
    ReliefForm,
    SupervisionForm,
    UacDeterminationForm,
)
from casework.models import Case, CaseStatus, Document
from casework.permissions import CASEWORK_ROLES, can_change, case_view
from casework.views._common import record_view, refused
from kernel.client_ip import client_ip
from kernel.forms import add_validation_errors


@role_required(*CASEWORK_ROLES)
@require_GET
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    court = filters.get("court")
    cases = selectors.case_list(
        request.user,
        q=filters.get("q", ""),
        status=filters.get("status", ""),
        custody=filters.get("custody", ""),
        authority=filters.get("authority", ""),
        court=court.pk if court else None,
        sort=filters.get("sort") or "-registered_at",
    )
    page = Paginator(cases, 25).get_page(request.GET.get("page"))
    template = "casework/partials/case_table.html" if request.htmx else "casework/case_list.html"
    return render(request, template, {"form": form, "page": page})


@role_required(Role.ATTORNEY, Role.SUPERVISOR)
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The attorney's day: my cases, hearings in 14 days, deadlines due in 7 and overdue, activity."""
    my_cases = selectors.case_list(request.user, mine_only=True, sort="next_hearing").exclude(status=CaseStatus.CLOSED)
    context = {
        "my_cases": my_cases[:25],
        "my_case_count": my_cases.count(),
        "hearings": selectors.upcoming_hearings(request.user, days=14),
        "deadlines": selectors.deadlines_due(request.user, days=7),
        "activity": selectors.recent_activity(request.user),
    }
    return render(request, "casework/dashboard.html", context)


@case_view("view")
def case_detail(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    record_view(request, case)
    editable = can_change(request.user, case)
    context = {
        "case": case,
        "detainee": case.detainee,
        "can_change": editable,
        "is_supervisor": user_role(request.user) == Role.SUPERVISOR,
        **selectors.case_page(case),
    }
    if editable:
        context.update(
            custody_form=CustodyForm(initial={"custodian": case.custodian, "facility": case.facility_id}),
            supervision_form=SupervisionForm(
                initial={"supervision": case.supervision, "next_check_in_on": case.next_check_in_on}
            ),
            uac_form=UacDeterminationForm(
                initial={"determination": case.uac_determination, "determined_on": case.uac_determined_on}
            ),
            appearance_form=AppearanceForm(),
            note_form=NoteForm(),
            document_form=DocumentForm(),
            relief_form=ReliefForm(),
        )
    return render(request, "casework/case_detail.html", context)


@case_view("change", methods=("GET", "POST"))
def case_edit(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    detainee = case.detainee
    initial = {name: getattr(detainee, name) for name in services.case.DETAINEE_FIELDS}
    initial.update({name: getattr(case, name) for name in services.case.CASE_FIELDS})
    form = CaseDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.case_update_details(
                case=case, by=request.user, ip_address=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("Saved."))
            return redirect("casework:case-detail", number=case.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "casework/case_edit.html", {"case": case, "form": form}, status=status)


def _post_form(
    request: AuthenticatedHttpRequest,
    case: Case,
    form_class: type[forms.Form],
    action: Callable[[Case, dict[str, Any]], None],
    success: str,
    anchor: str = "",
    initial: dict[str, Any] | None = None,
) -> HttpResponse:
    """Validate a small form posted from the case page and run ``action(case, data)``."""
    form = form_class(request.POST, request.FILES, initial=initial)
    if form.is_valid():
        try:
            action(case, form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(reverse("casework:case-detail", kwargs={"number": case.number}) + anchor)
    return render(
        request, "casework/form_page.html", {"case": case, "form": form, "title": _("Check and try again")}, status=400
    )


@case_view("change", methods=("POST",))
def custody_change(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    def act(case: Case, data: dict[str, Any]) -> None:
        services.custody_record_change(
            case=case,
            custodian=data["custodian"],
            release_basis=data["release_basis"],
            supervision=data["supervision"],
            facility=data["facility"],
            started_on=data["started_on"],
            by=request.user,
            ip_address=client_ip(request),
        )

    # The case's current facility stays valid even if it is no longer offered for new choices.
    initial = {"facility": case.facility_id}
    return _post_form(request, case, CustodyForm, act, _("Custody updated."), "#custody", initial)


@case_view("change", methods=("POST",))
def custody_supervision(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    def act(case: Case, data: dict[str, Any]) -> None:
        services.custody_update_supervision(
            case=case,
            supervision=data["supervision"],
            next_check_in_on=data["next_check_in_on"],
            by=request.user,
            ip_address=client_ip(request),
        )

    return _post_form(request, case, SupervisionForm, act, _("Supervision updated."), "#custody")


@case_view("change", methods=("POST",))
def uac_determination(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    def act(case: Case, data: dict[str, Any]) -> None:
        services.case_record_uac_determination(
            case=case,
            determination=data["determination"],
            determined_on=data["determined_on"],
            by=request.user,
            ip_address=client_ip(request),
        )

    return _post_form(request, case, UacDeterminationForm, act, _("Determination recorded."), "#custody")


@case_view("change", methods=("POST",))
def appearance_record(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    def act(case: Case, data: dict[str, Any]) -> None:
        services.appearance_record(
            case=case,
            attorney=data["attorney"],
            forum=data["forum"],
            filed_on=data["filed_on"],
            by=request.user,
            ip_address=client_ip(request),
        )

    return _post_form(request, case, AppearanceForm, act, _("Appearance recorded."), "#appearances")


@case_view("change", methods=("POST",))
def note_add(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    def act(case: Case, data: dict[str, Any]) -> None:
        services.note_add(
            case=case, body=data["body"], privileged=data["privileged"], by=request.user, ip_address=client_ip(request)
        )

    return _post_form(request, case, NoteForm, act, _("Note added."), "#notes")


@case_view("change", methods=("POST",))
def document_upload(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    def act(case: Case, data: dict[str, Any]) -> None:
        try:
            services.document_upload(
                case=case,
                upload=data["file"],
                kind=data["kind"],
                title=data["title"],
                by=request.user,
                ip_address=client_ip(request),
            )
        except services.DocumentRejected as exc:
            raise ValidationError({"file": exc.messages}) from exc

    return _post_form(request, case, DocumentForm, act, _("Document added."), "#documents")


# Downloads are named by case number and document id (never the person's name or the
# uploaded file name), with the extension of the type the content was checked to be.
EXTENSIONS = {content_type: f".{ext}" for ext, content_type in services.records.ALLOWED_TYPES.items()}


@case_view("view")
def document_download(request: AuthenticatedHttpRequest, case: Case, pk: int) -> FileResponse:
    try:
        document = case.documents.get(pk=pk)
    except Document.DoesNotExist as exc:
        raise Http404 from exc
    access_event_record(
        user=request.user,
        action=AccessEvent.Action.DOWNLOAD,
        object_type="document",
        object_ref=case.number,
        detail=f"document {document.pk}",
        ip_address=client_ip(request),
    )
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=f"{case.number}-{document.pk}{EXTENSIONS.get(document.content_type, '')}",
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@case_view("change", methods=("POST",))
def relief_save(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    def act(case: Case, data: dict[str, Any]) -> None:
        services.relief_save(case=case, by=request.user, ip_address=client_ip(request), **data)

    return _post_form(request, case, ReliefForm, act, _("Relief saved."), "#relief")


@case_view("change", methods=("GET", "POST"))
def case_close(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_close(
                case=case,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                by=request.user,
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Case %(number)s closed.") % {"number": case.number})
            return redirect("casework:case-detail", number=case.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "casework/case_close.html", {"case": case, "form": form}, status=status)


@case_view("change", methods=("POST",))
def case_reopen(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    try:
        services.case_reopen(case=case, by=request.user, ip_address=client_ip(request))
    except ValidationError as exc:
        return refused(request, case, exc)
    messages.success(request, _("Case %(number)s reopened.") % {"number": case.number})
    return redirect("casework:case-detail", number=case.number)
