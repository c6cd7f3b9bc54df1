"""Payments for cases: requested by the case's attorney, decided by someone else, paid, booked."""

from __future__ import annotations

import html
import threading
import time
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AccessEvent
from accounts.roles import Role
from funds.models import Account, AccountKind, Bond, Disbursement, Fund, Transaction
from funds.selectors import fund_balance, ledger_mismatches, unbalanced_transactions
from funds.services import bookkeeping
from funds.services import disbursements as disbursements_service
from funds.services.bonds import (
    bond_record_breach,
    bond_record_cancellation,
    bond_record_forfeiture,
    bond_record_refund,
)
from funds.services.disbursements import (
    disbursement_approve,
    disbursement_pay,
)
from tests.factories import UserFactory
from tests.forms import once
from tests.funds.conftest import approved, donate, requested

pytestmark = pytest.mark.django_db


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_assigned_attorney_requests_a_payment_from_the_case_page(people, case):
    response = client(people["attorney"]).post(
        reverse("funds:disbursement-new", args=[case.number]),
        once(
            {
                "fund": Fund.objects.get(slug="general").pk,
                "purpose": "filing_fee",
                "amount": "1,250.50",
                "payee": "EOIR",
                "reason": "Fee for motion",
                "attachment": SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 invoice"),
            }
        ),
    )

    assert response.status_code == 302
    disbursement = Disbursement.objects.get()
    assert (disbursement.amount_cents, disbursement.status, disbursement.requested_by) == (
        125050,
        "requested",
        people["attorney"],
    )
    assert disbursement.attachment
    listing = client(people["attorney"]).get(reverse("funds:case-disbursements", args=[case.number])).content.decode()
    assert "$1,250.50" in listing


# --- Attachments: the checks case documents pass -------------------------------------------

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)">'
    b"<script>fetch('/cases/')</script></svg>"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 64
TYPE_REFUSED = "This file type is not accepted. Upload a PDF, an image (JPEG, PNG, HEIC…) or an office document."


@pytest.fixture
def private_root(settings, tmp_path):
    """Attachments go to a fresh private directory for each test."""
    root = tmp_path / "private"
    root.mkdir()
    default = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**default, "OPTIONS": {**default["OPTIONS"], "location": str(root)}},
    }
    return root


def _request_with(people, case, attachment):
    return client(people["attorney"]).post(
        reverse("funds:disbursement-new", args=[case.number]),
        once(
            {
                "fund": Fund.objects.get(slug="general").pk,
                "purpose": "filing_fee",
                "amount": "250",
                "payee": "EOIR",
                "reason": "Fee for motion",
                "attachment": attachment,
            }
        ),
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [("notice.svg", SVG), ("invoice.pdf", SVG), ("invoice.html", HTML), ("invoice.pdf", HTML), ("setup.exe", EXE)],
    ids=["svg", "svg-as-pdf", "html", "html-as-pdf", "exe"],
)
def test_attachment_of_a_refused_type_is_a_form_error_and_nothing_is_stored(people, case, private_root, name, content):
    response = _request_with(people, case, SimpleUploadedFile(name, content, content_type="application/pdf"))

    assert response.status_code == 422
    assert response.context["form"].errors["attachment"] == [TYPE_REFUSED]
    assert "This file type is not accepted." in response.content.decode()
    assert not Disbursement.objects.exists()
    assert [path for path in private_root.rglob("*") if path.is_file()] == []


def test_attachment_error_shows_beside_the_other_fields_errors(people, case, private_root):
    response = client(people["attorney"]).post(
        reverse("funds:disbursement-new", args=[case.number]),
        once(
            {
                "fund": Fund.objects.get(slug="general").pk,
                "purpose": "filing_fee",
                "amount": "lots",
                "payee": "EOIR",
                "reason": "Fee",
                "attachment": SimpleUploadedFile("notice.svg", SVG),
            }
        ),
    )

    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"amount", "attachment"}
    assert response.context["form"].errors["attachment"] == [TYPE_REFUSED]


def test_attachment_over_the_limit_is_a_form_error_with_the_sizes(people, case, private_root, settings):
    settings.DOCUMENT_MAX_BYTES = 1024  # 20 MB in production; the 21 MB file of the report, scaled down
    content = b"%PDF-1.4\n%" + b"x" * 2048 + b"\n%%EOF\n"

    response = _request_with(people, case, SimpleUploadedFile("big.pdf", content))

    assert response.status_code == 422
    [message] = response.context["form"].errors["attachment"]
    assert message.startswith("This file is 2.0\xa0KB") and message.endswith("the limit is 1.0\xa0KB.")
    assert not Disbursement.objects.exists()
    assert [path for path in private_root.rglob("*") if path.is_file()] == []


def test_attachment_that_is_a_pdf_is_kept_and_finance_can_download_it(people, case, private_root):
    content = b"%PDF-1.4\n% the bond notice\n%%EOF\n"

    response = _request_with(people, case, SimpleUploadedFile("notice.pdf", content))

    assert response.status_code == 302
    disbursement = Disbursement.objects.get()
    download = client(people["finance"]).get(reverse("funds:disbursement-attachment", args=[disbursement.pk]))
    assert b"".join(download.streaming_content) == content
    assert download["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'; sandbox"


def test_service_refuses_a_disguised_attachment_on_its_field(people, case, private_root):
    with pytest.raises(ValidationError) as raised:
        requested(
            people,
            case,
            cents=25_000,
            purpose="filing_fee",
            payee="EOIR",
            reason="Fee",
            attachment=SimpleUploadedFile("invoice.pdf", HTML),
        )

    assert raised.value.message_dict == {"attachment": [TYPE_REFUSED]}
    assert not Disbursement.objects.exists()


def test_request_form_warns_not_to_write_personal_data_in_the_payee(people, case):
    page = client(people["attorney"]).get(reverse("funds:disbursement-new", args=[case.number])).content.decode()

    assert "never write the detainee's or a relative's name, an A-number" in html.unescape(page)
    assert "a PDF, an image or an office document, up to 20.0\xa0MB." in page


def test_payee_warning_is_translated_into_spanish(people, case):
    attorney = client(people["attorney"])
    attorney.cookies["django_language"] = "es"

    page = attorney.get(reverse("funds:disbursement-new", args=[case.number]), HTTP_ACCEPT_LANGUAGE="es").content

    assert b"nunca escriba el nombre de la persona detenida" in page


@pytest.mark.parametrize("amount", ["0", "-5", "12.345", "lots", ""])
def test_bad_amounts_are_refused_with_a_message(people, case, amount):
    response = client(people["attorney"]).post(
        reverse("funds:disbursement-new", args=[case.number]),
        once(
            {
                "fund": Fund.objects.get(slug="general").pk,
                "purpose": "expert",
                "amount": amount,
                "payee": "X",
                "reason": "y",
            }
        ),
    )

    assert response.status_code == 422
    assert not Disbursement.objects.exists()


def test_attorneys_not_on_the_case_cannot_request_or_see(people, case):
    outsider = client(people["other_attorney"])

    assert outsider.get(reverse("funds:case-disbursements", args=[case.number])).status_code == 404
    assert outsider.post(reverse("funds:disbursement-new", args=[case.number]), once({})).status_code == 404
    with pytest.raises(ValidationError):
        requested(people, case, cents=100, payee="x", reason="y", by="other_attorney")


def test_restricted_bond_fund_refuses_other_purposes(people, case):
    donate("bond", 500_000)

    with pytest.raises(ValidationError, match="restricted"):
        requested(people, case, cents=10_000, slug="bond", purpose="travel", payee="Bus", reason="x")
    assert not Disbursement.objects.exists()


def test_approval_never_by_the_requester_in_the_service_and_the_database(people, case):
    donate("general", 100_000)
    request = requested(people, case, cents=10_000, payee="Dr. X")

    with pytest.raises(ValidationError, match="own request"):
        disbursement_approve(disbursement=request, by=people["attorney"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=request.pk).update(decided_by=people["attorney"], status="approved")


def test_not_enough_money_is_a_clear_refusal_and_nothing_changes(people, case):
    donate("general", 5_000)
    request = requested(people, case, cents=10_000, payee="Dr. X")

    response = client(people["finance"]).post(
        reverse("funds:disbursement-detail", args=[request.pk]), once({"action": "approve"})
    )

    assert response.status_code == 422
    assert "Not enough money in General fund" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "requested"


def test_approved_requests_count_against_what_is_free(people, case):
    donate("general", 15_000)
    first = requested(people, case, cents=10_000, payee="A")
    second = requested(people, case, cents=10_000, payee="B")
    disbursement_approve(disbursement=first, by=people["finance"])

    with pytest.raises(ValidationError, match="Not enough money"):
        disbursement_approve(disbursement=second, by=people["finance"])


def test_full_flow_request_approve_pay_books_a_program_expense(people, case):
    donate("general", 100_000)
    request = requested(
        people, case, cents=30_000, purpose="interpreter", payee="Interpreters Inc", reason="Merits hearing"
    )
    finance = client(people["finance"])

    finance.post(reverse("funds:disbursement-detail", args=[request.pk]), once({"action": "approve", "note": "ok"}))
    response = finance.post(
        reverse("funds:disbursement-detail", args=[request.pk]),
        once({"action": "pay", "paid_on": "2026-01-10", "method": "check", "reference": "1042"}),
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "paid" and request.transaction is not None
    general = Fund.objects.get(slug="general")
    assert fund_balance(general).available == 70_000
    assert Account.objects.get(fund=general, kind=AccountKind.PROGRAM_EXPENSES).balance == 30_000
    assert unbalanced_transactions() == [] and ledger_mismatches() == []


def posted_bond(
    people, case, *, cents: int, paid_on: date, reference: str, method: str = "check", by: str = "finance", **request
) -> Bond:
    """A bond payment from the bond fund (to ICE unless ``payee`` says otherwise) requested,
    approved and paid on ``paid_on`` by ``people[by]``: the bond it posted."""
    request.setdefault("payee", "ICE")
    disbursement = approved(people, case, cents=cents, slug="bond", purpose="bond", **request)
    disbursement_pay(disbursement=disbursement, paid_on=paid_on, method=method, reference=reference, by=people[by])
    return Bond.objects.get(disbursement=disbursement)


def test_bond_lifecycle_paid_refunded_back_into_the_revolving_fund(people, case):
    donate("bond", 1_000_000)
    bond_fund = Fund.objects.get(slug="bond")

    bond = posted_bond(
        people,
        case,
        cents=750_000,
        payee="DHS/ICE",
        reason="IJ set bond",
        paid_on=date(2026, 1, 12),
        method="wire",
        reference="FW-1",
        by="finance2",
    )
    assert fund_balance(bond_fund).available == 250_000
    assert fund_balance(bond_fund).bonds_outstanding == 750_000

    finance = client(people["finance"])
    url = reverse("funds:bond-detail", args=[bond.pk])
    cancelled = finance.post(
        url, once({"action": "cancellation", "cancellation-notice_on": "2026-08-20"}, prefix="cancellation")
    )
    response = finance.post(
        url,
        once(
            {
                "action": "refund",
                "refund-refunded": "7,500.00",
                "refund-interest": "12.34",
                "refund-refunded_on": "2026-09-01",
            },
            prefix="refund",
        ),
    )

    assert (cancelled.status_code, response.status_code) == (302, 302)
    bond.refresh_from_db()
    assert (bond.status, bond.cancellation_notice_on, bond.refunded_on) == (
        "refunded",
        date(2026, 8, 20),
        date(2026, 9, 1),
    )
    balance = fund_balance(bond_fund)
    assert balance.available == balance.in_bank == 1_000_000 + 1234
    assert balance.bonds_outstanding == 0
    assert unbalanced_transactions() == [] and ledger_mismatches() == []


def test_forfeited_bond_is_written_off(people, case):
    donate("bond", 200_000)
    bond_fund = Fund.objects.get(slug="bond")
    bond = posted_bond(people, case, cents=150_000, paid_on=date(2026, 2, 1), reference="9")
    bond_record_breach(bond=bond, served_on=date(2026, 9, 1), service="in_person", by=people["finance"])

    bond_record_forfeiture(bond=bond, forfeited_on=date(2026, 10, 5), by=people["finance"], note="missed check-in")

    assert fund_balance(bond_fund).available == 50_000
    assert fund_balance(bond_fund).bonds_outstanding == 0
    assert Account.objects.get(fund=bond_fund, kind=AccountKind.BOND_FORFEITURES).balance == 150_000
    with pytest.raises(ValidationError, match="already closed"):
        bond_record_cancellation(bond=bond, notice_on=date(2026, 10, 6), by=people["finance"])
    with pytest.raises(ValidationError, match="already closed"):
        bond_record_refund(
            bond=bond, refunded_cents=1, interest_cents=0, refunded_on=date(2026, 10, 6), by=people["finance"]
        )


def test_bond_register_shows_outstanding_bonds_with_age(people, case):
    donate("bond", 300_000)
    posted_bond(people, case, cents=200_000, paid_on=date(2025, 1, 2), reference="7")

    page = client(people["finance"]).get(reverse("funds:bond-register")).content.decode()

    assert case.number in page
    assert "$2,000.00" in page
    assert "older than a year" in page


FINANCE_URLS = ["finance-home", "disbursement-queue", "bond-register", "donation-list", "payout-list"]


@pytest.mark.parametrize("role", [Role.INTAKE, Role.ATTORNEY, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN])
def test_finance_pages_are_404_for_everyone_but_finance(people, case, role):
    donate("general", 100_000)
    request = requested(people, case, cents=1_000, payee="x", reason="y")
    c = client(UserFactory(role=role))

    for name in FINANCE_URLS:
        assert c.get(reverse(f"funds:{name}")).status_code == 404, name
    assert (
        c.post(reverse("funds:disbursement-detail", args=[request.pk]), once({"action": "approve"})).status_code == 404
    )
    request.refresh_from_db()
    assert request.status == "requested"


def test_finance_sees_case_number_but_not_the_name_and_cannot_open_the_case(people, case):
    donate("general", 100_000)
    request = requested(people, case, cents=1_000, payee="x", reason="y")
    finance = client(people["finance"])

    page = finance.get(reverse("funds:disbursement-detail", args=[request.pk])).content.decode()

    # Finance needs the case number and the payee, not the person (issue 10).
    assert case.number in page
    assert "Rosa" not in page and "Echeverría" not in page
    assert finance.get(reverse("casework:case-detail", args=[case.number])).status_code == 404


def test_donations_can_be_searched_by_amount(people):
    donate("general", 2_500)
    donate("general", 250_000)
    finance = client(people["finance"])

    big = finance.get(reverse("funds:donation-list"), {"min": "1,000"}).content.decode()
    small = finance.get(reverse("funds:donation-list"), {"max": "100"}).content.decode()

    assert "$2,500.00" in big and "$25.00" not in big
    assert "$25.00" in small and "$2,500.00" not in small


def test_case_payments_page_shows_the_case_bonds(people, case):
    donate("bond", 300_000)
    posted_bond(people, case, cents=150_000, paid_on=date(2026, 2, 1), reference="9")

    page = client(people["attorney"]).get(reverse("funds:case-disbursements", args=[case.number])).content.decode()

    assert "Bonds" in page and "Posted" in page and "Delivery bond" in page and "$1,500.00" in page


def test_disputes_page_lists_open_and_closed_disputes(people):
    from funds.models import Dispute

    donation = donate("general", 40_000)
    Dispute.objects.create(
        donation=donation, stripe_dispute_id="dp_1", amount_cents=40_000, fee_cents=1_500, status="needs_response"
    )

    page = client(people["finance"]).get(reverse("funds:dispute-list")).content.decode()

    assert "$400.00" in page and "$15.00" in page and "needs_response" in page


# --- Money is paid from the bank only ---------------------------------------------------------


def test_a_payment_the_bank_cannot_cover_is_refused_although_clearing_could(people, case):
    donate("general", 20_000)  # paid out: in the bank
    donate("general", 100_000, to_bank=False)  # still on its way from Stripe
    request = approved(people, case, cents=50_000)  # approval counts both: $1,200 available
    general = Fund.objects.get(slug="general")

    response = client(people["finance2"]).post(
        reverse("funds:disbursement-detail", args=[request.pk]),
        once({"action": "pay", "paid_on": "2026-01-10", "method": "check", "reference": "1042"}),
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert (
        "Not enough money in the bank for General fund: $200.00 is in the bank and $1,000.00 is still on its way "
        "from Stripe; $500.00 is needed." in page
    )
    assert "$200.00 in the bank, $1,000.00 on its way from Stripe. Payments are made from the bank only." in page
    request.refresh_from_db()
    assert (request.status, request.transaction) == ("approved", None)
    assert fund_balance(general).in_bank == 20_000
    assert not AccessEvent.objects.filter(object_type="disbursement", detail__startswith="paid").exists()
    assert not Transaction.objects.filter(key=f"disbursement:{request.pk}").exists()

    # Once Stripe pays the donation out, the same payment goes through.
    bookkeeping.book_payout(
        key="payout:later", allocation={general: 100_000}, occurred_at=datetime(2026, 1, 9, tzinfo=UTC), description="p"
    )
    disbursement_pay(
        disbursement=request, paid_on=date(2026, 1, 10), method="check", reference="1042", by=people["finance2"]
    )
    assert fund_balance(general).in_bank == 120_000 - 50_000


def test_a_backdated_payment_is_refused_when_the_bank_was_short_that_day(people, case):
    general = Fund.objects.get(slug="general")
    donate("general", 80_000, on=datetime(2026, 3, 10, 15, tzinfo=UTC))
    request = approved(people, case, cents=30_000)

    with pytest.raises(ValidationError) as refused:
        disbursement_pay(
            disbursement=request, paid_on=date(2026, 3, 1), method="check", reference="1", by=people["finance2"]
        )

    assert refused.value.messages == [
        "Not enough money in the bank for General fund on the day it was paid or since: on March 9, 2026 the bank "
        "held only $0.00, and $300.00 is needed (today $800.00 is in the bank and $0.00 on its way from Stripe). "
        "Check the payment date."
    ]
    # Dated the day the money was there, it is paid.
    disbursement_pay(
        disbursement=request, paid_on=date(2026, 3, 10), method="check", reference="1", by=people["finance2"]
    )
    assert fund_balance(general).in_bank == 50_000


def test_a_payment_locks_the_bank_account_row_before_checking_it(people, case):
    donate("general", 100_000)
    request = approved(people, case, cents=10_000)

    with CaptureQueriesContext(connection) as queries:
        disbursement_pay(
            disbursement=request, paid_on=date(2026, 1, 10), method="check", reference="7", by=people["finance2"]
        )

    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"] and '"funds_account"' in q["sql"]]
    assert len(locks) == 1
    # The lock comes before the bank's postings are read for the check.
    sql = [q["sql"] for q in queries.captured_queries]
    first_posting_read = next(i for i, q in enumerate(sql) if q.startswith("SELECT") and '"funds_posting"' in q)
    assert sql.index(locks[0]) < first_posting_read


@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_cannot_both_spend_the_same_bank_money(people, case, monkeypatch):
    # PostgreSQL, two connections: each thread pays one request. The check is slowed down so that,
    # without the row lock, both would read $1,000 in the bank and both pay $600.
    assert connection.vendor == "postgresql"
    donate("general", 100_000)
    donate("general", 100_000, to_bank=False)  # so that both can be approved
    first, second = approved(people, case, cents=60_000), approved(people, case, cents=60_000)
    slow_check = disbursements_service.bank_lowest_since

    def slowly(*args, **kwargs):
        result = slow_check(*args, **kwargs)
        time.sleep(0.5)
        return result

    monkeypatch.setattr(disbursements_service, "bank_lowest_since", slowly)
    start = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def pay(request: Disbursement) -> None:
        try:
            start.wait()
            disbursement_pay(
                disbursement=request,
                paid_on=date(2026, 1, 10),
                method="check",
                reference=str(request.pk),
                by=people["finance2"],
            )
            outcomes[request.pk] = "paid"
        except ValidationError as exc:
            outcomes[request.pk] = exc.messages[0]
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(request,)) for request in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcome == "paid" for outcome in outcomes.values()) == [False, True]
    refusal = next(outcome for outcome in outcomes.values() if outcome != "paid")
    assert refusal.startswith(
        "Not enough money in the bank for General fund: $400.00 is in the bank and $1,000.00 is still on its way"
    )
    general = Fund.objects.get(slug="general")
    assert fund_balance(general).in_bank == 40_000
    assert Disbursement.objects.filter(status="paid").count() == 1
    assert unbalanced_transactions() == [] and ledger_mismatches() == []


def test_finance_home_shows_the_bank_apart_from_what_is_on_its_way(people):
    donate("general", 20_000)
    donate("general", 100_000, to_bank=False)

    page = client(people["finance"]).get(reverse("funds:finance-home")).content.decode()

    general_row = next(row for row in page.split("<tr>") if "General fund" in row)
    cells = [cell.split("</td>")[0] for cell in general_row.split('<td class="num">')[1:4]]
    assert cells == ["<strong>$200.00</strong>", "$1,000.00", "$1,200.00"]  # in the bank, on its way, available
    assert "Payments are made from the bank only." in page


@pytest.mark.parametrize(("given", "warned"), [(50_000, False), (20_000, True)])
def test_a_request_above_the_funds_free_money_is_sent_with_a_warning(people, case, given, warned):
    general = Fund.objects.get(slug="general")
    donate("general", given)
    attorney = client(people["attorney"])

    response = attorney.post(
        reverse("funds:disbursement-new", args=[case.number]),
        once({"fund": general.pk, "purpose": "filing_fee", "amount": "300", "payee": "EOIR", "reason": "Motion"}),
        follow=True,
    )

    assert Disbursement.objects.get().status == "requested"  # sent either way: finance decides
    page = html.unescape(response.content.decode())
    warning = "less than the $300.00 requested: finance cannot approve this request until the fund has the money"
    assert (warning in page) is warned
    if warned:
        free = fund_balance(general).free
        assert f"has ${free / 100:,.2f} free now" in page
