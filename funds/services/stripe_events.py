"""The Stripe webhook events that move donations forward.

``stripe_event_record`` runs in the webhook request: each event is stored once by its id.
``stripe_event_process`` runs in a Celery task: each event is processed once under a row lock,
and every handler only moves a state forward. Where the order of events matters, the handler
re-fetches the object from Stripe instead of trusting the (possibly stale) event body, so events
may arrive in any order and any number of times. Money is booked only through
``funds.services.bookkeeping``, whose ledger keys make every booking happen at most once.

A gift's ``Donor``, ``Donation`` (and ``RecurringDonation``) rows are made here, from the Checkout
Session's metadata, when Stripe says the session was completed (``funds.services.checkout`` writes
nothing before that) - or by an event about its payment that overtook that one, which finds the
session through Stripe. The session id is unique on ``Donation``, so the rows are made once.

An event that fails is retried with backoff; after ``MAX_ATTEMPTS`` tries it is *parked*: nothing
retries it until finance does (``stripe_event_retry``, the "Parked Stripe events" page).
Only ``funds.stripe_gateway`` talks to Stripe.
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from funds import stripe_gateway as gateway
from funds.models import Dispute, Donation, Donor, Payout, RecurringDonation, Refund, StripeEvent, Transaction
from funds.services.bookkeeping import (
    book_dispute,
    book_dispute_won,
    book_donation,
    book_payout,
    book_refund,
    payout_allocation,
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


@transaction.atomic
def stripe_event_record(*, event: StripeObject) -> tuple[StripeEvent, bool]:
    """Store a verified webhook event once; return it and whether it is new.

    Side effects: a ``StripeEvent`` row (unique by Stripe's event id; a concurrent duplicate loses
    on the unique index and is answered as a duplicate); the processing task enqueued once the row
    is committed. A duplicate of a processed event enqueues nothing. A duplicate of an event not
    processed yet is enqueued again: Stripe re-sends only when our answer was lost or an error (say
    the broker was down after the row was stored), and processing skips what is already done.
    """
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(event_id=event["id"], type=str(event["type"])[:100], payload=event)
        created = True
    except IntegrityError:
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


def stripe_event_process(*, stripe_event_id: int) -> None:
    """Apply one stored event, once.

    Under a row lock on the ``StripeEvent``: an event already processed, or parked, is skipped;
    otherwise its handler runs and ``processed_at`` is set, all in one database transaction. On
    failure nothing of the handler stays; ``attempts`` and ``error`` are recorded; below
    ``MAX_ATTEMPTS`` the exception is re-raised (the task retries with backoff), at
    ``MAX_ATTEMPTS`` the event is parked (``parked_at``) and nothing is raised: it waits for
    finance. Unknown event types are marked processed and ignored.
    """
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().filter(pk=stripe_event_id).first()
            if event is None or event.processed_at is not None or event.parked_at is not None:
                return
            handler = _HANDLERS.get(event.type)
            if handler is not None:
                handler(event.payload["data"]["object"])
            event.processed_at = timezone.now()
            event.attempts += 1
            event.error = ""
            event.save(update_fields=["processed_at", "attempts", "error"])
    except Exception as exc:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().filter(pk=stripe_event_id, processed_at=None).first()
            if event is None:
                raise
            event.attempts += 1
            event.error = _error_text(exc)
            parked = event.attempts >= MAX_ATTEMPTS
            if parked:
                event.parked_at = timezone.now()
            event.save(update_fields=["attempts", "error", "parked_at"])
        logger.warning(
            "stripe event %s (%s): attempt %s failed with %s at %s%s",
            event.event_id,
            event.type,
            event.attempts,
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
    """Mark a donation paid from its Stripe charge and book it. Idempotent: a donation that is
    already past *pending* is returned as it is.

    Side effects: status, paid-at, Stripe ids, Stripe's fee, receipt number; ledger
    ``donation:<id>`` (+ ``:fee``); the receipt task enqueued on commit (``FUNDS_SEND_RECEIPTS``).
    """
    donation = Donation.objects.select_for_update().select_related("fund").get(pk=donation.pk)
    if donation.status not in {Donation.Status.PENDING, Donation.Status.FAILED}:
        return donation
    if not isinstance(charge.get("balance_transaction"), dict) and charge.get("balance_transaction"):
        charge = gateway.retrieve_charge(charge["id"])
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


def _donation_of_payment(metadata: StripeObject, **payment: str | None) -> Donation | None:
    """The donation a PaymentIntent's or Subscription's ``metadata`` points to: by the form's nonce
    (finding its Checkout Session through Stripe when the rows are not made yet), or by the
    donation id older gifts carried. ``payment``: ``payment_intent_id=`` or ``subscription_id=``."""
    reference = str(metadata.get("donation_id") or "")
    if reference.isdigit():
        return Donation.objects.filter(pk=int(reference)).first()
    nonce = str(metadata.get("form_nonce") or "")
    if not nonce:
        return None
    donation = Donation.objects.filter(form_nonce=nonce).first()
    if donation is None:
        session = gateway.checkout_session_of(**payment)
        if session is not None:
            donation = _donation_for_checkout(session, create=True)
    return donation


def _on_checkout_completed(obj: StripeObject) -> None:
    """``checkout.session.completed`` and ``…async_payment_succeeded``: make the gift's rows (once),
    and fulfil once Stripe says *paid*.

    The session is re-fetched, so a late or repeated event sees the current payment status.
    A monthly gift's session only links the subscription; its invoices carry the money.
    """
    session = gateway.retrieve_checkout_session(obj["id"], expand=["payment_intent.latest_charge.balance_transaction"])
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
    intent = session.get("payment_intent")
    charge = intent.get("latest_charge") if isinstance(intent, dict) else None
    if not isinstance(charge, dict):
        raise EventNotReady(f"session {session['id']} is paid but has no charge yet")
    _fulfil(donation, charge=charge)


def _on_checkout_failed(obj: StripeObject) -> None:
    """``checkout.session.async_payment_failed`` or ``checkout.session.expired`` (the donor left
    Checkout without paying): a pending donation becomes failed (unless paid since). An expired
    session never had rows, and gets none."""
    session = gateway.retrieve_checkout_session(obj["id"])
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


def _subscription_of(invoice: StripeObject) -> tuple[str | None, StripeObject]:
    """An invoice's subscription id and the subscription's metadata (current and older API shapes)."""
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    subscription_id = _id(details.get("subscription")) or _id(invoice.get("subscription"))
    metadata = details.get("metadata") or invoice.get("subscription_details", {}).get("metadata") or {}
    return subscription_id, metadata


def _recurring_for(subscription_id: str | None, metadata: StripeObject) -> RecurringDonation | None:
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
        donation = _donation_of_payment(metadata, subscription_id=subscription_id)
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
    """The charge that paid an invoice, with its balance transaction."""
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
        return charge if isinstance(charge, dict) else None
    if charge_id:
        return gateway.retrieve_charge(charge_id)
    return None


def _on_invoice_paid(obj: StripeObject) -> None:
    """``invoice.paid``: one payment of a monthly gift. The first activates the gift.

    Each paid invoice fulfils one ``Donation`` linked to the gift (unique ``stripe_invoice_id``):
    the first invoice fulfils the donation created with the Checkout form; later ones create theirs.
    """
    invoice = gateway.retrieve_invoice(obj["id"])
    if invoice.get("status") != "paid" or not invoice.get("amount_paid"):
        return
    subscription_id, metadata = _subscription_of(invoice)
    recurring = _recurring_for(subscription_id, metadata)
    if recurring is None:
        if subscription_id is None:
            return  # an invoice outside any subscription: not a gift of ours
        raise EventNotReady(f"no monthly gift for subscription {subscription_id} yet")
    charge = _invoice_charge(invoice)
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


def _on_invoice_payment_failed(obj: StripeObject) -> None:
    """``invoice.payment_failed``: an active monthly gift is past due — unless the invoice is paid by now."""
    invoice = gateway.retrieve_invoice(obj["id"])
    if invoice.get("status") == "paid":
        return
    recurring = _recurring_for(*_subscription_of(invoice))
    if recurring is not None and recurring.status in {
        RecurringDonation.Status.PENDING,
        RecurringDonation.Status.ACTIVE,
    }:
        recurring.status = RecurringDonation.Status.PAST_DUE
        recurring.save(update_fields=["status"])


def _on_subscription_deleted(obj: StripeObject) -> None:
    """``customer.subscription.deleted``: the monthly gift is cancelled (final)."""
    recurring = _recurring_for(obj.get("id"), obj.get("metadata") or {})
    if recurring is not None and recurring.status != RecurringDonation.Status.CANCELLED:
        recurring.status = RecurringDonation.Status.CANCELLED
        recurring.cancelled_at = _from_timestamp(obj.get("canceled_at") or obj.get("ended_at"))
        recurring.save(update_fields=["status", "cancelled_at"])


def _donation_for_charge(charge_id: str) -> Donation:
    """Our donation for a charge, fulfilling it first if this event overtook the one that would have.

    Raises ``EventNotReady`` for a charge we cannot place yet (a monthly payment whose
    ``invoice.paid`` has not been processed): the task retries later.
    """
    donation = Donation.objects.filter(stripe_charge_id=charge_id).first()
    if donation is not None:
        return donation
    charge = gateway.retrieve_charge(charge_id)
    intent_id = _id(charge.get("payment_intent"))
    metadata = charge.get("metadata") or {}
    if not (metadata.get("donation_id") or metadata.get("form_nonce")) and intent_id:
        metadata = gateway.retrieve_payment_intent(intent_id).get("metadata") or {}
    donation = _donation_of_payment(metadata, payment_intent_id=intent_id)
    if donation is None:
        raise EventNotReady(f"no donation for charge {charge_id} yet")
    if charge.get("paid") or charge.get("status") == "succeeded":
        donation = _fulfil(donation, charge=charge)
    return donation


def _on_charge_refunded(obj: StripeObject) -> None:
    """``charge.refunded`` (ours or from the Stripe dashboard): book each refund once.

    The charge is re-fetched with its refunds, so partial refunds arriving out of order add up.
    Each refund is booked with the key ``charge-refund:<stripe refund id>``; the donation's
    ``refunded_cents`` follows Stripe's total; fully refunded → status *refunded*. A refund that
    overtakes the payment first fulfils the donation, so the ledger sees paid, then refunded.
    """
    donation = _donation_for_charge(obj["id"])
    charge = gateway.retrieve_charge(obj["id"], expand=["refunds"])
    donation = Donation.objects.select_for_update().select_related("fund").get(pk=donation.pk)
    refunds = (charge.get("refunds") or {}).get("data")
    if refunds is None:
        # No refund list in the payload: book the difference since the last booking.
        delta = int(charge.get("amount_refunded") or 0) - donation.refunded_cents
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
    donation.refunded_cents = min(int(charge.get("amount_refunded") or 0), donation.charged_cents)
    if donation.refunded_cents >= donation.charged_cents and donation.status == Donation.Status.PAID:
        donation.status = Donation.Status.REFUNDED
    donation.save(update_fields=["refunded_cents", "status"])


def _record_refund_row(donation: Donation, stripe_refund: StripeObject) -> None:
    """Keep the ``Refund`` register in step: ours (found by metadata) or one made in the dashboard."""
    status = Refund.Status.SUCCEEDED if stripe_refund.get("status") == "succeeded" else Refund.Status.REQUESTED
    if Refund.objects.filter(stripe_refund_id=stripe_refund["id"]).update(status=status):
        return
    reference = str((stripe_refund.get("metadata") or {}).get("refund_id") or "")
    if reference.isdigit() and Refund.objects.filter(
        pk=int(reference), donation=donation, stripe_refund_id__isnull=True
    ).update(stripe_refund_id=stripe_refund["id"], status=status):
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


def _dispute_opened(obj: StripeObject) -> tuple[Dispute, Donation]:
    charge_id = _id(obj["charge"])
    if charge_id is None:  # Stripe's disputes always name their charge
        raise ValueError(f"dispute {obj['id']} names no charge")
    donation = _donation_for_charge(charge_id)
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


def _on_dispute_created(obj: StripeObject) -> None:
    """``charge.dispute.created``: a ``Dispute``; the donation is disputed; amount + fee booked out."""
    _dispute_opened(obj)


def _on_dispute_closed(obj: StripeObject) -> None:
    """``charge.dispute.closed``: won → the amount comes back and the donation is paid again; lost →
    the donation is lost. Tolerates arriving before ``charge.dispute.created``."""
    dispute, donation = _dispute_opened(obj)
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


def _on_payout_paid(obj: StripeObject) -> None:
    """``payout.paid``: a ``Payout``; the amount moves from Stripe clearing to the bank, shared among
    funds in proportion to what each holds in clearing (ledger ``payout:<id>``)."""
    arrival = _from_timestamp(obj.get("arrival_date"))
    payout, created = Payout.objects.get_or_create(
        stripe_payout_id=obj["id"],
        defaults={"amount_cents": int(obj["amount"]), "arrival_date": arrival.date(), "status": obj.get("status", "")},
    )
    if not created and payout.status != obj.get("status", payout.status):
        Payout.objects.filter(pk=payout.pk).update(status=obj.get("status", ""))
    key = f"payout:{payout.stripe_payout_id}"
    if Transaction.objects.filter(key=key).exists():
        return
    allocation = payout_allocation(payout.amount_cents)
    if sum(allocation.values()) != payout.amount_cents:
        logger.warning("payout %s: clearing holds less than the payout", payout.stripe_payout_id)
    if allocation:
        book_payout(
            key=key, allocation=allocation, occurred_at=arrival, description=f"Stripe payout {payout.stripe_payout_id}"
        )


_HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "checkout.session.async_payment_succeeded": _on_checkout_completed,
    "checkout.session.async_payment_failed": _on_checkout_failed,
    "checkout.session.expired": _on_checkout_failed,
    "invoice.paid": _on_invoice_paid,
    "invoice.payment_failed": _on_invoice_payment_failed,
    "customer.subscription.deleted": _on_subscription_deleted,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_created,
    "charge.dispute.closed": _on_dispute_closed,
    "payout.paid": _on_payout_paid,
}
