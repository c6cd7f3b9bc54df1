from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import AccessEvent
from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.roles import Role, user_role
from accounts.services import access_event_record
from casework import selectors, services
from casework.forms import (
    AppearanceForm,
    CaseDetailsForm,
    CaseFilterForm,
    CaseSearchForm,
    CloseForm,
    CustodyForm,
    DeadlineStatusForm,
    DocumentForm,
    NoteForm,
    ReliefEditForm,
    ReliefForm,
    SupervisionForm,
    UacDeterminationForm,
)
from casework.models import Case, Deadline, Detainee, Document, Relief
from casework.permissions import CASEWORK_ROLES, can_change, case_view
from casework.views._common import record_view, refused, save_stamped, sent_once
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
from kernel.pagination import keyset_page
from kernel.readlog import logged_read
from kernel.uploads import DOWNLOAD_CSP


def _list_filters(data: QueryDict) -> dict[str, str]:
    """The case list's filters in ``data`` (never the search words), for a URL."""
    return {name: str(data.get(name)) for name in CaseFilterForm.NAMES if data.get(name)}


CASES_PER_PAGE = 25
# Up to this many cases, sorting by next hearing computes each one's and sorts them all (~90 ms for 6,000 at a million);
# beyond, the page is walked from the hearings instead (a filter matching few of a million cases
# would make that walk long, a sort of all of them longer still).
SORTED_WHOLE = 10_000


@role_required(*CASEWORK_ROLES)
@require_http_methods(["GET", "POST"])
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The cases the user may see, filtered; the search box is POSTed and comes back as ``?s=<token>``."""
    if request.method == "POST":
        search = CaseSearchForm(request.POST)
        if search.is_valid():
            params = _list_filters(request.POST)
            if search.cleaned_data["q"]:
                params[SEARCH_TOKEN_PARAMETER] = search_remember(request, search.cleaned_data["q"])
            url = reverse("casework:case-list")
            return see_other(f"{url}?{urlencode(params)}" if params else url)
        kept = _list_filters(request.POST)
        context = {"form": CaseFilterForm(kept or None), "search": search, "filters": kept, "page": None}
        return render(request, "casework/case_list.html", context, status=422)
    if (redirect_without := without_search_words(request)) is not None:
        return redirect_without
    form = CaseFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    token = request.GET.get(SEARCH_TOKEN_PARAMETER, "")
    words = search_recall(request, token)
    court = filters.get("court")
    cases = selectors.case_list(
        request.user,
        q=words or "",
        status=filters.get("status", ""),
        custody=filters.get("custody", ""),
        authority=filters.get("authority", ""),
        court=court.pk if court else None,
        sort=filters.get("sort") or "-registered_at",
    ).defer(*selectors.CASE_TABLE_DEFERRED)
    ordering = selectors.CASE_LIST_KEYSETS.get(filters.get("sort") or "-registered_at")
    if ordering is None and selectors.at_most(cases, SORTED_WHOLE):  # a few: sorted whole, numbered pages
        page: Any = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    elif ordering is None:  # many: walked from the upcoming hearings by time (see the selector)
        page = selectors.next_hearing_page(cases, params=request.GET, per_page=CASES_PER_PAGE)
    else:  # no COUNT(*) and no OFFSET: page 20,000 costs what page 1 does
        page = keyset_page(cases, params=request.GET, ordering=ordering, per_page=CASES_PER_PAGE)
    template = "casework/partials/case_table.html" if request.htmx else "casework/case_list.html"
    in_url = _list_filters(request.GET)
    url = reverse("casework:case-list")
    context = {
        "form": form,
        "filters": in_url,
        "clear_search_url": f"{url}?{urlencode(in_url)}" if in_url else url,
        "search": CaseSearchForm(initial={"q": words or ""}),
        "search_token": token if words else "",
        "searching": bool(words),
        "search_expired": bool(token) and words is None,
        "page": page,
    }
    return render(request, template, context)


@role_required(Role.ATTORNEY, Role.SUPERVISOR)
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The attorney's day: my cases, hearings in 14 days, deadlines due in 7 and overdue, activity."""
    mine = selectors.my_open_case_ids(request.user)
    context = {
        "my_cases": selectors.case_list(request.user, visible_ids=mine, sort="next_hearing").defer(
            *selectors.CASE_TABLE_DEFERRED
        )[:25],
        "my_case_count": len(mine),
        "hearings": selectors.upcoming_hearings(request.user, days=14, mine=mine),
        "deadlines": selectors.deadlines_due(request.user, days=7, mine=mine),
        "activity": selectors.recent_activity(request.user, mine=mine),
    }
    return render(request, "casework/dashboard.html", context)


# Who reads privileged notes (attorney-client communications, work product): the attorneys on the
# case (an attorney sees a case only while assigned to it) and supervising attorneys. Intake staff
# see the cases they registered while in triage, but not what counsel wrote about them.
PRIVILEGED_NOTE_READERS = (Role.ATTORNEY, Role.SUPERVISOR)


@case_view("view")
def case_detail(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    record_view(request, case)
    editable = can_change(request.user, case)
    role = user_role(request.user)
    reads_privileged = role in PRIVILEGED_NOTE_READERS
    page = selectors.case_page(case, privileged_notes=reads_privileged)
    privileged_hidden = 0 if reads_privileged else case.notes.filter(privileged=True).count()
    context = {
        "case": case,
        "detainee": case.detainee,
        "can_change": editable,
        "is_supervisor": role == Role.SUPERVISOR,
        "privileged_hidden": privileged_hidden,
        **page,
    }
    if editable:
        # Each deadline's status buttons carry the stamp of the status shown (``deadline_status``).
        # (Attributes for the template's rows, on this request's copies only.)
        context["deadlines"] = deadlines = list(cast("Iterable[Deadline]", page["deadlines"]))
        for deadline in deadlines:
            deadline.status_form = DeadlineStatusForm(  # type: ignore[attr-defined]
                initial=versioned({"status": deadline.status}), auto_id=False
            )
        relief_url = reverse("casework:relief-save", args=[case.number])
        for relief in page["relief"]:
            relief.form_url = f"{relief_url}?relief={relief.pk}"  # type: ignore[attr-defined]
        # The forms behind a closed disclosure are drawn when it is opened (``_form_opened``); the
        # two the page shows open are drawn with it.
        context["note_form"] = NoteForm()
        if case.uac_pending:
            context["uac_form"] = _uac_form(case)
    return render(request, "casework/case_detail.html", context)


def _form_opened(
    request: AuthenticatedHttpRequest, case: Case, form: forms.Form, title: str, button: str = ""
) -> HttpResponse:
    """One of the case page's forms asked for by itself (GET), stamped and keyed as of now: the bare
    form for the page's disclosure that was opened (htmx), or a page of its own without JavaScript.

    The case page does not draw the forms behind its closed disclosures with every view: with their
    selects of every facility and attorney they were half of its time.
    """
    if request.htmx:
        context = {"form": form, "action": request.path, "button": button}
        return render(request, "casework/partials/case_form.html", context)
    return render(request, "casework/form_page.html", {"case": case, "form": form, "title": title, "button": button})


def _details_values(case: Case) -> dict[str, Any]:
    """What the details form shows of ``case`` and its person (their rows locked: we are saving)."""
    detainee = Detainee.objects.select_for_update().get(pk=case.detainee_id)
    values = {name: getattr(detainee, name) for name in services.case.DETAINEE_FIELDS}
    values.update({name: getattr(case, name) for name in services.case.CASE_FIELDS})
    return values


@case_view("change", methods=("GET", "POST"))
def case_edit(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    detainee = case.detainee
    initial = {name: getattr(detainee, name) for name in services.case.DETAINEE_FIELDS}
    initial.update({name: getattr(case, name) for name in services.case.CASE_FIELDS})
    form = CaseDetailsForm(request.POST or None, initial=versioned(initial))
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop(VERSION_FIELD)
        edit = save_stamped(
            form,
            instance=case,
            values=_details_values,
            save=lambda locked: services.case_update_details(
                case=locked, by=request.user, ip_address=client_ip(request), **data
            ),
        )
        if edit.saved:
            if edit.result:
                messages.success(request, _("Saved."))
            return redirect("casework:case-detail", number=case.number)
        status = edit.status
    return render(request, "casework/case_edit.html", {"case": case, "form": form}, status=status)


def _case_url(case: Case, anchor: str = "") -> str:
    return reverse("casework:case-detail", kwargs={"number": case.number}) + anchor


def _post_form(
    request: AuthenticatedHttpRequest,
    case: Case,
    form_class: type[forms.Form],
    action: Callable[[Case, dict[str, Any]], None],
    success: str,
    anchor: str = "",
    initial: dict[str, Any] | None = None,
    *,
    name: str,
    values: Callable[[Case], dict[str, Any]] | None = None,
) -> HttpResponse:
    """Validate a small form posted from the case page and run ``action(case, data)``.

    A form with a one-time key does it once (``name`` names the form); with ``values`` (what an
    edit form shows of the case, as its stamp was made) it is refused with a 409 if any of them
    changed since the page was opened.
    """
    form = form_class(request.POST, request.FILES, initial=initial)
    status = 422
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop(VERSION_FIELD, "")
        key = data.pop(ONCE_FIELD, None)
        result_url = _case_url(case, anchor)
        try:
            with sent_once(key=key, form=name, user=request.user) as sent:
                if values is None:
                    action(case, data)
                else:
                    save_if_unchanged(
                        instance=case, version=version, values=values, save=lambda locked: action(locked, data)
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
            messages.success(request, success)
            return redirect(result_url)
    return render(
        request,
        "casework/form_page.html",
        {"case": case, "form": form, "title": _("Check and try again")},
        status=status,
    )


def _by_user(
    request: AuthenticatedHttpRequest, service: Callable[..., object]
) -> Callable[[Case, dict[str, Any]], None]:
    """An ``action`` for ``_post_form`` whose form's fields are ``service``'s own: it is called with
    the case, those fields, and who sent the form from where."""

    def act(case: Case, data: dict[str, Any]) -> None:
        service(case=case, by=request.user, ip_address=client_ip(request), **data)

    return act


def _custody_values(case: Case) -> dict[str, Any]:
    """The custody the case page shows (and its custody form is stamped with)."""
    return {"custodian": case.custodian, "facility": case.facility_id}


def _supervision_values(case: Case) -> dict[str, Any]:
    return {"supervision": case.supervision, "next_check_in_on": case.next_check_in_on}


def _uac_values(case: Case) -> dict[str, Any]:
    return {"determination": case.uac_determination, "determined_on": case.uac_determined_on}


def _uac_form(case: Case) -> UacDeterminationForm:
    return UacDeterminationForm(initial=versioned(_uac_values(case)))


@case_view("change", methods=("GET", "POST"))
def custody_change(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    if request.method == "GET":
        form = CustodyForm(initial=versioned(_custody_values(case)))
        return _form_opened(request, case, form, _("Record a transfer, release or removal"))
    # The case's current facility stays valid even if it is no longer offered for new choices.
    initial = {"facility": case.facility_id}
    return _post_form(
        request,
        case,
        CustodyForm,
        _by_user(request, services.custody_record_change),
        _("Custody updated."),
        "#custody",
        initial,
        name="casework.custody-change",
        values=_custody_values,
    )


@case_view("change", methods=("GET", "POST"))
def custody_supervision(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    if request.method == "GET":
        form = SupervisionForm(initial=versioned(_supervision_values(case)))
        return _form_opened(request, case, form, _("Supervision (ATD/ISAP) and the next check-in"))
    return _post_form(
        request,
        case,
        SupervisionForm,
        _by_user(request, services.custody_update_supervision),
        _("Supervision updated."),
        "#custody",
        name="casework.supervision",
        values=_supervision_values,
    )


@case_view("change", methods=("GET", "POST"))
def uac_determination(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    if request.method == "GET":
        return _form_opened(request, case, _uac_form(case), _("Unaccompanied-child determination"))
    return _post_form(
        request,
        case,
        UacDeterminationForm,
        _by_user(request, services.case_record_uac_determination),
        _("Determination recorded."),
        "#custody",
        name="casework.uac-determination",
        values=_uac_values,
    )


@case_view("change", methods=("GET", "POST"))
def appearance_record(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    if request.method == "GET":
        return _form_opened(request, case, AppearanceForm(), _("Record a notice of appearance filed"))
    return _post_form(
        request,
        case,
        AppearanceForm,
        _by_user(request, services.appearance_record),
        _("Appearance recorded."),
        "#appearances",
        name="casework.appearance",
    )


@case_view("change", methods=("GET", "POST"))
def note_add(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    if request.method == "GET":
        return _form_opened(request, case, NoteForm(), _("Add note"), _("Add note"))
    return _post_form(
        request,
        case,
        NoteForm,
        _by_user(request, services.note_add),
        _("Note added."),
        "#notes",
        name="casework.note-add",
    )


@case_view("change", methods=("GET", "POST"))
def document_upload(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    if request.method == "GET":
        return _form_opened(request, case, DocumentForm(), _("Upload a document"), _("Upload"))

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

    return _post_form(
        request, case, DocumentForm, act, _("Document added."), "#documents", name="casework.document-upload"
    )


# Downloads are named by case number and document id (never the person's name or the
# uploaded file name), with the extension of the type the content was checked to be.
EXTENSIONS = {content_type: f".{ext}" for ext, content_type in services.records.ALLOWED_TYPES.items()}


@case_view("view")
def document_download(request: AuthenticatedHttpRequest, case: Case, pk: int) -> FileResponse:
    try:
        document = case.documents.get(pk=pk)
    except Document.DoesNotExist as exc:
        raise Http404 from exc
    with logged_read():
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
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


def _relief_values(relief: Relief) -> dict[str, Any]:
    """What a relief's change form shows (and is stamped with)."""
    return {
        "relief": relief.pk,
        "kind": relief.kind,
        "status": relief.status,
        "filed_on": relief.filed_on,
        "decided_on": relief.decided_on,
    }


def relief_edit_form(relief: Relief) -> ReliefEditForm:
    """The case page's form changing ``relief``, stamped (ids of its own: there is one per relief)."""
    return ReliefEditForm(initial=versioned(_relief_values(relief)), auto_id=f"id_relief{relief.pk}_%s")


@case_view("change", methods=("GET", "POST"))
def relief_save(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    """Add a form of relief sought (once), or, with ``relief``, change one already recorded (stamped:
    refused with a 409 if someone else changed it since its form was opened). A GET opens the form
    (with ``?relief=``, that relief's change form)."""
    if request.method == "GET":
        return _relief_form_opened(request, case)
    if request.POST.get("relief"):
        return _relief_change(request, case)

    def act(case: Case, data: dict[str, Any]) -> None:
        existing = case.relief.filter(kind=data["kind"]).first()
        if existing is not None:
            # Changing it from here would overwrite, unseen, what someone else recorded for it.
            raise ValidationError(
                {
                    "kind": _("%(kind)s is already recorded: change it with its own “Change”.")
                    % {"kind": existing.get_kind_display()}
                }
            )
        services.relief_save(case=case, by=request.user, ip_address=client_ip(request), **data)

    return _post_form(request, case, ReliefForm, act, _("Relief saved."), "#relief", name="casework.relief-add")


def _case_relief(case: Case, pk: str) -> Relief:
    """The relief of ``case`` whose id a form sent as ``pk`` (404 for another case's or a non-number)."""
    try:
        return case.relief.get(pk=int(pk))
    except (ValueError, Relief.DoesNotExist) as exc:
        raise Http404 from exc


def _relief_form_opened(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    if "relief" not in request.GET:
        return _form_opened(request, case, ReliefForm(), _("Add relief"))
    relief = _case_relief(case, request.GET["relief"])
    title = _("Change: %(kind)s") % {"kind": relief.get_kind_display()}
    return _form_opened(request, case, relief_edit_form(relief), title)


def _relief_change(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    relief = _case_relief(case, request.POST["relief"])
    form = ReliefEditForm(request.POST, initial=_relief_values(relief))
    status = 422
    if form.is_valid():
        data = dict(form.cleaned_data)
        data.pop(VERSION_FIELD), data.pop("relief")
        edit = save_stamped(
            form,
            instance=relief,
            values=_relief_values,
            save=lambda locked: services.relief_save(case=case, by=request.user, ip_address=client_ip(request), **data),
        )
        if edit.saved:
            messages.success(request, _("Relief saved."))
            return redirect(_case_url(case, "#relief"))
        status = edit.status
    context = {"case": case, "form": form, "title": _("Check and try again")}
    return render(request, "casework/form_page.html", context, status=status)


@case_view("change", methods=("GET", "POST"))
def case_close(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result_url = _case_url(case)
        try:
            # Once: a repeated close shows the closed case; a case someone else closed meanwhile is
            # refused by the service, which checks the locked row ("already closed").
            with sent_once(key=form.cleaned_data[ONCE_FIELD], form="casework.case-close", user=request.user) as sent:
                services.case_close(
                    case=case,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                    ip_address=client_ip(request),
                )
                sent.result_url = result_url
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=result_url)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Case %(number)s closed.") % {"number": case.number})
            return redirect("casework:case-detail", number=case.number)
    status = 422 if request.method == "POST" else 200
    return render(request, "casework/case_close.html", {"case": case, "form": form}, status=status)


@case_view("change", methods=("POST",))
def case_reopen(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    try:
        services.case_reopen(case=case, by=request.user, ip_address=client_ip(request))
    except ValidationError as exc:
        return refused(request, case, exc)
    messages.success(request, _("Case %(number)s reopened.") % {"number": case.number})
    return redirect("casework:case-detail", number=case.number)
