"""The finance and audit lists at scale: keyset pages, and no statement that reads a big table whole.

Planned on a network seeded by ``seed_scale`` with sequential scans switched off, as
``tests/casework/test_scale.py`` does for the casework pages (its fixture and its check).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from funds.services.ledger_check import ledger_check_run
from tests.casework.test_scale import client_of, older_link, seeded_network, seq_scans_of_big_tables  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_no_finance_or_audit_list_reads_a_big_table_in_full(seeded_network):  # noqa: F811 - the fixture
    ledger_check_run()
    auditor = client_of(User.objects.filter(groups__name=Role.AUDITOR).order_by("pk").first())
    finance = client_of(User.objects.filter(groups__name=Role.FINANCE).order_by("pk").first())
    someone = User.objects.filter(groups__name=Role.ATTORNEY).order_by("pk").first()
    ledger = auditor.get(reverse("reports:ledger")).content.decode()
    visits = [
        (finance, reverse("funds:finance-home")),
        (finance, reverse("funds:donation-list")),
        (finance, reverse("funds:disbursement-queue")),
        (auditor, reverse("reports:funds")),
        (auditor, reverse("reports:ledger")),
        (auditor, f"{reverse('reports:ledger')}{older_link(ledger)}"),
        (auditor, reverse("reports:donations")),
        (auditor, reverse("reports:disbursements")),
        (auditor, reverse("reports:bonds")),
        (auditor, reverse("reports:access-log")),
        (auditor, f"{reverse('reports:access-log')}?user={someone.pk}"),
        (auditor, reverse("reports:report-list")),
    ]
    assert older_link(ledger) is not None  # the ledger has more than one page here
    statements = []
    for client, url in visits:
        with CaptureQueriesContext(connection) as seen:
            response = client.get(url)
        assert response.status_code == 200, url
        statements += [q["sql"] for q in seen.captured_queries]
        assert not any(" OFFSET " in q["sql"] for q in seen.captured_queries), url

    found = seq_scans_of_big_tables(statements)
    assert not found, "\n".join(found)
