"""The donor portal: password-less sign-in by e-mailed code, and what a signed-in donor may do.

A donor is not a staff user and never signs in through ``django.contrib.auth``: the session
holds only the donor's id under ``DONOR_SESSION_KEY``, so a donor session passes no staff
check. The one-time code is never stored and never travels through the broker: it is derived
from a random salt with a keyed HMAC (``SECRET_KEY``); the session keeps the salt, its expiry and
an attempt counter, for the one address it was sent to, and the e-mail task receives the donor's
id and the salt and works the code out itself in the worker.

Limits, counted in the shared cache by e-mail address (hashed) and client IP (``kernel.client_ip``):
codes asked for per address + IP and per IP (15 minutes); per e-mail address from every place
together (an hour), so that many IPs cannot ask for code after code; wrong codes per e-mail
address (a day). As for staff, the per-address limits count only requests and wrong codes from
places the donor has not signed in from before: an attacker can slow a donor's sign-in from a
new place, never block it from the donor's own computer.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.throttling import address_bucket
from funds.identity import donor_email_index, normalise_donor_email
from funds.models import Donation, Donor, RecurringDonation
from funds.stripe_gateway import GatewayError, cancel_subscription
from kernel.counters import counter_add
from kernel.enqueue import enqueue_on_commit

DONOR_SESSION_KEY = "amparo_donor_id"
CHALLENGE_SESSION_KEY = "amparo_donor_code"
CODE_VALID_SECONDS = 10 * 60
MAX_ATTEMPTS = 5
REQUEST_WINDOW_SECONDS = 15 * 60
REQUESTS_PER_ADDRESS_AND_IP = 5
REQUESTS_PER_IP = 20  # someone trying many addresses from one place
DONOR_WINDOW_SECONDS = 60 * 60
REQUESTS_PER_DONOR = 10  # per e-mail address and hour, from places the donor has not signed in from
WRONG_CODES_WINDOW_SECONDS = 24 * 60 * 60
WRONG_CODES_PER_DONOR = 15  # per e-mail address and day, from places the donor has not signed in from
KNOWN_PLACES_SECONDS = 180 * 24 * 60 * 60
KNOWN_PLACES_KEPT = 20
SUBJECT_PREFIX = "[Amparo] "
_HMAC_SALT = "amparo.funds.donor-code"

# Gifts shown to a donor: everything that was ever charged (not pending or failed checkouts).
SHOWN_STATUSES = (
    Donation.Status.PAID,
    Donation.Status.REFUNDED,
    Donation.Status.DISPUTED,
    Donation.Status.LOST,
)
OPEN_RECURRING_STATUSES = (
    RecurringDonation.Status.PENDING,
    RecurringDonation.Status.ACTIVE,
    RecurringDonation.Status.PAST_DUE,
)


class CodeRequestThrottled(Exception):
    """Too many codes asked for (from this place, or for this address); try again in ``minutes``."""

    def __init__(self, minutes: int = REQUEST_WINDOW_SECONDS // 60) -> None:
        super().__init__(minutes)
        self.minutes = minutes


class CodeRejected(Exception):
    """The code does not sign in. ``reason``: ``missing``, ``wrong``, ``expired``, ``locked`` (this
    code had too many tries) or ``paused`` (this e-mail address had too many wrong codes today)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecurringCancelFailed(Exception):
    """Stripe did not confirm the cancellation; nothing was changed here."""


@dataclass(frozen=True)
class PendingSignIn:
    email: str
    expires_at: float
    attempts_left: int


def code_clock() -> float:
    """Seconds since the epoch; the one place tests move the clock."""
    return time.time()


def _code_for(salt: str) -> str:
    """The 6-digit code a salt stands for (only someone with ``SECRET_KEY`` can work it out)."""
    digest = salted_hmac(_HMAC_SALT + ".code", salt, algorithm="sha256").digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _count_request(key: str, limit: int, *, window: int = REQUEST_WINDOW_SECONDS) -> None:
    if counter_add(key, timeout=window) > limit:
        raise CodeRequestThrottled(minutes=window // 60)


def _place(ip_address: str | None) -> str:
    """A client place as kept for the donor: a keyed hash of the address, not the address."""
    return salted_hmac(_HMAC_SALT + ".place", address_bucket(ip_address), algorithm="sha256").hexdigest()[:32]


def _known_places_key(email: str) -> str:
    return f"donor-code:known:{_hashed(email)}"


def _is_known_place(email: str, ip_address: str | None) -> bool:
    return ip_address is not None and _place(ip_address) in (cache.get(_known_places_key(email)) or [])


def _remember_place(email: str, ip_address: str | None) -> None:
    if ip_address is None:
        return
    places = [p for p in cache.get(_known_places_key(email)) or [] if p != _place(ip_address)]
    places = [_place(ip_address), *places][:KNOWN_PLACES_KEPT]
    cache.set(_known_places_key(email), places, timeout=KNOWN_PLACES_SECONDS)


def _donor_window(seconds: int) -> int:
    return int(code_clock() // seconds)


def _throttle(email: str, ip_address: str | None) -> None:
    ip = address_bucket(ip_address)  # an IPv6 client's whole /64 is one place
    _count_request(f"donor-code:pair:{_hashed(f'{email}|{ip}')}", REQUESTS_PER_ADDRESS_AND_IP)
    _count_request(f"donor-code:ip:{_hashed(ip)}", REQUESTS_PER_IP)
    if not _is_known_place(email, ip_address):
        window = _donor_window(DONOR_WINDOW_SECONDS)
        _count_request(
            f"donor-code:donor:{_hashed(email)}:{window}",
            REQUESTS_PER_DONOR,
            window=DONOR_WINDOW_SECONDS,
        )


def _wrong_codes_key(email: str) -> str:
    return f"donor-code:wrong:{_hashed(email)}:{_donor_window(WRONG_CODES_WINDOW_SECONDS)}"


def _paused(email: str, ip_address: str | None) -> bool:
    if _is_known_place(email, ip_address):
        return False
    return int(cache.get(_wrong_codes_key(email)) or 0) >= WRONG_CODES_PER_DONOR


def _count_wrong_code(email: str, ip_address: str | None) -> None:
    if _is_known_place(email, ip_address):
        return
    key = _wrong_codes_key(email)
    counter_add(key, timeout=WRONG_CODES_WINDOW_SECONDS)


@transaction.atomic
def donor_code_request(*, session: SessionBase, email: str, ip_address: str | None) -> None:
    """Start a donor sign-in for ``email``: issue a one-time 6-digit code.

    Side effects: request counters in the cache (per address + IP, per IP, and per address from
    places the donor has not signed in from); a pending sign-in in the session (replacing any
    earlier one); if the address has gifts, the task ``funds.tasks.send_donor_code`` after commit,
    with the donor's id and the salt (never the code, nor a rendered e-mail). The caller answers the
    same whether or not a donor exists, so nobody learns who gives.

    Raises ``CodeRequestThrottled`` past the limits (nothing is sent or stored then).
    """
    email = normalise_donor_email(email)
    _throttle(email, ip_address)
    donor = (
        Donor.objects.filter(email_index=donor_email_index(email), donations__paid_at__isnull=False).distinct().first()
    )
    salt = secrets.token_hex(16)
    session[CHALLENGE_SESSION_KEY] = {
        "email": email,
        "donor_id": donor.pk if donor else None,
        "salt": salt,
        "expires_at": code_clock() + CODE_VALID_SECONDS,
        "attempts": 0,
    }
    if donor is None:
        return
    enqueue_on_commit("funds.tasks.send_donor_code", donor_id=donor.pk, salt=salt, language=get_language())


def donor_code_send(*, donor_id: int, salt: str, language: str | None = None) -> bool:
    """E-mail a donor the code their salt stands for (run by the worker); False if the donor is gone.

    The subject names no one (it shows on lock screens); the body has the code and how long it lasts.
    """
    donor = Donor.objects.filter(pk=donor_id).first()
    if donor is None:
        return False
    with translation.override(language or settings.LANGUAGE_CODE):
        body = render_to_string(
            "funds/email/donor_code.txt",
            {
                "code": _code_for(salt),
                "valid_minutes": CODE_VALID_SECONDS // 60,
                "legal_name": settings.FUND_LEGAL_NAME,
            },
        )
        subject = SUBJECT_PREFIX + _("Your sign-in code")
    EmailMultiAlternatives(subject=subject, body=body, to=[donor.email], from_email=settings.DEFAULT_FROM_EMAIL).send()
    return True


def donor_pending_sign_in(session: SessionBase) -> PendingSignIn | None:
    challenge = session.get(CHALLENGE_SESSION_KEY)
    if not challenge:
        return None
    return PendingSignIn(
        email=challenge["email"],
        expires_at=challenge["expires_at"],
        attempts_left=max(MAX_ATTEMPTS - challenge["attempts"], 0),
    )


def donor_code_verify(*, session: SessionBase, code: str, ip_address: str | None = None) -> Donor:
    """Finish a donor sign-in with the code from the e-mail.

    Side effects: the attempt is counted in the session, and a wrong code against the e-mail
    address (in the cache, unless ``ip_address`` is a place the donor signed in from before); on
    success the session key is rotated, the pending sign-in removed, ``DONOR_SESSION_KEY`` set to
    the donor's id and the place remembered (hashed) for the donor. An expired code is removed.
    After ``MAX_ATTEMPTS`` wrong codes every further attempt is refused, even the right code,
    until a new code is requested; after ``WRONG_CODES_PER_DONOR`` wrong codes for the address in
    a day, codes from new places are refused until the next day.

    Raises ``CodeRejected``.
    """
    challenge = session.get(CHALLENGE_SESSION_KEY)
    if not challenge:
        raise CodeRejected("missing")
    email = challenge["email"]
    if challenge["attempts"] >= MAX_ATTEMPTS:
        raise CodeRejected("locked")
    if code_clock() > challenge["expires_at"]:
        del session[CHALLENGE_SESSION_KEY]
        raise CodeRejected("expired")
    if _paused(email, ip_address):
        del session[CHALLENGE_SESSION_KEY]
        raise CodeRejected("paused")
    challenge["attempts"] += 1
    session[CHALLENGE_SESSION_KEY] = challenge
    code = "".join(code.split())
    matches = constant_time_compare(_code_for(challenge["salt"]), code)
    donor = Donor.objects.filter(pk=challenge["donor_id"]).first() if matches and challenge["donor_id"] else None
    if donor is None:
        _count_wrong_code(email, ip_address)
        raise CodeRejected("locked" if challenge["attempts"] >= MAX_ATTEMPTS else "wrong")
    session.cycle_key()
    del session[CHALLENGE_SESSION_KEY]
    session[DONOR_SESSION_KEY] = donor.pk
    _remember_place(email, ip_address)
    return donor


def donor_from_session(session: SessionBase) -> Donor | None:
    donor_id = session.get(DONOR_SESSION_KEY)
    if donor_id is None:
        return None
    return Donor.objects.filter(pk=donor_id).first()


def donor_sign_out(*, session: SessionBase) -> None:
    """Side effects: the donor id and any pending sign-in leave the session; its key is rotated."""
    session.pop(DONOR_SESSION_KEY, None)
    session.pop(CHALLENGE_SESSION_KEY, None)
    session.cycle_key()


# --- What a donor sees ------------------------------------------------------------------------


def donor_gifts(*, donor: Donor) -> QuerySet[Donation]:
    """The donor's charged gifts, newest first, with their funds (one query)."""
    return (
        Donation.objects.filter(donor=donor, status__in=SHOWN_STATUSES)
        .select_related("fund")
        .order_by("-paid_at", "-id")
    )


def donor_monthly_gifts(*, donor: Donor) -> QuerySet[RecurringDonation]:
    """The donor's monthly gifts, running or cancelled (a cancelled one stays in the list, marked so):
    the running ones first, then the cancelled ones, latest first."""
    return (
        RecurringDonation.objects.filter(
            donor=donor, status__in=[*OPEN_RECURRING_STATUSES, RecurringDonation.Status.CANCELLED]
        )
        .select_related("fund")
        .order_by(F("cancelled_at").desc(nulls_first=True), "-created_at", "-id")
    )


def donor_donation(*, donor: Donor, pk: int) -> Donation | None:
    """One of the donor's own gifts, or None (another donor's gift is the same as no gift)."""
    return Donation.objects.filter(donor=donor, pk=pk, status__in=SHOWN_STATUSES).first()


def donor_recurring(*, donor: Donor, pk: int) -> RecurringDonation | None:
    return RecurringDonation.objects.filter(donor=donor, pk=pk).select_related("fund").first()


# --- Cancelling a monthly gift ----------------------------------------------------------------


def recurring_donation_cancel(*, recurring: RecurringDonation) -> bool:
    """Stop a monthly gift at the donor's request. Returns False if it was already cancelled.

    Side effects: the Stripe subscription is cancelled through
    ``funds.stripe_gateway.cancel_subscription`` (idempotency key
    ``cancel-subscription:<pk>``, so a double submit is one cancellation); once Stripe has
    confirmed, the status becomes *cancelled* and ``cancelled_at`` is set. The
    ``customer.subscription.deleted`` webhook that follows finds it cancelled already.
    A monthly gift still waiting for its first payment (no subscription yet) is only marked.

    Raises ``RecurringCancelFailed`` if Stripe did not confirm; nothing changes here then.
    """
    if recurring.status == RecurringDonation.Status.CANCELLED:
        return False
    if recurring.stripe_subscription_id:
        try:
            cancel_subscription(recurring.stripe_subscription_id, idempotency_key=f"cancel-subscription:{recurring.pk}")
        except GatewayError as exc:
            raise RecurringCancelFailed from exc
    with transaction.atomic():
        locked = RecurringDonation.objects.select_for_update().get(pk=recurring.pk)
        if locked.status == RecurringDonation.Status.CANCELLED:
            return False  # the webhook got there first
        locked.status = RecurringDonation.Status.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at"])
    recurring.refresh_from_db()
    return True
