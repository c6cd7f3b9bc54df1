# ruff: noqa: F811 - the bond fixtures are imported from test_bonds and taken as arguments
"""When a case's personal data is erased, funds lets go of the person too, and keeps the money."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from casework.models import CloseReason
from casework.services import case_close, retention
from funds.models import Bond, Disbursement, Posting
from funds.services.bonds import BondTerms
from funds.services.disbursements import disbursement_request
from funds.services.erasure import ERASED_NAME
from tests.factories import UserFactory
from tests.funds.test_bonds import OBLIGOR_NAME, OBLIGOR_PHONE, bond_fund, post  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_erasing_a_case_blanks_its_obligor_and_attachments_and_keeps_the_ledger(
    post,
    people,
    case,
    bond_fund,
    private_root,
    django_capture_on_commit_callbacks,
):
    bond = post(
        150_000,
        paid_on=date(2026, 1, 5),
        terms=BondTerms(obligor_kind="person", obligor_name=OBLIGOR_NAME, obligor_phone=OBLIGOR_PHONE),
    )
    invoice = disbursement_request(
        case=case,
        fund=bond_fund,
        purpose="bond",
        amount_cents=20_000,
        payee="Translation Co.",
        reason="translation of the birth certificate",
        by=people["attorney"],
        attachment=SimpleUploadedFile("invoice.pdf", PDF, content_type="application/pdf"),
    )
    postings = Posting.objects.count()
    case_close(case=case, reason=CloseReason.RELIEF_GRANTED, note="", by=people["attorney"])
    second = UserFactory(role=Role.SUPERVISOR)
    asked = retention.erasure_request(case=case, by=people["supervisor"], why="client asked")

    with django_capture_on_commit_callbacks(execute=True):
        retention.erasure_confirm(request=asked, by=second)

    bond.refresh_from_db()
    invoice.refresh_from_db()
    assert (bond.obligor_kind, bond.obligor_name, bond.obligor_phone) == ("person", ERASED_NAME, "")
    assert bond.amount_cents == 150_000 and bond.status == "posted"
    assert not invoice.attachment and invoice.amount_cents == 20_000 and invoice.payee == "Translation Co."
    assert not [p for p in private_root.rglob("*") if p.is_file()]
    assert Posting.objects.count() == postings  # the ledger is untouched
    assert Disbursement.objects.filter(case=case).count() == 2
    assert Bond.objects.filter(case=case).count() == 1
