"""The Stripe webhook events that move donations forward.

``stripe_event_record`` runs in the webhook request: each event is stored once by its id.
``stripe_event_process`` runs in a Celery task: each event is applied once under a row lock,
and every handler only moves a state forward. Where the order of events matters, the handler
re-fetches the object from Stripe instead of trusting the (possibly stale) event body, so events
may arrive in any order and any number of times. Money is booked only through
``funds.services.bookkeeping``, whose ledger keys make every booking happen at most once.

**Stripe is never called while a row is locked.** Each handler is two steps: ``fetch`` asks Stripe
for everything the event needs, with no transaction open; ``apply`` then locks, re-checks and
writes in one short transaction, and never calls Stripe (``stripe_event_process`` says why that
order is safe).

A gift's ``Donor``, ``Donation`` (and ``RecurringDonation``) rows are made here, from the Checkout
Session's metadata, when Stripe says the session was completed (``funds.services.checkout`` writes
nothing before that) - or by an event about its payment that overtook that one, which finds the
session through Stripe. The session id is unique on ``Donation``, so the rows are made once.

An event that fails is retried with backoff; after ``MAX_ATTEMPTS`` tries it is *parked*: nothing
retries it until finance does (``stripe_event_retry``, the "Parked Stripe events" page).
Only ``funds.stripe_gateway`` talks to Stripe.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from funds import stripe_gateway as gateway
from funds.models import Dispute, Donation, Donor, Payout, RecurringDonation, Refund, StripeEvent
from funds.services.bookkeeping import (
    book_dispute,
    book_dispute_won,
    book_donation,
    book_refund,
    book_stripe_payout,
)
from funds.services.checkout import CheckoutGift, checkout_gift_from_session
from funds.services.receipts import receipt_number_for
from funds.stripe_gateway import StripeObject
from kernel.enqueue import enqueue_now, enqueue_on_commit

logger = logging.getLogger(__name__)


class EventNotReady(Exception):
    """An event refers to something we have not heard of yet (its sibling event will come): retry later."""


def _from_timestamp(value: int | None) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC) if value else timezone.now()


def _id(value: Any) -> str | None:
    """An expandable Stripe field: an id, an expanded object, or nothing."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


# --- Webhook events: storing ----------------------------------------------------------------


# One statement stores a new event and answers nothing for a duplicate: no savepoint to recover
# from a unique violation, no look-up first. The columns without a database default are listed.
# The payload is JSON text: PostgreSQL is told it is jsonb; SQLite (the demo's database, 3.35+ for
# RETURNING) stores the text as Django's JSONField does.
_INSERT_EVENT = (
    "INSERT INTO funds_stripeevent (event_id, type, payload, received_at, attempts, error) "
    "VALUES (%s, %s, {payload}, %s, 0, '') ON CONFLICT (event_id) DO NOTHING RETURNING id"
)


@transaction.atomic
def stripe_event_record(*, event: StripeObject) -> tuple[StripeEvent, bool]:
    """Store a verified webhook event once; return it and whether it is new.

    Side effects: a ``StripeEvent`` row (unique by Stripe's event id: ``INSERT ... ON CONFLICT DO
    NOTHING``, so a concurrent duplicate waits for the first and is answered as a duplicate); the
    processing task enqueued through the outbox (``kernel.enqueue``) once the row is committed. A
    new event costs the webhook two statements in one transaction (this row, the outbox row). A
    duplicate of a processed event enqueues nothing. A duplicate of an event not processed yet is
    enqueued again: Stripe re-sends only when our answer was lost or an error (say the broker was
    down after the row was stored), and processing skips what is already done.
    """
    received_at = timezone.now()
    event_type = str(event["type"])[:100]
    with connection.cursor() as cursor:
        payload = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
        at = connection.ops.adapt_datetimefield_value(received_at)
        cursor.execute(_INSERT_EVENT.format(payload=payload), [event["id"], event_type, json.dumps(event), at])
        row = cursor.fetchone()
    if row is not None:
        stored = StripeEvent(pk=row[0], event_id=event["id"], type=event_type, payload=event, received_at=received_at)
        stored._state.adding = False
        stored._state.db = connection.alias
        created = True
    else:
        # A new statement sees the first delivery's row even if it committed a moment ago.
        stored, created = StripeEvent.objects.get(event_id=event["id"]), False
    if created or stored.processed_at is None:
        # Not robust on purpose: if the broker is down the webhook answers 500 and Stripe retries.
        enqueue_on_commit("funds.tasks.process_stripe_event", stripe_event_id=stored.pk)
    return stored, created


STALE_AFTER = timedelta(minutes=30)


def stripe_events_requeue_stale(*, older_than: timedelta = STALE_AFTER, limit: int = 500) -> int:
    """Enqueue again every stored event still unprocessed (and not parked) after ``older_than``.

    The safety net for a task that was lost (a worker killed mid-run, a broker that dropped a
    message). Processing skips what is already done, so a second enqueue is harmless; each
    failing run counts towards ``MAX_ATTEMPTS``, so a hopeless event ends up parked rather than
    retried for ever. Returns how many were enqueued.
    """
    cutoff = timezone.now() - older_than
    stale = list(
        StripeEvent.objects.filter(processed_at__isnull=True, parked_at__isnull=True, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in stale:
        enqueue_now("funds.tasks.process_stripe_event", stripe_event_id=pk)
    return len(stale)


# --- Webhook events: processing -------------------------------------------------------------


MAX_ATTEMPTS = 5


def _error_text(exc: Exception) -> str:
    """What finance sees of a failure: Stripe ids and our own words, never an exception's text
    that might quote personal data (a database error quotes the values it refused)."""
    if isinstance(exc, EventNotReady | gateway.GatewayError):
        return f"{exc.__class__.__name__}: {exc}"[:500]
    # Stored as written (like Stripe's own English messages above), not in the reader's language.
    return f"{exc.__class__.__name__} (the details are in the worker's log)"


def _where(exc: Exception) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{PurePath(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"


Facts = dict[str, Any]


def _nothing_to_fetch(obj: StripeObject) -> Facts:
    return {}


@dataclass(frozen=True)
class _Handler:
    """How one event type is applied: ``fetch`` asks Stripe for what ``apply`` needs (no transaction,
    no row lock, no writes; plain reads of our tables decide what to ask); ``apply`` writes under
    row locks, from the event's object and those facts, and never calls Stripe."""

    apply: Callable[[StripeObject, Facts], None]
    fetch: Callable[[StripeObject], Facts] = _nothing_to_fetch


def stripe_event_process(*, stripe_event_id: int) -> None:
    """Apply one stored event, once.

    First, with no transaction open, the handler fetches from Stripe what the event needs. Then,
    in one transaction under a row lock on the ``StripeEvent``: an event already processed, or
    parked, is skipped; otherwise the handler applies the facts and ``processed_at`` is set. On
    failure (in either step) nothing of the handler stays; ``attempts`` and ``error`` are recorded;
    below ``MAX_ATTEMPTS`` the exception is re-raised (the task retries with backoff), at
    ``MAX_ATTEMPTS`` the event is parked (``parked_at``) and nothing is raised: it waits for
    finance. Unknown event types are marked processed and ignored. It refuses to run inside a
    transaction (its locks would then be held while Stripe is asked).

    Why fetching before locking is safe:

    - *Exactly once* comes from the lock and the re-check, not from the fetch: two runs of one event
      (a redelivery, a retry, the sweep) may both fetch, but only the first to lock applies; the
      other finds ``processed_at`` set. Fetching only reads, so a fetch that is thrown away has
      changed nothing, at Stripe or here.
    - *A fetch older than the database* cannot move anything back: every write under the lock is
      keyed (ledger keys, Stripe's unique ids) and moves a state only forward (pending → paid, a
      refunded total that only grows, an invoice already paid is not marked past due), decided
      against the rows as they are locked now, not as they were when the facts were fetched.
    - *Facts that no longer fit* (the rows changed between fetch and lock, so that something not
      fetched is needed) raise ``EventNotReady``: the event is tried again with a fresh fetch.

    Why it matters: a Stripe call waits up to ``STRIPE_TIMEOUT_SECONDS`` (and the client retries);
    under a lock it would hold the donation's row, and with it the refund form and every other
    event about that gift, for as long, and keep a database connection idle in its transaction.
    """
    event = StripeEvent.objects.filter(pk=stripe_event_id).first()
    if event is None or event.processed_at is not None or event.parked_at is not None:
        return
    handler = _HANDLERS.get(event.type)
    try:
        obj = event.payload["data"]["object"] if handler is not None else {}
        facts = handler.fetch(obj) if handler is not None else {}
        with transaction.atomic(durable=True):
            locked = StripeEvent.objects.select_for_update().filter(pk=stripe_event_id).first()
            if locked is None or locked.processed_at is not None or locked.parked_at is not None:
                return
            if handler is not None:
                handler.apply(obj, facts)
            locked.processed_at = timezone.now()
            locked.attempts += 1
            locked.error = ""
            locked.save(update_fields=["processed_at", "attempts", "error"])
    except Exception as exc:
        with transaction.atomic():
            failed = StripeEvent.objects.select_for_update().filter(pk=stripe_event_id, processed_at=None).first()
            if failed is None:
                raise
            failed.attempts += 1
            failed.error = _error_text(exc)
            parked = failed.attempts >= MAX_ATTEMPTS
            if parked:
                failed.parked_at = timezone.now()
            failed.save(update_fields=["attempts", "error", "parked_at"])
        logger.warning(
            "stripe event %s (%s): attempt %s failed with %s at %s%s",
            failed.event_id,
            failed.type,
            failed.attempts,
            exc.__class__.__name__,
            _where(exc),
            "; parked for finance" if parked else "",
        )
        if parked:
            return
        raise


@transaction.atomic
def stripe_event_retry(*, event: StripeEvent, by: User, ip_address: str | None = None) -> StripeEvent:
    """Finance's "retry now" for a parked event: a fresh round of ``MAX_ATTEMPTS`` tries.

    Side effects: ``parked_at`` cleared and ``attempts`` back to 0 (the last error stays until
    the next try); an ``AccessEvent`` (change, ``stripe_event``, Stripe's event id, the type and
    the attempts so far); the processing task enqueued after commit. Raises ``ValidationError``
    when the event is not parked (processed meanwhile, or already being retried).
    """
    locked = StripeEvent.objects.select_for_update().get(pk=event.pk)
    if locked.processed_at is not None or locked.parked_at is None:
        raise ValidationError(_("This event is no longer parked: it was processed or is being retried."))
    attempts = locked.attempts
    locked.parked_at = None
    locked.attempts = 0
    locked.save(update_fields=["parked_at", "attempts"])
    access_event_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        object_type="stripe_event",
        object_ref=locked.event_id,
        detail=f"retry of parked {locked.type} after {attempts} attempts",
        ip_address=ip_address,
    )
    enqueue_on_commit("funds.tasks.process_stripe_event", stripe_event_id=locked.pk)
    return locked


def _fulfil(donation: Donation, *, charge: StripeObject) -> Donation:
    """Mark a donation paid from its Stripe charge (fetched with its balance transaction) and book it.
    Idempotent: a donation that is already past *pending* is returned as it is.

    Side effects: status, paid-at, Stripe ids, Stripe's fee, receipt number; ledger
    ``donation:<id>`` (+ ``:fee``); the receipt task enqueued on commit (``FUNDS_SEND_RECEIPTS``).
    """
    donation = Donation.objects.select_for_update().select_related("fund").get(pk=donation.pk)
    if donation.status not in {Donation.Status.PENDING, Donation.Status.FAILED}:
        return donation
    if not isinstance(charge.get("balance_transaction"), dict) and charge.get("balance_transaction"):
        # Stripe's fee is on the balance transaction: never book a paid charge without it.
        raise EventNotReady(f"charge {charge['id']} was fetched without its balance transaction")
    charged = int(charge["amount"])
    if charged != donation.charged_cents:
        # Stripe's figure is what reached the account; keep the donor's covered fee, adjust the gift.
        logger.warning("donation %s: charged %s, expected %s", donation.pk, charged, donation.charged_cents)
        donation.amount_cents = max(charged - donation.fee_covered_cents, 1)
        donation.fee_covered_cents = charged - donation.amount_cents
    paid_at = _from_timestamp(charge.get("created"))
    donation.status = Donation.Status.PAID
    donation.paid_at = paid_at
    donation.stripe_charge_id = charge["id"]
    donation.stripe_payment_intent_id = _id(charge.get("payment_intent")) or donation.stripe_payment_intent_id
    donation.stripe_fee_cents = gateway.charge_fee_cents(charge)
    donation.receipt_number = receipt_number_for(donation)
    donation.save()
    book_donation(donation=donation, fee_cents=donation.stripe_fee_cents, occurred_at=paid_at)
    if getattr(settings, "FUNDS_SEND_RECEIPTS", True):
        enqueue_on_commit("funds.send_receipt", donation_id=donation.pk)
    return donation


def _with_balance_transaction(charge: StripeObject | None) -> StripeObject | None:
    """A charge with its balance transaction expanded (fetched again if it came without)."""
    if (
        isinstance(charge, dict)
        and charge.get("balance_transaction")
        and not isinstance(charge.get("balance_transaction"), dict)
    ):
        return gateway.retrieve_charge(charge["id"])
    return charge


def _donor_for(*, email: str, name: str) -> Donor:
    """The donor with this e-mail address (found by its blind index), made if new; a name fills a blank one."""
    donor, created = Donor.objects.for_email(email, name=name.strip())
    if not created and not donor.name and name.strip():
        Donor.objects.filter(pk=donor.pk, name="").update(name=name.strip())
        donor.name = name.strip()
    return donor


def _donation_from_gift(gift: CheckoutGift, *, session: StripeObject) -> Donation:
    """The rows of a gift whose Checkout Session Stripe completed, made once.

    Side effects: a ``Donor`` (by e-mail) if new; for a monthly gift a pending ``RecurringDonation``;
    a pending ``Donation`` with the session id (unique: a concurrent maker of the same rows loses on
    the index and reads the winner's) and the form's nonce (unless an older session used it).
    """
    existing = Donation.objects.filter(stripe_checkout_session_id=session["id"]).first()
    if existing is not None:
        return existing
    donor = _donor_for(email=gift.donor.email, name=gift.donor.name)
    nonce_free = not Donation.objects.filter(form_nonce=gift.nonce).exists()
    try:
        with transaction.atomic():
            recurring = None
            if gift.monthly:
                recurring = RecurringDonation.objects.create(
                    donor=donor,
                    fund=gift.fund,
                    amount_cents=gift.amount_cents,
                    cover_fee=gift.fee_covered_cents > 0,
                    anonymous=gift.anonymous,
                )
            return Donation.objects.create(
                donor=donor,
                fund=gift.fund,
                recurring=recurring,
                amount_cents=gift.amount_cents,
                fee_covered_cents=gift.fee_covered_cents,
                anonymous=gift.anonymous,
                form_nonce=gift.nonce if nonce_free else None,
                stripe_checkout_session_id=session["id"],
                created_at=_from_timestamp(session.get("created")),
            )
    except IntegrityError:
        return Donation.objects.get(stripe_checkout_session_id=session["id"])


def _donation_for_checkout(session: StripeObject, *, create: bool) -> Donation | None:
    """Our donation for a Checkout Session; with ``create``, made from the session if it is a
    completed gift of ours that has no row yet."""
    donation = Donation.objects.filter(stripe_checkout_session_id=session["id"]).first()
    if donation is not None:
        return donation
    reference = str(session.get("client_reference_id") or "")
    legacy = str((session.get("metadata") or {}).get("donation_id") or "")
    if reference.isdigit() and reference == legacy:
        # A gift started before the rows waited for Stripe: its pending donation exists already.
        # (Both ids must agree: a form's nonce, which the client chooses, may be all digits too.)
        donation = Donation.objects.filter(pk=int(reference), stripe_checkout_session_id__isnull=True).first()
        if donation is not None:
            Donation.objects.filter(pk=donation.pk).update(stripe_checkout_session_id=session["id"])
            return donation
    if not create or session.get("status") != "complete":
        return None
    gift = checkout_gift_from_session(session)
    return _donation_from_gift(gift, session=session) if gift is not None else None


def _fetch_session_of_payment(metadata: StripeObject, **payment: str | None) -> StripeObject | None:
    """The Checkout Session of a payment whose donation we may not have made yet (fetch step).

    Asked of Stripe only when ``metadata`` carries a form's nonce that no donation has: the one case
    in which ``_donation_of_payment`` makes the rows from the session.
    ``payment``: ``payment_intent_id=`` or ``subscription_id=``."""
    if str(metadata.get("donation_id") or "").isdigit():
        return None
    nonce = str(metadata.get("form_nonce") or "")
    if not nonce or Donation.objects.filter(form_nonce=nonce).exists():
        return None
    return gateway.checkout_session_of(**payment)


def _donation_of_payment(metadata: StripeObject, *, session: StripeObject | None) -> Donation | None:
    """The donation a PaymentIntent's or Subscription's ``metadata`` points to: by the form's nonce
    (made from its Checkout Session, fetched by ``_fetch_session_of_payment``, when the rows are not
    made yet), or by the donation id older gifts carried."""
    reference = str(metadata.get("donation_id") or "")
    if reference.isdigit():
        return Donation.objects.filter(pk=int(reference)).first()
    nonce = str(metadata.get("form_nonce") or "")
    if not nonce:
        return None
    donation = Donation.objects.filter(form_nonce=nonce).first()
    if donation is None and session is not None:
        donation = _donation_for_checkout(session, create=True)
    return donation


# --- Checkout -------------------------------------------------------------------------------


def _session_charge(session: StripeObject) -> StripeObject | None:
    intent = session.get("payment_intent")
    charge = intent.get("latest_charge") if isinstance(intent, dict) else None
    return charge if isinstance(charge, dict) else None


def _fetch_checkout_completed(obj: StripeObject) -> Facts:
    """The session as it is now (a late or repeated event sees the current payment status), with its
    charge and the charge's balance transaction."""
    session = gateway.retrieve_checkout_session(obj["id"], expand=["payment_intent.latest_charge.balance_transaction"])
    return {"session": session, "charge": _with_balance_transaction(_session_charge(session))}


def _apply_checkout_completed(obj: StripeObject, facts: Facts) -> None:
    """``checkout.session.completed`` and ``…async_payment_succeeded``: make the gift's rows (once),
    and fulfil once Stripe says *paid*. A monthly gift's session only links the subscription; its
    invoices carry the money."""
    session = facts["session"]
    donation = _donation_for_checkout(session, create=True)
    if donation is None:
        logger.info("checkout session %s is not one of ours", session["id"])
        return
    if session.get("mode") == "subscription":
        _link_subscription(
            donation, subscription_id=_id(session.get("subscription")), customer_id=_id(session.get("customer"))
        )
        return
    _link_customer(donation.donor_id, _id(session.get("customer")))
    if session.get("payment_status") != "paid":
        return  # a delayed method: async_payment_succeeded will come
    charge = facts["charge"]
    if charge is None:
        raise EventNotReady(f"session {session['id']} is paid but has no charge yet")
    _fulfil(donation, charge=charge)


def _fetch_checkout_session(obj: StripeObject) -> Facts:
    return {"session": gateway.retrieve_checkout_session(obj["id"])}


def _apply_checkout_failed(obj: StripeObject, facts: Facts) -> None:
    """``checkout.session.async_payment_failed`` or ``checkout.session.expired`` (the donor left
    Checkout without paying): a pending donation becomes failed (unless paid since). An expired
    session never had rows, and gets none."""
    session = facts["session"]
    donation = _donation_for_checkout(session, create=False)
    if donation is None or session.get("payment_status") == "paid":
        return
    Donation.objects.filter(pk=donation.pk, status=Donation.Status.PENDING).update(status=Donation.Status.FAILED)


def _link_customer(donor_id: int, customer_id: str | None) -> None:
    if customer_id:
        Donor.objects.filter(pk=donor_id, stripe_customer_id="").update(stripe_customer_id=customer_id)


def _link_subscription(donation: Donation, *, subscription_id: str | None, customer_id: str | None) -> None:
    _link_customer(donation.donor_id, customer_id)
    if donation.recurring_id and subscription_id:
        RecurringDonation.objects.filter(pk=donation.recurring_id, stripe_subscription_id__isnull=True).update(
            stripe_subscription_id=subscription_id
        )


# --- Monthly gifts --------------------------------------------------------------------------


def _subscription_of(invoice: StripeObject) -> tuple[str | None, StripeObject]:
    """An invoice's subscription id and the subscription's metadata (current and older API shapes)."""
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    subscription_id = _id(details.get("subscription")) or _id(invoice.get("subscription"))
    metadata = details.get("metadata") or invoice.get("subscription_details", {}).get("metadata") or {}
    return subscription_id, metadata


def _fetch_session_of_subscription(subscription_id: str | None, metadata: StripeObject) -> StripeObject | None:
    """The Checkout Session ``_recurring_for`` may need: only for a subscription no monthly gift has yet."""
    if subscription_id and RecurringDonation.objects.filter(stripe_subscription_id=subscription_id).exists():
        return None
    if str(metadata.get("recurring_donation_id") or "").isdigit():
        return None
    return _fetch_session_of_payment(metadata, subscription_id=subscription_id)


def _recurring_for(
    subscription_id: str | None, metadata: StripeObject, *, session: StripeObject | None
) -> RecurringDonation | None:
    recurring = None
    if subscription_id:
        recurring = RecurringDonation.objects.select_for_update().filter(stripe_subscription_id=subscription_id).first()
    if recurring is not None:
        return recurring
    reference = str(metadata.get("recurring_donation_id") or "")
    if reference.isdigit():
        # A gift started before the rows waited for Stripe: its monthly gift exists already.
        recurring = RecurringDonation.objects.filter(pk=int(reference)).first()
    else:
        donation = _donation_of_payment(metadata, session=session)
        recurring = donation.recurring if donation is not None else None
    if recurring is None:
        return None
    # The invoice came before checkout.session.completed: link the subscription now.
    recurring = RecurringDonation.objects.select_for_update().get(pk=recurring.pk)
    if recurring.stripe_subscription_id is None and subscription_id:
        recurring.stripe_subscription_id = subscription_id
        recurring.save(update_fields=["stripe_subscription_id"])
    return recurring if recurring.stripe_subscription_id in {None, subscription_id} else None


def _invoice_charge(invoice: StripeObject) -> StripeObject | None:
    """The charge that paid an invoice, with its balance transaction (fetch step)."""
    intent_id = _id(invoice.get("payment_intent"))
    charge_id = _id(invoice.get("charge"))
    for payment in (invoice.get("payments") or {}).get("data", []):
        if payment.get("status") == "paid":
            details = payment.get("payment") or {}
            intent_id = _id(details.get("payment_intent")) or intent_id
            charge_id = _id(details.get("charge")) or charge_id
    if intent_id:
        intent = gateway.retrieve_payment_intent(intent_id, expand=["latest_charge.balance_transaction"])
        charge = intent.get("latest_charge")
        return _with_balance_transaction(charge) if isinstance(charge, dict) else None
    if charge_id:
        return gateway.retrieve_charge(charge_id)
    return None


def _fetch_invoice_paid(obj: StripeObject) -> Facts:
    """The invoice as it is now; for a paid one in a subscription, its charge and, if no monthly gift
    has the subscription yet, the Checkout Session that started it."""
    invoice = gateway.retrieve_invoice(obj["id"])
    facts: Facts = {"invoice": invoice, "charge": None, "session": None}
    subscription_id, metadata = _subscription_of(invoice)
    if invoice.get("status") != "paid" or not invoice.get("amount_paid") or subscription_id is None:
        return facts
    facts["session"] = _fetch_session_of_subscription(subscription_id, metadata)
    facts["charge"] = _invoice_charge(invoice)
    return facts


def _apply_invoice_paid(obj: StripeObject, facts: Facts) -> None:
    """``invoice.paid``: one payment of a monthly gift. The first activates the gift.

    Each paid invoice fulfils one ``Donation`` linked to the gift (unique ``stripe_invoice_id``):
    the first invoice fulfils the donation created with the Checkout form; later ones create theirs.
    """
    invoice = facts["invoice"]
    if invoice.get("status") != "paid" or not invoice.get("amount_paid"):
        return
    subscription_id, metadata = _subscription_of(invoice)
    recurring = _recurring_for(subscription_id, metadata, session=facts["session"])
    if recurring is None:
        if subscription_id is None:
            return  # an invoice outside any subscription: not a gift of ours
        raise EventNotReady(f"no monthly gift for subscription {subscription_id} yet")
    charge = facts["charge"]
    if charge is None:
        raise EventNotReady(f"invoice {invoice['id']} is paid but has no charge yet")
    donation = Donation.objects.select_for_update().filter(stripe_invoice_id=invoice["id"]).first()
    if donation is None:
        donation = (
            recurring.payments.select_for_update()
            .filter(status=Donation.Status.PENDING, stripe_invoice_id__isnull=True)
            .order_by("pk")
            .first()
        )
        if donation is not None:
            donation.stripe_invoice_id = invoice["id"]
            donation.save(update_fields=["stripe_invoice_id"])
        else:
            paid = int(invoice["amount_paid"])
            gift = min(recurring.amount_cents, paid)
            donation = Donation.objects.create(
                donor_id=recurring.donor_id,
                fund_id=recurring.fund_id,
                recurring=recurring,
                amount_cents=gift,
                fee_covered_cents=paid - gift,
                anonymous=recurring.anonymous,
                stripe_invoice_id=invoice["id"],
            )
    _fulfil(donation, charge=charge)
    if recurring.status in {RecurringDonation.Status.PENDING, RecurringDonation.Status.PAST_DUE}:
        recurring.status = RecurringDonation.Status.ACTIVE
        recurring.save(update_fields=["status"])


def _fetch_invoice_payment_failed(obj: StripeObject) -> Facts:
    invoice = gateway.retrieve_invoice(obj["id"])
    facts: Facts = {"invoice": invoice, "session": None}
    if invoice.get("status") != "paid":
        facts["session"] = _fetch_session_of_subscription(*_subscription_of(invoice))
    return facts


def _apply_invoice_payment_failed(obj: StripeObject, facts: Facts) -> None:
    """``invoice.payment_failed``: an active monthly gift is past due — unless the invoice is paid by
    now (as Stripe said when asked, or as an ``invoice.paid`` applied since has recorded)."""
    invoice = facts["invoice"]
    if invoice.get("status") == "paid":
        return
    subscription_id, metadata = _subscription_of(invoice)
    recurring = _recurring_for(subscription_id, metadata, session=facts["session"])
    if recurring is None:
        return
    if Donation.objects.filter(stripe_invoice_id=invoice["id"], status=Donation.Status.PAID).exists():
        return
    if recurring.status in {RecurringDonation.Status.PENDING, RecurringDonation.Status.ACTIVE}:
        recurring.status = RecurringDonation.Status.PAST_DUE
        recurring.save(update_fields=["status"])


def _fetch_subscription_deleted(obj: StripeObject) -> Facts:
    return {"session": _fetch_session_of_subscription(obj.get("id"), obj.get("metadata") or {})}


def _apply_subscription_deleted(obj: StripeObject, facts: Facts) -> None:
    """``customer.subscription.deleted``: the monthly gift is cancelled (final)."""
    recurring = _recurring_for(obj.get("id"), obj.get("metadata") or {}, session=facts["session"])
    if recurring is not None and recurring.status != RecurringDonation.Status.CANCELLED:
        recurring.status = RecurringDonation.Status.CANCELLED
        recurring.cancelled_at = _from_timestamp(obj.get("canceled_at") or obj.get("ended_at"))
        recurring.save(update_fields=["status", "cancelled_at"])


# --- Charges: refunds and disputes ----------------------------------------------------------


def _fetch_charge(charge_id: str, *, always: bool = False, refunds: bool = False) -> Facts:
    """What ``_donation_for_charge`` needs (fetch step): nothing for a charge our donation has (unless
    ``always``); else the charge, with its balance transaction (and ``refunds``), the metadata that
    leads to its donation, and the Checkout Session if the donation's rows are not made yet."""
    facts: Facts = {"charge_id": charge_id, "charge": None, "metadata": {}, "session": None}
    known = Donation.objects.filter(stripe_charge_id=charge_id).exists()
    if known and not always:
        return facts
    expand = ["balance_transaction", "refunds"] if refunds else ["balance_transaction"]
    charge = facts["charge"] = gateway.retrieve_charge(charge_id, expand=expand)
    if known:
        return facts
    intent_id = _id(charge.get("payment_intent"))
    metadata = charge.get("metadata") or {}
    if not (metadata.get("donation_id") or metadata.get("form_nonce")) and intent_id:
        metadata = gateway.retrieve_payment_intent(intent_id).get("metadata") or {}
    facts["metadata"] = metadata
    facts["session"] = _fetch_session_of_payment(metadata, payment_intent_id=intent_id)
    return facts


def _donation_for_charge(facts: Facts) -> Donation:
    """Our donation for a charge, fulfilling it first if this event overtook the one that would have.

    Raises ``EventNotReady`` for a charge we cannot place yet (a monthly payment whose
    ``invoice.paid`` has not been processed): the task retries later.
    """
    charge_id = facts["charge_id"]
    donation = Donation.objects.filter(stripe_charge_id=charge_id).first()
    if donation is not None:
        return donation
    charge = facts["charge"]
    if charge is None:  # known when fetched, gone now: fetch again
        raise EventNotReady(f"no donation for charge {charge_id} any more")
    donation = _donation_of_payment(facts["metadata"], session=facts["session"])
    if donation is None:
        raise EventNotReady(f"no donation for charge {charge_id} yet")
    if charge.get("paid") or charge.get("status") == "succeeded":
        donation = _fulfil(donation, charge=charge)
    return donation


def _fetch_charge_refunded(obj: StripeObject) -> Facts:
    """The charge as it is now, with all its refunds (so partial refunds arriving out of order add up)."""
    return _fetch_charge(obj["id"], always=True, refunds=True)


def _apply_charge_refunded(obj: StripeObject, facts: Facts) -> None:
    """``charge.refunded`` (ours or from the Stripe dashboard): book each refund once.

    Each refund is booked with the key ``charge-refund:<stripe refund id>``; the donation's
    ``refunded_cents`` follows Stripe's total (never back: a fetch older than another event's cannot
    lower it); fully refunded → status *refunded*. A refund that overtakes the payment first fulfils
    the donation, so the ledger sees paid, then refunded.
    """
    donation = _donation_for_charge(facts)
    charge = facts["charge"]
    donation = Donation.objects.select_for_update().select_related("fund").get(pk=donation.pk)
    refunds = (charge.get("refunds") or {}).get("data")
    stripe_total = min(int(charge.get("amount_refunded") or 0), donation.charged_cents)
    if refunds is None:
        # No refund list in the payload: book the difference since the last booking.
        delta = stripe_total - donation.refunded_cents
        if delta > 0:
            book_refund(
                key=f"charge-refund:{charge['id']}:{charge['amount_refunded']}",
                donation=donation,
                amount_cents=delta,
                occurred_at=timezone.now(),
            )
        refunds = []
    for stripe_refund in sorted(refunds, key=lambda r: r.get("created") or 0):
        if stripe_refund.get("status") not in {"succeeded", "pending"}:
            continue
        book_refund(
            key=f"charge-refund:{stripe_refund['id']}",
            donation=donation,
            amount_cents=int(stripe_refund["amount"]),
            occurred_at=_from_timestamp(stripe_refund.get("created")),
        )
        _record_refund_row(donation, stripe_refund)
    donation.refunded_cents = max(donation.refunded_cents, stripe_total)
    if donation.refunded_cents >= donation.charged_cents and donation.status == Donation.Status.PAID:
        donation.status = Donation.Status.REFUNDED
    donation.save(update_fields=["refunded_cents", "status"])


def _record_refund_row(donation: Donation, stripe_refund: StripeObject) -> None:
    """Keep the ``Refund`` register in step: ours (found by metadata) or one made in the dashboard.

    A refund of ours marked *failed* because Stripe never answered us (``funds.services.checkout``)
    that Stripe did make after all is found by its metadata and becomes what Stripe says."""
    status = Refund.Status.SUCCEEDED if stripe_refund.get("status") == "succeeded" else Refund.Status.REQUESTED
    known = Refund.objects.filter(stripe_refund_id=stripe_refund["id"])
    if known.exists():
        # Only forward: a charge fetched before another event's (refund still pending) cannot take a
        # succeeded refund back to requested.
        if status == Refund.Status.SUCCEEDED:
            known.filter(status=Refund.Status.REQUESTED).update(status=status)
        return
    reference = str((stripe_refund.get("metadata") or {}).get("refund_id") or "")
    if reference.isdigit() and Refund.objects.filter(
        pk=int(reference), donation=donation, stripe_refund_id__isnull=True
    ).update(stripe_refund_id=stripe_refund["id"], status=status, failed_at=None, error=""):
        return
    Refund.objects.create(
        donation=donation,
        amount_cents=int(stripe_refund["amount"]),
        reason=_("Refunded in Stripe"),
        status=status,
        stripe_refund_id=stripe_refund["id"],
    )


def _dispute_fee(dispute: StripeObject) -> int:
    return sum(int(t.get("fee") or 0) for t in dispute.get("balance_transactions") or [] if isinstance(t, dict))


def _fetch_dispute(obj: StripeObject) -> Facts:
    charge_id = _id(obj.get("charge"))
    if charge_id is None:  # Stripe's disputes always name their charge
        raise ValueError(f"dispute {obj['id']} names no charge")
    return _fetch_charge(charge_id)


def _dispute_opened(obj: StripeObject, facts: Facts) -> tuple[Dispute, Donation]:
    donation = _donation_for_charge(facts)
    dispute, _created = Dispute.objects.get_or_create(
        stripe_dispute_id=obj["id"],
        defaults={
            "donation": donation,
            "amount_cents": int(obj["amount"]),
            "fee_cents": _dispute_fee(obj),
            "status": obj.get("status", ""),
            "opened_at": _from_timestamp(obj.get("created")),
        },
    )
    # An inquiry ("warning_…") moves no money; a real dispute withdraws amount and fee at once.
    if not str(obj.get("status", "")).startswith("warning_"):
        book_dispute(
            key=f"dispute:{dispute.stripe_dispute_id}",
            donation=donation,
            amount_cents=dispute.amount_cents,
            fee_cents=dispute.fee_cents,
            occurred_at=dispute.opened_at,
        )
        if dispute.closed_at is None:
            Donation.objects.filter(pk=donation.pk, status=Donation.Status.PAID).update(status=Donation.Status.DISPUTED)
    return dispute, donation


def _apply_dispute_created(obj: StripeObject, facts: Facts) -> None:
    """``charge.dispute.created``: a ``Dispute``; the donation is disputed; amount + fee booked out."""
    _dispute_opened(obj, facts)


def _apply_dispute_closed(obj: StripeObject, facts: Facts) -> None:
    """``charge.dispute.closed``: won → the amount comes back and the donation is paid again; lost →
    the donation is lost. Tolerates arriving before ``charge.dispute.created``."""
    dispute, donation = _dispute_opened(obj, facts)
    dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if dispute.closed_at is not None:
        return
    outcome = obj.get("status", "")
    dispute.status = outcome
    dispute.closed_at = timezone.now()
    dispute.save(update_fields=["status", "closed_at"])
    if outcome == "won":
        book_dispute_won(
            key=f"dispute:{dispute.stripe_dispute_id}:won",
            donation=donation,
            amount_cents=dispute.amount_cents,
            occurred_at=dispute.closed_at,
        )
        Donation.objects.filter(pk=donation.pk, status=Donation.Status.DISPUTED).update(status=Donation.Status.PAID)
    elif outcome == "lost":
        Donation.objects.filter(pk=donation.pk, status__in=[Donation.Status.DISPUTED, Donation.Status.PAID]).update(
            status=Donation.Status.LOST
        )


# --- Payouts --------------------------------------------------------------------------------


def _apply_payout_paid(obj: StripeObject, facts: Facts) -> None:
    """``payout.paid``: a ``Payout``; its full amount (Stripe's figure: what the bank received) moves
    to the bank, from Stripe clearing as far as clearing holds it, shared among funds in proportion
    to what each holds (ledger ``payout:<id>``). What clearing does not hold goes to suspense and is
    shown to finance (``funds.services.bookkeeping.book_stripe_payout``)."""
    arrival = _from_timestamp(obj.get("arrival_date"))
    payout, created = Payout.objects.get_or_create(
        stripe_payout_id=obj["id"],
        defaults={"amount_cents": int(obj["amount"]), "arrival_date": arrival.date(), "status": obj.get("status", "")},
    )
    if not created and payout.status != obj.get("status", payout.status):
        Payout.objects.filter(pk=payout.pk).update(status=obj.get("status", ""))
    book_stripe_payout(payout=payout, occurred_at=arrival)


_HANDLERS: dict[str, _Handler] = {
    "checkout.session.completed": _Handler(fetch=_fetch_checkout_completed, apply=_apply_checkout_completed),
    "checkout.session.async_payment_succeeded": _Handler(
        fetch=_fetch_checkout_completed, apply=_apply_checkout_completed
    ),
    "checkout.session.async_payment_failed": _Handler(fetch=_fetch_checkout_session, apply=_apply_checkout_failed),
    "checkout.session.expired": _Handler(fetch=_fetch_checkout_session, apply=_apply_checkout_failed),
    "invoice.paid": _Handler(fetch=_fetch_invoice_paid, apply=_apply_invoice_paid),
    "invoice.payment_failed": _Handler(fetch=_fetch_invoice_payment_failed, apply=_apply_invoice_payment_failed),
    "customer.subscription.deleted": _Handler(fetch=_fetch_subscription_deleted, apply=_apply_subscription_deleted),
    "charge.refunded": _Handler(fetch=_fetch_charge_refunded, apply=_apply_charge_refunded),
    "charge.dispute.created": _Handler(fetch=_fetch_dispute, apply=_apply_dispute_created),
    "charge.dispute.closed": _Handler(fetch=_fetch_dispute, apply=_apply_dispute_closed),
    "payout.paid": _Handler(apply=_apply_payout_paid),
}
