"""Ledger bookings for money that moves through Stripe (called by the donation services).

Each function is idempotent through its ledger key, so a repeated webhook books nothing new.

**A payout larger than clearing.** Stripe clearing holds what the ledger knows Stripe owes us. A
payout is what the bank really received, so it is always booked in full (``book_stripe_payout``):
clearing gives what it holds, and the rest is credited to *Stripe payouts not yet explained*
(``AccountKind.STRIPE_SUSPENSE``), a suspense account, rather than to clearing (which would
go below zero in some fund chosen at random) or to income (which would call it a donation before
anyone knows it is one). The transaction balances and so does each fund; a ``PayoutDiscrepancy``
shows finance the amount and the payout until ``payout_discrepancy_resolve`` clears the suspense.
The usual cause is a charge whose event came after the payout, or was parked: once it is booked,
clearing holds the money twice, and the resolution takes it out of clearing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from funds.models import (
    Account,
    AccountKind,
    Donation,
    Fund,
    Payout,
    PayoutDiscrepancy,
    Posting,
    Transaction,
    TransactionKind,
)
from funds.services.ledger import Line, account, ledger_post
from kernel.money import format_cents

logger = logging.getLogger(__name__)


@transaction.atomic
def book_donation(
    *, donation: Donation, fee_cents: int, occurred_at: datetime
) -> tuple[Transaction, Transaction | None]:
    """The charge lands in Stripe clearing and credits the fund; Stripe's fee comes off it."""
    fund = donation.fund
    gift = ledger_post(
        key=f"donation:{donation.pk}",
        kind=TransactionKind.DONATION,
        description=f"Donation {donation.pk}",
        lines=[
            (account(fund, AccountKind.STRIPE_CLEARING), donation.charged_cents),
            (account(fund, AccountKind.DONATIONS), -donation.charged_cents),
        ],
        occurred_at=occurred_at,
    )
    fee = None
    if fee_cents:
        fee = ledger_post(
            key=f"donation:{donation.pk}:fee",
            kind=TransactionKind.FEE,
            description=f"Stripe fee on donation {donation.pk}",
            lines=[
                (account(fund, AccountKind.PROCESSING_FEES), fee_cents),
                (account(fund, AccountKind.STRIPE_CLEARING), -fee_cents),
            ],
            occurred_at=occurred_at,
        )
    return gift, fee


@transaction.atomic
def book_refund(*, key: str, donation: Donation, amount_cents: int, occurred_at: datetime) -> Transaction:
    """Money returned to a donor leaves Stripe clearing and is charged to the fund as a refund."""
    fund = donation.fund
    return ledger_post(
        key=key,
        kind=TransactionKind.REFUND,
        description=f"Refund of donation {donation.pk}",
        lines=[
            (account(fund, AccountKind.REFUNDS), amount_cents),
            (account(fund, AccountKind.STRIPE_CLEARING), -amount_cents),
        ],
        occurred_at=occurred_at,
    )


@transaction.atomic
def book_dispute(
    *, key: str, donation: Donation, amount_cents: int, fee_cents: int, occurred_at: datetime
) -> Transaction:
    """A dispute withdraws the amount and Stripe's dispute fee from clearing."""
    fund = donation.fund
    return ledger_post(
        key=key,
        kind=TransactionKind.DISPUTE,
        description=f"Dispute on donation {donation.pk}",
        lines=[
            (account(fund, AccountKind.DISPUTES), amount_cents + fee_cents),
            (account(fund, AccountKind.STRIPE_CLEARING), -(amount_cents + fee_cents)),
        ],
        occurred_at=occurred_at,
    )


@transaction.atomic
def book_dispute_won(*, key: str, donation: Donation, amount_cents: int, occurred_at: datetime) -> Transaction:
    """A won dispute returns the amount (Stripe keeps the fee)."""
    fund = donation.fund
    return ledger_post(
        key=key,
        kind=TransactionKind.DISPUTE_WON,
        description=f"Dispute won on donation {donation.pk}",
        lines=[
            (account(fund, AccountKind.STRIPE_CLEARING), amount_cents),
            (account(fund, AccountKind.DISPUTES), -amount_cents),
        ],
        occurred_at=occurred_at,
    )


@transaction.atomic
def book_payout(*, key: str, allocation: dict[Fund, int], occurred_at: datetime, description: str) -> Transaction:
    """A Stripe payout moves money from clearing to the bank, fund by fund (``allocation``)."""
    lines = []
    for fund, cents in allocation.items():
        if cents:
            lines += [(account(fund, AccountKind.BANK), cents), (account(fund, AccountKind.STRIPE_CLEARING), -cents)]
    return ledger_post(
        key=key, kind=TransactionKind.PAYOUT, description=description, lines=lines, occurred_at=occurred_at
    )


def _shares(total_cents: int, weights: Mapping[Fund, int]) -> dict[Fund, int]:
    """``total_cents`` shared in proportion to ``weights`` (all positive), by largest remainder, so the
    parts add up to ``total_cents`` exactly."""
    weight = sum(weights.values())
    shares = {fund: total_cents * cents // weight for fund, cents in weights.items()}
    remainders = sorted(weights, key=lambda f: (total_cents * weights[f]) % weight, reverse=True)
    for fund in remainders[: total_cents - sum(shares.values())]:
        shares[fund] += 1
    return shares


def _clearing_holdings(*, lock: bool = False) -> dict[Fund, int]:
    accounts = Account.objects.filter(kind=AccountKind.STRIPE_CLEARING, balance__gt=0).select_related("fund")
    if lock:
        accounts = accounts.select_for_update(of=("self",)).order_by("pk")
    return {a.fund: a.balance for a in accounts}


def payout_allocation(total_cents: int) -> dict[Fund, int]:
    """Share a payout among funds in proportion to what each holds in Stripe clearing.

    Largest-remainder rounding, so the parts add up to ``total_cents`` exactly — or, when clearing
    holds less than that, to what it holds (``payout_split`` says where the rest goes).
    """
    holdings = _clearing_holdings()
    held = sum(holdings.values())
    if held <= 0 or total_cents <= 0:
        return {}
    return _shares(min(total_cents, held), holdings)


def payout_split(total_cents: int) -> tuple[dict[Fund, int], dict[Fund, int]]:
    """A payout of ``total_cents`` as ``(from_clearing, unexplained)`` cents per fund; together the
    whole payout. Locks the clearing accounts (call it in a transaction), so two payouts booked at
    once cannot both take the same money out of clearing.

    ``from_clearing`` is ``payout_allocation``. When clearing holds less than the payout, every fund's
    clearing is emptied and the rest is shared the same way, in proportion to what each held; with
    nothing in clearing at all, the rest goes to the first fund (by the funds' order, normally the
    general fund, which is unrestricted).
    """
    holdings = _clearing_holdings(lock=True)
    held = sum(holdings.values())
    if total_cents <= 0:
        return {}, {}
    from_clearing = _shares(min(total_cents, held), holdings) if held > 0 else {}
    rest = total_cents - sum(from_clearing.values())
    if rest <= 0:
        return from_clearing, {}
    if holdings:
        return from_clearing, _shares(rest, holdings)
    first = Fund.objects.filter(active=True).first() or Fund.objects.first()
    if first is None:
        raise ValueError("a payout arrived but there is no fund to book it in")
    return from_clearing, {first: rest}


def _merged(lines: Iterable[Line]) -> list[Line]:
    """One line per account (a fund's bank can be in a transaction for two reasons)."""
    amounts: defaultdict[int, int] = defaultdict(int)
    accounts: dict[int, Account] = {}
    for acct, cents in lines:
        amounts[acct.pk] += cents
        accounts[acct.pk] = acct
    return [(accounts[pk], cents) for pk, cents in amounts.items() if cents]


@transaction.atomic
def book_stripe_payout(*, payout: Payout, occurred_at: datetime) -> tuple[Transaction | None, PayoutDiscrepancy | None]:
    """Book a Stripe payout in full (ledger ``payout:<stripe id>``), once.

    The bank gets ``payout.amount_cents``, shared among funds by ``payout_split``; clearing gives what
    it holds and the rest is credited to the funds' *Stripe payouts not yet explained* (suspense)
    accounts. Side effects: the ledger transaction; when some of the payout is unexplained, a
    ``PayoutDiscrepancy`` for finance and a WARNING log line (Stripe's payout id and cents only).
    Booking it again returns what the first booking made.
    """
    key = f"payout:{payout.stripe_payout_id}"
    existing = Transaction.objects.filter(key=key).first()
    if existing is not None:
        return existing, PayoutDiscrepancy.objects.filter(payout=payout).first()
    from_clearing, unexplained = payout_split(payout.amount_cents)
    lines: list[Line] = []
    for fund, cents in from_clearing.items():
        lines += [(account(fund, AccountKind.BANK), cents), (account(fund, AccountKind.STRIPE_CLEARING), -cents)]
    for fund, cents in unexplained.items():
        lines += [(account(fund, AccountKind.BANK), cents), (account(fund, AccountKind.STRIPE_SUSPENSE), -cents)]
    lines = _merged(lines)
    if not lines:
        return None, None
    txn = ledger_post(
        key=key,
        kind=TransactionKind.PAYOUT,
        description=f"Stripe payout {payout.stripe_payout_id}",
        lines=lines,
        occurred_at=occurred_at,
    )
    discrepancy = None
    missing = sum(unexplained.values())
    if missing:
        discrepancy = PayoutDiscrepancy.objects.create(payout=payout, amount_cents=missing)
        logger.warning(
            "payout %s: %s cents more than Stripe clearing held; booked to suspense for finance",
            payout.stripe_payout_id,
            missing,
        )
    return txn, discrepancy


@transaction.atomic
def payout_discrepancy_resolve(
    *, discrepancy: PayoutDiscrepancy, by: User, note: str, ip_address: str | None = None
) -> PayoutDiscrepancy:
    """Finance's "explained" for a payout's unexplained amount, once what explains it (typically a
    donation whose event came late, or was parked and then retried) has been booked into clearing.

    Side effects: a ledger transaction ``payout:<stripe id>:explained`` (kind *payout explained*) that
    empties the suspense the payout filled, fund by fund, and takes the same amount out of Stripe
    clearing, shared among funds in proportion to what each holds there now; where those funds
    differ, bank lines move the cash to the fund whose clearing it came from, so every fund
    balances. ``resolved_at``, ``resolved_by``, ``resolution_note``; an ``AccessEvent`` (change,
    ``payout``, Stripe's payout id, the cents). Raises ``ValidationError`` when it is resolved already,
    the note is empty, or clearing holds less than the amount (book what explains it first).
    """
    locked = PayoutDiscrepancy.objects.select_for_update().select_related("payout").get(pk=discrepancy.pk)
    if locked.resolved_at is not None:
        raise ValidationError(_("This payout difference has already been resolved."))
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say what explained the difference.")})
    payout = locked.payout
    in_suspense = list(
        Posting.objects.filter(
            transaction__key=f"payout:{payout.stripe_payout_id}", account__kind=AccountKind.STRIPE_SUSPENSE
        ).select_related("account__fund")
    )
    holdings = _clearing_holdings(lock=True)
    if sum(holdings.values()) < locked.amount_cents:
        raise ValidationError(
            _(
                "Stripe clearing holds only %(held)s, less than the %(amount)s to explain: book what explains "
                "the difference first."
            )
            % {"held": format_cents(sum(holdings.values())), "amount": format_cents(locked.amount_cents)}
        )
    lines: list[Line] = []
    for posting in in_suspense:
        fund = posting.account.fund
        lines += [(posting.account, -posting.amount), (account(fund, AccountKind.BANK), posting.amount)]
    for fund, cents in _shares(locked.amount_cents, holdings).items():
        lines += [(account(fund, AccountKind.BANK), cents), (account(fund, AccountKind.STRIPE_CLEARING), -cents)]
    ledger_post(
        key=f"payout:{payout.stripe_payout_id}:explained",
        kind=TransactionKind.PAYOUT_EXPLAINED,
        description=f"Unexplained part of Stripe payout {payout.stripe_payout_id} resolved",
        lines=_merged(lines),
        by=by,
    )
    locked.resolved_at = timezone.now()
    locked.resolved_by = by
    locked.resolution_note = note[:300]
    locked.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    access_event_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        object_type="payout",
        object_ref=payout.stripe_payout_id,
        detail=f"unexplained {locked.amount_cents} cents resolved",
        ip_address=ip_address,
    )
    return locked
