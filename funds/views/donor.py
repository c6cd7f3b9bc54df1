"""The donor portal (public area): sign in with an e-mailed code, see gifts, get PDFs, cancel.

Donors are not staff users: every view here is exempt from ``LoginRequiredMiddleware`` and
checks the donor session itself (``donor_required``). Pages are never cached.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.middleware import clear_site_data
from funds import donor_session
from funds.limits import statement_renders_limited
from funds.models import Donor
from funds.receipt_pdf import render_receipt_pdf
from funds.services import donor_portal, receipts
from funds.services.donor_portal import CodeRejected, CodeRequestThrottled, RecurringCancelFailed
from kernel.client_ip import client_ip
from kernel.clock import fund_time_zone, local_date
from kernel.money import format_cents
from kernel.once import ONCE_FIELD, AlreadySubmitted, OnceForm, already_submitted_redirect, submission
from kernel.uploads import DOWNLOAD_CSP

FIRST_STATEMENT_YEAR = 2000


class DonorEmailForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail address"),
        help_text=gettext_lazy("The address you gave when you donated."),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class DonorCodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={"invalid": gettext_lazy("Enter the 6 digits from the e-mail.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "class": "mono"}
        ),
    )


class DonorRequest(HttpRequest):
    """A request that ``donor_required`` let through, for the type checker: ``donor`` is set."""

    donor: Donor


def donor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view runs only with a donor session; ``request.donor`` is the signed-in donor.

    Not Django's login: a donor session never makes ``request.user`` anything but anonymous.
    """

    @wraps(view)
    def wrapped(request: DonorRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if donor_session.donor_session_ended_by_limit(request.session):
            messages.info(request, _("Your donor session has ended. Please sign in again."))
            return clear_site_data(redirect("funds:donor-start"))
        donor = donor_portal.donor_from_session(request.session)
        if donor is None:
            messages.info(request, _("Please sign in with your e-mail address first."))
            return redirect("funds:donor-start")
        request.donor = donor
        return view(request, *args, **kwargs)

    return wrapped


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


# --- Sign-in ----------------------------------------------------------------------------------


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def donor_start(request: HttpRequest) -> HttpResponse:
    if donor_session.donor_session_ended_by_limit(request.session):
        messages.info(request, _("Your donor session has ended. Please sign in again."))
        return clear_site_data(redirect("funds:donor-start"))
    if donor_portal.donor_from_session(request.session) is not None:
        return redirect("funds:donor-gifts")
    form = DonorEmailForm(request.POST or None)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            donor_portal.donor_code_request(
                session=request.session, email=form.cleaned_data["email"], ip_address=client_ip(request)
            )
        except CodeRequestThrottled as throttled:
            form.add_error(
                None,
                _("Too many codes were requested for this address. Please wait %(minutes)s minutes and try again.")
                % {"minutes": throttled.minutes},
            )
            status = 429
        else:
            # The same answer whether or not the address has given: donors stay private.
            messages.info(request, _("If there are gifts for this address, a code is on its way. Check your e-mail."))
            return redirect("funds:donor-code")
    return render(request, "funds/donor/start.html", {"form": form}, status=status)


REJECTIONS = {
    "wrong": gettext_lazy("That code is not right. Check the e-mail and try again."),
    "expired": gettext_lazy("That code has expired. Ask for a new one."),
    "locked": gettext_lazy("Too many wrong codes. Ask for a new one."),
    "missing": gettext_lazy("Ask for a code first."),
    "paused": gettext_lazy(
        "Too many wrong codes were tried for this address today. Try again tomorrow, or from a computer "
        "you have signed in from before."
    ),
}


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def donor_code(request: HttpRequest) -> HttpResponse:
    pending = donor_portal.donor_pending_sign_in(request.session)
    if pending is None:
        return redirect("funds:donor-start")
    form = DonorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            donor_portal.donor_code_verify(
                session=request.session, code=form.cleaned_data["code"], ip_address=client_ip(request)
            )
        except CodeRejected as rejected:
            if rejected.reason in {"expired", "locked", "missing", "paused"}:
                messages.error(request, REJECTIONS[rejected.reason])
                return redirect("funds:donor-start")
            form.add_error("code", REJECTIONS[rejected.reason])
            pending = donor_portal.donor_pending_sign_in(request.session)
        else:
            donor_session.donor_session_began(request.session)
            return redirect("funds:donor-gifts")
    status = 422 if request.method == "POST" else 200
    return render(request, "funds/donor/code.html", {"form": form, "pending": pending}, status=status)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def donor_sign_out(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        donor_session.donor_session_end(request.session)
        messages.success(request, _("You have signed out of your donor page."))
        # The browser drops what it kept of the donor pages (see accounts.middleware.CLEAR_SITE_DATA).
        return clear_site_data(redirect("funds:donor-start"))
    return redirect("funds:donor-start")


# --- Signed-in donor --------------------------------------------------------------------------


@login_not_required
@never_cache
@donor_required
@require_GET
def donor_gifts(request: DonorRequest) -> HttpResponse:
    donor = request.donor
    zone = fund_time_zone()
    gifts = [
        {
            "donation": gift,
            "paid_at": timezone.localtime(gift.paid_at, zone) if gift.paid_at else None,
            "amount": format_cents(gift.charged_cents),
            "refunded": format_cents(gift.refunded_cents) if gift.refunded_cents else "",
        }
        for gift in donor_portal.donor_gifts(donor=donor)
    ]
    recurring = [
        {
            "recurring": r,
            "amount": format_cents(r.amount_cents),
            "open": r.status in donor_portal.OPEN_RECURRING_STATUSES,
            "cancelled_on": timezone.localtime(r.cancelled_at, zone) if r.cancelled_at else None,
        }
        for r in donor_portal.donor_monthly_gifts(donor=donor)
    ]
    context = {
        "donor": donor,
        "gifts": gifts,
        "recurring": recurring,
        "statement_years": receipts.donor_statement_years(donor=donor),
    }
    return render(request, "funds/donor/gifts.html", context)


@login_not_required
@never_cache
@donor_required
@require_GET
def donor_receipt(request: DonorRequest, pk: int) -> HttpResponse:
    donation = donor_portal.donor_donation(donor=request.donor, pk=pk)
    # A refunded gift's receipt no longer stands: the annual statement shows what counts.
    if donation is None or donation.status != donation.Status.PAID or not donation.receipt_number:
        raise Http404
    if donation.receipt_pdf:
        with donation.receipt_pdf.open("rb") as stored:
            content = stored.read()  # the very file that was e-mailed (its SHA-256 is kept)
    else:
        # No stored copy: not e-mailed yet, or recorded without one (the demo's seeded gifts).
        content = render_receipt_pdf(donation)
    return _pdf_response(content, f"receipt-{donation.receipt_number}.pdf")


@login_not_required
@never_cache
@donor_required
@statement_renders_limited
@require_GET
def donor_statement(request: DonorRequest, year: int) -> HttpResponse:
    if not FIRST_STATEMENT_YEAR <= year <= local_date(timezone.now()).year:
        raise Http404
    content = receipts.donor_statement_pdf(donor=request.donor, year=year)
    return _pdf_response(content, f"giving-statement-{year}.pdf")


class RecurringAlreadyCancelled(Exception):
    """The monthly gift was no longer open when the cancellation was sent."""


@login_not_required
@never_cache
@donor_required
@require_http_methods(["GET", "POST"])
def donor_recurring_cancel(request: DonorRequest, pk: int) -> HttpResponse:
    """Stop a monthly gift. The page's form is sent once: sent again (a retry, a second tab) it
    shows the gifts page as the first one left it.

    The one-time key is claimed in a transaction that stays open while Stripe is asked (the
    service asks Stripe before it writes): it holds no row lock, only the key, so a copy of the
    form sent meanwhile waits and then finds it done; if Stripe fails, the key is released with
    the rest and the donor may send the same form again."""
    recurring = donor_portal.donor_recurring(donor=request.donor, pk=pk)
    if recurring is None:
        raise Http404
    gifts = reverse("funds:donor-gifts")
    form = OnceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with submission(key=form.cleaned_data[ONCE_FIELD], form="funds.donor-recurring-cancel") as sent:
                if recurring.status not in donor_portal.OPEN_RECURRING_STATUSES:
                    raise RecurringAlreadyCancelled  # cancelled by another form or by Stripe: not ours
                donor_portal.recurring_donation_cancel(recurring=recurring)
                sent.result_url = gifts
        except AlreadySubmitted as done:
            return already_submitted_redirect(request, done, fallback=gifts)
        except RecurringAlreadyCancelled:
            messages.info(request, _("This monthly gift is already cancelled."))
        except RecurringCancelFailed:
            messages.error(request, _("We could not cancel it just now. Nothing was changed; please try again later."))
        else:
            messages.success(request, _("Your monthly gift is cancelled. No further payments will be taken."))
        return redirect(gifts)
    if recurring.status not in donor_portal.OPEN_RECURRING_STATUSES:
        messages.info(request, _("This monthly gift is already cancelled."))
        return redirect(gifts)
    context = {"recurring": recurring, "amount": format_cents(recurring.amount_cents), "form": form}
    status = 422 if request.method == "POST" else 200
    return render(request, "funds/donor/recurring_cancel.html", context, status=status)


urlpatterns = [
    path("donor/", donor_start, name="donor-start"),
    path("donor/code/", donor_code, name="donor-code"),
    path("donor/gifts/", donor_gifts, name="donor-gifts"),
    path("donor/receipts/<int:pk>.pdf", donor_receipt, name="donor-receipt"),
    path("donor/statements/<int:year>.pdf", donor_statement, name="donor-statement"),
    path("donor/recurring/<int:pk>/cancel/", donor_recurring_cancel, name="donor-recurring-cancel"),
    path("donor/signout/", donor_sign_out, name="donor-signout"),
]
