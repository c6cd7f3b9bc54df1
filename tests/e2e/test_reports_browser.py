"""The demo auditor requests a fund statement, watches it being produced, downloads it and
verifies the downloaded PDF — in Debian's Chromium, against a live server."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from demo.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_account_save
from funds.models import Donation, Donor, Fund
from funds.services import bookkeeping
from reports.models import ReportRun
from reports.services import report_generate
from tests.conftest import totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def auditor_world(settings, tmp_path, monkeypatch) -> None:
    from amparo.celery import app

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    # The task goes to the (in-memory) broker instead of running inline, so the page shows the
    # run waiting; the test then produces the report itself, as a worker would.
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    demo_account_save(email="auditor@demo.amparo.test", full_name="Aud Auditor", role=Role.AUDITOR)
    fund = Fund.objects.update_or_create(slug="general", defaults={"name": "General fund", "active": True})[0]
    donor = Donor.objects.create(email="giver@example.org", name="Gina Giver")
    paid_at = timezone.now() - timedelta(days=1)
    donation = Donation.objects.create(
        donor=donor, fund=fund, amount_cents=10_000, status="paid", paid_at=paid_at, stripe_charge_id="ch_e2e"
    )
    bookkeeping.book_donation(donation=donation, fee_cents=59, occurred_at=paid_at)


def test_auditor_requests_watches_downloads_and_verifies_a_fund_statement(live_server, page, auditor_world, tmp_path):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "auditor@demo.amparo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("input[name=code]", totp_code(DEMO_TOTP_SECRET))
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/audit/funds/")
    assert page.locator("h1").inner_text() == "Funds and balances"

    page.goto(f"{live_server.url}/reports/")
    page.get_by_role("link", name="Request a report").click()
    page.wait_for_url("**/reports/new/")
    page.select_option("select[name=kind]", "fund_statement")
    page.get_by_role("button", name="Produce the report").click()
    page.wait_for_url(re.compile(r".*/reports/\d+/$"))

    run = ReportRun.objects.get()
    assert run.status == ReportRun.Status.QUEUED
    progress = page.locator("#run-status progress")
    progress.wait_for(state="visible")
    assert progress.get_attribute("max") == "100"

    report_generate(run_id=run.pk)  # what the worker does
    download_link = page.get_by_role("link", name="Download the PDF")
    download_link.wait_for(state="visible", timeout=20_000)  # the htmx poll brings it in
    assert page.locator("#run-status progress").count() == 0

    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    run.refresh_from_db()
    assert (
        download.suggested_filename
        == f"amparo-fund-statement-{run.parameters['from']}-{run.parameters['to']}-run{run.pk}.pdf"
    )
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == run.pdf_sha256

    page.goto(f"{live_server.url}/verify/")
    page.set_input_files("input[name=file]", str(saved))
    page.get_by_role("button", name="Verify").click()
    result = page.locator(".verify-result")
    result.wait_for(state="visible")
    assert result.inner_text().startswith("Yes:")
    assert f"run {run.pk}," in result.inner_text()
    assert "Aud Auditor" in result.inner_text()
    assert page.console_errors == []  # nothing blocked by the Content-Security-Policy
