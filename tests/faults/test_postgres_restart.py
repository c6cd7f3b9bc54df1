"""PostgreSQL restarted under a running task, for real: the task is retried on a fresh connection and
finishes once (issue 11, item 6).

The test's own PostgreSQL server (the one the suite runs on) is restarted with ``pg_ctl restart -m
fast``: every connection is closed at once, as when the server is restarted for an upgrade or fails
over. A real ``celery -A amparo worker`` (``tests/faults/workers.py``) is in the middle of a task:

- a **report** in progress: its next progress write fails with ``OperationalError``; the task is
  retried with backoff (``kernel.retry``), waits for its own lease to lapse, and finishes — never
  left "being produced" at some per cent;
- a **receipt** whose e-mail the mail server (``tests/faults/smtp.py``) holds: the server is
  restarted after the claim was committed and before the mail server answers, so recording
  "sent" fails on the dead connection; the retry records it — one e-mail, never two.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from funds.models import Donation, Donor, Fund
from kernel.enqueue import enqueue_on_commit
from reports.models import ReportRun
from tests.faults.smtp import SmtpSink
from tests.faults.test_worker_killed import _assert_exports_and_files, _done, _mid_run, _request
from tests.reports import test_runs

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

auditor = test_runs.auditor
money = test_runs.money


def _pg_ctl() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or [shutil.which("pg_ctl") or ""]
    if not found[-1]:
        pytest.skip("pg_ctl not found")
    return found[-1]


def restart_postgres() -> float:
    """Restart the test's PostgreSQL server (fast: connections are cut, not waited for); seconds it took."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('data_directory', true)")
        data_directory = cursor.fetchone()[0]
    if not data_directory:
        pytest.skip("the test's database role may not read data_directory (not the server's owner)")
    connection.close()
    folder = os.path.dirname(data_directory)
    command = [_pg_ctl(), "-D", data_directory, "-l", os.path.join(folder, "restart.log"), "-m", "fast", "-w"]
    command += ["-t", "60", "restart"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    started = time.monotonic()
    # pg_ctl reuses the options the server was started with (postmaster.opts): same port, same folder.
    subprocess.run(command, cwd=folder, check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=90)
    return time.monotonic() - started


def test_a_report_under_way_when_postgresql_restarts_is_retried_and_finishes_once(
    start_worker, auditor, money, storage
):
    worker = start_worker(env={"REPORT_RUN_LEASE_SECONDS": "3", "REPORT_STEP_DELAY_MS": "600"})
    run = _mid_run(_request(auditor))
    progress_before = run.progress

    restart_postgres()

    run = _done(run)
    assert (run.status, run.failure) == (ReportRun.Status.DONE, ""), run.error
    assert run.progress == 100 and progress_before < 100
    assert "Retry in" in worker.log()  # kernel.retry took it: the first attempt died on the restart
    _assert_exports_and_files(run, storage)


def test_a_receipt_whose_sent_mark_meets_a_restart_is_recorded_without_a_second_email(start_worker, settings):
    settings.FUNDS_SEND_RECEIPTS = True
    donor = Donor.objects.create(email="maria@example.org", name="María Donante Núñez")
    with SmtpSink() as smtp:
        worker = start_worker(queues="celery", env={"EMAIL_URL": smtp.url, "FUNDS_SEND_RECEIPTS": "1"})
        smtp.hold()
        with transaction.atomic():
            donation = Donation.objects.create(
                donor=donor,
                fund=Fund.objects.get(slug="general"),
                amount_cents=12500,
                status=Donation.Status.PAID,
                paid_at=timezone.now(),
            )
            enqueue_on_commit("funds.send_receipt", donation_id=donation.pk)
        smtp.wait_for_message()  # the worker committed its claim and handed the e-mail over

        restart_postgres()
        smtp.release()  # "250 accepted": the worker now records it on a connection that is gone

        deadline = time.monotonic() + 60
        while Donation.objects.get(pk=donation.pk).receipt_sent_at is None:
            assert time.monotonic() < deadline, f"the receipt was never recorded as sent:\n{worker.log()[-3000:]}"
            time.sleep(0.3)
        time.sleep(2)  # a second e-mail, if the retry sent one, would be in by now

    donation.refresh_from_db()
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["To"] == "maria@example.org"
    assert donation.receipt_number and donation.receipt_sha256
    assert "ReceiptSentNotRecorded" in worker.log()  # the retry that only recorded what was sent
