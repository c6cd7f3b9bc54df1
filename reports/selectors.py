"""Reads for the audit pages and report runs. Nothing here touches a detainee's record.

Lists are joined only to ``Case`` (for its public number), never to ``Detainee``, so no query
built here can bring a name or an A-number into a page.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import AccessEvent, User
from funds.models import Bond, Disbursement, Donation, Fund, Posting, Transaction
from kernel.clock import booking_day_start
from reports.models import ReportRun


def _period(field: str, date_from: date | None, date_to: date | None) -> Q:
    """A filter on a datetime ``field`` for whole local days ``date_from``..``date_to``."""
    condition = Q()
    if date_from:
        condition &= Q(**{f"{field}__gte": booking_day_start(date_from)})
    if date_to:
        condition &= Q(**{f"{field}__lt": booking_day_start(date_to + timedelta(days=1))})
    return condition


def ledger_transactions(
    *, date_from: date | None = None, date_to: date | None = None, fund: Fund | None = None, account_kind: str = ""
) -> QuerySet[Transaction]:
    """Transactions with their postings (and accounts and funds) prefetched, newest first.

    ``fund`` and ``account_kind`` keep the transactions with at least one posting on such an
    account; each transaction still shows all its postings, so every line balances.
    """
    transactions = Transaction.objects.filter(_period("occurred_at", date_from, date_to)).select_related(
        "recorded_by", "reverses"
    )
    postings = Posting.objects.filter(transaction=OuterRef("pk"))
    if fund is not None:
        postings = postings.filter(account__fund=fund)
    if account_kind:
        postings = postings.filter(account__kind=account_kind)
    if fund is not None or account_kind:
        transactions = transactions.filter(Exists(postings))
    return transactions.prefetch_related(
        Prefetch("postings", queryset=Posting.objects.select_related("account__fund").order_by("id"))
    ).order_by("-occurred_at", "-id")


def donations(
    *, date_from: date | None = None, date_to: date | None = None, fund: Fund | None = None, status: str = ""
) -> QuerySet[Donation]:
    items = Donation.objects.filter(_period("created_at", date_from, date_to)).select_related("donor", "fund")
    if fund is not None:
        items = items.filter(fund=fund)
    if status:
        items = items.filter(status=status)
    return items.order_by("-created_at", "-id")


def disbursements(
    *, date_from: date | None = None, date_to: date | None = None, fund: Fund | None = None, status: str = ""
) -> QuerySet[Disbursement]:
    items = Disbursement.objects.filter(_period("requested_at", date_from, date_to)).select_related(
        "case", "fund", "requested_by", "decided_by", "paid_by"
    )
    if fund is not None:
        items = items.filter(fund=fund)
    if status:
        items = items.filter(status=status)
    # ``only`` keeps even the disbursement's free-text reason (which may name people) out of the query.
    return items.only(
        "pk",
        "purpose",
        "amount_cents",
        "payee",
        "status",
        "requested_at",
        "decided_at",
        "paid_on",
        "payment_method",
        "payment_reference",
        "case",
        "fund",
        "requested_by",
        "decided_by",
        "paid_by",
        "case__number",
        "fund__name",
        "requested_by__full_name",
        "requested_by__email",
        "decided_by__full_name",
        "decided_by__email",
        "paid_by__full_name",
        "paid_by__email",
    ).order_by("-requested_at", "-id")


def bonds(*, fund: Fund | None = None, status: str = "") -> QuerySet[Bond]:
    items = Bond.objects.select_related("case", "fund", "closed_by").only(
        "pk",
        "amount_cents",
        "paid_on",
        "status",
        "closed_on",
        "refunded_cents",
        "interest_cents",
        "case",
        "fund",
        "closed_by",
        "case__number",
        "fund__name",
        "closed_by__full_name",
        "closed_by__email",
    )
    if fund is not None:
        items = items.filter(fund=fund)
    if status:
        items = items.filter(status=status)
    return items.order_by("paid_on", "id")


def access_events(
    *, date_from: date | None = None, date_to: date | None = None, user: User | None = None, action: str = ""
) -> QuerySet[AccessEvent]:
    events = AccessEvent.objects.filter(_period("at", date_from, date_to)).select_related("user")
    if user is not None:
        events = events.filter(user=user)
    if action:
        events = events.filter(action=action)
    return events.order_by("-at", "-id")


def report_run_by_sha256(digest: str, *, files_only: bool = False) -> tuple[ReportRun, str] | None:
    """The finished run whose PDF, CSV or (unless ``files_only``) content has SHA-256 ``digest``.

    Returns ``(run, what)`` with ``what`` one of ``"pdf"``, ``"csv"``, ``"content"``, or None.
    Runs whose files were deleted after the retention period still answer: their hashes stay.
    """
    digest = digest.strip().lower()
    fields = ["pdf_sha256", "csv_sha256"] if files_only else ["pdf_sha256", "csv_sha256", "content_sha256"]
    condition = Q()
    for field in fields:
        condition |= Q(**{field: digest})
    run = (
        ReportRun.objects.filter(condition, status=ReportRun.Status.DONE)
        .select_related("requested_by")
        .order_by("requested_at", "id")
        .first()
    )
    if run is None:
        return None
    what = next(field for field in fields if getattr(run, field) == digest).removesuffix("_sha256")
    return run, what
