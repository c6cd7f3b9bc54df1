"""Erasing a closed case's personal data: asked by one supervisor, confirmed by another; retention's list."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.roles import Role
from casework.models import Case, ErasureRequest
from casework.permissions import case_view
from casework.services import retention
from casework.views._common import refused, sent_once
from kernel.client_ip import client_ip
from kernel.forms import add_validation_errors
from kernel.once import ONCE_FIELD, AlreadySubmitted, OnceForm, already_submitted_redirect


class ErasureRequestForm(OnceForm):
    why = forms.CharField(
        label=gettext_lazy("Why now"),
        max_length=300,
        help_text=gettext_lazy("For example: the client asked for their data to be erased. Do not name anyone."),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that notes, documents and the person's details cannot be recovered."),
    )


@case_view("change", methods=("GET", "POST"), roles=(Role.SUPERVISOR,))
def erasure_request(request: AuthenticatedHttpRequest, case: Case) -> HttpResponse:
    form = ErasureRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result_url = reverse("casework:erasure-list")
        try:
            with sent_once(
                key=form.cleaned_data[ONCE_FIELD], form="casework.erasure-request", user=request.user
            ) as sent:
                retention.erasure_request(
                    case=case, by=request.user, why=form.cleaned_data["why"], ip_address=client_ip(request)
                )
                sent.result_url = result_url
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=result_url)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Erasure requested. A second supervisor must confirm it."))
            return redirect(result_url)
    context = {
        "case": case,
        "form": form,
        "other_cases": Case.objects.filter(detainee_id=case.detainee_id, erased_at__isnull=True).exclude(pk=case.pk),
    }
    return render(request, "casework/erasure/request.html", context, status=422 if request.method == "POST" else 200)


@role_required(Role.SUPERVISOR)
@require_GET
def erasure_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {
        "pending": ErasureRequest.objects.filter(erased_at__isnull=True, cancelled_at__isnull=True)
        .select_related("case", "requested_by")
        .order_by("requested_at"),
        "done": ErasureRequest.objects.filter(erased_at__isnull=False)
        .select_related("case", "requested_by", "confirmed_by")
        .order_by("-erased_at")[:50],
        "due": retention.retention_due()[:200],
        "retention_days": settings.RETENTION_CLOSED_CASE_DAYS,
    }
    return render(request, "casework/erasure/list.html", context)


def _pending(pk: int) -> ErasureRequest:
    found = get_object_or_404(ErasureRequest.objects.select_related("case"), pk=pk)
    if not found.pending:
        raise Http404
    return found


@role_required(Role.SUPERVISOR)
@require_POST
def erasure_confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pending = _pending(pk)
    try:
        retention.erasure_confirm(request=pending, by=request.user, ip_address=client_ip(request))
    except ValidationError as exc:
        return refused(request, pending.case, exc)
    messages.success(request, _("The personal data of %(number)s was erased.") % {"number": pending.case.number})
    return redirect("casework:erasure-list")


@role_required(Role.SUPERVISOR)
@require_POST
def erasure_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pending = _pending(pk)
    try:
        retention.erasure_cancel(request=pending, by=request.user, ip_address=client_ip(request))
    except ValidationError as exc:
        return refused(request, pending.case, exc)
    messages.success(request, _("Erasure request withdrawn."))
    return redirect("casework:erasure-list")
