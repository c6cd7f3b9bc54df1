"""The only way to write the ledger.

``ledger_post`` checks that a transaction's postings sum to zero, writes them, and keeps each
account's running balance in the same database transaction. Its ``key`` makes it idempotent:
posting the same key twice returns the first transaction (a retried webhook or task never
books money twice). Postings are never changed; ``ledger_reverse`` books the opposite.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction as db_transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from funds.models import Account, AccountKind, Fund, Posting, Transaction, TransactionKind


class LedgerError(ValueError):
    """A programming error: an unbalanced or empty transaction, or a key reused for another kind."""


Line = tuple[Account, int]


def account(fund: Fund, kind: AccountKind) -> Account:
    """The fund's account of ``kind`` (created on first use)."""
    acct, _created = Account.objects.get_or_create(fund=fund, kind=kind)
    return acct


@db_transaction.atomic
def ledger_post(
    *,
    key: str,
    kind: TransactionKind,
    description: str,
    lines: Iterable[Line],
    occurred_at: datetime | None = None,
    by: User | None = None,
    reverses: Transaction | None = None,
) -> Transaction:
    """Book one balanced transaction; return the existing one if ``key`` was booked before.

    Side effects: a ``Transaction``, its ``Posting`` rows, and the running ``balance`` of
    every account touched (updated with ``F()`` so concurrent bookings add up).
    """
    existing = Transaction.objects.filter(key=key).first()
    if existing is not None:
        if existing.kind != kind:
            raise LedgerError(f"ledger key {key!r} already used for a {existing.kind} transaction")
        return existing
    lines = [(acct, int(amount)) for acct, amount in lines if int(amount) != 0]
    if len(lines) < 2:
        raise LedgerError("a transaction needs at least two non-zero postings")
    if sum(amount for _acct, amount in lines) != 0:
        raise LedgerError(f"transaction {key!r} does not balance: {lines!r}")
    txn = Transaction.objects.create(
        key=key,
        kind=kind,
        description=description[:300],
        occurred_at=occurred_at or timezone.now(),
        recorded_by=by,
        reverses=reverses,
    )
    Posting.objects.bulk_create([Posting(transaction=txn, account=acct, amount=amount) for acct, amount in lines])
    for acct, amount in lines:
        Account.objects.filter(pk=acct.pk).update(balance=F("balance") + amount)
    return txn


@db_transaction.atomic
def ledger_reverse(*, transaction: Transaction, description: str, by: User | None = None) -> Transaction:
    """Book the exact opposite of ``transaction`` (it stays as it was). Idempotent."""
    lines = [(p.account, -p.amount) for p in transaction.postings.select_related("account")]
    return ledger_post(
        key=f"reverse:{transaction.pk}",
        kind=TransactionKind.REVERSAL,
        description=description,
        lines=lines,
        by=by,
        reverses=transaction,
    )
