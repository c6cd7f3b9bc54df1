"""Starting a gift through Stripe Checkout, and refunds we start.

A pending ``Donation`` is keyed by the form's nonce, then a Checkout Session is created with the
idempotency key ``checkout:<nonce>``, so a double-clicked button makes one row and one session.
Refunds create our ``Refund`` row first and use ``refund:<id>`` as Stripe's idempotency key; the
money is booked when Stripe's ``charge.refunded`` event arrives (``funds.services.stripe_events``),
so a refund made in the Stripe dashboard and ours are booked the same way, and never twice.
Only ``funds.stripe_gateway`` talks to Stripe.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from funds import stripe_gateway as gateway
from funds.models import Donation, Donor, Fund, RecurringDonation, Refund
from kernel.money import format_cents

logger = logging.getLogger(__name__)


RESUME_SALT = "funds.donation-resume"
# Checkout Sessions expire after 24 hours; the "back to the form" link lives a little longer.
RESUME_WINDOW = timedelta(hours=25)


# --- Amounts --------------------------------------------------------------------------------


def charge_for_gift(*, gift_cents: int, cover_fee: bool) -> int:
    """What to charge so that, after Stripe's fee, the fund receives ``gift_cents``.

    Gross-up: ``ceil((gift + fixed) / (1 - pct))`` in integer arithmetic (never floats).
    """
    if not cover_fee:
        return gift_cents
    basis = 10_000 - settings.STRIPE_FEE_PERCENT_BASIS_POINTS
    return -(-(gift_cents + settings.STRIPE_FEE_FIXED_CENTS) * 10_000 // basis)


# --- "Back to the form" links ---------------------------------------------------------------


def donation_resume_token(donation: Donation) -> str:
    """A signed token for the Checkout cancel link; deterministic, so a retried session create
    sends Stripe identical parameters (its idempotency check compares them)."""
    return signing.Signer(salt=RESUME_SALT).sign(f"{donation.pk}.{int(donation.created_at.timestamp())}")


def donation_from_resume_token(token: str) -> Donation | None:
    """The pending donation a cancel link points to, if the link is genuine and recent."""
    try:
        value = signing.Signer(salt=RESUME_SALT).unsign(token)
    except signing.BadSignature:
        return None
    pk, _sep, created = value.partition(".")
    if not pk.isdigit() or not created.isdigit():
        return None
    donation = (
        Donation.objects.filter(pk=int(pk), status=Donation.Status.PENDING)
        .select_related("donor", "fund", "recurring")
        .first()
    )
    if donation is None or int(donation.created_at.timestamp()) != int(created):
        return None
    if timezone.now() - donation.created_at > RESUME_WINDOW:
        return None
    return donation


# --- Starting a gift ------------------------------------------------------------------------


def _donor_for(*, email: str, name: str) -> Donor:
    donor, created = Donor.objects.get_or_create(email=email.strip().lower(), defaults={"name": name.strip()})
    if not created and not donor.name and name.strip():
        Donor.objects.filter(pk=donor.pk, name="").update(name=name.strip())
        donor.name = name.strip()
    return donor


def _pending_donation(
    *,
    fund: Fund,
    gift_cents: int,
    monthly: bool,
    cover_fee: bool,
    anonymous: bool,
    name: str,
    email: str,
    nonce: str,
) -> Donation:
    related = ("donor", "fund", "recurring")
    existing = Donation.objects.filter(form_nonce=nonce).select_related(*related).first()
    if existing is not None:
        return existing
    donor = _donor_for(email=email, name=name)
    charged = charge_for_gift(gift_cents=gift_cents, cover_fee=cover_fee)
    try:
        with transaction.atomic():
            recurring = None
            if monthly:
                recurring = RecurringDonation.objects.create(
                    donor=donor, fund=fund, amount_cents=gift_cents, cover_fee=cover_fee, anonymous=anonymous
                )
            return Donation.objects.create(
                donor=donor,
                fund=fund,
                recurring=recurring,
                amount_cents=gift_cents,
                fee_covered_cents=charged - gift_cents,
                anonymous=anonymous,
                form_nonce=nonce,
            )
    except IntegrityError:
        # The same form posted twice at once: the first one's row wins.
        return Donation.objects.select_related(*related).get(form_nonce=nonce)


def _checkout_params(donation: Donation, *, language: str) -> dict[str, Any]:
    site = settings.SITE_URL
    # {CHECKOUT_SESSION_ID} is filled in by Stripe; it must reach Stripe unencoded.
    success_url = f"{site}{reverse('funds:donate-thanks')}?session_id={{CHECKOUT_SESSION_ID}}"
    cancel_url = f"{site}{reverse('funds:donate')}?{urlencode({'d': donation_resume_token(donation)})}"
    metadata = {"donation_id": str(donation.pk)}
    if donation.recurring_id:
        metadata["recurring_donation_id"] = str(donation.recurring_id)
    with translation.override(language):
        if donation.recurring_id:
            product_name = _("Monthly donation to %(fund)s") % {"fund": donation.fund.name}
        else:
            product_name = _("Donation to %(fund)s") % {"fund": donation.fund.name}
    return {
        "monthly": bool(donation.recurring_id),
        "amount_cents": donation.charged_cents,
        "currency": settings.DONATION_CURRENCY,
        "product_name": product_name,
        "customer_email": donation.donor.email,
        "client_reference_id": str(donation.pk),
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": language if language in {"en", "es"} else "auto",
    }


def donation_checkout_start(
    *,
    fund: Fund,
    gift_cents: int,
    monthly: bool,
    cover_fee: bool,
    anonymous: bool,
    name: str,
    email: str,
    nonce: str,
    language: str,
) -> str:
    """Start a gift and return the URL to send the donor to (Stripe's hosted Checkout page).

    Side effects: a ``Donor`` (by e-mail) if new; a pending ``Donation`` with ``form_nonce`` (and,
    for a monthly gift, a pending ``RecurringDonation``); a Stripe Checkout Session created with the
    idempotency key ``checkout:<nonce>``, its id stored on the donation. The same nonce posted again
    (a double click) finds the same donation and returns the same session's URL. Nothing is booked:
    the webhook does that once Stripe says the money arrived. Raises ``GatewayError`` if Stripe
    cannot be reached, ``ValidationError`` if the form's session is over.
    """
    donation = _pending_donation(
        fund=fund,
        gift_cents=gift_cents,
        monthly=monthly,
        cover_fee=cover_fee,
        anonymous=anonymous,
        name=name,
        email=email,
        nonce=nonce,
    )
    if donation.stripe_checkout_session_id:
        session = gateway.retrieve_checkout_session(donation.stripe_checkout_session_id)
    else:
        session = gateway.create_checkout_session(
            **_checkout_params(donation, language=language), idempotency_key=f"checkout:{nonce}"
        )
        Donation.objects.filter(pk=donation.pk, stripe_checkout_session_id__isnull=True).update(
            stripe_checkout_session_id=session["id"]
        )
    if session.get("status") == "complete":
        return f"{reverse('funds:donate-thanks')}?{urlencode({'session_id': session['id']})}"
    if session.get("status") != "open" or not session.get("url"):
        raise ValidationError(_("This form has expired. Please fill it in again."))
    return str(session["url"])


def donation_for_session(session_id: str) -> Donation | None:
    """Our donation for a Checkout Session id (for the thank-you page; never marks anything paid)."""
    if not session_id:
        return None
    return Donation.objects.filter(stripe_checkout_session_id=session_id).select_related("fund", "recurring").first()


# --- Refunds started by us -------------------------------------------------------------------


def donation_refund(*, donation: Donation, amount_cents: int, reason: str, by: User) -> Refund:
    """Ask Stripe to give ``amount_cents`` of a paid donation back to the donor.

    Call it outside a database transaction: the ``Refund`` row (status *requested*) is committed
    first, so its id keys the Stripe request (``refund:<id>``) and a retried call never refunds
    twice. Then Stripe is called; the row gets the Stripe refund id and status. Side effects: a
    ``Refund``; a Stripe refund; an ``AccessEvent``.

    The ledger is **not** written here. The money is booked when Stripe's ``charge.refunded`` event
    arrives (key ``charge-refund:<stripe refund id>``) — the same path as a refund made in the Stripe
    dashboard — so every refund is booked exactly once, whoever started it. Raises
    ``ValidationError`` when the amount is not refundable or Stripe refuses.
    """
    with transaction.atomic():
        donation = Donation.objects.select_for_update().get(pk=donation.pk)
        if donation.status != Donation.Status.PAID or not donation.stripe_charge_id:
            raise ValidationError(_("Only a paid donation can be refunded."))
        in_flight = (
            donation.refunds.filter(status=Refund.Status.REQUESTED, stripe_refund_id__isnull=True).aggregate(
                total=Sum("amount_cents")
            )["total"]
            or 0
        )
        refundable = donation.charged_cents - donation.refunded_cents - in_flight
        if amount_cents <= 0 or amount_cents > refundable:
            raise ValidationError(
                {
                    "amount_cents": _("Enter an amount between $0.01 and $%(max)s.")
                    % {"max": format_cents(refundable).lstrip("$")}
                }
            )
        refund = Refund.objects.create(
            donation=donation, amount_cents=amount_cents, reason=reason.strip()[:200], requested_by=by
        )
        if by is not None:
            access_event_record(
                user=by,
                action=AccessEvent.Action.CHANGE,
                object_type="donation",
                object_ref=str(donation.pk),
                detail=f"refund of {amount_cents} cents requested",
            )
    try:
        result = gateway.create_refund(
            charge_id=donation.stripe_charge_id,
            amount_cents=amount_cents,
            idempotency_key=f"refund:{refund.pk}",
            metadata={"refund_id": str(refund.pk), "donation_id": str(donation.pk)},
        )
    except gateway.GatewayError as exc:
        Refund.objects.filter(pk=refund.pk, status=Refund.Status.REQUESTED).update(status=Refund.Status.FAILED)
        raise ValidationError(_("Stripe did not accept the refund: %(error)s") % {"error": exc}) from exc
    status = {"succeeded": Refund.Status.SUCCEEDED, "failed": Refund.Status.FAILED, "canceled": Refund.Status.FAILED}
    # The webhook may have got here first: only fill in what is still blank, move status forward.
    Refund.objects.filter(pk=refund.pk, stripe_refund_id__isnull=True).update(stripe_refund_id=result["id"])
    Refund.objects.filter(pk=refund.pk, status=Refund.Status.REQUESTED).update(
        status=status.get(str(result.get("status")), Refund.Status.REQUESTED)
    )
    refund.refresh_from_db()
    return refund
