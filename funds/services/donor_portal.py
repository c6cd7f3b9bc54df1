"""The donor portal: password-less sign-in by e-mailed code, and what a signed-in donor may do.

A donor is not a staff user and never signs in through ``django.contrib.auth``: the session
holds only the donor's id under ``DONOR_SESSION_KEY``, so a donor session passes no staff
check. The one-time code is never stored: the session keeps a salted HMAC of it (keyed with
``SECRET_KEY``), its expiry and an attempt counter, for the one address it was sent to.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from funds.models import Donation, Donor, RecurringDonation
from funds.stripe_gateway import GatewayError, cancel_subscription
from kernel.enqueue import enqueue_on_commit

DONOR_SESSION_KEY = "amparo_donor_id"
CHALLENGE_SESSION_KEY = "amparo_donor_code"
CODE_VALID_SECONDS = 10 * 60
MAX_ATTEMPTS = 5
REQUEST_WINDOW_SECONDS = 15 * 60
REQUESTS_PER_ADDRESS_AND_IP = 5
REQUESTS_PER_IP = 20  # someone trying many addresses from one place
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
    """Too many codes asked for from this address and place; try again later."""


class CodeRejected(Exception):
    """The code does not sign in. ``reason``: ``missing``, ``wrong``, ``expired`` or ``locked``."""

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


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _code_hash(salt: str, code: str) -> str:
    return salted_hmac(_HMAC_SALT, f"{salt}:{code}", algorithm="sha256").hexdigest()


def _count_request(key: str, limit: int) -> None:
    cache.add(key, 0, timeout=REQUEST_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=REQUEST_WINDOW_SECONDS)
        count = 1
    if count > limit:
        raise CodeRequestThrottled


def _throttle(email: str, ip_address: str | None) -> None:
    ip = ip_address or "-"
    pair = hashlib.sha256(f"{email}|{ip}".encode()).hexdigest()
    _count_request(f"donor-code:pair:{pair}", REQUESTS_PER_ADDRESS_AND_IP)
    _count_request(f"donor-code:ip:{hashlib.sha256(ip.encode()).hexdigest()}", REQUESTS_PER_IP)


@transaction.atomic
def donor_code_request(*, session: SessionBase, email: str, ip_address: str | None) -> None:
    """Start a donor sign-in for ``email``: issue a one-time 6-digit code.

    Side effects: request counters in the cache (per address + IP, and per IP); a pending
    sign-in in the session (replacing any earlier one); if the address has gifts, an e-mail
    with the code, enqueued after commit through the task ``accounts.tasks.send_prepared_email``.
    The caller answers the same whether or not a donor exists, so nobody learns who gives.

    Raises ``CodeRequestThrottled`` past the limits (nothing is sent or stored then).
    """
    email = normalize_email(email)
    _throttle(email, ip_address)
    donor = Donor.objects.filter(email__iexact=email, donations__paid_at__isnull=False).distinct().first()
    code = f"{secrets.randbelow(1_000_000):06d}"
    salt = secrets.token_hex(16)
    session[CHALLENGE_SESSION_KEY] = {
        "email": email,
        "donor_id": donor.pk if donor else None,
        "salt": salt,
        "hash": _code_hash(salt, code),
        "expires_at": code_clock() + CODE_VALID_SECONDS,
        "attempts": 0,
    }
    if donor is None:
        return
    payload = {
        # No name, amount or address in the subject: it shows on lock screens.
        "subject": SUBJECT_PREFIX + _("Your sign-in code"),
        "body": render_to_string(
            "funds/email/donor_code.txt",
            {"code": code, "valid_minutes": CODE_VALID_SECONDS // 60, "legal_name": settings.FUND_LEGAL_NAME},
        ),
        "to": [donor.email],
        "from_email": settings.DEFAULT_FROM_EMAIL,
    }
    enqueue_on_commit("accounts.tasks.send_prepared_email", **payload)


def donor_pending_sign_in(session: SessionBase) -> PendingSignIn | None:
    challenge = session.get(CHALLENGE_SESSION_KEY)
    if not challenge:
        return None
    return PendingSignIn(
        email=challenge["email"],
        expires_at=challenge["expires_at"],
        attempts_left=max(MAX_ATTEMPTS - challenge["attempts"], 0),
    )


def donor_code_verify(*, session: SessionBase, code: str) -> Donor:
    """Finish a donor sign-in with the code from the e-mail.

    Side effects: the attempt is counted in the session; on success the session key is
    rotated, the pending sign-in removed and ``DONOR_SESSION_KEY`` set to the donor's id.
    An expired code is removed. After ``MAX_ATTEMPTS`` wrong codes every further attempt is
    refused, even the right code, until a new code is requested.

    Raises ``CodeRejected``.
    """
    challenge = session.get(CHALLENGE_SESSION_KEY)
    if not challenge:
        raise CodeRejected("missing")
    if challenge["attempts"] >= MAX_ATTEMPTS:
        raise CodeRejected("locked")
    if code_clock() > challenge["expires_at"]:
        del session[CHALLENGE_SESSION_KEY]
        raise CodeRejected("expired")
    challenge["attempts"] += 1
    session[CHALLENGE_SESSION_KEY] = challenge
    code = "".join(code.split())
    matches = constant_time_compare(_code_hash(challenge["salt"], code), challenge["hash"])
    donor = Donor.objects.filter(pk=challenge["donor_id"]).first() if matches and challenge["donor_id"] else None
    if donor is None:
        raise CodeRejected("locked" if challenge["attempts"] >= MAX_ATTEMPTS else "wrong")
    session.cycle_key()
    del session[CHALLENGE_SESSION_KEY]
    session[DONOR_SESSION_KEY] = donor.pk
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


def donor_open_recurring(*, donor: Donor) -> QuerySet[RecurringDonation]:
    return RecurringDonation.objects.filter(donor=donor, status__in=OPEN_RECURRING_STATUSES).select_related("fund")


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
