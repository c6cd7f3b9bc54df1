"""Free text auditors read (payees, ledger descriptions) with known names and A-numbers masked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import services
from casework.masking import Masker
from casework.models import AssignmentRole
from funds.models import Donation, Donor, Fund
from funds.services import bookkeeping
from funds.services.disbursements import disbursement_approve, disbursement_pay, disbursement_request
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# "A012345678" in full-width forms, as East Asian input methods type it.
FULL_WIDTH_A_NUMBER = "\uff21" + "".join(chr(0xFF10 + int(d)) for d in "012345678")


@pytest.fixture
def person(register_case, intake_worker):
    """José Hernández-López, A-012-345-678 (also A-098-765-432), registered at intake."""
    return register_case(by=intake_worker, other_a_numbers=["098765432"])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Commissary for José Hernández-López", "Commissary for [name] [name]-[name]"),
        ("commissary for jose hernandez", "commissary for [name] [name]"),  # accents and case do not matter
        ("Phone card, JOSE LOPEZ de la Cruz", "Phone card, [name] [name] de la Cruz"),
        ("Bond for A-012-345-678", "Bond for [A-number]"),
        ("Bond for A012345678 (ICE)", "Bond for [A-number] (ICE)"),
        ("ref 012 345 678.", "ref [A-number]."),
        ("A# 098.765.432", "[A-number]"),  # the person's other A-number
        (FULL_WIDTH_A_NUMBER, "[A-number]"),
        ("Commissary for Pedro Páramo", "Commissary for Pedro Páramo"),  # nobody on file
        ("Bond for A-999-888-777", "Bond for A-999-888-777"),  # not a known A-number
        ("Invoice 1012345678", "Invoice 1012345678"),  # a longer number is not an A-number
        ("", ""),
    ],
)
def test_known_names_and_a_numbers_are_masked(person, text, masked):
    assert Masker([text]).mask(text) == masked


def test_a_masker_asks_the_database_once_for_a_whole_page(person):
    one = ["Commissary for José"]
    many = [f"Payment {i} for José Hernández, A-012-345-678, and Pedro {i}" for i in range(30)]

    with CaptureQueriesContext(connection) as first:
        masker_one = Masker(one)
    with CaptureQueriesContext(connection) as second:
        masker_many = Masker(many)
        masked = [masker_many.mask(text) for text in many]

    assert len(first.captured_queries) == len(second.captured_queries) == 1
    assert masker_one.mask(one[0]) == "Commissary for [name]"
    assert masked[7] == "Payment 7 for [name] [name], [A-number], and Pedro 7"


def test_text_without_candidates_asks_nothing(person):
    with CaptureQueriesContext(connection) as queries:
        masked = Masker(["1234", "—", ""]).mask("1234")

    assert (masked, len(queries.captured_queries)) == ("1234", 0)


def test_the_template_filter_masks_and_escapes(person):
    template = Template(
        '{% load masking %}{% masker rows "payee" as m %}{% for r in rows %}{{ r.payee|masked:m }};{% endfor %}'
    )
    rows = [type("Row", (), {"payee": '<b>José</b> "Hernández"'})(), type("Row", (), {"payee": None})()]

    html = template.render(Context({"rows": rows}))

    assert html == "&lt;b&gt;[name]&lt;/b&gt; &quot;[name]&quot;;;"


def _fund_with(cents: int, slug: str) -> Fund:
    fund = Fund.objects.get(slug=slug)
    donor, _ = Donor.objects.for_email("giver@example.org")
    gift = Donation.objects.create(donor=donor, fund=fund, amount_cents=cents, status="paid")
    on = datetime(2025, 1, 2, tzinfo=UTC)
    bookkeeping.book_donation(donation=gift, fee_cents=0, occurred_at=on)
    bookkeeping.book_payout(key=f"payout:{gift.pk}", allocation={fund: cents}, occurred_at=on, description="p")
    return fund


def _paid(person, *, payee: str, attorney, finance, finance2) -> None:
    request = disbursement_request(
        case=person,
        fund=Fund.objects.get(slug="general"),
        purpose="expert",
        amount_cents=1_000,
        payee=payee,
        reason="r",
        by=attorney,
    )
    disbursement_approve(disbursement=request, by=finance)
    disbursement_pay(disbursement=request, paid_on=timezone.localdate(), method="check", reference="1", by=finance2)


def test_the_audit_pages_mask_the_payee_and_the_ledger_description(person, supervisor, attorney):
    services.case_assign(case=person, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    _fund_with(100_000, "general")
    finance, finance2 = UserFactory(role=Role.FINANCE), UserFactory(role=Role.FINANCE)
    _paid(
        person,
        payee="Commissary for José Hernández (A-012-345-678)",
        attorney=attorney,
        finance=finance,
        finance2=finance2,
    )
    auditor = Client()
    auditor.force_login(UserFactory(role=Role.AUDITOR))

    disbursements = auditor.get(reverse("reports:disbursements")).content.decode()
    ledger = auditor.get(reverse("reports:ledger")).content.decode()

    assert "Commissary for [name] [name] ([A-number])" in disbursements
    assert f"for case {person.number} to Commissary for [name] [name] ([A-number])" in ledger
    for page in (disbursements, ledger):
        assert "José" not in page and "Hernández" not in page and "012-345-678" not in page


def test_the_masked_disbursements_page_takes_the_same_queries_for_one_row_or_three(person, supervisor, attorney):
    services.case_assign(case=person, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    _fund_with(100_000, "general")
    finance, finance2 = UserFactory(role=Role.FINANCE), UserFactory(role=Role.FINANCE)
    auditor = Client()
    auditor.force_login(UserFactory(role=Role.AUDITOR))
    auditor.get(reverse("reports:disbursements"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert auditor.get(reverse("reports:disbursements")).status_code == 200
        return len(ctx.captured_queries)

    _paid(person, payee="Phone card for José", attorney=attorney, finance=finance, finance2=finance2)
    one = queries()
    for payee in ("Commissary, Hernández", "Translator for A-012-345-678"):
        _paid(person, payee=payee, attorney=attorney, finance=finance, finance2=finance2)
    three = queries()

    assert one == three
