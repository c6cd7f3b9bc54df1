"""The ledger's self-check, done by the worker instead of on every page view.

The ledger service (``funds.services.ledger``) refuses an unbalanced transaction and keeps each
account's running balance in the same database transaction, and PostgreSQL's triggers refuse an
unbalanced commit and any change to a posting. What is left to catch is damage done around them
(a raw ``UPDATE`` with the triggers off, a restore gone wrong): only re-summing every posting
finds that, and that is a scan of the whole ledger. The beat task ``funds.tasks.ledger_check``
runs ``ledger_check_run`` every few minutes; the finance and audit pages read its one-row result
(``LedgerCheck``) and say when it was checked, and that it is stale if the task stopped running.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.utils import timezone

from funds.models import LedgerCheck, Transaction
from funds.selectors import ledger_mismatches, unbalanced_transactions

PROBLEMS_KEPT = 100  # transaction ids kept on the row; the count says how many there were


@transaction.atomic
def ledger_check_run() -> LedgerCheck:
    """Check every transaction balances and every account's balance equals the sum of its postings.

    Side effects: writes the one ``LedgerCheck`` row (created on the first run) with the time, the
    newest transaction checked, the problems found and since when there have been problems.
    Safe to run twice, or at the same time as another run (the row is locked while written).
    """
    started = time.monotonic()
    through = Transaction.objects.order_by("-id").values_list("id", flat=True).first()
    unbalanced = sorted(unbalanced_transactions())
    mismatched = [
        {"account": account.pk, "name": str(account), "balance": balance, "postings": postings}
        for account, balance, postings in ledger_mismatches()
    ]
    now = timezone.now()
    previous = LedgerCheck.objects.select_for_update().filter(pk=LedgerCheck.SINGLETON).first()
    has_problems = bool(unbalanced or mismatched)
    since = None
    if has_problems:
        since = previous.problems_since if previous is not None and previous.problems_since else now
    check, _created = LedgerCheck.objects.update_or_create(
        pk=LedgerCheck.SINGLETON,
        defaults={
            "checked_at": now,
            "through_transaction_id": through,
            "unbalanced": unbalanced[:PROBLEMS_KEPT],
            "unbalanced_count": len(unbalanced),
            "mismatched": mismatched,
            "problems_since": since,
            "duration_ms": round((time.monotonic() - started) * 1000),
        },
    )
    return check
