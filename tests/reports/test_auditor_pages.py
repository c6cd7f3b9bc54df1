"""The auditor's read-only pages: what they show, what they never show, and their query counts.

The privacy test seeds a detainee with a distinctive name and A-number, pays a bond and a fee
for their case, then reads every page an auditor can reach and every report kind as PDF and
CSV: the case number appears, the name and A-number never do.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import AccessEvent
from accounts.roles import Role
from accounts.services import access_event_record
from casework import services as casework_services
from casework.models import AssignmentRole
from funds.models import AccountKind, Donation, Donor, Fund, TransactionKind
from funds.services import bookkeeping
from funds.services.disbursements import disbursement_approve, disbursement_pay, disbursement_request
from funds.services.ledger import account, ledger_post
from funds.services.ledger_check import ledger_check_run
from reports.models import ReportKind, ReportRun
from tests.factories import UserFactory
from tests.forms import once

pytestmark = pytest.mark.django_db

NAME_TOKENS = ["Zacarías", "Quetzal", "Ixmucané", "Quetzal-Ixmucané", "Zacarias", "Ixmucane"]
A_NUMBER_FORMS = ["098765432", "98765432", "098-765-432", "A-098-765-432", "A098765432"]
DONOR_EMAILS = ["named.donor@example.org", "hidden.donor@example.org"]
AUDIT_PAGES = ["funds", "ledger", "donations", "disbursements", "bonds", "access-log", "report-list", "verify"]


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def _fund(slug: str, name: str, **extra) -> Fund:
    return Fund.objects.update_or_create(slug=slug, defaults={"name": name, "active": True, **extra})[0]


def _donate(
    *, donor: Donor, fund: Fund, cents: int, anonymous: bool = False, ref: str, to_bank: bool = False
) -> Donation:
    now = timezone.now()
    donation = Donation.objects.create(
        donor=donor,
        fund=fund,
        amount_cents=cents,
        anonymous=anonymous,
        status=Donation.Status.PAID,
        paid_at=now,
        stripe_checkout_session_id=f"cs_{ref}",
        stripe_charge_id=f"ch_{ref}",
        receipt_number=f"AMP-TEST-{ref}",
    )
    bookkeeping.book_donation(donation=donation, fee_cents=120, occurred_at=now)
    if to_bank:  # Stripe pays it out at once: a bond is paid from the bank only.
        bookkeeping.book_payout(
            key=f"payout:{ref}", allocation={fund: cents - 120}, occurred_at=now, description=f"payout {ref}"
        )
    return donation


@pytest.fixture
def sensitive_world(client):
    """A case for "Zacarías Quetzal-Ixmucané" (A-098-765-432) with a paid bond and a pending fee."""
    general = _fund("general", "General fund", sort_order=1)
    bond_fund = _fund("bond", "Bond fund", restricted=True, allowed_purposes="bond", sort_order=2)
    supervisor = UserFactory(role=Role.SUPERVISOR)
    attorney = UserFactory(role=Role.ATTORNEY, full_name="Ana Attorney")
    finance, finance2 = UserFactory(role=Role.FINANCE), UserFactory(role=Role.FINANCE)
    case = casework_services.case_register(
        data=casework_services.IntakeData(
            given_names="Zacarías", family_names="Quetzal-Ixmucané", a_number="098765432", country_of_birth="Guatemala"
        ),
        by=UserFactory(role=Role.INTAKE),
    )
    casework_services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    named = Donor.objects.create(email=DONOR_EMAILS[0], name="Nora Named")
    hidden = Donor.objects.create(email=DONOR_EMAILS[1], name="Harriet Hidden")
    _donate(donor=named, fund=bond_fund, cents=1_000_000, ref="1", to_bank=True)
    _donate(donor=hidden, fund=general, cents=300_000, anonymous=True, ref="2")
    bond = disbursement_request(
        case=case, fund=bond_fund, purpose="bond", amount_cents=500_000, payee="DHS/ICE", reason="bond", by=attorney
    )
    disbursement_approve(disbursement=bond, by=finance)
    disbursement_pay(disbursement=bond, paid_on=timezone.localdate(), method="wire", reference="W-1", by=finance2)
    fee = disbursement_request(
        case=case,
        fund=general,
        purpose="filing_fee",
        amount_cents=11_000,
        payee="EOIR",
        reason="Filing fee for Zacarías Quetzal-Ixmucané",  # free text naming the person: never shown to auditors
        by=attorney,
    )
    disbursement_approve(disbursement=fee, by=finance)
    # The attorney reads the case: the access log gets a row for it.
    client.force_login(attorney)
    assert client.get(reverse("casework:case-detail", args=[case.number])).status_code == 200
    client.logout()
    return {"case": case, "attorney": attorney, "finance": finance}


def _assert_nothing_personal(text: str, where: str) -> None:
    lowered = text.lower()
    for token in NAME_TOKENS + A_NUMBER_FORMS + DONOR_EMAILS:
        assert token.lower() not in lowered, f"{token!r} appears in {where}"


def test_auditor_pages_show_case_numbers_and_no_personal_data(client_for, sensitive_world):
    auditor = client_for(Role.AUDITOR)
    case_number = sensitive_world["case"].number

    pages = {}
    for name in AUDIT_PAGES:
        response = auditor.get(reverse(f"reports:{name}"))
        assert response.status_code == 200, name
        pages[name] = response.content.decode()
        _assert_nothing_personal(pages[name], name)

    assert case_number in pages["disbursements"]
    assert case_number in pages["bonds"]
    assert case_number in pages["access-log"]
    assert "Ana Attorney" in pages["disbursements"]  # who asked
    assert "Nora Named" in pages["donations"]
    assert "Harriet Hidden" not in pages["donations"]
    assert "Anonymous" in pages["donations"]


def test_every_report_kind_as_pdf_and_csv_has_no_personal_data(
    client_for, sensitive_world, django_capture_on_commit_callbacks
):
    auditor = client_for(Role.AUDITOR)
    today = timezone.localdate()
    case_number = sensitive_world["case"].number
    seen_case_number = False

    for kind in ReportKind.values:
        with django_capture_on_commit_callbacks(execute=True):
            response = auditor.post(
                reverse("reports:report-new"),
                once(
                    {"kind": kind, "date_from": (today - timedelta(days=30)).isoformat(), "date_to": today.isoformat()}
                ),
            )
        assert response.status_code == 302, kind
        run = ReportRun.objects.get(kind=kind)
        assert run.status == ReportRun.Status.DONE, (kind, run.error)
        detail = auditor.get(reverse("reports:report-detail", args=[run.pk])).content.decode()
        _assert_nothing_personal(detail, f"{kind} run page")

        pdf = b"".join(auditor.get(reverse("reports:report-download", args=[run.pk, "pdf"])).streaming_content)
        pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        csv_text = b"".join(
            auditor.get(reverse("reports:report-download", args=[run.pk, "csv"])).streaming_content
        ).decode("utf-8-sig")

        assert pdf_text.strip(), kind
        _assert_nothing_personal(pdf_text, f"{kind} PDF")
        _assert_nothing_personal(csv_text, f"{kind} CSV")
        seen_case_number = seen_case_number or case_number in csv_text
    assert seen_case_number  # at least the disbursement and bond registers list the case by number


def test_disbursement_page_shows_requester_and_approver(client_for, sensitive_world):
    auditor = client_for(Role.AUDITOR)
    finance = sensitive_world["finance"]

    page = auditor.get(reverse("reports:disbursements"), {"status": "approved"}).content.decode()

    assert "Filing fee" in page
    assert "Ana Attorney" in page
    assert str(finance) in page
    assert "Bond</td>" not in page  # the paid bond is filtered out


def test_ledger_filters_by_fund_and_account_kind(client_for, sensitive_world):
    auditor = client_for(Role.AUDITOR)

    general = auditor.get(reverse("reports:ledger"), {"fund": "general"}).context["page"].object_list
    bonds = auditor.get(reverse("reports:ledger"), {"account_kind": AccountKind.BONDS_RECEIVABLE}).context["page"]

    assert {t.kind for t in general} == {TransactionKind.DONATION, TransactionKind.FEE}
    assert [t.kind for t in bonds.object_list] == [TransactionKind.BOND_PAID]


def test_ledger_date_filter_and_bad_range(client_for, sensitive_world):
    auditor = client_for(Role.AUDITOR)
    tomorrow = timezone.localdate() + timedelta(days=1)

    future = auditor.get(reverse("reports:ledger"), {"date_from": tomorrow.isoformat()})
    reversed_range = auditor.get(
        reverse("reports:ledger"), {"date_from": tomorrow.isoformat(), "date_to": timezone.localdate().isoformat()}
    )

    assert list(future.context["page"].object_list) == []
    assert "must start on or before" in reversed_range.content.decode()


def test_access_log_filters_by_user_and_action(client_for, sensitive_world):
    auditor = client_for(Role.AUDITOR)
    attorney = sensitive_world["attorney"]

    events = auditor.get(reverse("reports:access-log"), {"user": attorney.pk, "action": "view"}).context["page"]

    assert [(e.user_id, e.action, e.object_ref) for e in events.object_list] == [
        (attorney.pk, AccessEvent.Action.VIEW, sensitive_world["case"].number)
    ]


def _ledger_transactions(n: int) -> None:
    fund = _fund("general", "General fund")
    for i in range(n):
        ledger_post(
            key=f"test:{i}",
            kind=TransactionKind.DONATION,
            description=f"Donation {i}",
            lines=[(account(fund, AccountKind.BANK), 100), (account(fund, AccountKind.DONATIONS), -100)],
            by=UserFactory(role=Role.FINANCE),
        )


def _queries(client, url: str) -> int:
    client.get(url)  # the first request after signing in also touches the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.FINANCE])
def test_ledger_query_count_does_not_grow_with_transactions(client_for, role):
    client = client_for(role)
    url = reverse("reports:ledger")
    _ledger_transactions(1)
    one = _queries(client, url)
    _ledger_transactions(3)  # keys repeat: two more transactions, three in all
    three = _queries(client, url)
    assert len(client.get(url).context["page"].object_list) == 3
    assert one == three


def test_access_log_query_count_does_not_grow_with_events(client_for):
    client = client_for(Role.AUDITOR)
    url = reverse("reports:access-log") + "?action=view"  # signing in is logged too; count the views
    someone = UserFactory(role=Role.ATTORNEY)
    access_event_record(user=someone, action=AccessEvent.Action.VIEW, object_type="case", object_ref="2026-00001")
    one = _queries(client, url)
    for ref in ("2026-00002", "2026-00003"):
        access_event_record(user=UserFactory(role=Role.ATTORNEY), action=AccessEvent.Action.VIEW, object_ref=ref)
    three = _queries(client, url)
    assert len(client.get(url).context["page"].object_list) == 3
    assert one == three


@pytest.mark.parametrize("name", ["donations", "disbursements", "bonds"])
def test_other_lists_query_count_does_not_grow(client_for, sensitive_world, name):
    client = client_for(Role.AUDITOR)
    url = reverse(f"reports:{name}")
    before = _queries(client, url)
    # One more donation, disbursement request and bond on the same case.
    _donate(
        donor=Donor.objects.create(email="more@example.org", name="M"),
        fund=Fund.objects.get(slug="bond"),
        cents=900_000,
        ref="3",
        to_bank=True,
    )
    more = disbursement_request(
        case=sensitive_world["case"],
        fund=Fund.objects.get(slug="bond"),
        purpose="bond",
        amount_cents=150_000,  # a delivery bond's minimum (INA 236(a)(2)(A))
        payee="DHS/ICE",
        reason="second bond",
        by=sensitive_world["attorney"],
    )
    disbursement_approve(disbursement=more, by=sensitive_world["finance"])
    disbursement_pay(
        disbursement=more,
        paid_on=timezone.localdate(),
        method="wire",
        reference="W-2",
        by=UserFactory(role=Role.FINANCE),
    )
    assert _queries(client, url) == before


def test_auditor_lands_on_funds_page_with_ledger_status(client_for, sensitive_world):
    assert "not been checked yet" in client_for(Role.AUDITOR).get("/audit/funds/").content.decode()
    ledger_check_run()  # what the beat task does every 10 minutes
    response = client_for(Role.AUDITOR).get("/", follow=True)

    page = response.content.decode()
    assert response.request["PATH_INFO"] == "/audit/funds/"
    assert "The ledger checks out" in page
    assert "Bond fund" in page
    assert "$5,000.00" in page  # the bond outstanding
