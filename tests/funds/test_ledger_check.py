"""The ledger's self-check: done by the beat task, shown (with its time and zone) on the finance and audit pages.

A damaged ledger is made for real: the append-only triggers are switched off inside the test's
transaction and a posting is changed with a raw ``UPDATE``, as a bad restore or a hand edit would.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from funds.models import AccountKind, Fund, LedgerCheck, Posting, TransactionKind
from funds.services.ledger import account, ledger_post
from funds.tasks import ledger_check

pytestmark = pytest.mark.django_db


def _book(fund: Fund, n: int) -> list[int]:
    ids = []
    for i in range(n):
        txn = ledger_post(
            key=f"check:{fund.slug}:{i}",
            kind=TransactionKind.DONATION,
            description=f"gift {i}",
            lines=[(account(fund, AccountKind.BANK), 100 + i), (account(fund, AccountKind.DONATIONS), -(100 + i))],
        )
        ids.append(txn.pk)
    return ids


def _corrupt_posting(posting: Posting, amount: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the balance triggers of earlier bookings fire now
        cursor.execute("ALTER TABLE funds_posting DISABLE TRIGGER USER")
        cursor.execute("UPDATE funds_posting SET amount = %s WHERE id = %s", [amount, posting.pk])
        cursor.execute("ALTER TABLE funds_posting ENABLE TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _page(client, name: str) -> str:
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("role", "url_name"), [(Role.FINANCE, "funds:finance-home"), (Role.AUDITOR, "reports:funds")])
def test_a_balanced_ledger_is_shown_checked_with_its_time_and_zone(client_for, general_fund, role, url_name):
    _book(general_fund, 3)

    assert ledger_check() == 0
    page = _page(client_for(role), url_name)

    check = LedgerCheck.objects.get()
    assert "The ledger checks out (checked" in page
    local = timezone.localtime(check.checked_at, ZoneInfo(settings.TIME_ZONE))
    assert local.strftime("%Z") in page  # the zone's abbreviation, e.g. EST
    assert "found" not in page


@pytest.mark.parametrize(("role", "url_name"), [(Role.FINANCE, "funds:finance-home"), (Role.AUDITOR, "reports:funds")])
def test_a_posting_changed_behind_the_ledger_is_found_by_the_check_and_shown(client_for, general_fund, role, url_name):
    ids = _book(general_fund, 3)
    ledger_check()
    damaged = Posting.objects.filter(transaction_id=ids[1], amount__gt=0).get()

    _corrupt_posting(damaged, 999)
    client = client_for(role)
    before = _page(client, url_name)
    problems = ledger_check()
    after = _page(client, url_name)

    assert "The ledger checks out" in before  # the page itself never re-sums the ledger
    assert problems == 2  # the transaction no longer balances, and the bank's total differs from its postings
    assert "found 2 problems" in after
    assert f"#{ids[1]}" in after
    assert "general:bank" in after
    assert "The ledger checks out" not in after


def test_problems_keep_the_time_they_were_first_found_and_clear_once_repaired(general_fund):
    ids = _book(general_fund, 2)
    damaged = Posting.objects.filter(transaction_id=ids[0], amount__gt=0).get()
    _corrupt_posting(damaged, 5)

    ledger_check()
    first = LedgerCheck.objects.get()
    LedgerCheck.objects.filter(pk=first.pk).update(problems_since=first.problems_since - timedelta(minutes=30))
    ledger_check()
    again = LedgerCheck.objects.get()
    _corrupt_posting(damaged, damaged.amount)  # repaired
    ledger_check()
    repaired = LedgerCheck.objects.get()

    assert again.unbalanced == [ids[0]] and again.unbalanced_count == 1
    assert [m["account"] for m in again.mismatched] == [account(general_fund, AccountKind.BANK).pk]
    assert again.problems_since == first.problems_since - timedelta(minutes=30)
    assert repaired.problems == 0 and repaired.problems_since is None
    assert repaired.through_transaction_id == ids[-1]


def test_a_balance_changed_outside_the_ledger_shows_at_once(client_for, general_fund):
    _book(general_fund, 1)
    ledger_check()
    bank = account(general_fund, AccountKind.BANK)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE funds_account SET balance = balance + 1 WHERE id = %s", [bank.pk])
    page = _page(client_for(Role.FINANCE), "funds:finance-home")

    assert "do not add up to zero" in page


def test_a_ledger_never_checked_or_checked_long_ago_is_shown_as_such(client_for, general_fund):
    client = client_for(Role.FINANCE)
    never = _page(client, "funds:finance-home")
    ledger_check()
    LedgerCheck.objects.update(checked_at=timezone.now() - timedelta(hours=2))
    stale = _page(client, "funds:finance-home")

    assert "has not been checked yet" in never
    assert "has stopped running" in stale
    assert "The ledger checks out" not in never + stale


def test_the_finance_home_reads_the_ledger_in_the_same_queries_whatever_its_size(client_for, general_fund):
    client = client_for(Role.FINANCE)
    _book(general_fund, 1)
    ledger_check()
    client.get(reverse("funds:finance-home"))
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("funds:finance-home"))
    _book(Fund.objects.create(slug="other", name="Other fund", active=True), 20)
    ledger_check()
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("funds:finance-home"))

    assert len(small) == len(large)
    assert not any("funds_posting" in q["sql"] for q in large.captured_queries)


def test_the_check_runs_on_the_beat():
    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "funds.tasks.ledger_check" in entries
