"""A report run's life: requested, produced by the (eager) Celery task with the real builders and
renderer, downloaded, expired, and verified — and what happens when it goes wrong."""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.roles import Role
from funds.models import Donation, Donor, Fund
from funds.services import bookkeeping
from reports import services
from reports.data import content_digest
from reports.models import ReportKind, ReportRun
from reports.tasks import delete_expired_reports, generate_report
from tests.factories import UserFactory
from tests.forms import once

TODAY = date(2026, 3, 31)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "kernel.storage.EncryptedFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


@pytest.fixture
def money(db):
    fund = Fund.objects.update_or_create(slug="general", defaults={"name": "General fund", "active": True})[0]
    donor = Donor.objects.create(email="giver@example.org", name="Gina Giver")
    paid_at = timezone.now() - timedelta(days=2)
    donation = Donation.objects.create(
        donor=donor, fund=fund, amount_cents=25_000, status="paid", paid_at=paid_at, stripe_charge_id="ch_runs"
    )
    bookkeeping.book_donation(donation=donation, fee_cents=100, occurred_at=paid_at)
    return fund


@pytest.fixture
def auditor(db):
    return UserFactory(role=Role.AUDITOR, full_name="Aud Auditor")


def _period() -> dict:
    today = timezone.localdate()
    return {"date_from": today - timedelta(days=30), "date_to": today}


def _request(by, django_capture_on_commit_callbacks, kind=ReportKind.FUND_STATEMENT, fund=None) -> ReportRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.report_request(kind=kind, fund=fund, by=by, **_period())
    run.refresh_from_db()
    return run


def _sha256(field_file) -> str:
    with field_file.open("rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.mark.django_db
def test_requested_report_is_produced_stored_hashed_and_logged(
    client, auditor, money, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    period = _period()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:report-new"),
            once(
                {
                    "kind": ReportKind.FUND_STATEMENT,
                    "date_from": period["date_from"].isoformat(),
                    "date_to": period["date_to"].isoformat(),
                    "fund": "general",
                }
            ),
        )

    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:report-detail", args=[run.pk])
    assert run.status == ReportRun.Status.DONE
    assert run.progress == 100
    assert run.parameters == {
        "from": period["date_from"].isoformat(),
        "to": period["date_to"].isoformat(),
        "fund": "general",
    }
    assert run.started_at <= run.finished_at
    assert run.error == ""
    # Files in private storage under random names, with hashes that match them.
    assert run.pdf.name.startswith("reports/") and run.pdf.name.endswith(".pdf")
    assert run.csv.name.startswith("reports/") and run.csv.name.endswith(".csv")
    assert "fund" not in run.pdf.name and "general" not in run.pdf.name
    assert default_storage.exists(run.pdf.name) and default_storage.exists(run.csv.name)
    assert _sha256(run.pdf) == run.pdf_sha256
    assert _sha256(run.csv) == run.csv_sha256
    assert run.row_count > 0
    assert run.page_count >= 1
    # The content digest is the one of the data, as rebuilt now.
    from reports.builders import build_report

    rebuilt = build_report(run.kind, date_from=period["date_from"], date_to=period["date_to"], fund=money)
    assert run.content_sha256 == content_digest(rebuilt)
    with run.pdf.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    # Generating was logged as an export by the requester.
    exports = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT, object_type="report")
    assert [(e.user_id, e.object_ref) for e in exports] == [(auditor.pk, str(run.pk))]

    page = client.get(reverse("reports:report-detail", args=[run.pk])).content.decode()
    assert reverse("reports:report-download", args=[run.pk, "pdf"]) in page
    assert run.content_sha256 in page
    assert "hx-trigger" not in page  # finished: no more polling

    download = client.get(reverse("reports:report-download", args=[run.pk, "pdf"]))
    body = b"".join(download.streaming_content)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert f"run{run.pk}.pdf" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'; sandbox"
    assert hashlib.sha256(body).hexdigest() == run.pdf_sha256
    csv_download = client.get(reverse("reports:report-download", args=[run.pk, "csv"]))
    assert csv_download["Content-Type"].startswith("text/csv")
    assert hashlib.sha256(b"".join(csv_download.streaming_content)).hexdigest() == run.csv_sha256
    downloads = AccessEvent.objects.filter(action=AccessEvent.Action.DOWNLOAD, object_type="report")
    assert sorted((e.user_id, e.object_ref, e.detail.split()[-1]) for e in downloads) == [
        (auditor.pk, str(run.pk), "csv"),
        (auditor.pk, str(run.pk), "pdf"),
    ]


@pytest.mark.django_db
def test_same_request_while_waiting_returns_the_same_run(auditor, money, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = services.report_request(kind=ReportKind.FUND_STATEMENT, fund=None, by=auditor, **_period())
        again = services.report_request(kind=ReportKind.FUND_STATEMENT, fund=None, by=auditor, **_period())
        other_fund = services.report_request(kind=ReportKind.FUND_STATEMENT, fund=money, by=auditor, **_period())
        other_kind = services.report_request(kind=ReportKind.BOND_REGISTER, fund=None, by=auditor, **_period())
        colleague = services.report_request(
            kind=ReportKind.FUND_STATEMENT, fund=None, by=UserFactory(role=Role.AUDITOR), **_period()
        )

    assert again.pk == first.pk
    assert len({first.pk, other_fund.pk, other_kind.pk, colleague.pk}) == 4
    assert len(callbacks) == 4  # one task per new run, none for the repeat
    ReportRun.objects.filter(pk=first.pk).update(status=ReportRun.Status.RUNNING, started_at=timezone.now())
    assert services.report_request(kind=ReportKind.FUND_STATEMENT, by=auditor, **_period()).pk == first.pk
    # A run past its lease is stuck (its worker died): asking again replaces it with a new run.
    ReportRun.objects.filter(pk=first.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=False) as resent:
        replacement = services.report_request(kind=ReportKind.FUND_STATEMENT, by=auditor, **_period())
    assert replacement.pk != first.pk
    assert len(resent) == 1
    first.refresh_from_db()
    assert (first.status, first.failure) == (ReportRun.Status.FAILED, ReportRun.Failure.REPLACED)
    # Once it is finished, asking again produces a new run (the data may have changed).
    ReportRun.objects.filter(pk=replacement.pk).update(status=ReportRun.Status.DONE)
    with django_capture_on_commit_callbacks(execute=False):
        assert services.report_request(kind=ReportKind.FUND_STATEMENT, by=auditor, **_period()).pk != replacement.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_requests_make_one_run(auditor, money, monkeypatch):
    monkeypatch.setattr(services, "enqueue_report_run", lambda run_id: None)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def ask():
        try:
            barrier.wait()
            results.append(services.report_request(kind=ReportKind.FUND_STATEMENT, by=auditor, **_period()).pk)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1
    assert ReportRun.objects.count() == 1


@pytest.mark.django_db
def test_failing_builder_marks_the_run_failed_without_personal_data(
    auditor, money, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broken(*args, **kwargs):
        raise ValueError("row for Zacarías Quetzal-Ixmucané A-098-765-432 is broken")

    monkeypatch.setattr("reports.services.build_report", broken)

    run = _request(auditor, django_capture_on_commit_callbacks)

    assert run.status == ReportRun.Status.FAILED
    assert run.failure == ReportRun.Failure.ERROR
    assert run.error == "ValueError"
    assert "Zacarías" not in run.error
    assert not run.pdf and not run.csv
    assert run.finished_at is not None
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT).exists()
    assert any(record.exc_info for record in caplog.records if record.name == "reports.services")


@pytest.mark.django_db
def test_failed_run_page_says_so_and_stops_polling(
    client, auditor, money, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("reports.services.build_report", lambda *a, **k: 1 / 0)
    run = _request(auditor, django_capture_on_commit_callbacks)
    client.force_login(auditor)

    page = client.get(reverse("reports:report-progress", args=[run.pk])).content.decode()

    assert "could not be produced" in page
    assert "Stopped by an error." in page and "ZeroDivisionError" in page
    assert "hx-get" not in page
    assert client.get(reverse("reports:report-download", args=[run.pk, "pdf"])).status_code == 404


@pytest.fixture
def eager_retries(monkeypatch):
    """Eager Celery honours ``retry()`` only when eager errors are not propagated (Celery's rule)."""
    from amparo.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_storage_error_is_retried_then_succeeds(auditor, money, monkeypatch, django_capture_on_commit_callbacks):
    from django.core.files.storage import FileSystemStorage

    original = FileSystemStorage._save
    failures = []

    def flaky(self, name, content):
        if not failures:
            failures.append(name)
            raise OSError("disk full")
        return original(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", flaky)

    run = _request(auditor, django_capture_on_commit_callbacks)

    assert len(failures) == 1
    assert run.status == ReportRun.Status.DONE
    assert _sha256(run.pdf) == run.pdf_sha256


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_storage_error_every_time_ends_failed(auditor, money, monkeypatch, django_capture_on_commit_callbacks):
    from django.core.files.storage import FileSystemStorage

    def broken(self, name, content):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "_save", broken)

    run = _request(auditor, django_capture_on_commit_callbacks)

    assert run.status == ReportRun.Status.FAILED
    assert run.failure == ReportRun.Failure.STORAGE
    assert "could not be stored" in run.get_failure_display()


@pytest.mark.django_db
def test_a_run_is_finished_when_its_files_are_stored_not_when_rendering_starts(
    auditor, money, settings, django_capture_on_commit_callbacks
):
    """The run's recorded end comes after its PDF was rendered and stored (each progress step of
    the rendering takes 100 ms here, so an end taken before rendering would be well before)."""
    settings.REPORT_STEP_DELAY_MS = 100

    run = _request(auditor, django_capture_on_commit_callbacks)

    assert run.status == ReportRun.Status.DONE
    pdf_written = datetime.fromtimestamp(os.path.getmtime(default_storage.path(run.pdf.name)), UTC)
    assert run.finished_at >= pdf_written
    assert run.finished_at - run.started_at >= timedelta(milliseconds=500)
    assert run.finished_at == run.heartbeat_at


def test_task_leaves_a_finished_run_alone(auditor, money, django_capture_on_commit_callbacks):
    run = _request(auditor, django_capture_on_commit_callbacks)
    before = (run.pdf.name, run.pdf_sha256, run.finished_at)

    generate_report.delay(run_id=run.pk)
    generate_report.delay(run_id=999_999)  # gone: nothing to do

    run.refresh_from_db()
    assert (run.pdf.name, run.pdf_sha256, run.finished_at) == before
    assert AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT).count() == 1


@pytest.mark.django_db
def test_progress_fragment_polls_until_done(client, auditor, money, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = services.report_request(kind=ReportKind.FUND_STATEMENT, by=auditor, **_period())
    client.force_login(auditor)
    url = reverse("reports:report-progress", args=[run.pk])

    waiting = client.get(url).content.decode()
    services.report_generate(run_id=run.pk)
    done = client.get(url).content.decode()

    assert '<progress id="run-progress' in waiting
    assert f'hx-get="{url}"' in waiting
    assert 'hx-trigger="every 1s"' in waiting
    assert 'hx-swap="outerHTML"' in waiting
    assert "<progress" not in done
    assert "hx-get" not in done
    assert reverse("reports:report-download", args=[run.pk, "pdf"]) in done
    assert reverse("reports:report-download", args=[run.pk, "csv"]) in done


@pytest.mark.django_db
def test_expired_files_are_deleted_but_still_verify(
    client, auditor, money, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_RETENTION_DAYS = 30
    old = _request(auditor, django_capture_on_commit_callbacks)
    recent = _request(auditor, django_capture_on_commit_callbacks, kind=ReportKind.BOND_REGISTER)
    ReportRun.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=31))
    with old.pdf.open("rb") as handle:
        pdf_bytes = handle.read()
    old_names = (old.pdf.name, old.csv.name)

    delete_expired_reports.delay()

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.files_deleted_at is not None
    assert not any(default_storage.exists(name) for name in old_names)
    assert not old.pdf and not old.csv
    assert old.pdf_sha256 and old.csv_sha256 and old.content_sha256  # kept
    assert recent.files_deleted_at is None and default_storage.exists(recent.pdf.name)

    client.force_login(auditor)
    gone = client.get(reverse("reports:report-download", args=[old.pk, "pdf"]))
    assert gone.status_code == 410
    assert "deleted" in gone.content.decode()
    answer = client.post(reverse("reports:verify"), {"file": SimpleUploadedFile("old.pdf", pdf_bytes)})
    assert f"run {old.pk}," in answer.content.decode()
    # Running the scan again changes nothing.
    assert services.reports_delete_expired() == 0


@pytest.mark.django_db
def test_verification_by_upload_and_by_fingerprint(client, auditor, money, django_capture_on_commit_callbacks):
    run = _request(auditor, django_capture_on_commit_callbacks)
    finance = UserFactory(role=Role.FINANCE)
    client.force_login(finance)  # anyone who may verify, not only the requester
    with run.pdf.open("rb") as handle:
        pdf_bytes = handle.read()
    with run.csv.open("rb") as handle:
        csv_bytes = handle.read()
    altered = bytearray(pdf_bytes)
    altered[len(altered) // 2] ^= 0x01

    def check(**data) -> str:
        response = client.post(reverse("reports:verify"), data)
        assert response.status_code == 200
        return response.content.decode()

    same_pdf = check(file=SimpleUploadedFile("report.pdf", pdf_bytes))
    same_csv = check(file=SimpleUploadedFile("report.csv", csv_bytes))
    changed = check(file=SimpleUploadedFile("report.pdf", bytes(altered)))
    by_digest = check(sha256=run.content_sha256.upper())
    by_pdf_hash = check(sha256=run.pdf_sha256)
    unknown = check(sha256="0" * 64)
    # A file whose bytes are the content digest is not the report: files match files only.
    digest_as_file = check(file=SimpleUploadedFile("x.txt", run.content_sha256.encode()))

    when = timezone.localtime(run.finished_at)
    assert "Yes" in same_pdf and f"run {run.pk}," in same_pdf and "Aud Auditor" in same_pdf
    assert "Fund statement" in same_pdf
    assert when.strftime("%Y") in same_pdf
    assert "PDF of that run" in same_pdf
    assert "CSV of that run" in same_csv
    assert "No record of this file" in changed and f"run {run.pk}," not in changed
    assert "content fingerprint of that run" in by_digest
    assert "PDF of that run" in by_pdf_hash
    assert "No record of this file" in unknown
    assert "No record of this file" in digest_as_file


@pytest.mark.django_db
def test_verification_refuses_bad_input(client, auditor, settings):
    client.force_login(auditor)
    settings.REPORT_VERIFY_MAX_BYTES = 10

    too_big = client.post(reverse("reports:verify"), {"file": SimpleUploadedFile("big.pdf", b"x" * 11)})
    not_hex = client.post(reverse("reports:verify"), {"sha256": "not a hash"})
    nothing = client.post(reverse("reports:verify"), {})

    assert too_big.status_code == 422
    assert "larger than" in too_big.content.decode()
    assert not_hex.status_code == 422
    assert "64 characters" in not_hex.content.decode()
    assert nothing.status_code == 422
    assert "Choose a file or paste a fingerprint" in nothing.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        ("2026-03-02", "2026-03-01", "must end on or after"),
        ("2020-01-01", "2026-03-01", "at most five years"),
        ("2026-03-01", "2026-04-01", "cannot end in the future"),
    ],
)
def test_report_request_form_validates_the_period(client, auditor, monkeypatch, date_from, date_to, message):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    client.force_login(auditor)

    response = client.post(
        reverse("reports:report-new"),
        once({"kind": ReportKind.FUND_STATEMENT, "date_from": date_from, "date_to": date_to}),
    )

    assert response.status_code == 422
    assert message in response.content.decode()
    assert ReportRun.objects.count() == 0


@pytest.mark.django_db
def test_five_years_exactly_is_allowed(client, auditor, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    client.force_login(auditor)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("reports:report-new"),
            once({"kind": ReportKind.DONATION_REGISTER, "date_from": "2021-04-01", "date_to": "2026-03-31"}),
        )

    assert response.status_code == 302
    assert ReportRun.objects.get().parameters == {"from": "2021-04-01", "to": "2026-03-31", "fund": ""}
