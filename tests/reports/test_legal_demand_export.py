# ruff: noqa: F811 - the run fixtures are imported from test_runs and taken as arguments
"""An export made to answer a legal demand is marked with the demand's reference in the access log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.roles import Role
from casework.models import DemandStatus
from casework.services import oversight
from reports.models import ReportKind, ReportRun
from tests.factories import UserFactory
from tests.forms import once
from tests.reports.test_runs import auditor, money, private_storage  # noqa: F401 - fixtures used by name

pytestmark = pytest.mark.django_db


@pytest.fixture
def demand(db):
    return oversight.legal_demand_record(
        received_at=timezone.now() - timedelta(hours=2),
        received_how="served at the front desk",
        source="court",
        source_detail="County Superior Court",
        kind="court_order",
        asked="The fund's donation records for 2026.",
        respond_by=None,
        counsel="Fund counsel",
        cases=[],
        by=UserFactory(role=Role.SUPERVISOR),
    )


def _post(client, **extra):
    today = timezone.localdate()
    return client.post(
        reverse("reports:report-new"),
        once(
            {
                "kind": ReportKind.FUND_STATEMENT,
                "date_from": (today - timedelta(days=30)).isoformat(),
                "date_to": today.isoformat(),
                "fund": "general",
                **extra,
            }
        ),
    )


def test_the_export_answering_a_demand_is_marked_with_its_reference(
    client, auditor, money, demand, django_capture_on_commit_callbacks
):
    client.force_login(auditor)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, legal_demand=demand.reference.lower())

    assert response.status_code == 302
    run = ReportRun.objects.get()
    assert run.status == ReportRun.Status.DONE and run.parameters["legal_demand"] == demand.reference
    export = AccessEvent.objects.get(action=AccessEvent.Action.EXPORT, object_type="report")
    assert export.detail.endswith(f"for legal demand {demand.reference}")


def test_an_unknown_or_closed_demand_is_refused_and_nothing_is_exported(client, auditor, money, demand):
    client.force_login(auditor)

    unknown = _post(client, legal_demand="LD-1999-999")
    type(demand).objects.filter(pk=demand.pk).update(status=DemandStatus.CLOSED)
    closed = _post(client, legal_demand=demand.reference)

    assert unknown.status_code == 422 and closed.status_code == 422
    assert not ReportRun.objects.exists()


def test_an_ordinary_export_keeps_its_parameters_as_before(client, auditor, money, django_capture_on_commit_callbacks):
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client).status_code == 302
    run = ReportRun.objects.get()
    assert "legal_demand" not in run.parameters
    assert "legal demand" not in AccessEvent.objects.get(action=AccessEvent.Action.EXPORT).detail
