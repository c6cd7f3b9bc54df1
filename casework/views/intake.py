from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import AccessEvent
from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.roles import Role
from accounts.services import access_event_record
from casework import selectors, services
from casework.forms import IntakeForm
from casework.models import Case, Detainee
from casework.permissions import get_case_for_user
from kernel.client_ip import client_ip
from kernel.counters import counter_add
from kernel.forms import add_validation_errors
from kernel.once import ONCE_FIELD, AlreadySubmitted, already_submitted_redirect, previous_submission, submission
from kernel.readlog import logged_read

# --- The duplicate check: limited and logged --------------------------------------------
#
# The check answers "is this A-number (or this name and birth date) registered, on which case, in
# which status?" for any case, even one the worker may not open, so that nobody is registered
# twice. That makes it a way to confirm who is on file: each user has a budget of look-ups per
# window, counted in the shared cache (so every web process counts the same), and each match on a
# case the user may not open is written to the access log, by case number, never the A-number.

LOOKUP_LOG_DETAIL = {"a_number": "a-number look-up", "name_and_birth_date": "name and birth date look-up"}


class LookupsExhausted(Exception):
    """The user has used up their duplicate look-ups for this window."""


def lookup_cost(data: dict[str, Any]) -> int:
    """Look-ups one check spends: one per A-number typed (each is a question asked), at least one."""
    return max(1, len([n for n in [data.get("a_number"), *(data.get("other_a_numbers") or [])] if n]))


def lookup_clock() -> float:
    """Seconds since the epoch; the one place tests move the clock of the look-up windows."""
    return time.time()


def lookup_spend(request: AuthenticatedHttpRequest, cost: int) -> None:
    """Count ``cost`` look-ups against the user's budget; ``LookupsExhausted`` once it is spent.

    Side effects: a counter per user and window in the default (shared) cache.
    """
    window = settings.INTAKE_LOOKUP_WINDOW_SECONDS
    key = f"intake-lookups:{request.user.pk}:{int(lookup_clock()) // window}"
    used = counter_add(key, timeout=window, amount=cost)
    if used > settings.INTAKE_LOOKUPS_PER_WINDOW:
        raise LookupsExhausted


def _record_hidden_matches(request: AuthenticatedHttpRequest, found: list[selectors.PossibleDuplicate]) -> None:
    """An access event for each case the check matched that the user may not open."""
    for duplicate in found:
        if not duplicate.visible:
            with logged_read():
                access_event_record(
                    user=request.user,
                    action=AccessEvent.Action.VIEW,
                    object_type="case",
                    object_ref=duplicate.case.number,
                    detail=LOOKUP_LOG_DETAIL.get(duplicate.reason, "look-up"),
                    ip_address=client_ip(request),
                )


def _lookups_exhausted(request: AuthenticatedHttpRequest, *, template: str, context: dict[str, Any]) -> HttpResponse:
    window_minutes = max(1, settings.INTAKE_LOOKUP_WINDOW_SECONDS // 60)
    context = {**context, "lookups_exhausted": True, "window_minutes": window_minutes}
    return render(request, template, context, status=429)


def _duplicates_for(request: AuthenticatedHttpRequest, data: dict[str, Any]) -> list[selectors.PossibleDuplicate]:
    """Cases that may be this person's (``LookupsExhausted`` when the user's look-ups are spent)."""
    lookup_spend(request, lookup_cost(data))
    found = selectors.possible_duplicates(
        request.user,
        a_number=data.get("a_number") or None,
        names=[data.get("given_names", ""), data.get("family_names", ""), data.get("other_names", "")],
        date_of_birth=data.get("date_of_birth"),
    )
    seen = {d.case.pk for d in found}
    for number in data.get("other_a_numbers") or []:  # a second A-number may be someone's first
        for duplicate in selectors.possible_duplicates(request.user, a_number=number, names=[], date_of_birth=None):
            if duplicate.case.pk not in seen:
                seen.add(duplicate.case.pk)
                found.append(duplicate)
    _record_hidden_matches(request, found)
    return found


def _intake_data(data: dict[str, Any]) -> services.IntakeData:
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
    return intake_data


def _same_person(request: AuthenticatedHttpRequest, number: str, data: dict[str, Any]) -> Detainee | None:
    """The person of case ``number`` if the user may see that case and one of the A-numbers typed is theirs."""
    case = get_case_for_user(request.user, number)  # a case the user may not see: 404
    typed = [n for n in [data.get("a_number"), *data.get("other_a_numbers", [])] if n]
    for digits in typed:
        person = services.intake.detainee_with_a_number(digits)
        if person is not None and person.pk == case.detainee_id:
            return person
    return None


def _register(request: AuthenticatedHttpRequest, data: dict[str, Any], new_matter_of: str) -> Case:
    """Register the intake: a new person, or a new matter of the person of case ``new_matter_of``."""
    if not new_matter_of:
        return services.case_register(data=_intake_data(data), by=request.user, ip_address=client_ip(request))
    person = _same_person(request, new_matter_of, data)
    if person is None:
        raise ValidationError({"a_number": _("That case is not this A-number's person.")})
    return services.case_open_new_matter(
        detainee=person, data=_intake_data(data), by=request.user, ip_address=client_ip(request)
    )


@role_required(Role.INTAKE, Role.SUPERVISOR)
def intake(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Register a detained person: a phone-sized form, a duplicate check, then triage.

    When the A-number is a registered person's, the worker may open a new matter for that person
    (a new case, the same person), if they may see one of the person's cases.
    """
    form = IntakeForm(request.POST or None)
    duplicates: list[selectors.PossibleDuplicate] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        earlier = previous_submission(key=data[ONCE_FIELD], form="casework.intake", user=request.user)
        if earlier is not None:  # a repeat: before the duplicate check, which would find the person it registered
            return already_submitted_redirect(request, earlier, fallback=reverse("casework:case-list"))
        try:
            duplicates = _duplicates_for(request, data) if _asks_anything(data) else []
        except LookupsExhausted:
            # Without the duplicate check nothing is registered: the form comes back as it was.
            return _lookups_exhausted(request, template="casework/intake.html", context={"form": form})
        new_matter_of = request.POST.get("new_matter_of", "")
        if new_matter_of or not duplicates or request.POST.get("confirm") == "different-person":
            try:
                # The form's one-time key is claimed with the case: a retried or doubled POST shows
                # the case the first one registered instead of registering the person twice.
                with submission(key=data[ONCE_FIELD], form="casework.intake", user=request.user) as sent:
                    case = _register(request, data, new_matter_of)
                    sent.result_url = reverse("casework:case-detail", kwargs={"number": case.number})
            except AlreadySubmitted as done:
                return already_submitted_redirect(request, done, fallback=reverse("casework:case-list"))
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, _("Case %(number)s registered and sent to triage.") % {"number": case.number})
                return redirect("casework:case-detail", number=case.number)
    status = 422 if request.method == "POST" and not form.is_valid() else 200
    new_matters = [d for d in duplicates if d.reason == "a_number" and d.visible]
    # One offer per person: their latest case stands for them.
    offers = list({d.case.detainee_id: d for d in reversed(new_matters)}.values())
    hidden = any(d.reason == "a_number" and not d.visible for d in duplicates)
    context = {"form": form, "duplicates": duplicates, "new_matter_offers": offers, "new_matter_hidden": hidden}
    return render(request, "casework/intake.html", context, status=status)


@role_required(Role.INTAKE, Role.SUPERVISOR)
@require_POST
def intake_check(request: AuthenticatedHttpRequest) -> HttpResponse:
    """htmx: the duplicate warning, refreshed as the intake form is filled in."""
    form = IntakeForm(request.POST)
    form.is_valid()  # partial data is fine: use whatever cleaned
    data = {k: v for k, v in getattr(form, "cleaned_data", {}).items() if k not in form.errors}
    if not _asks_anything(data):
        return render(request, "casework/partials/duplicates.html", {"duplicates": [], "live": True})
    try:
        duplicates = _duplicates_for(request, data)
    except LookupsExhausted:
        return _lookups_exhausted(request, template="casework/partials/duplicates.html", context={"live": True})
    return render(request, "casework/partials/duplicates.html", {"duplicates": duplicates, "live": True})


def _asks_anything(data: dict[str, Any]) -> bool:
    """Whether the check can match anything: an A-number, or a name with a date of birth."""
    names = any(data.get(k) for k in ("given_names", "family_names", "other_names"))
    return bool(data.get("a_number") or data.get("other_a_numbers") or (names and data.get("date_of_birth")))
