"""Finance pages: balances, the disbursement queue, donations, disputes, payouts (bonds: ``funds.views.bonds``)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import AccessEvent
from accounts.permissions import AuthenticatedHttpRequest, role_required
from accounts.services import access_event_record
from casework.selectors import automatic_stay
from casework.views.search import (
    SEARCH_TOKEN_PARAMETER,
    search_recall,
    search_remember,
    see_other,
    without_search_words,
)
from funds.forms import BondPaymentForm, DecisionForm, PaymentForm, RefundForm
from funds.identity import donor_email_index
from funds.models import (
    Disbursement,
    Dispute,
    Donation,
    Donor,
    Fund,
    Payout,
    PayoutDiscrepancy,
    Purpose,
    Refund,
    Transaction,
)
from funds.permissions import FINANCE_ROLES, get_disbursement_for_finance
from funds.selectors import bond_counts, disbursement_counts, fund_balances, ledger_check_status
from funds.services import disbursements as services
from funds.services.checkout import donation_refund as refund_service
from kernel.client_ip import client_ip
from kernel.forms import MoneyField, add_validation_errors
from kernel.once import ONCE_FIELD, AlreadySubmitted, already_submitted_redirect, submission
from kernel.pagination import keyset_page
from kernel.readlog import logged_read
from kernel.uploads import DOWNLOAD_CSP

FAILED_REFUNDS_SHOWN_FOR = timedelta(days=30)
FAILED_REFUNDS_SHOWN = 20
PER_PAGE = 50


@role_required(*FINANCE_ROLES)
@require_GET
def finance_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {
        "balances": fund_balances(Fund.objects.filter(active=True)),
        **disbursement_counts(),
        "bonds": bond_counts(today=timezone.localdate()),
        # The last full check (the beat task's) and a live check of the balances: never a scan per view.
        "ledger": ledger_check_status(now=timezone.now()),
        # Until finance resolves them: payouts larger than clearing; and refunds Stripe did not make.
        "discrepancies": list(
            PayoutDiscrepancy.objects.filter(resolved_at__isnull=True).select_related("payout").order_by("found_at")
        ),
        "failed_refunds": list(
            Refund.objects.filter(status=Refund.Status.FAILED, failed_at__gte=timezone.now() - FAILED_REFUNDS_SHOWN_FOR)
            .select_related("donation")
            .order_by("-failed_at", "-pk")[:FAILED_REFUNDS_SHOWN]
        ),
        "zone": settings.TIME_ZONE,
    }
    return render(request, "funds/finance_home.html", context)


@role_required(*FINANCE_ROLES)
@require_GET
def disbursement_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status") or Disbursement.Status.REQUESTED
    # Finance sees a case by its number: the person is not even read.
    items = Disbursement.objects.select_related("case", "fund", "requested_by", "decided_by")
    if status in Disbursement.Status.values:
        items = items.filter(status=status)
    page = keyset_page(items, params=request.GET, ordering=("-requested_at", "-id"), per_page=PER_PAGE)
    return render(
        request,
        "funds/disbursement_queue.html",
        {"page": page, "status": status, "statuses": Disbursement.Status.choices},
    )


# The one-time keys of the disbursement page's forms (``kernel.once``), by action.
DISBURSEMENT_FORMS = {
    "approve": "funds.disbursement-decision",
    "reject": "funds.disbursement-decision",
    "pay": "funds.disbursement-pay",
}


def _disbursement_act(request: AuthenticatedHttpRequest, disbursement: Disbursement, action: str, form) -> str:
    """Do ``action`` on ``disbursement`` with the valid ``form``; returns the message for the user."""
    data = form.cleaned_data
    if action == "approve":
        services.disbursement_approve(disbursement=disbursement, by=request.user, note=data["note"])
        return _("Approved.")
    if action == "reject":
        services.disbursement_reject(disbursement=disbursement, by=request.user, note=data["note"])
        return _("Rejected.")
    services.disbursement_pay(
        disbursement=disbursement,
        paid_on=data["paid_on"],
        method=data["method"],
        reference=data["reference"],
        bond_terms=form.terms() if isinstance(form, BondPaymentForm) else None,
        by=request.user,
    )
    return _("Recorded as paid and booked in the ledger.")


@role_required(*FINANCE_ROLES)
def disbursement_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A payment request: approve or reject it, then record its payment. Each form is done once,
    however often it is sent: a second "pay" of the same form shows the first payment."""
    disbursement = get_disbursement_for_finance(pk)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    decision_form = DecisionForm(request.POST if request.POST.get("action") in ("approve", "reject") else None)
    payment_class = BondPaymentForm if disbursement.purpose == Purpose.BOND else PaymentForm
    payment_form = payment_class(request.POST if request.POST.get("action") == "pay" else None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        form = payment_form if action == "pay" else decision_form
        if action not in DISBURSEMENT_FORMS:
            return render(
                request,
                "funds/disbursement_detail.html",
                _detail_context(disbursement, decision_form, payment_form, _("Choose approve, reject or pay.")),
                status=400,
            )
        if form.is_valid():
            here = reverse("funds:disbursement-detail", kwargs={"pk": disbursement.pk})
            try:
                with submission(
                    key=form.cleaned_data[ONCE_FIELD], form=DISBURSEMENT_FORMS[action], user=request.user
                ) as sent:
                    done = _disbursement_act(request, disbursement, action, form)
                    sent.result_url = here
            except AlreadySubmitted as repeat:
                return already_submitted_redirect(request, repeat, fallback=here)
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, done)
                return redirect(here)
        disbursement.refresh_from_db()
        return render(
            request,
            "funds/disbursement_detail.html",
            _detail_context(disbursement, decision_form, payment_form),
            status=422,
        )
    with logged_read():
        access_event_record(
            user=request.user,
            action=AccessEvent.Action.VIEW,
            object_type="disbursement",
            object_ref=f"{disbursement.case.number} #{disbursement.pk}",
            ip_address=client_ip(request),
        )
    return render(request, "funds/disbursement_detail.html", _detail_context(disbursement, decision_form, payment_form))


def _detail_context(disbursement, decision_form, payment_form, error: str = "") -> dict:
    return {
        "d": disbursement,
        "decision_form": decision_form,
        "payment_form": payment_form,
        "balance": fund_balances([disbursement.fund])[0],
        "error": error,
        # A bond cannot be posted while DHS's automatic stay of the bond order runs (8 CFR 1003.19(i)(2)).
        "automatic_stay": automatic_stay(disbursement.case) if disbursement.purpose == Purpose.BOND else None,
    }


@role_required(*FINANCE_ROLES)
@require_GET
def disbursement_attachment(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    disbursement = get_disbursement_for_finance(pk)
    if not disbursement.attachment:
        raise Http404
    with logged_read():
        access_event_record(
            user=request.user,
            action=AccessEvent.Action.DOWNLOAD,
            object_type="disbursement",
            object_ref=f"{disbursement.case.number} #{disbursement.pk}",
            ip_address=client_ip(request),
        )
    response = FileResponse(
        disbursement.attachment.open("rb"), as_attachment=True, filename=f"disbursement-{disbursement.pk}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


# The donation list's filters that may travel in its URL; a donor's e-mail address may not.
DONATION_FILTERS = ("status", "min", "max", "days")
DONATION_SEARCH_MAX_LENGTH = 254  # the longest e-mail address


@role_required(*FINANCE_ROLES)
@require_http_methods(["GET", "POST"])
def donation_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Donations, filtered. The search (a donor's exact e-mail address or a receipt number) is POSTed and
    comes back as ``?s=<token>``: never an address in a URL."""
    if request.method == "POST":
        params = {name: request.POST[name] for name in DONATION_FILTERS if request.POST.get(name)}
        words = request.POST.get("q", "").strip()[:DONATION_SEARCH_MAX_LENGTH]
        if words:
            params[SEARCH_TOKEN_PARAMETER] = search_remember(request, words)
        url = reverse("funds:donation-list")
        return see_other(f"{url}?{urlencode(params)}" if params else url)
    if (redirect_without := without_search_words(request)) is not None:
        return redirect_without
    donations = Donation.objects.select_related("donor", "fund").order_by("-created_at")
    q = search_recall(request, request.GET.get(SEARCH_TOKEN_PARAMETER, "")) or ""
    if q:
        # Donors' names and e-mail addresses are encrypted: a donor is found by the exact address
        # (its blind index), not by part of it, and not by name.
        # The donors first, then an OR of two indexed columns: an OR across the join would scan every gift.
        donors = list(Donor.objects.filter(email_index=donor_email_index(q)).values_list("pk", flat=True))
        donations = donations.filter(Q(donor_id__in=donors) | Q(receipt_number=q))
    status = request.GET.get("status", "")
    if status in Donation.Status.values:
        donations = donations.filter(status=status)
    for bound, lookup in (("min", "amount_cents__gte"), ("max", "amount_cents__lte")):
        raw = request.GET.get(bound, "").strip()
        if raw:
            try:
                donations = donations.filter(**{lookup: MoneyField().clean(raw)})
            except ValidationError:
                messages.error(request, _("Amounts are in dollars, e.g. 25 or 1,000.00."))
    days = request.GET.get("days", "")
    if days.isdigit():
        donations = donations.filter(created_at__gte=timezone.now() - timedelta(days=int(days)))
    page = keyset_page(donations, params=request.GET, ordering=("-created_at", "-id"), per_page=PER_PAGE)
    # Each row's refund form carries its own one-time key (``auto_id=False``: no clashing ids).
    rows = [(donation, RefundForm(auto_id=False)) for donation in page.object_list]
    return render(
        request,
        "funds/donation_list.html",
        {
            "page": page,
            "rows": rows,
            "q": q,
            "status": status,
            "days": days,
            "min": request.GET.get("min", ""),
            "max": request.GET.get("max", ""),
            "statuses": Donation.Status.choices,
        },
    )


@role_required(*FINANCE_ROLES)
@require_GET
def dispute_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    disputes = Dispute.objects.select_related("donation__donor", "donation__fund").order_by("-opened_at")
    page = keyset_page(disputes, params=request.GET, ordering=("-opened_at", "-id"), per_page=PER_PAGE)
    return render(request, "funds/dispute_list.html", {"page": page})


@role_required(*FINANCE_ROLES)
@require_GET
def payout_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    payouts = list(Payout.objects.order_by("-arrival_date")[:100])
    booked = {
        t.key: t
        for t in Transaction.objects.filter(key__in=[f"payout:{p.stripe_payout_id}" for p in payouts]).prefetch_related(
            "postings"
        )
    }
    rows = []
    for payout in payouts:
        txn = booked.get(f"payout:{payout.stripe_payout_id}")
        to_bank = sum(p.amount for p in txn.postings.all() if p.amount > 0) if txn else 0
        rows.append({"payout": payout, "booked": to_bank, "matches": to_bank == payout.amount_cents})
    return render(request, "funds/payout_list.html", {"rows": rows})


@role_required(*FINANCE_ROLES)
@require_POST
def donation_refund(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Refund part or all of a paid gift through Stripe. The same refund form sent twice (a retry,
    a double click) is one ``Refund`` and one Stripe refund: the second shows the first's result."""
    try:
        donation = Donation.objects.select_related("donor", "fund").get(pk=pk)
    except Donation.DoesNotExist as exc:
        raise Http404 from exc
    listing = reverse("funds:donation-list")
    form = RefundForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([message for errors in form.errors.values() for message in errors])
        refund_service(
            donation=donation,
            amount_cents=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            by=request.user,
            once=form.cleaned_data[ONCE_FIELD],
        )
    except AlreadySubmitted as done:
        return already_submitted_redirect(request, done, fallback=listing)
    except ValidationError as exc:
        return render(
            request, "funds/refused.html", {"reasons": exc.messages, "back": "funds:donation-list"}, status=422
        )
    messages.success(request, _("Refund sent to Stripe; it is booked when Stripe confirms it."))
    return redirect(listing)


urlpatterns = [
    path("finance/", finance_home, name="finance-home"),
    path("finance/disbursements/", disbursement_queue, name="disbursement-queue"),
    path("finance/disbursements/<int:pk>/", disbursement_detail, name="disbursement-detail"),
    path("finance/disbursements/<int:pk>/attachment/", disbursement_attachment, name="disbursement-attachment"),
    path("finance/donations/", donation_list, name="donation-list"),
    path("finance/donations/<int:pk>/refund/", donation_refund, name="donation-refund"),
    path("finance/disputes/", dispute_list, name="dispute-list"),
    path("finance/payouts/", payout_list, name="payout-list"),
]
