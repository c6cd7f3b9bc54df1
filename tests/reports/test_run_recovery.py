"""Report runs that a database blip, a lost task or a dead worker would have left stuck: each one ends
done or failed with a reason, never "waiting" or "being produced" for good.

The faults are real where they can be in-process (a PostgreSQL backend terminated under the failure
handler, an ``OperationalError`` out of the builder, the task run by Celery itself with ``apply()``);
a worker's death is the state it leaves behind (running, its heartbeat stopped). A real worker
SIGKILLed mid-report is ``tests/faults/test_worker_killed.py``.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from kernel.models import OutboxMessage
from reports import services
from reports.builders import build_report
from reports.models import ReportKind, ReportRun
from reports.tasks import MAX_RETRIES, generate_report, sweep_stuck_runs
from tests.forms import once
from tests.reports import test_runs

# The report tests' fixtures, by name.
auditor = test_runs.auditor
money = test_runs.money
private_storage = test_runs.private_storage


def _period() -> dict:
    today = timezone.localdate()
    return {"date_from": today - timedelta(days=30), "date_to": today}


def _queued(by, django_capture_on_commit_callbacks) -> ReportRun:
    with django_capture_on_commit_callbacks(execute=False):  # held back: the test plays the worker
        return services.report_request(kind=ReportKind.FUND_STATEMENT, by=by, **_period())


def _left_by_a_dead_worker(run: ReportRun, *, attempts: int = 1) -> None:
    """What a worker killed mid-run leaves: running, some progress, a heartbeat older than its lease."""
    long_ago = timezone.now() - timedelta(minutes=10)
    ReportRun.objects.filter(pk=run.pk).update(
        status=ReportRun.Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        lease_expires_at=long_ago + timedelta(minutes=5),
        progress=50,
        attempts=attempts,
    )


def _sent() -> int:
    """How many times the run's task was queued (through the outbox)."""
    return OutboxMessage.objects.filter(task_name="reports.tasks.generate_report").count()


def _exports(run: ReportRun) -> int:
    return AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT, object_ref=str(run.pk)).count()


def _terminate(backend_pid: int) -> None:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"], autocommit=True
    ) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_before_the_failure_handler_still_marks_the_run_failed(
    auditor, money, monkeypatch, django_capture_on_commit_callbacks
):
    if connection.vendor != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    monkeypatch.setattr(services, "enqueue_report_run", lambda run_id: None)  # the test plays the worker
    run = _queued(auditor, django_capture_on_commit_callbacks)

    def builder_that_loses_its_connection(*args, **kwargs):
        _terminate(connection.connection.info.backend_pid)  # the database restarts under the worker...
        raise ValueError("a bug, met at the same moment")  # ...while it fails for another reason

    monkeypatch.setattr(services, "build_report", builder_that_loses_its_connection)

    services.report_generate(run_id=run.pk)

    run.refresh_from_db()  # on the new connection the handler opened
    assert run.status == ReportRun.Status.FAILED
    assert (run.failure, run.error) == (ReportRun.Failure.ERROR, "ValueError")
    assert run.finished_at is not None


@pytest.mark.django_db
def test_the_sweep_sends_a_run_with_a_stale_heartbeat_again_and_a_worker_finishes_it(
    auditor, money, django_capture_on_commit_callbacks
):
    run = _queued(auditor, django_capture_on_commit_callbacks)
    _left_by_a_dead_worker(run)

    before = _sent()
    with django_capture_on_commit_callbacks(execute=True):
        counts = sweep_stuck_runs.delay().get()

    run.refresh_from_db()
    assert counts == {"requeued": 1, "failed": 0}
    assert _sent() == before + 1
    assert run.status == ReportRun.Status.DONE  # the (eager) worker produced it
    assert (run.attempts, run.requeues) == (2, 1)
    assert run.heartbeat_at >= run.started_at
    assert _exports(run) == 1


@pytest.mark.django_db
def test_a_run_that_keeps_losing_its_worker_is_failed_with_a_reason_the_auditor_sees(
    client, auditor, money, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_RUN_MAX_ATTEMPTS = 2
    run = _queued(auditor, django_capture_on_commit_callbacks)
    _left_by_a_dead_worker(run, attempts=1)
    before = _sent()
    with django_capture_on_commit_callbacks(execute=False):
        assert services.report_runs_sweep() == {"requeued": 1, "failed": 0}
    _left_by_a_dead_worker(run, attempts=2)  # the next worker died too

    with django_capture_on_commit_callbacks(execute=False):
        assert services.report_runs_sweep() == {"requeued": 0, "failed": 1}

    run.refresh_from_db()
    assert _sent() == before + 1
    assert (run.status, run.failure) == (ReportRun.Status.FAILED, ReportRun.Failure.WORKER_LOST)
    client.force_login(auditor)
    page = client.get(reverse("reports:report-progress", args=[run.pk])).content.decode()
    assert "The worker producing it stopped several times" in page
    assert "hx-get" not in page  # no more polling


@pytest.mark.django_db
def test_a_redelivered_task_for_a_run_that_killed_its_workers_fails_it_instead_of_trying_again(
    auditor, money, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_RUN_MAX_ATTEMPTS = 2
    run = _queued(auditor, django_capture_on_commit_callbacks)
    _left_by_a_dead_worker(run, attempts=2)

    generate_report.apply(kwargs={"run_id": run.pk})  # the broker hands the message out once more

    run.refresh_from_db()
    assert (run.status, run.failure) == (ReportRun.Status.FAILED, ReportRun.Failure.WORKER_LOST)
    assert _exports(run) == 0


@pytest.mark.django_db
def test_a_queued_run_no_worker_took_up_is_sent_again_then_failed(
    auditor, money, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_RUN_MAX_REQUEUES = 1
    run = _queued(auditor, django_capture_on_commit_callbacks)
    fresh = services.report_runs_sweep()
    ReportRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    before = _sent()
    with django_capture_on_commit_callbacks(execute=False):
        requeued = services.report_runs_sweep()
    run.refresh_from_db()
    assert (fresh, requeued) == ({"requeued": 0, "failed": 0}, {"requeued": 1, "failed": 0})
    assert _sent() == before + 1
    assert (run.status, run.requeues) == (ReportRun.Status.QUEUED, 1)
    assert run.lease_expires_at > timezone.now()  # a new lease for waiting

    ReportRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.report_runs_sweep() == {"requeued": 0, "failed": 1}
    run.refresh_from_db()
    assert (run.status, run.failure) == (ReportRun.Status.FAILED, ReportRun.Failure.NEVER_STARTED)


@pytest.mark.django_db
def test_asking_again_for_a_stuck_report_gives_a_run_that_is_produced(
    client, auditor, money, django_capture_on_commit_callbacks
):
    stuck = _queued(auditor, django_capture_on_commit_callbacks)
    _left_by_a_dead_worker(stuck)
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
                }
            ),
        )

    fresh = ReportRun.objects.exclude(pk=stuck.pk).get()
    stuck.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:report-detail", args=[fresh.pk])
    assert fresh.status == ReportRun.Status.DONE
    assert (stuck.status, stuck.failure) == (ReportRun.Status.FAILED, ReportRun.Failure.REPLACED)


@pytest.mark.django_db
def test_asking_again_for_a_live_run_returns_it(auditor, money, django_capture_on_commit_callbacks):
    run = _queued(auditor, django_capture_on_commit_callbacks)
    ReportRun.objects.filter(pk=run.pk).update(
        status=ReportRun.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )

    assert _queued(auditor, django_capture_on_commit_callbacks).pk == run.pk
    assert ReportRun.objects.count() == 1


@pytest.mark.django_db
def test_the_same_request_form_sent_twice_requests_one_run(client, auditor, money, django_capture_on_commit_callbacks):
    client.force_login(auditor)
    period = _period()
    data = once(
        {
            "kind": ReportKind.FUND_STATEMENT,
            "date_from": period["date_from"].isoformat(),
            "date_to": period["date_to"].isoformat(),
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("reports:report-new"), data)
    run = ReportRun.objects.get()
    # Done and asked for again by a double click: an identical request would now start a new run.
    before = _sent()
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(reverse("reports:report-new"), data)

    assert run.status == ReportRun.Status.DONE
    assert ReportRun.objects.count() == 1
    assert _sent() == before
    assert first["Location"] == second["Location"] == reverse("reports:report-detail", args=[run.pk])
    assert "already been sent" in client.get(second["Location"]).content.decode()


@pytest.fixture
def eager_retries(monkeypatch):
    """Eager Celery honours ``retry()`` only when eager errors are not propagated (Celery's rule)."""
    from amparo.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_an_operational_error_in_the_task_is_retried_and_the_run_finishes(
    auditor, money, monkeypatch, django_capture_on_commit_callbacks
):
    run = _queued(auditor, django_capture_on_commit_callbacks)
    calls = []

    def blip_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return build_report(*args, **kwargs)

    monkeypatch.setattr(services, "build_report", blip_once)

    generate_report.apply(kwargs={"run_id": run.pk})

    run.refresh_from_db()
    assert len(calls) == 2  # the first try and one retry, by Celery's autoretry
    assert run.status == ReportRun.Status.DONE
    assert run.attempts == 1  # the attempt given back on the blip is not counted as a lost worker
    assert _exports(run) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_a_database_that_stays_away_fails_the_run_after_the_last_retry(
    auditor, money, monkeypatch, django_capture_on_commit_callbacks
):
    run = _queued(auditor, django_capture_on_commit_callbacks)
    calls = []

    def always_down(*args, **kwargs):
        calls.append(1)
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "build_report", always_down)

    generate_report.apply(kwargs={"run_id": run.pk})

    run.refresh_from_db()
    assert len(calls) == 1 + MAX_RETRIES
    assert (run.status, run.failure, run.error) == (
        ReportRun.Status.FAILED,
        ReportRun.Failure.DATABASE,
        "OperationalError",
    )


@pytest.mark.django_db
def test_a_worker_whose_run_was_given_to_another_stops_without_finishing_it_twice(
    auditor, money, monkeypatch, django_capture_on_commit_callbacks
):
    run = _queued(auditor, django_capture_on_commit_callbacks)
    seen = []

    def slow_then_overtaken(*args, **kwargs):
        if not seen:  # the first worker: it stalls past its lease, the sweep sends the run again...
            seen.append("first")
            ReportRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
            with django_capture_on_commit_callbacks(execute=True):
                services.report_runs_sweep()  # ...and a second worker produces it meanwhile
        return build_report(*args, **kwargs)

    monkeypatch.setattr(services, "build_report", slow_then_overtaken)

    first = services.report_generate(run_id=run.pk)

    run.refresh_from_db()
    assert first is None  # the first worker found its claim gone and stopped
    assert run.status == ReportRun.Status.DONE
    assert _exports(run) == 1


@pytest.mark.django_db
def test_a_run_past_its_soft_time_limit_is_stopped_by_its_heartbeat(
    auditor, money, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_SOFT_TIME_LIMIT_SECONDS = 0  # a thread-pool worker cannot enforce Celery's limits
    run = _queued(auditor, django_capture_on_commit_callbacks)

    services.report_generate(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.failure) == (ReportRun.Status.FAILED, ReportRun.Failure.TIME_LIMIT)


def test_the_sweep_runs_every_few_minutes_and_the_time_limits_fit_the_broker(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reports-sweep-stuck-runs"]

    assert entry["task"] == sweep_stuck_runs.name == "reports.tasks.sweep_stuck_runs"
    assert len(entry["schedule"].minute) == 12  # every 5 minutes
    assert generate_report.soft_time_limit < generate_report.time_limit <= 20 * 60
