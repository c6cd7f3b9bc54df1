"""Starting a gift through Stripe Checkout, and refunds we start.

Starting a gift writes **no database row**: a card tester opening a thousand payment pages leaves
nothing behind. The Checkout Session carries what the gift is in its metadata (fund, amount, the
covered fee, how often, anonymous, the form's one-time key, the donor's name; Stripe has the
e-mail as ``customer_email``), and the ``Donor``, ``Donation`` (and ``RecurringDonation``) rows are
made from the session when Stripe says it was completed (``funds.services.stripe_events``), once.
The session is created with the idempotency key ``checkout:<nonce>`` (the form's one-time key), so
a double-clicked button gets the same session from Stripe. Sessions are limited per client address
and for everyone together (``DONATION_CHECKOUTS_PER_IP_PER_HOUR``, ``DONATION_CHECKOUTS_PER_HOUR``).

Refunds create our ``Refund`` row first and use ``refund:<id>`` as Stripe's idempotency key; the
money is booked when Stripe's ``charge.refunded`` event arrives (``funds.services.stripe_events``),
so a refund made in the Stripe dashboard and ours are booked the same way, and never twice. Stripe
is asked only after the row is committed, never under a row lock; a refund Stripe never answered
is asked again by a sweep under the same key, or ends *failed* (``refunds_retry_stale``).
Only ``funds.stripe_gateway`` talks to Stripe.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from accounts.throttling import address_bucket
from funds import stripe_gateway as gateway
from funds.identity import normalise_donor_email
from funds.models import Donation, Fund, Refund
from funds.stripe_gateway import StripeObject
from kernel.counters import counter_add
from kernel.enqueue import enqueue_now
from kernel.money import format_cents
from kernel.once import submission

logger = logging.getLogger(__name__)


RESUME_SALT = "funds.donation-resume"
# Checkout Sessions expire after 24 hours; the "back to the form" link lives a little longer.
RESUME_WINDOW = timedelta(hours=25)
# Stripe keeps an idempotency key at least 24 hours: the same form's nonce is counted once in that time.
NONCE_MEMORY = timedelta(hours=24)
CHECKOUT_WINDOW_SECONDS = 60 * 60
# The metadata key that marks a Checkout Session as a gift started on our /give/ page.
GIFT_MARKER = "amparo_gift"
GIFT_MARKER_VERSION = "1"
_SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")
# Thank-you pages that have to ask Stripe (the webhook has not arrived yet), per client address.
THANKS_LOOKUPS_PER_IP = 30
THANKS_WINDOW_SECONDS = 10 * 60


class CheckoutThrottled(ValidationError):
    """Too many payment pages were opened (from this address, or by everyone): try later.

    A ``ValidationError`` carrying the message for the donor, so the form shows it."""


# --- Amounts --------------------------------------------------------------------------------


def charge_for_gift(*, gift_cents: int, cover_fee: bool) -> int:
    """What to charge so that, after Stripe's fee, the fund receives ``gift_cents``.

    Gross-up: ``ceil((gift + fixed) / (1 - pct))`` in integer arithmetic (never floats).
    """
    if not cover_fee:
        return gift_cents
    basis = 10_000 - settings.STRIPE_FEE_PERCENT_BASIS_POINTS
    return -(-(gift_cents + settings.STRIPE_FEE_FIXED_CENTS) * 10_000 // basis)


# --- A gift before Stripe confirms it -------------------------------------------------------


@dataclass(frozen=True)
class GiftDonor:
    name: str
    email: str


@dataclass(frozen=True)
class CheckoutGift:
    """A gift as the form and its Checkout Session describe it, before any row exists.

    It reads like a pending ``Donation`` where the thank-you page and the form's "back from
    Checkout" pre-filling read one (``charged_cents``, ``fund``, ``donor``, ``status``...).
    """

    fund: Fund
    amount_cents: int
    fee_covered_cents: int
    monthly: bool
    anonymous: bool
    donor: GiftDonor
    nonce: str
    status: str = Donation.Status.PENDING

    @property
    def charged_cents(self) -> int:
        return self.amount_cents + self.fee_covered_cents

    @property
    def fund_id(self) -> int:
        return self.fund.pk

    @property
    def recurring_id(self) -> int | None:
        """No ``RecurringDonation`` exists before Stripe confirms; truthy for a monthly gift, as
        ``DonationForm.initial_for`` and templates read ``Donation.recurring_id``."""
        return -1 if self.monthly else None

    def metadata(self) -> dict[str, str]:
        """What the Checkout Session carries, for the webhook to make the rows from (values are
        strings, as Stripe stores them)."""
        return {
            GIFT_MARKER: GIFT_MARKER_VERSION,
            "form_nonce": self.nonce,
            "fund_id": str(self.fund.pk),
            "gift_cents": str(self.amount_cents),
            "fee_covered_cents": str(self.fee_covered_cents),
            "frequency": "monthly" if self.monthly else "once",
            "anonymous": "1" if self.anonymous else "0",
            "donor_name": self.donor.name[:200],
        }


def _metadata_int(metadata: dict[str, Any], key: str) -> int | None:
    value = str(metadata.get(key) or "")
    return int(value) if value.isdigit() and len(value) <= 12 else None


def checkout_gift_from_session(session: StripeObject) -> CheckoutGift | None:
    """The gift a Checkout Session started on /give/ describes, or ``None`` for a session that is
    not one of ours (or whose fund is gone). No side effects."""
    metadata = session.get("metadata") or {}
    if metadata.get(GIFT_MARKER) != GIFT_MARKER_VERSION:
        return None
    fund_id = _metadata_int(metadata, "fund_id")
    gift = _metadata_int(metadata, "gift_cents")
    fee = _metadata_int(metadata, "fee_covered_cents")
    nonce = str(metadata.get("form_nonce") or "")
    email = str(session.get("customer_email") or (session.get("customer_details") or {}).get("email") or "")
    if fund_id is None or not gift or fee is None or not nonce or not email:
        return None
    fund = Fund.objects.filter(pk=fund_id).first()
    if fund is None:
        return None
    return CheckoutGift(
        fund=fund,
        amount_cents=gift,
        fee_covered_cents=fee,
        monthly=metadata.get("frequency") == "monthly",
        anonymous=metadata.get("anonymous") == "1",
        donor=GiftDonor(name=str(metadata.get("donor_name") or "").strip(), email=normalise_donor_email(email)),
        nonce=nonce,
    )


# --- "Back to the form" links ---------------------------------------------------------------


def _resume_key(nonce: str) -> str:
    return "funds:checkout-resume:" + hashlib.sha256(nonce.encode()).hexdigest()


def donation_resume_token(nonce: str) -> str:
    """A signed token for the Checkout cancel link; deterministic, so a repeated session create
    sends Stripe identical parameters (its idempotency check compares them)."""
    return signing.Signer(salt=RESUME_SALT).sign(nonce)


def donation_from_resume_token(token: str) -> CheckoutGift | None:
    """The gift a cancel link points to, if the link is genuine, recent, and the gift was not paid.

    What the donor typed is kept in the cache for ``RESUME_WINDOW`` (never in the link, never in
    the database); a link whose gift has since become a donation row pre-fills nothing.
    """
    try:
        nonce = signing.Signer(salt=RESUME_SALT).unsign(token)
    except signing.BadSignature:
        return None
    values = cache.get(_resume_key(nonce))
    if not isinstance(values, dict) or Donation.objects.filter(form_nonce=nonce).exists():
        return None
    fund_id = values.get("fund_id")
    if not isinstance(fund_id, int):
        return None
    fund = Fund.objects.filter(pk=fund_id, active=True, accepts_donations=True).first()
    if fund is None:
        return None
    return CheckoutGift(
        fund=fund,
        amount_cents=int(values["gift_cents"]),
        fee_covered_cents=int(values["fee_covered_cents"]),
        monthly=bool(values["monthly"]),
        anonymous=bool(values["anonymous"]),
        donor=GiftDonor(name=str(values["name"]), email=str(values["email"])),
        nonce=nonce,
    )


def _remember_for_resume(gift: CheckoutGift) -> None:
    values = {
        "fund_id": gift.fund.pk,
        "gift_cents": gift.amount_cents,
        "fee_covered_cents": gift.fee_covered_cents,
        "monthly": gift.monthly,
        "anonymous": gift.anonymous,
        "name": gift.donor.name,
        "email": gift.donor.email,
    }
    cache.set(_resume_key(gift.nonce), values, timeout=int(RESUME_WINDOW.total_seconds()))


# --- Limits ---------------------------------------------------------------------------------


def checkout_clock() -> float:
    """Seconds since the epoch; the one place tests move the clock of the checkout limits."""
    return time.time()


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _count(key: str, *, window: int) -> int:
    """Add one to a fixed-window counter in the shared cache and return the new count."""
    return counter_add(key, timeout=window)


def _checkout_budget(*, nonce: str, ip_address: str | None) -> None:
    """Count one new Checkout Session against the per-address and the global hourly limits.

    The same form sent again (its nonce seen in the last 24 hours) gets the same session from
    Stripe and is not counted again. Raises ``CheckoutThrottled`` (and forgets the nonce, so that
    the same form can be counted when it is sent later).
    """
    nonce_key = f"funds:checkout-nonce:{_hashed(nonce)}"
    if not cache.add(nonce_key, 1, timeout=int(NONCE_MEMORY.total_seconds())):
        return
    hour = int(checkout_clock() // CHECKOUT_WINDOW_SECONDS)
    window = 2 * CHECKOUT_WINDOW_SECONDS
    if ip_address is not None:
        place = _hashed(address_bucket(ip_address))  # an IPv6 client's whole /64 is one place
        per_ip = _count(f"funds:checkout-ip:{place}:{hour}", window=window)
        if per_ip > settings.DONATION_CHECKOUTS_PER_IP_PER_HOUR:
            cache.delete(nonce_key)
            raise CheckoutThrottled(
                _(
                    "Too many payment pages were opened from your network in the last hour. Please try again "
                    "later, or write to us to give by check or bank transfer."
                ),
                code="throttled",
            )
    if _count(f"funds:checkout-all:{hour}", window=window) > settings.DONATION_CHECKOUTS_PER_HOUR:
        cache.delete(nonce_key)
        logger.warning("donation checkouts: the hourly limit for everyone was reached")
        raise CheckoutThrottled(
            _("Our donation page is very busy right now. Nothing was charged; please try again in an hour."),
            code="throttled",
        )


# --- Starting a gift ------------------------------------------------------------------------


def _checkout_params(gift: CheckoutGift, *, language: str) -> dict[str, Any]:
    site = settings.SITE_URL
    # {CHECKOUT_SESSION_ID} is filled in by Stripe; it must reach Stripe unencoded.
    success_url = f"{site}{reverse('funds:donate-thanks')}?session_id={{CHECKOUT_SESSION_ID}}"
    cancel_url = f"{site}{reverse('funds:donate')}?{urlencode({'d': donation_resume_token(gift.nonce)})}"
    with translation.override(language):
        if gift.monthly:
            product_name = _("Monthly donation to %(fund)s") % {"fund": gift.fund.name}
        else:
            product_name = _("Donation to %(fund)s") % {"fund": gift.fund.name}
    return {
        "monthly": gift.monthly,
        "amount_cents": gift.charged_cents,
        "currency": settings.DONATION_CURRENCY,
        "product_name": product_name,
        "customer_email": gift.donor.email,
        "client_reference_id": gift.nonce,
        "metadata": gift.metadata(),
        # Copied to the PaymentIntent or Subscription: only the key that finds the session again.
        "payment_metadata": {"form_nonce": gift.nonce},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": language if language in {"en", "es"} else "auto",
    }


def _thanks_url(session_id: str) -> str:
    return f"{reverse('funds:donate-thanks')}?{urlencode({'session_id': session_id})}"


# Hosts a payment page may be served from over plain http: a fake Stripe on this machine only.
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def _origin_for_log(url: str) -> str:
    scheme, _sep, rest = url.partition("://")
    return f"{scheme[:20]}://{rest.split('/', 1)[0].rpartition('@')[2][:100]}"


def checkout_url_allowed(url: str) -> bool:
    """Whether ``url`` (a Checkout Session's ``url`` from Stripe's API) may be sent to a donor.

    ``https://`` on a host of ``STRIPE_CHECKOUT_HOSTS`` (default port only); ``http://`` only on
    127.0.0.1 or localhost, with DEBUG on or the host listed (a fake Stripe in tests). No user
    name or password in the address, nothing a browser reads differently from Python (``\\``,
    spaces, control characters). ASVS 3.7.2: we never send a donor off-site to an unchecked address.
    """
    if not url.isprintable() or any(char in url for char in "\\ \t"):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    if not host or parts.username is not None or parts.password is not None:
        return False
    allowed = {name.strip().lower() for name in settings.STRIPE_CHECKOUT_HOSTS}
    if parts.scheme == "https":
        return host in allowed and port in (None, 443)
    if parts.scheme == "http":
        return host in _LOCAL_HOSTS and (settings.DEBUG or host in allowed)
    return False


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
    ip_address: str | None = None,
) -> str:
    """Start a gift and return the URL to send the donor to (Stripe's hosted Checkout page).

    Side effects: a Stripe Checkout Session created with the idempotency key ``checkout:<nonce>``
    (the same nonce posted again, a double click, gets the same session back from Stripe); the
    form's values kept in the cache for the cancel link; the limit counters in the cache. **No
    database row**: the webhook makes the donor and the donation once Stripe confirms the session.
    A nonce whose gift is already a donation goes to its thank-you page. Raises
    ``CheckoutThrottled`` past the limits (``ip_address``: the client, from ``kernel.client_ip``),
    ``GatewayError`` if Stripe cannot be reached or its payment page is not on an allowed host
    (``checkout_url_allowed``; a WARNING is logged), ``ValidationError`` if the form's session is over
    or the same nonce came with other values.
    """
    done = Donation.objects.filter(form_nonce=nonce).exclude(stripe_checkout_session_id=None).first()
    if done is not None:
        return _thanks_url(str(done.stripe_checkout_session_id))
    charged = charge_for_gift(gift_cents=gift_cents, cover_fee=cover_fee)
    gift = CheckoutGift(
        fund=fund,
        amount_cents=gift_cents,
        fee_covered_cents=charged - gift_cents,
        monthly=monthly,
        anonymous=anonymous,
        donor=GiftDonor(name=name.strip(), email=normalise_donor_email(email)),
        nonce=nonce,
    )
    _checkout_budget(nonce=nonce, ip_address=ip_address)
    try:
        session = gateway.create_checkout_session(
            **_checkout_params(gift, language=language), idempotency_key=f"checkout:{nonce}"
        )
    except gateway.IdempotencyConflict as exc:
        # The same form sent again with other values (the donor went back and changed them).
        raise ValidationError(_("This form has expired. Please fill it in again."), code="expired") from exc
    _remember_for_resume(gift)
    if session.get("status") == "complete":
        return _thanks_url(str(session["id"]))
    if session.get("status") != "open" or not session.get("url"):
        raise ValidationError(_("This form has expired. Please fill it in again."), code="expired")
    url = str(session["url"])
    if not checkout_url_allowed(url):
        # Only where it pointed: the rest of a payment page's address is not for the log.
        logger.warning(
            "Stripe returned a Checkout URL outside STRIPE_CHECKOUT_HOSTS (%r); the donor was not sent there.",
            _origin_for_log(url),
        )
        raise gateway.GatewayError("checkout URL on a host we do not allow", code="checkout_host")
    return url


def _thanks_lookup_allowed(ip_address: str | None) -> bool:
    if ip_address is None:
        return True  # never one bucket for everyone: that would let one visitor hide every thank-you page
    window = int(checkout_clock() // THANKS_WINDOW_SECONDS)
    key = f"funds:thanks-ip:{_hashed(address_bucket(ip_address))}:{window}"
    return _count(key, window=2 * THANKS_WINDOW_SECONDS) <= THANKS_LOOKUPS_PER_IP


def donation_for_session(session_id: str, *, ip_address: str | None = None) -> Donation | CheckoutGift | None:
    """What the thank-you page shows for a Checkout Session id: our donation once the webhook made
    it, else the gift the session describes (asked of Stripe; pending). Never marks anything paid.

    ``None`` for a session that is not one of ours, or that Stripe does not know, or when this
    address has asked about too many sessions lately (``THANKS_LOOKUPS_PER_IP`` per 10 minutes:
    every lookup costs a call to Stripe). Side effect: that counter, in the cache.
    """
    if not session_id or not _SESSION_ID.match(session_id):
        return None
    donation = (
        Donation.objects.filter(stripe_checkout_session_id=session_id).select_related("fund", "recurring").first()
    )
    if donation is not None:
        return donation
    if not _thanks_lookup_allowed(ip_address):
        return None
    try:
        session = gateway.retrieve_checkout_session(session_id)
    except gateway.GatewayError:
        return None
    return checkout_gift_from_session(session)


# --- Refunds started by us -------------------------------------------------------------------

REFUND_ANSWERS = {
    "succeeded": Refund.Status.SUCCEEDED,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.FAILED,
}
# Stripe keeps an idempotency key for at least 24 hours. A refund still unanswered after this long
# is not asked again under its key (Stripe might have forgotten it and refund a second time): we
# look for it among the charge's refunds instead.
REFUND_KEY_LIFETIME = timedelta(hours=23)


REFUND_FORM = "funds.refund"  # the one-time keys of finance's refund form (``kernel.once``)


def donation_refund(*, donation: Donation, amount_cents: int, reason: str, by: User, once: str | None = None) -> Refund:
    """Ask Stripe to give ``amount_cents`` of a paid donation back to the donor.

    Call it outside a database transaction (it refuses to run inside one): the ``Refund`` row
    (status *requested*, attempt 1) is committed first, under the donation's row lock, so its id
    keys the Stripe request (``refund:<id>``) and a retried call never refunds twice. Then, with no
    row locked, Stripe is called; then its answer is recorded (``_refund_ask_stripe``). Side effects:
    a ``Refund``; a Stripe refund; an ``AccessEvent``.

    The ledger is **not** written here. The money is booked when Stripe's ``charge.refunded`` event
    arrives (key ``charge-refund:<stripe refund id>``) — the same path as a refund made in the Stripe
    dashboard — so every refund is booked exactly once, whoever started it. Raises
    ``ValidationError`` when the amount is not refundable, when Stripe refuses (the refund is then
    *failed*), or when Stripe could not be reached (the refund stays *requested*, holding its
    amount, and ``refunds_retry_stale`` asks again in a few minutes).

    ``once`` is the refund form's one-time key: it is claimed in the first transaction, with the
    ``Refund`` row, so the same form sent again (a retry, a double click, two tabs) raises
    ``kernel.once.AlreadySubmitted`` before anything is checked or asked of Stripe — one row, one
    Stripe refund — and another user's copy of the key raises ``kernel.once.ForeignKey``.
    """
    claim = submission(key=once, form=REFUND_FORM, user=by) if once else nullcontext()
    with transaction.atomic(durable=True), claim:
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
            donation=donation,
            amount_cents=amount_cents,
            reason=reason.strip()[:200],
            requested_by=by,
            attempts=1,
            last_attempt_at=timezone.now(),
        )
        if by is not None:
            access_event_record(
                user=by,
                action=AccessEvent.Action.CHANGE,
                object_type="donation",
                object_ref=str(donation.pk),
                detail=f"refund of {amount_cents} cents requested",
            )
    refund, error = _refund_ask_stripe(refund)
    if error is not None and refund.status == Refund.Status.FAILED:
        raise ValidationError(_("Stripe did not accept the refund: %(error)s") % {"error": error}) from error
    if error is not None:
        raise ValidationError(
            _(
                "Stripe could not be reached. The refund is kept and will be sent to Stripe again automatically "
                "in a few minutes: do not ask for it again."
            )
        ) from error
    return refund


def _refund_ask_stripe(refund: Refund) -> tuple[Refund, gateway.GatewayError | None]:
    """Send a committed *requested* refund to Stripe under its key ``refund:<id>`` and record the answer.

    Stripe is called with no transaction open: nothing is locked while we wait for it. Returns the
    refund as recorded and Stripe's error, if any. An error Stripe says is final (``refused``), or
    any error on the last allowed attempt (``REFUND_MAX_ATTEMPTS``), marks the refund *failed*;
    otherwise it stays *requested* for the sweep.
    """
    donation = refund.donation
    try:
        result = gateway.create_refund(
            charge_id=donation.stripe_charge_id,
            amount_cents=refund.amount_cents,
            idempotency_key=f"refund:{refund.pk}",
            metadata={"refund_id": str(refund.pk), "donation_id": str(donation.pk)},
        )
    except gateway.GatewayError as exc:
        final = exc.refused or refund.attempts >= settings.REFUND_MAX_ATTEMPTS
        _refund_record_error(refund=refund, error=exc, final=final)
        refund.refresh_from_db()
        return refund, exc
    _refund_record_answer(refund=refund, stripe_refund=result)
    refund.refresh_from_db()
    return refund, None


def _error_words(error: Exception) -> str:
    """What finance sees of a failed refund: Stripe's message and code (Stripe's words, about the
    charge and the amount; never our data)."""
    code = getattr(error, "code", None)
    return (f"{error} ({code})" if code else str(error))[:500] or error.__class__.__name__


@transaction.atomic
def _refund_record_answer(*, refund: Refund, stripe_refund: StripeObject) -> None:
    """Record Stripe's refund on our row. The webhook may have got here first: only what is still
    blank is filled in, and the status only moves forward from *requested*."""
    Refund.objects.filter(pk=refund.pk, stripe_refund_id__isnull=True).update(
        stripe_refund_id=stripe_refund["id"], error=""
    )
    status = REFUND_ANSWERS.get(str(stripe_refund.get("status")), Refund.Status.REQUESTED)
    if status == Refund.Status.FAILED:
        _refund_mark_failed(refund_id=refund.pk, error=str(stripe_refund.get("failure_reason") or "failed"))
    else:
        Refund.objects.filter(pk=refund.pk, status=Refund.Status.REQUESTED).update(status=status)


def _refund_record_error(*, refund: Refund, error: gateway.GatewayError, final: bool) -> None:
    if final:
        _refund_mark_failed(refund_id=refund.pk, error=_error_words(error), unanswered_only=True)
    else:
        Refund.objects.filter(pk=refund.pk, status=Refund.Status.REQUESTED).update(error=_error_words(error))
    logger.warning(
        "refund %s of donation %s: attempt %s failed (%s)%s",
        refund.pk,
        refund.donation_id,
        refund.attempts,
        error.__class__.__name__,
        "; marked failed" if final else "; will be retried",
    )


def _refund_mark_failed(*, refund_id: int, error: str, unanswered_only: bool = False) -> bool:
    """A *requested* refund becomes *failed*: its amount no longer counts as on its way."""
    refunds = Refund.objects.filter(pk=refund_id, status=Refund.Status.REQUESTED)
    if unanswered_only:
        refunds = refunds.filter(stripe_refund_id__isnull=True)
    return bool(refunds.update(status=Refund.Status.FAILED, failed_at=timezone.now(), error=error[:500]))


def refund_retry(*, refund_id: int) -> Refund | None:
    """Ask Stripe again, under the same idempotency key ``refund:<id>``, for a refund left *requested*
    with no Stripe answer (the web process died before or while it asked, or Stripe was unreachable).

    Under the refund's row lock (skipped if another worker holds it) the attempt is counted and
    committed; then Stripe is called with nothing locked; then its answer is recorded. Stripe
    answers a key it has seen with the refund it made then, so however many times this runs there is
    one refund at Stripe. Side effects: ``attempts``, ``last_attempt_at``; Stripe's refund id and
    status, or ``error``; *failed* (``failed_at``; the amount free again) when Stripe refuses, after
    ``REFUND_MAX_ATTEMPTS`` attempts, or when ``REFUND_KEY_LIFETIME`` has passed and Stripe's charge
    shows no refund of ours. Returns the refund, or ``None`` when there is nothing to do (answered
    meanwhile, or tried less than ``REFUND_RETRY_AFTER_MINUTES`` ago).
    """
    now = timezone.now()
    wait = timedelta(minutes=settings.REFUND_RETRY_AFTER_MINUTES)
    with transaction.atomic(durable=True):
        refund = (
            Refund.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("donation")
            .filter(pk=refund_id, status=Refund.Status.REQUESTED, stripe_refund_id__isnull=True)
            .first()
        )
        if refund is None or (refund.last_attempt_at is not None and refund.last_attempt_at > now - wait):
            return None
        if refund.attempts >= settings.REFUND_MAX_ATTEMPTS:
            _refund_mark_failed(
                refund_id=refund.pk, error=refund.error or "no answer from Stripe", unanswered_only=True
            )
            refund.refresh_from_db()
            return refund
        refund.attempts += 1
        refund.last_attempt_at = now
        refund.save(update_fields=["attempts", "last_attempt_at"])
    if refund.created_at < now - REFUND_KEY_LIFETIME:
        return _refund_find_at_stripe(refund)
    refund, _error = _refund_ask_stripe(refund)
    return refund


def _refund_find_at_stripe(refund: Refund) -> Refund:
    """A refund too old to ask for again under its key: Stripe's charge says whether it was made."""
    try:
        charge = gateway.retrieve_charge(str(refund.donation.stripe_charge_id), expand=["refunds"])
    except gateway.GatewayError as exc:
        _refund_record_error(refund=refund, error=exc, final=refund.attempts >= settings.REFUND_MAX_ATTEMPTS)
        refund.refresh_from_db()
        return refund
    for stripe_refund in (charge.get("refunds") or {}).get("data") or []:
        if str((stripe_refund.get("metadata") or {}).get("refund_id") or "") == str(refund.pk):
            _refund_record_answer(refund=refund, stripe_refund=stripe_refund)
            break
    else:
        _refund_mark_failed(
            refund_id=refund.pk, error="Stripe has no refund of ours on this charge", unanswered_only=True
        )
    refund.refresh_from_db()
    return refund


def refunds_retry_stale(*, limit: int = 200) -> int:
    """Queue a retry (``funds.tasks.retry_refund``) for every refund *requested* more than
    ``REFUND_RETRY_AFTER_MINUTES`` ago that Stripe has not answered and nobody tried since then.

    The safety net for a web process that died between committing the refund and asking Stripe, and
    for a Stripe that could not be reached. Each retry is bounded (``refund_retry``), so a refund
    ends *succeeded* or *failed*, never *requested* for good. Returns how many were queued.
    """
    cutoff = timezone.now() - timedelta(minutes=settings.REFUND_RETRY_AFTER_MINUTES)
    stale = list(
        Refund.objects.filter(status=Refund.Status.REQUESTED, stripe_refund_id__isnull=True, created_at__lt=cutoff)
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=cutoff))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in stale:
        enqueue_now("funds.tasks.retry_refund", refund_id=pk)
    return len(stale)
