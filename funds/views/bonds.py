"""Finance's bond pages: the register (every bond, its state, its next step, what is owed) and one
bond's page, where each step of its life is recorded with the form its state allows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import AccessEvent, User
from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.services import access_event_record
from funds import forms as bond_forms
from funds.bond_rules import breach_appeal_deadline
from funds.models import Bond, Fund
from funds.permissions import FINANCE_ROLES, get_bond_for_finance
from funds.selectors import bond_next_step, bond_release
from funds.services import bonds as services
from kernel.client_ip import client_ip
from kernel.forms import add_validation_errors
from kernel.once import ONCE_FIELD, AlreadySubmitted, already_submitted_redirect, submission
from kernel.pagination import keyset_page
from kernel.readlog import logged_read

Status = Bond.Status
OPEN = "open"
ALL = "all"


@dataclass(frozen=True)
class Step:
    """One thing that can be recorded on a bond: its form, when it is offered, and the service it calls."""

    title: Any  # lazy text
    form: type[forms.Form]
    states: tuple[str, ...]
    record: Callable[[Bond, dict[str, Any], User], Bond]
    done: Any  # lazy text: the message once recorded
    danger: bool = False
    offered: Callable[[Bond], bool] = lambda bond: True


STEPS: dict[str, Step] = {
    "cancellation": Step(
        gettext_lazy("ICE cancelled the bond (I-391)"),
        bond_forms.BondCancellationForm,
        (Status.POSTED,),
        lambda bond, d, by: services.bond_record_cancellation(
            bond=bond, notice_on=d["notice_on"], note=d["note"], by=by
        ),
        gettext_lazy("Cancellation notice recorded."),
    ),
    "claim": Step(
        gettext_lazy("The refund was claimed"),
        bond_forms.BondRefundClaimForm,
        (Status.CANCELLED,),
        lambda bond, d, by: services.bond_record_refund_claim(
            bond=bond, claimed_on=d["claimed_on"], note=d["note"], by=by
        ),
        gettext_lazy("Refund claim recorded."),
    ),
    "refund": Step(
        gettext_lazy("The refund arrived"),
        bond_forms.BondRefundForm,
        Bond.REFUND_STATES,
        lambda bond, d, by: services.bond_record_refund(
            bond=bond,
            refunded_cents=d["refunded"],
            interest_cents=d["interest"] or 0,
            refunded_on=d["refunded_on"],
            note=d["note"],
            by=by,
        ),
        gettext_lazy("Bond refund recorded."),
    ),
    "pass_back": Step(
        gettext_lazy("The obligor passed the refund back"),
        bond_forms.BondPassBackForm,
        (Status.DUE_FROM_OBLIGOR, Status.FORFEITED),
        lambda bond, d, by: services.bond_record_pass_back(
            bond=bond, amount_cents=d["amount"], received_on=d["received_on"], note=d["note"], by=by
        ),
        gettext_lazy("Recorded: the money is back in the fund's bank."),
        offered=lambda bond: bond.due_from_obligor_cents > 0,
    ),
    "shortfall": Step(
        gettext_lazy("The shortfall dispute ended"),
        bond_forms.BondShortfallForm,
        (Status.SHORTFALL,),
        lambda bond, d, by: services.bond_resolve_shortfall(
            bond=bond, recovered_cents=d["recovered"] or 0, resolved_on=d["resolved_on"], note=d["note"], by=by
        ),
        gettext_lazy("Shortfall resolved."),
    ),
    "breach": Step(
        gettext_lazy("ICE declared the bond breached (I-323)"),
        bond_forms.BondBreachForm,
        (Status.POSTED,),
        lambda bond, d, by: services.bond_record_breach(
            bond=bond,
            served_on=d["served_on"],
            service=d["service"],
            breached_on=d["breached_on"],
            note=d["note"],
            by=by,
        ),
        gettext_lazy("Breach notice recorded; the appeal deadline is on the page."),
        danger=True,
    ),
    "appeal": Step(
        gettext_lazy("The obligor appealed (I-290B)"),
        bond_forms.BondAppealForm,
        (Status.BREACHED,),
        lambda bond, d, by: services.bond_record_breach_appeal(
            bond=bond, filed_on=d["filed_on"], note=d["note"], by=by
        ),
        gettext_lazy("Appeal recorded."),
    ),
    "withdrawn": Step(
        gettext_lazy("The breach was withdrawn, or the appeal won"),
        bond_forms.BondBreachWithdrawnForm,
        Bond.BREACH_STATES,
        lambda bond, d, by: services.bond_record_breach_withdrawn(
            bond=bond, withdrawn_on=d["withdrawn_on"], note=d["note"], by=by
        ),
        gettext_lazy("Recorded: the bond is in force again."),
    ),
    "forfeit": Step(
        gettext_lazy("The breach stands: forfeited"),
        bond_forms.BondForfeitForm,
        Bond.BREACH_STATES,
        lambda bond, d, by: services.bond_record_forfeiture(
            bond=bond, forfeited_on=d["forfeited_on"], note=d["note"], by=by
        ),
        gettext_lazy("Forfeiture recorded."),
        danger=True,
    ),
    "breach_interest": Step(
        gettext_lazy("Interest to the date of breach arrived"),
        bond_forms.BondBreachInterestForm,
        (Status.FORFEITED,),
        lambda bond, d, by: services.bond_record_breach_interest(
            bond=bond, interest_cents=d["interest"] or 0, received_on=d["received_on"], note=d["note"], by=by
        ),
        gettext_lazy("Interest recorded."),
        offered=lambda bond: bond.breach_interest_on is None,
    ),
}


@dataclass(frozen=True)
class RegisterRow:
    bond: Bond
    days: int  # from posting to closing, or to today
    next_step: str
    appeal_open: bool


def _steps_for(bond: Bond, posted: str | None = None, data=None) -> list[tuple[str, Step, forms.Form]]:
    """The steps ``bond``'s state offers, each with its form (bound to ``data`` for the one ``posted``)."""
    steps = []
    for name, step in STEPS.items():
        if bond.status in step.states and step.offered(bond):
            initial = {"refunded": bond.amount_cents} if name == "refund" else None
            form = step.form(data if name == posted else None, prefix=name, initial=initial)
            steps.append((name, step, form))
    return steps


@role_required(*FINANCE_ROLES)
@require_GET
def bond_register(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The register, 50 bonds a page (keyset: no ``OFFSET``), oldest paid first; the figures above
    it (how many, posted, still owed, older than a year, appeal windows open) are over every bond
    the filters select, summed by the database in one query."""
    status = request.GET.get("status") or OPEN
    bonds = Bond.objects.select_related("case", "fund")
    if status == OPEN:
        bonds = bonds.exclude(status__in=Bond.CLOSED_STATES)
    elif status in Status.values:
        bonds = bonds.filter(status=status)
    fund = request.GET.get("fund")
    if fund:
        bonds = bonds.filter(fund__slug=fund)
    today = timezone.localdate()
    page = keyset_page(bonds, params=request.GET, ordering=("paid_on", "id"), per_page=REGISTER_PER_PAGE)
    rows = [
        RegisterRow(
            bond=bond,
            days=((bond.closed_on or today) - bond.posted_on).days,
            next_step=bond_next_step(bond, today=today),
            appeal_open=bond.status == Status.BREACHED
            and bond.appeal_due_on is not None
            and today <= bond.appeal_due_on,
        )
        for bond in page.object_list
    ]
    context = {
        "page": page,  # its links; the rows are ``rows``
        "rows": rows,
        "status": status,
        "statuses": [(OPEN, _("All open bonds")), (ALL, _("All bonds")), *Status.choices],
        "funds": Fund.objects.all(),
        "fund": fund,
        **_register_figures(bonds, today=today),
    }
    return render(request, "funds/bond_register.html", context)


REGISTER_PER_PAGE = 50


def _register_figures(bonds: QuerySet[Bond], *, today: date) -> dict[str, int]:
    """What the register's line above the table says, over all of ``bonds``; as ``Bond`` reckons a
    bond's days, what it owes (``owed_to_fund_cents``) and whether its breach appeal is open."""
    held = Case(
        When(Q(refunded_on__isnull=True) & ~Q(status=Status.FORFEITED), then=F("amount_cents")),
        default=Value(0),
    )
    # An open bond has no closing day, so its days run to today: over a year is posted before a year ago.
    old_and_open = Q(posted_on__lt=today - timedelta(days=365)) & ~Q(status__in=Bond.CLOSED_STATES)
    appeal_open = Q(status=Status.BREACHED, appeal_due_on__gte=today)
    figures = bonds.order_by().aggregate(
        count=Count("pk"),
        total=Coalesce(Sum("amount_cents"), 0),
        owed=Coalesce(Sum(held + F("due_from_obligor_cents") + F("shortfall_cents")), 0),
        over_a_year=Count("pk", filter=old_and_open),
        appeals_open=Count("pk", filter=appeal_open),
    )
    return figures


def _detail_context(bond: Bond, steps) -> dict:
    deadline = None
    if bond.status in Bond.BREACH_STATES and bond.breach_notice_on and bond.breach_service:
        deadline = breach_appeal_deadline(served_on=bond.breach_notice_on, service=bond.breach_service)
    return {
        "bond": bond,
        "steps": steps,
        "next_step": bond_next_step(bond, today=timezone.localdate()),
        "deadline": deadline,
        "decision": bond.decision,
        "release": bond_release(bond),
        "events": bond.events.select_related("recorded_by"),
    }


class StepNotOffered(Exception):
    """The step posted is not one the bond's state offers now."""


def _posted_form(bond: Bond, name: str, data) -> forms.Form | None:
    """The form of step ``name`` bound to ``data``, whatever the bond's state (``None``: no such step).

    A repeat of a step already recorded must still be recognised by its one-time key, although
    the bond's state no longer offers that step."""
    step = STEPS.get(name)
    return step.form(data, prefix=name) if step is not None else None


@role_required(*FINANCE_ROLES)
@require_http_methods(["GET", "POST"])
def bond_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A bond and the steps its state allows. Each step's form is recorded once, however often it
    is sent: the same form sent again shows the bond as the first one left it."""
    bond = get_bond_for_finance(pk)
    if request.method == "POST":
        name = request.POST.get("action", "")
        steps = _steps_for(bond, name, request.POST)
        chosen = next((form for step_name, _step, form in steps if step_name == name), None)
        posted = chosen or _posted_form(bond, name, request.POST)
        here = reverse("funds:bond-detail", kwargs={"pk": bond.pk})
        if posted is not None and posted.is_valid():
            try:
                with submission(
                    key=posted.cleaned_data[ONCE_FIELD], form=f"funds.bond-{name}", user=request.user
                ) as sent:
                    if chosen is None:
                        raise StepNotOffered  # not a repeat: the claim is rolled back
                    STEPS[name].record(bond, chosen.cleaned_data, request.user)
                    sent.result_url = here
            except AlreadySubmitted as done:
                return already_submitted_redirect(request, done, fallback=here)
            except StepNotOffered:
                pass
            except ValidationError as exc:
                add_validation_errors(posted, exc)
            else:
                messages.success(request, str(STEPS[name].done))
                return redirect(here)
        if chosen is None:
            context = _detail_context(bond, steps)
            context["error"] = _("That step cannot be recorded for this bond now.")
            return render(request, "funds/bond_detail.html", context, status=400)
        bond.refresh_from_db()
        return render(request, "funds/bond_detail.html", _detail_context(bond, steps), status=422)
    with logged_read():
        access_event_record(
            user=request.user,
            action=AccessEvent.Action.VIEW,
            object_type="bond",
            object_ref=bond.case.number,
            ip_address=client_ip(request),
        )
    return render(request, "funds/bond_detail.html", _detail_context(bond, _steps_for(bond)))


urlpatterns = [
    path("finance/bonds/", bond_register, name="bond-register"),
    path("finance/bonds/<int:pk>/", bond_detail, name="bond-detail"),
]
