"""A report worker SIGKILLed in the middle of a report, for real: the run is finished by another
worker, once — never left "being produced", never produced twice.

A real ``celery -A amparo worker`` process (``tests/faults/workers.py``) serves the ``reports`` queue
from a private Redis (``tests/faults/conftest.py``) and writes to the test's PostgreSQL database.
Each progress step of the report waits ``REPORT_STEP_DELAY_MS`` (a setting only drills and these
tests use), so a small report takes seconds, and the run's lease is 3 seconds.

Two ways a worker dies, two ways back:

- the OOM killer takes the prefork pool's child: the main process sees the child lost, gives the
  message back to Redis (``acks_late`` with ``reject_on_worker_lost``) and a new child takes it; it
  finds the dead child's lease still live for a moment and retries when it has expired.
- the whole worker dies (both pools; the machine is lost): nothing gives the message back until
  Redis's visibility timeout (30 minutes, longer than any report may take). The run's heartbeat
  stops, its lease expires, and the sweep (beat, every 5 minutes; called here as beat would) sends
  it again to the worker started in its place.

"Once" is checked in the database afterwards: the run is done on its second attempt, with one
export in the access log and exactly its two files in storage (the dead worker's partial work left
nothing behind).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import AccessEvent
from reports import services
from reports.models import ReportKind, ReportRun
from tests.reports import test_runs

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {
    "REPORT_RUN_LEASE_SECONDS": "3",
    "REPORT_STEP_DELAY_MS": "600",
}


# The report tests' fixtures, by name.
auditor = test_runs.auditor
money = test_runs.money


def _period() -> dict:
    today = timezone.localdate()
    return {"date_from": today - timedelta(days=30), "date_to": today}


def _wait_for(condition: Callable[[ReportRun], bool], run: ReportRun, *, timeout: float, what: str) -> ReportRun:
    deadline = time.monotonic() + timeout
    while True:
        run.refresh_from_db()
        if condition(run):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run.pk} never {what}: {run.status} at {run.progress}%, {run.failure}")
        time.sleep(0.2)


def _request(by) -> ReportRun:
    # The test process asks, as the web would: the task goes through the outbox to the private Redis.
    return services.report_request(kind=ReportKind.FUND_STATEMENT, by=by, **_period())


def _mid_run(run: ReportRun) -> ReportRun:
    return _wait_for(
        lambda r: r.status == ReportRun.Status.RUNNING and r.progress >= 20, run, timeout=30, what="got going"
    )


def _done(run: ReportRun) -> ReportRun:
    return _wait_for(lambda r: r.is_finished, run, timeout=40, what="finished")


def _assert_done_once(run: ReportRun, storage: Path) -> None:
    assert (run.status, run.failure) == (ReportRun.Status.DONE, ""), run.error
    assert run.attempts == 2  # the killed worker's, then the one that finished
    _assert_exports_and_files(run, storage)


def _assert_exports_and_files(run: ReportRun, storage: Path) -> None:
    """One export in the access log and exactly the run's two files in storage (nothing partial left)."""
    exports = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT, object_ref=str(run.pk))
    assert exports.count() == 1
    files = sorted(path.relative_to(storage).as_posix() for path in storage.rglob("*") if path.is_file())
    assert files == sorted([run.csv.name, run.pdf.name])


def test_a_prefork_child_killed_mid_report_is_replaced_and_the_run_finishes_once(start_worker, auditor, money, storage):
    worker = start_worker("prefork", env=WORKER_ENV)
    run = _mid_run(_request(auditor))

    worker.kill_pool_child()

    run = _done(run)
    _assert_done_once(run, storage)
    assert run.requeues == 0  # the worker gave the message back itself: no sweep was needed
    assert "WorkerLostError" in worker.log() or "worker lost" in worker.log().lower()


@pytest.mark.parametrize("pool", ["prefork", "threads"])
def test_a_worker_killed_mid_report_is_recovered_by_the_sweep_and_the_run_finishes_once(
    start_worker, auditor, money, storage, pool
):
    worker = start_worker(pool, env=WORKER_ENV)
    run = _mid_run(_request(auditor))

    worker.kill()
    start_worker(pool, env=WORKER_ENV)  # the replacement, as systemd or Kubernetes starts it
    stuck = _wait_for(
        lambda r: r.lease_expires_at < timezone.now(), run, timeout=15, what="lost its lease"
    )  # no heartbeat: the dead worker's lease runs out
    assert stuck.status == ReportRun.Status.RUNNING
    assert services.report_runs_sweep() == {"requeued": 1, "failed": 0}  # beat's job, every 5 minutes

    run = _done(run)
    _assert_done_once(run, storage)
    assert run.requeues == 1
