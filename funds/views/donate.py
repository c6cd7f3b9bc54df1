"""The public donation page and its thank-you page (no sign-in)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from funds.forms import DonationForm, new_nonce
from funds.services.checkout import (
    CHECKOUT_WINDOW_SECONDS,
    CheckoutThrottled,
    donation_checkout_start,
    donation_for_session,
    donation_from_resume_token,
)
from funds.stripe_gateway import GatewayError
from kernel.client_ip import client_ip
from kernel.money import format_cents


def _page(request: HttpRequest, form: DonationForm, *, status: int = 200, came_back: bool = False) -> HttpResponse:
    return render(request, "funds/donate.html", {"form": form, "came_back": came_back}, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def donate(request: HttpRequest) -> HttpResponse:
    """GET: the form (pre-filled from ``?d=<token>`` when the donor came back from Checkout).
    POST: start the gift and send the donor to Stripe Checkout (303); past the limits on payment
    pages (per client address and for everyone), the form again with the reason (429)."""
    if request.method == "GET":
        token = request.GET.get("d", "")
        gift = donation_from_resume_token(token) if token else None
        # Back from Checkout's "back" link (its cancel URL): nothing was charged, whether or not the
        # form's values could still be kept.
        return _page(request, DonationForm(initial=DonationForm.initial_for(gift)), came_back=bool(token))

    form = DonationForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    data = form.cleaned_data
    try:
        url = donation_checkout_start(
            fund=data["fund"],
            gift_cents=data["gift_cents"],
            monthly=data["frequency"] == "monthly",
            cover_fee=data["cover_fee"],
            anonymous=data["anonymous"],
            name=data["name"],
            email=data["email"],
            nonce=data["nonce"],
            language=get_language() or "en",
            ip_address=client_ip(request),
        )
    except (GatewayError, ValidationError) as exc:
        # A fresh nonce, so that a corrected form starts a new gift rather than resuming this one.
        retry = request.POST.copy()
        retry["nonce"] = new_nonce()
        form = DonationForm(retry)
        form.is_valid()
        if isinstance(exc, CheckoutThrottled):
            form.add_error(None, exc)
            response = _page(request, form, status=429)
            response["Retry-After"] = str(CHECKOUT_WINDOW_SECONDS)
            return response
        if isinstance(exc, ValidationError):
            form.add_error(None, exc)
            return _page(request, form, status=422)
        form.add_error(None, _("We could not reach our payment processor. Nothing was charged; please try again."))
        return _page(request, form, status=503)
    response = HttpResponseRedirect(url)
    response.status_code = 303  # See Other: the browser follows with a GET
    return response


@login_not_required
@require_GET
def donate_thanks(request: HttpRequest) -> HttpResponse:
    """Thank the donor for the gift of a Checkout Session (our donation once the webhook made it, else
    what the session says). Shows, never decides: the webhook marks it paid."""
    donation = donation_for_session(request.GET.get("session_id", ""), ip_address=client_ip(request))
    if donation is None:
        raise Http404
    amount = format_cents(donation.charged_cents)
    return render(request, "funds/thanks.html", {"donation": donation, "amount": amount})


urlpatterns = [
    path("give/", donate, name="donate"),
    path("give/thanks/", donate_thanks, name="donate-thanks"),
]
