"""What is not one case's: the rest of the access log, donations and their ledger transactions."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import connection, transaction

from demo.scale.bulk import Copier, Ids, Log
from demo.scale.cases import ACCESS_COLS, HISTORY_DAYS
from demo.scale.names import FAMILY, GIVEN
from demo.scale.values import Values
from funds.identity import donor_email_index
from funds.models import Account, AccountKind, Fund

DONOR_COLS = "id, email, name, stripe_customer_id, created_at, email_index"
DONATION_COLS = (
    "id, amount_cents, fee_covered_cents, anonymous, status, stripe_payment_intent_id, stripe_charge_id, "
    "stripe_fee_cents, refunded_cents, created_at, paid_at, receipt_number, receipt_pdf, receipt_sha256, "
    "donor_id, fund_id"
)
TRANSACTION_COLS = "id, key, kind, occurred_at, recorded_at, description, recorded_by_id, reverses_id"
POSTING_COLS = "id, amount, account_id, transaction_id"


def add_access_events(
    *, ids: Ids, staff: dict[str, list[int]], missing: int, rng: random.Random, chunk: int, now: datetime, log: Log
) -> None:
    """Reads of case pages (mostly), changes and sign-ins, over two years, by staff weighted to attorneys."""
    with connection.cursor() as cur:
        cur.execute("SELECT number FROM casework_case ORDER BY random() LIMIT 50000")
        numbers = [row[0] for row in cur.fetchall()]
    users = staff["attorney"] * 6 + staff["supervisor"] * 3 + staff["intake"] + staff["auditor"] + staff["finance"]
    done = 0
    while done < missing:
        c = Copier()
        for _ in range(min(chunk * 5, missing - done)):
            at = now - timedelta(seconds=rng.randrange(730 * 86400))
            roll = rng.random() if numbers else 1.0
            if roll < 0.8:
                action, kind, ref = "view", "case", rng.choice(numbers)
            elif roll < 0.94:
                action, kind, ref = "change", "case", rng.choice(numbers)
            else:
                action, kind, ref = "sign_in", "", ""
            ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            row = (ids.take("accounts_accessevent"), at, action, kind, ref, "", ip, rng.choice(users))
            c.add("accounts_accessevent", ACCESS_COLS, row)
        with transaction.atomic():
            c.flush(["accounts_accessevent"])
            ids.sync_sequences()
        done += c.written["accounts_accessevent"]
        log(f"  access events: {done:,} of {missing:,}")


def add_donations(*, ids: Ids, missing: int, rng: random.Random, values: Values, now: datetime, log: Log) -> None:
    """Paid gifts booked as ``book_donation`` books them (the gift and the Stripe fee), balances kept."""
    enc = values.enc
    funds = list(Fund.objects.order_by("pk"))
    accounts = {}
    for fund in funds:
        for kind in (AccountKind.STRIPE_CLEARING, AccountKind.DONATIONS, AccountKind.PROCESSING_FEES):
            accounts[(fund.pk, kind)] = Account.objects.get_or_create(fund=fund, kind=kind)[0].pk
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM funds_donor")
        donors_before = cur.fetchone()[0]
    c = Copier()
    donor_ids: list[int] = []
    for _ in range(missing):
        if not donor_ids or rng.random() < 0.35:
            email = f"donor{donors_before + len(donor_ids)}@example.org"
            pk = ids.take("funds_donor")
            name = enc["donor_name"](f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}")
            joined = now - timedelta(days=rng.randrange(HISTORY_DAYS))
            c.add(
                "funds_donor", DONOR_COLS, (pk, enc["donor_email"](email), name, "", joined, donor_email_index(email))
            )
            donor_ids.append(pk)
        fund = funds[0] if rng.random() < 0.8 else rng.choice(funds)
        amount = rng.choice((2500, 5000, 5000, 10000, 2000, 25000, 100000))
        fee = round(amount * 0.029) + 30
        paid = now - timedelta(days=rng.randrange(HISTORY_DAYS), seconds=rng.randrange(86400))
        pk = ids.take("funds_donation")
        c.add(
            "funds_donation",
            DONATION_COLS,
            (
                pk,
                amount,
                0,
                rng.random() < 0.1,
                "paid",
                f"pi_bench_{pk}",
                f"ch_bench_{pk}",
                fee,
                0,
                paid,
                paid,
                f"R{paid.year}-{pk:06d}",
                "",
                "",
                rng.choice(donor_ids),
                fund.pk,
            ),
        )
        bookings = (
            (
                f"donation:{pk}",
                "donation",
                f"Donation {pk}",
                AccountKind.STRIPE_CLEARING,
                AccountKind.DONATIONS,
                amount,
            ),
            (
                f"donation:{pk}:fee",
                "fee",
                f"Stripe fee on donation {pk}",
                AccountKind.PROCESSING_FEES,
                AccountKind.STRIPE_CLEARING,
                fee,
            ),
        )
        for key, entry_kind, description, debit, credit, cents in bookings:
            txn = ids.take("funds_transaction")
            c.add("funds_transaction", TRANSACTION_COLS, (txn, key, entry_kind, paid, paid, description, None, None))
            for account, amt in ((accounts[(fund.pk, debit)], cents), (accounts[(fund.pk, credit)], -cents)):
                c.add("funds_posting", POSTING_COLS, (ids.take("funds_posting"), amt, account, txn))
    with transaction.atomic():
        c.flush(["funds_donor", "funds_donation", "funds_transaction", "funds_posting"])
        with connection.cursor() as cur:  # the running balances ledger_post keeps
            cur.execute(
                "UPDATE funds_account a SET balance = coalesce("
                "(SELECT sum(p.amount) FROM funds_posting p WHERE p.account_id = a.id), 0)"
            )
        ids.sync_sequences()
    log(f"  {missing:,} donations with {c.written['funds_posting']:,} postings")
