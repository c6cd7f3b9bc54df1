"""Limits on PDFs one person can have produced (ASVS 2.4.1, 15.2.2): report runs waiting or running at
once and asked for per hour, and donor statements rendered by the web server per hour."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from funds import limits
from reports import services
from reports.models import ReportKind, ReportRun
from tests.factories import UserFactory
from tests.forms import once

pytestmark = pytest.mark.django_db

ACTIVE_REFUSAL = "You already have 3 reports waiting or being produced"


@pytest.fixture(autouse=True)
def held_back(monkeypatch):
    """Runs stay waiting: no task is sent (as when the one report worker is busy)."""
    monkeypatch.setattr(services, "enqueue_report_run", lambda run_id: None)


@pytest.fixture
def auditor() -> Client:
    client = Client()
    client.user = UserFactory(role=Role.AUDITOR)
    client.force_login(client.user)
    return client


def _ask(client: Client, days_back: int, kind: str = ReportKind.FUND_STATEMENT):
    """Ask for a report of the ``days_back`` days to today (each number a different request)."""
    today = timezone.localdate()
    period = {"date_from": (today - timedelta(days=days_back)).isoformat(), "date_to": today.isoformat()}
    return client.post(reverse("reports:report-new"), once({"kind": kind, **period}))


def test_a_fourth_run_while_three_wait_is_refused_with_a_429_and_no_run(auditor):
    asked = [_ask(auditor, days) for days in (10, 20, 30)]

    refused = _ask(auditor, 40)

    assert [response.status_code for response in asked] == [302, 302, 302]
    assert refused.status_code == 429
    assert ACTIVE_REFUSAL in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert ReportRun.objects.filter(requested_by=auditor.user).count() == 3


def test_asking_again_for_a_waiting_run_at_the_limit_shows_that_run(auditor):
    for days in (10, 20, 30):
        _ask(auditor, days)

    again = _ask(auditor, 20)

    assert again.status_code == 302
    assert again["Location"] == reverse("reports:report-detail", kwargs={"pk": ReportRun.objects.order_by("id")[1].pk})
    assert ReportRun.objects.count() == 3


def test_once_a_run_is_ready_another_may_be_asked_for(auditor):
    for days in (10, 20, 30):
        _ask(auditor, days)
    ReportRun.objects.filter(pk=ReportRun.objects.order_by("id").first().pk).update(status=ReportRun.Status.DONE)

    assert _ask(auditor, 40).status_code == 302
    assert ReportRun.objects.count() == 4


def test_a_run_that_lost_its_task_no_longer_counts_as_waiting(auditor):
    for days in (10, 20, 30):
        _ask(auditor, days)
    ReportRun.objects.filter(pk=ReportRun.objects.order_by("id").first().pk).update(
        lease_expires_at=timezone.now() - timedelta(minutes=1)  # no worker took it up in time: stuck
    )

    assert _ask(auditor, 40).status_code == 302


def test_each_person_has_their_own_limit(auditor):
    for days in (10, 20, 30):
        _ask(auditor, days)
    colleague = Client()
    colleague.force_login(UserFactory(role=Role.AUDITOR))

    assert _ask(colleague, 10).status_code == 302


def test_the_number_waiting_at_once_is_a_setting(auditor, settings):
    settings.REPORT_RUNS_PER_USER_ACTIVE = 1

    first, second = _ask(auditor, 10), _ask(auditor, 20)

    assert (first.status_code, second.status_code) == (302, 429)
    assert "You already have 1 reports waiting" in second.content.decode()


def test_past_the_hourly_limit_a_run_is_refused_until_the_oldest_is_an_hour_old(auditor, settings):
    settings.REPORT_RUNS_PER_USER_HOUR = 4
    for days in (10, 20, 30, 40):
        assert _ask(auditor, days).status_code == 302
        ReportRun.objects.update(status=ReportRun.Status.DONE)  # each one done before the next

    refused = _ask(auditor, 50)

    assert refused.status_code == 429
    assert "You have asked for 4 reports in the last hour" in refused.content.decode()
    assert 3000 < int(refused["Retry-After"]) <= 3601
    assert ReportRun.objects.count() == 4
    oldest = ReportRun.objects.order_by("id").first()
    ReportRun.objects.filter(pk=oldest.pk).update(requested_at=timezone.now() - timedelta(minutes=61))
    assert _ask(auditor, 50).status_code == 302


def test_the_hourly_limit_is_twenty_by_default(auditor):
    user = auditor.user
    for days in range(1, 21):
        ReportRun.objects.create(
            kind=ReportKind.FUND_STATEMENT,
            parameters={"from": f"2026-01-{days:02d}", "to": "2026-02-01", "fund": ""},
            requested_by=user,
            status=ReportRun.Status.DONE,
        )

    response = _ask(auditor, 5)

    assert response.status_code == 429
    assert "You have asked for 20 reports in the last hour" in response.content.decode()


def test_the_service_refuses_past_the_limit_and_writes_nothing(auditor):
    today = timezone.localdate()
    for days in (10, 20, 30):
        services.report_request(
            kind=ReportKind.FUND_STATEMENT, date_from=today - timedelta(days=days), date_to=today, by=auditor.user
        )

    with pytest.raises(services.ReportRunsLimited) as limited:
        services.report_request(
            kind=ReportKind.FUND_STATEMENT, date_from=today - timedelta(days=40), date_to=today, by=auditor.user
        )

    assert limited.value.retry_after > 0
    assert ReportRun.objects.count() == 3


# --- Donor statements (``funds.limits``) ---------------------------------------------------------


@pytest.fixture
def renders():
    """A statement view that counts how often it really renders."""
    done: list[int] = []

    @limits.statement_renders_limited
    def statement(request, year: int) -> HttpResponse:
        done.append(year)
        return HttpResponse(b"%PDF-", content_type="application/pdf")

    statement.done = done
    return statement


def _donor_request(donor: SimpleNamespace):
    """A request as ``donor_required`` passes it on: ``donor`` set (the limit reads only its id)."""
    request = RequestFactory().get("/donor/statements/2025.pdf")
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.donor = donor
    return request


def test_a_donor_gets_ten_statements_an_hour_then_a_429_and_nothing_rendered(renders):
    donor = SimpleNamespace(pk=1)

    answers = [renders(_donor_request(donor), year=2025).status_code for _ in range(11)]

    assert answers == [200] * 10 + [429]
    assert len(renders.done) == 10
    refused = renders(_donor_request(donor), year=2024)
    assert refused.status_code == 429
    assert "You have downloaded many statements in the last hour" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert len(renders.done) == 10


def test_the_statement_limit_is_per_donor_and_per_hour(renders, monkeypatch):
    first = SimpleNamespace(pk=1)
    second = SimpleNamespace(pk=2)
    now = 1_800_000_000.0
    monkeypatch.setattr(limits, "statement_clock", lambda: now)
    for _ in range(10):
        renders(_donor_request(first), year=2025)

    assert renders(_donor_request(first), year=2025).status_code == 429
    assert renders(_donor_request(second), year=2025).status_code == 200
    monkeypatch.setattr(limits, "statement_clock", lambda: now + limits.STATEMENT_WINDOW_SECONDS)
    assert renders(_donor_request(first), year=2025).status_code == 200


def test_the_statement_limit_is_a_setting(renders, settings):
    settings.DONOR_STATEMENTS_PER_HOUR = 2
    donor = SimpleNamespace(pk=1)

    answers = [renders(_donor_request(donor), year=2025).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
