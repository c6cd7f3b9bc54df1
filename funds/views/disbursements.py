"""An attorney's payment requests for a case."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from accounts.permissions import AuthenticatedHttpRequest
from accounts.roles import Role
from casework.permissions import case_view
from funds.forms import DisbursementRequestForm
from funds.models import Bond, Disbursement
from funds.selectors import fund_balance, fund_balances
from funds.services.disbursements import disbursement_request
from kernel.forms import add_validation_errors
from kernel.money import format_cents
from kernel.once import ONCE_FIELD, AlreadySubmitted, already_submitted_redirect, submission


@case_view("view", roles=(Role.ATTORNEY, Role.SUPERVISOR))
def case_disbursements(request: AuthenticatedHttpRequest, case) -> HttpResponse:
    items = Disbursement.objects.filter(case=case).select_related("fund", "requested_by", "decided_by")
    bonds = Bond.objects.filter(case=case).select_related("fund")
    return render(request, "funds/case_disbursements.html", {"case": case, "items": items, "bonds": bonds})


@case_view("change", methods=("GET", "POST"), roles=(Role.ATTORNEY, Role.SUPERVISOR))
def disbursement_new(request: AuthenticatedHttpRequest, case) -> HttpResponse:
    """A payment request; the same form sent twice (a retry, two tabs) makes one request."""
    form = DisbursementRequestForm(request.POST or None, request.FILES or None)
    listing = reverse("funds:case-disbursements", kwargs={"number": case.number})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with submission(key=data[ONCE_FIELD], form="funds.disbursement-request", user=request.user) as sent:
                disbursement_request(
                    case=case,
                    fund=data["fund"],
                    purpose=data["purpose"],
                    amount_cents=data["amount"],
                    payee=data["payee"],
                    reason=data["reason"],
                    attachment=data["attachment"],
                    by=request.user,
                )
                sent.result_url = listing
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=listing)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("Request sent to finance for approval."))
            _warn_if_short(request, data["fund"], data["amount"])
            return redirect(listing)
    status = 422 if request.method == "POST" else 200
    context = {"case": case, "form": form, "balances": fund_balances()}
    return render(request, "funds/disbursement_new.html", context, status=status)


def _warn_if_short(request: AuthenticatedHttpRequest, fund, amount_cents: int) -> None:
    """Say at once when the fund cannot pay the request yet (finance would refuse to approve it),
    rather than leave the attorney to learn it from a rejection."""
    free = fund_balance(fund).free
    if amount_cents > free:
        messages.warning(
            request,
            _(
                "%(fund)s has %(free)s free now, less than the %(amount)s requested: finance cannot approve "
                "this request until the fund has the money. Ask finance, or choose another fund."
            )
            % {"fund": fund.name, "free": format_cents(max(free, 0)), "amount": format_cents(amount_cents)},
        )


urlpatterns = [
    path("cases/<str:number>/disbursements/", case_disbursements, name="case-disbursements"),
    path("cases/<str:number>/disbursements/new/", disbursement_new, name="disbursement-new"),
]
