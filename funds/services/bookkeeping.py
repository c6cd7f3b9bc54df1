"""Ledger bookings for money that moves through Stripe (called by the donation services).

Each function is idempotent through its ledger key, so a repeated webhook books nothing new.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from funds.models import Account, AccountKind, Donation, Fund, Transaction, TransactionKind
from funds.services.ledger import account, ledger_post


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


def payout_allocation(total_cents: int) -> dict[Fund, int]:
    """Share a payout among funds in proportion to what each holds in Stripe clearing.

    Largest-remainder rounding, so the parts add up to ``total_cents`` exactly.
    """
    holdings = {
        a.fund: a.balance
        for a in Account.objects.filter(kind=AccountKind.STRIPE_CLEARING, balance__gt=0).select_related("fund")
    }
    held = sum(holdings.values())
    if held <= 0 or total_cents <= 0:
        return {}
    total_cents = min(total_cents, held)
    shares = {fund: total_cents * cents // held for fund, cents in holdings.items()}
    remainders = sorted(holdings, key=lambda f: (total_cents * holdings[f]) % held, reverse=True)
    for fund in remainders[: total_cents - sum(shares.values())]:
        shares[fund] += 1
    return shares
