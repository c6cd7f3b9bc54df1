from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.roles import Role
from casework import selectors, services
from casework.forms import IntakeForm
from kernel.client_ip import client_ip
from kernel.forms import add_validation_errors


def _duplicates_for(request: AuthenticatedHttpRequest, data: dict[str, Any]) -> list[selectors.PossibleDuplicate]:
    return selectors.possible_duplicates(
        request.user,
        a_number=data.get("a_number") or None,
        names=[data.get("given_names", ""), data.get("family_names", ""), data.get("other_names", "")],
        date_of_birth=data.get("date_of_birth"),
    )


@role_required(Role.INTAKE, Role.SUPERVISOR)
def intake(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Register a detained person: a phone-sized form, a duplicate check, then triage."""
    form = IntakeForm(request.POST or None)
    duplicates: list[selectors.PossibleDuplicate] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duplicates = _duplicates_for(request, data)
        if not duplicates or request.POST.get("confirm") == "different-person":
            contact: services.ContactData = {
                "name": data["contact_name"],
                "relationship": data["contact_relationship"],
                "phone": data["contact_phone"],
                "preferred_language": data["contact_language"],
            }
            intake_data = services.IntakeData(
                **{k: data[k] for k in services.IntakeData.__dataclass_fields__ if k in data and k != "contacts"},
                contacts=[contact],
            )
            intake_data.a_number = data["a_number"] or None
            try:
                case = services.case_register(data=intake_data, by=request.user, ip_address=client_ip(request))
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, _("Case %(number)s registered and sent to triage.") % {"number": case.number})
                return redirect("casework:case-detail", number=case.number)
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return render(request, "casework/intake.html", {"form": form, "duplicates": duplicates}, status=status)


@role_required(Role.INTAKE, Role.SUPERVISOR)
@require_POST
def intake_check(request: AuthenticatedHttpRequest) -> HttpResponse:
    """htmx: the duplicate warning, refreshed as the intake form is filled in."""
    form = IntakeForm(request.POST)
    form.is_valid()  # partial data is fine: use whatever cleaned
    data = {k: v for k, v in getattr(form, "cleaned_data", {}).items() if k not in form.errors}
    duplicates = _duplicates_for(request, data) if data else []
    return render(request, "casework/partials/duplicates.html", {"duplicates": duplicates, "live": True})
