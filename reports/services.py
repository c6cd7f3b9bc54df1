"""Every write for report runs: requesting one, producing its files, deleting expired files.

Each function's docstring lists its side effects. Nothing here writes a detainee's personal
data anywhere: report rows come from ``reports.builders``, which shows cases by number only.
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import NotRequired, TypedDict, TypeVar, Unpack

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from funds.models import Fund
from kernel.enqueue import enqueue_on_commit
from kernel.retry import TRANSIENT_ERRORS
from reports.builders import build_report
from reports.csv_export import write_csv
from reports.data import ReportData, content_digest
from reports.models import ReportKind, ReportRun
from reports.pdf.render import render_pdf

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = (ReportRun.Status.QUEUED, ReportRun.Status.RUNNING)
# Share of the progress bar for each step: building the rows, then the CSV, then the PDF.
BUILD_UNTIL, CSV_UNTIL = 40, 50
# How many runs one person may have waiting or being produced at once, and ask for in an hour (settings
# ``REPORT_RUNS_PER_USER_ACTIVE`` and ``REPORT_RUNS_PER_USER_HOUR``): one account must not fill the one
# worker of the ``reports`` queue by varying the dates.
DEFAULT_RUNS_PER_USER_ACTIVE = 3
DEFAULT_RUNS_PER_USER_HOUR = 20
RUNS_WINDOW = timedelta(hours=1)


# The normalised parameters of a run, as stored in ``ReportRun.parameters`` ("from" is a keyword).
ReportParameters = TypedDict(
    "ReportParameters", {"from": str, "to": str, "fund": str, "legal_demand": NotRequired[str]}
)


def report_parameters(
    *, date_from: date, date_to: date, fund: Fund | None = None, legal_demand: str = ""
) -> ReportParameters:
    """The normalised parameters stored on a run (and compared to find a duplicate request).

    ``legal_demand`` (a reference, only when the export answers one) is kept only when given, so
    earlier runs' parameters compare as they always did.
    """
    parameters: ReportParameters = {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "fund": fund.slug if fund else "",
    }
    if legal_demand:
        parameters["legal_demand"] = legal_demand
    return parameters


class ReportRunsLimited(Exception):
    """The user has as many runs waiting or being produced as allowed, or asked for as many this hour.

    ``message`` says which, for the page; ``retry_after`` is in seconds (for the ``Retry-After`` header).
    """

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


T = TypeVar("T")


def _lease(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


def _stuck(now: datetime) -> Q:
    """Runs whose lease has expired (a run from before leases existed has none: it is stuck too)."""
    return Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True)


def _check_run_limits(*, by: User, now: datetime) -> None:
    """``ReportRunsLimited`` if ``by`` may not ask for another run now. No side effects.

    A run still waiting or running past its lease is stuck (see ``report_request``) and no longer
    counts as active; every run asked for in the last hour counts for the hourly limit.
    """
    active_limit = getattr(settings, "REPORT_RUNS_PER_USER_ACTIVE", DEFAULT_RUNS_PER_USER_ACTIVE)
    hour_limit = getattr(settings, "REPORT_RUNS_PER_USER_HOUR", DEFAULT_RUNS_PER_USER_HOUR)
    active = ReportRun.objects.filter(requested_by=by, status__in=ACTIVE_STATUSES, lease_expires_at__gte=now)
    if active.count() >= active_limit:
        raise ReportRunsLimited(
            _(
                "You already have %(limit)s reports waiting or being produced, the most one person may. "
                "Wait until one of them is ready, then ask again."
            )
            % {"limit": active_limit},
            retry_after=60,
        )
    this_hour = ReportRun.objects.filter(requested_by=by, requested_at__gt=now - RUNS_WINDOW)
    if this_hour.count() >= hour_limit:
        oldest = this_hour.order_by("requested_at").values_list("requested_at", flat=True).first() or now
        seconds = max(60, int((oldest + RUNS_WINDOW - now).total_seconds()) + 1)
        raise ReportRunsLimited(
            _(
                "You have asked for %(limit)s reports in the last hour, the most one person may. "
                "Please try again in %(minutes)s min."
            )
            % {"limit": hour_limit, "minutes": -(-seconds // 60)},
            retry_after=seconds,
        )


@transaction.atomic
def report_request(
    *, kind: str, date_from: date, date_to: date, fund: Fund | None = None, by: User, legal_demand: str = ""
) -> ReportRun:
    """Ask for a report; the same request while an identical one is waiting or running returns that run.

    Two clicks (or two tabs) must not start two runs: the requesting user's row is locked, so
    concurrent requests by one person queue up here and the second one finds the first's run.
    An identical run that is stuck (past its lease: no worker took it up, or its worker died) is
    not returned: it is failed as replaced and a new run starts. A new run is refused with
    ``ReportRunsLimited`` (nothing written) when the user already has ``REPORT_RUNS_PER_USER_ACTIVE``
    runs waiting or running, or asked for ``REPORT_RUNS_PER_USER_HOUR`` runs in the last hour; the
    lock makes the count exact. Asking again for a waiting run is no new run.
    Side effects: a ``ReportRun`` (queued, with a lease of ``REPORT_RUN_QUEUED_LEASE_SECONDS``); a
    stuck identical run marked failed (``REPLACED``); after commit, the Celery task ``generate_report``
    through the outbox.
    """
    ReportKind(kind)  # a programming error, not a user's: the form offers only known kinds
    User.objects.select_for_update().only("pk").get(pk=by.pk)
    parameters = report_parameters(date_from=date_from, date_to=date_to, fund=fund, legal_demand=legal_demand)
    now = timezone.now()
    for run in ReportRun.objects.filter(requested_by=by, kind=kind, status__in=ACTIVE_STATUSES).order_by("id"):
        if run.parameters != parameters:
            continue
        if run.lease_expires_at is not None and run.lease_expires_at >= now:
            return run  # alive: waiting for its worker, or being produced
        ReportRun.objects.filter(pk=run.pk, status__in=ACTIVE_STATUSES).update(
            status=ReportRun.Status.FAILED, failure=ReportRun.Failure.REPLACED, finished_at=now
        )
        logger.warning("report run %s was stuck (%s); replaced by a new request", run.pk, run.status)
    _check_run_limits(by=by, now=now)
    run = ReportRun.objects.create(
        kind=kind,
        parameters=parameters,
        requested_by=by,
        requested_at=now,
        lease_expires_at=now + _lease(settings.REPORT_RUN_QUEUED_LEASE_SECONDS),
    )
    enqueue_report_run(run.pk)
    return run


def enqueue_report_run(run_id: int) -> None:
    """Queue the run's production after commit (its own function, so a test can hold it back)."""
    enqueue_on_commit("reports.tasks.generate_report", run_id=run_id)


class ReportRunBusy(Exception):
    """Another worker holds the run's lease, which is still live: ask again in ``retry_in`` seconds."""

    def __init__(self, retry_in: int) -> None:
        super().__init__(f"run busy, retry in {retry_in} s")
        self.retry_in = retry_in


class ReportRunTakenOver(Exception):
    """This worker's claim on the run is gone (the sweep gave the run to another worker, or it was
    failed or replaced): it stops without writing anything more."""


class ReportRunTooLong(Exception):
    """The run has been produced for longer than ``REPORT_SOFT_TIME_LIMIT_SECONDS``."""


def write_on_a_live_connection(write: Callable[[], T], *, attempts: int = 4, pause: float = 0.5) -> T:
    """Run ``write`` (a short database write, outside any transaction), on a new connection if the
    current one is dead.

    A PostgreSQL restart or a killed backend leaves this thread's connection closed: the first
    query fails with ``OperationalError`` or ``InterfaceError``. The connection is then closed and
    ``write`` tried again on a fresh one, waiting ``pause`` seconds, then twice as long, up to
    ``attempts`` tries in all (a few seconds: a restart); the last error is raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except (OperationalError, InterfaceError):
            if attempt == attempts or connection.in_atomic_block:
                raise  # inside a transaction a new connection would not hold the caller's work
            logger.warning("database connection lost; writing again on a new one (try %s)", attempt + 1)
            connection.close()
            time.sleep(pause * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # the loop returns or raises


def _claim(run_id: int) -> ReportRun | None:
    """Mark the run running for this worker, with a fresh lease; ``None`` if it is not ours to do.

    A run waiting, or running past its lease (its worker died), is claimed: one more attempt. A run
    on which ``REPORT_RUN_MAX_ATTEMPTS`` workers were lost is failed instead. ``ReportRunBusy`` if
    another worker's lease is still live.
    """
    now = timezone.now()
    claimable = ReportRun.objects.filter(pk=run_id).filter(
        Q(status=ReportRun.Status.QUEUED) | Q(Q(status=ReportRun.Status.RUNNING) & _stuck(now))
    )
    claimed = claimable.filter(attempts__lt=settings.REPORT_RUN_MAX_ATTEMPTS).update(
        status=ReportRun.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        lease_expires_at=now + _lease(settings.REPORT_RUN_LEASE_SECONDS),
        attempts=F("attempts") + 1,
        progress=0,
        error="",
        failure="",
    )
    if claimed:
        return ReportRun.objects.select_related("requested_by").get(pk=run_id)
    if claimable.exists():  # claimable, but too many workers were lost on it
        report_fail(run_id=run_id, failure=ReportRun.Failure.WORKER_LOST)
        logger.error("report run %s failed: %s workers lost on it", run_id, settings.REPORT_RUN_MAX_ATTEMPTS)
        return None
    lease = ReportRun.objects.filter(pk=run_id, status=ReportRun.Status.RUNNING).values_list(
        "lease_expires_at", flat=True
    )
    expires = lease.first()
    if expires is None:
        return None  # gone, done or failed
    raise ReportRunBusy(retry_in=max(1, int((expires - now).total_seconds()) + 1))


class _Heartbeat:
    """The running worker's sign of life: progress, ``heartbeat_at`` and a renewed lease.

    Written when the whole percentage changes, or ``HEARTBEAT_EVERY`` seconds after the last write
    at the latest; only while the run is still this worker's (running, with the ``started_at`` of
    its claim), else ``ReportRunTakenOver``. Past the soft time limit, ``ReportRunTooLong``: a
    thread-pool worker cannot enforce Celery's time limits, the heartbeat can.
    """

    def __init__(self, run: ReportRun) -> None:
        assert run.started_at is not None
        self.run_id = run.pk
        self.claimed_at = run.started_at
        self.lease = _lease(settings.REPORT_RUN_LEASE_SECONDS)
        self.every = min(5.0, settings.REPORT_RUN_LEASE_SECONDS / 3)
        self.started = time.monotonic()
        self.written = self.started
        self.progress = 0

    def beat(self, progress: int | None = None) -> None:
        now = time.monotonic()
        if now - self.started > settings.REPORT_SOFT_TIME_LIMIT_SECONDS:
            raise ReportRunTooLong
        moved = progress is not None and progress != self.progress
        if not moved and now - self.written < self.every:
            return
        if progress is not None:
            self.progress = progress
        self.written = now
        self._write(progress=self.progress)
        delay = settings.REPORT_STEP_DELAY_MS
        if moved and delay:
            time.sleep(delay / 1000)  # drills and fault tests only (settings: REPORT_STEP_DELAY_MS)

    def _write(self, **fields: object) -> None:
        def write() -> int:
            moment = timezone.now()
            return self.mine().update(heartbeat_at=moment, lease_expires_at=moment + self.lease, **fields)

        if not write_on_a_live_connection(write):
            raise ReportRunTakenOver

    def mine(self) -> QuerySet[ReportRun]:
        """The run, while it is still this worker's to produce."""
        return ReportRun.objects.filter(pk=self.run_id, status=ReportRun.Status.RUNNING, started_at=self.claimed_at)


def _progress_between(heartbeat: _Heartbeat, start: int, end: int) -> Callable[[float], None]:
    """A callback for a builder or renderer: its own percentage (0 to 100) mapped onto ``start`` to ``end``.

    Each step is written straight away (outside any transaction) so the polling page sees it, with
    the heartbeat (see ``_Heartbeat``).
    """

    def report(percent: float) -> None:
        heartbeat.beat(start + round((end - start) * min(max(percent, 0), 100) / 100))

    return report


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _csv_bytes(data: ReportData) -> bytes:
    buffer = io.BytesIO()
    write_csv(data, buffer)
    return buffer.getvalue()


def _random_name(extension: str) -> str:
    # Random, so a name says nothing and cannot be guessed; the download view names the file.
    return f"{secrets.token_hex(16)}.{extension}"


def report_generate(*, run_id: int) -> ReportRun | None:
    """Produce a run's CSV and PDF: the body of the ``generate_report`` task.

    Not one transaction on purpose: progress is written as it goes, for the polling page, with the
    worker's heartbeat (see ``_claim`` and ``_Heartbeat``). A run that is done or failed is left
    alone; one another worker holds raises ``ReportRunBusy``; if this worker's claim is taken over
    meanwhile it stops and writes nothing more.
    Side effects: the run moves to running, then done (files saved to private storage under
    random names, SHA-256 of each, content digest, row and page counts) with an
    ``AccessEvent`` (export) for the requester; or to failed with a reason (the exception is
    logged, never stored: it may quote data; only its class is kept). A passing fault
    (``kernel.retry.TRANSIENT_ERRORS``: storage, the database) puts the run back in the queue,
    on a new connection if need be, and is raised again, so that the task retries it.
    """
    run = _claim(run_id)
    if run is None:
        return None
    heartbeat = _Heartbeat(run)
    stored: list[FieldFile] = []
    try:
        fund = None
        if run.parameters.get("fund"):
            fund = Fund.objects.get(slug=run.parameters["fund"])
        data = build_report(
            run.kind,
            date_from=date.fromisoformat(run.parameters["from"]),
            date_to=date.fromisoformat(run.parameters["to"]),
            fund=fund,
            progress=_progress_between(heartbeat, 0, BUILD_UNTIL),
        )
        digest = content_digest(data)
        csv_content = _csv_bytes(data)
        heartbeat.beat(CSV_UNTIL)
        generated_at = timezone.now()
        rendered = render_pdf(
            data,
            run_id=run.pk,
            generated_by=str(run.requested_by),
            generated_at=generated_at,
            digest=digest,
            progress=_progress_between(heartbeat, CSV_UNTIL, 99),
        )
        heartbeat.beat()
        run.csv.save(_random_name("csv"), ContentFile(csv_content), save=False)
        stored.append(run.csv)
        run.pdf.save(_random_name("pdf"), ContentFile(rendered.content), save=False)
        stored.append(run.pdf)
        _finish(
            run,
            heartbeat,
            csv_sha256=_sha256(csv_content),
            pdf_sha256=_sha256(rendered.content),
            content_sha256=digest,
            row_count=data.row_count,
            page_count=rendered.page_count,
        )
    except ReportRunTakenOver:
        _discard(stored)
        logger.warning("report run %s: taken over by another worker; this one stops", run.pk)
        return None
    except TRANSIENT_ERRORS:
        _discard(stored)
        logger.warning("report run %s: passing fault (storage or database), will retry", run.pk, exc_info=True)
        _hand_back(heartbeat)
        raise
    except (SoftTimeLimitExceeded, ReportRunTooLong):
        _discard(stored)
        logger.error("report run %s: past its time limit", run.pk)
        report_fail(run_id=run.pk, failure=ReportRun.Failure.TIME_LIMIT)
        return ReportRun.objects.get(pk=run.pk)
    except Exception as exc:
        _discard(stored)
        logger.exception("report run %s failed", run.pk)
        report_fail(run_id=run.pk, failure=ReportRun.Failure.ERROR, error=type(exc).__name__)
        return ReportRun.objects.get(pk=run.pk)
    run.refresh_from_db()
    return run


def _hand_back(heartbeat: _Heartbeat) -> None:
    """Put a run this worker gave up on a passing fault back in the queue, its attempt not counted
    (no worker was lost). If even a new connection fails, the run keeps its lease and is claimed
    again when it expires."""
    now = timezone.now()
    try:
        write_on_a_live_connection(
            lambda: heartbeat.mine().update(
                status=ReportRun.Status.QUEUED,
                progress=0,
                started_at=None,
                attempts=F("attempts") - 1,
                lease_expires_at=now + _lease(settings.REPORT_RUN_QUEUED_LEASE_SECONDS),
            )
        )
    except (OperationalError, InterfaceError):
        logger.warning("report run %s: could not put it back in the queue; its lease will expire", heartbeat.run_id)


def _discard(files: list[FieldFile]) -> None:
    for field_file in files:
        if not field_file.name:  # nothing was saved under this field
            continue
        try:
            field_file.storage.delete(field_file.name)
        except OSError:
            logger.warning("could not delete a partial report file", exc_info=True)


class RunFigures(TypedDict):
    """What a finished run records besides its files."""

    csv_sha256: str
    pdf_sha256: str
    content_sha256: str
    row_count: int
    page_count: int


@transaction.atomic
def _finish(run: ReportRun, heartbeat: _Heartbeat, **figures: Unpack[RunFigures]) -> None:
    # Only while the run is still this worker's: a worker the sweep gave up on must not finish it twice.
    # Finished is now, once its files are stored: the PDF's "generated at" is earlier (rendering
    # starts after it), and a long run's duration would otherwise show as the build's alone.
    now = timezone.now()
    finished = heartbeat.mine().update(
        status=ReportRun.Status.DONE,
        progress=100,
        pdf=run.pdf.name,
        csv=run.csv.name,
        heartbeat_at=now,
        finished_at=now,
        **figures,
    )
    if not finished:
        raise ReportRunTakenOver
    parameters = run.parameters
    access_event_record(
        user=run.requested_by,
        action=AccessEvent.Action.EXPORT,
        object_type="report",
        object_ref=str(run.pk),
        detail=f"{run.kind} {parameters['from']}..{parameters['to']} {parameters.get('fund') or 'all funds'}"
        # An export made to answer a legal demand says so (at the end: the demand's history matches it).
        + (f" for legal demand {parameters['legal_demand']}" if parameters.get("legal_demand") else ""),
    )


def report_fail(*, run_id: int, failure: ReportRun.Failure, error: str = "") -> None:
    """Mark a run failed (unless it is done, or failed already) with ``failure``, the reason shown
    to the requester, and ``error``, a short technical detail (an exception's class, never personal
    data). Written on a new connection if the current one died: a failure handler must not fail on
    the fault it reports. Side effect: the run's status."""
    write_on_a_live_connection(
        lambda: (
            ReportRun.objects.filter(pk=run_id)
            .exclude(status__in=(ReportRun.Status.DONE, ReportRun.Status.FAILED))
            .update(status=ReportRun.Status.FAILED, failure=failure, error=error[:300], finished_at=timezone.now())
        )
    )


def report_runs_sweep() -> dict[str, int]:
    """Recover stuck runs: the beat sweep. Returns counts ``{"requeued", "failed"}``.

    A run is stuck when its lease expired: waiting with no worker taking it up (its message lost,
    or no worker serving the ``reports`` queue), or running with no heartbeat (its worker died).
    Each is sent again (back to waiting, with a fresh lease), at most ``REPORT_RUN_MAX_REQUEUES``
    times; then, or once ``REPORT_RUN_MAX_ATTEMPTS`` workers were lost on it, it is failed with a
    reason its requester sees. A worker still producing a run the sweep sent again finds its claim
    gone at its next heartbeat and stops.
    Side effects: runs' status and lease; the ``generate_report`` task through the outbox; a log line each.
    """
    counts = {"requeued": 0, "failed": 0}
    now = timezone.now()
    stuck = ReportRun.objects.filter(status__in=ACTIVE_STATUSES).filter(_stuck(now))
    for run_id in list(stuck.order_by("id").values_list("pk", flat=True)):
        with transaction.atomic():
            run = stuck.select_for_update(skip_locked=True).filter(pk=run_id).first()
            if run is None:
                continue  # claimed or finished meanwhile
            lost_workers = run.attempts >= settings.REPORT_RUN_MAX_ATTEMPTS
            if lost_workers or run.requeues >= settings.REPORT_RUN_MAX_REQUEUES:
                failure = ReportRun.Failure.WORKER_LOST if run.attempts else ReportRun.Failure.NEVER_STARTED
                ReportRun.objects.filter(pk=run.pk).update(
                    status=ReportRun.Status.FAILED, failure=failure, finished_at=now
                )
                logger.error(
                    "report run %s failed by the sweep (%s): %s attempts, sent again %s times",
                    run.pk,
                    failure,
                    run.attempts,
                    run.requeues,
                )
                counts["failed"] += 1
                continue
            ReportRun.objects.filter(pk=run.pk).update(
                status=ReportRun.Status.QUEUED,
                started_at=None,
                progress=0,
                requeues=F("requeues") + 1,
                lease_expires_at=now + _lease(settings.REPORT_RUN_QUEUED_LEASE_SECONDS),
            )
            enqueue_report_run(run.pk)
            logger.warning("report run %s was stuck (%s); sent again", run.pk, run.status)
            counts["requeued"] += 1
    return counts


@transaction.atomic
def report_record_download(*, run: ReportRun, file_format: str, by: User, ip_address: str | None = None) -> None:
    """Note in the access log that ``by`` downloaded a run's file. Side effect: an ``AccessEvent``."""
    access_event_record(
        user=by,
        action=AccessEvent.Action.DOWNLOAD,
        object_type="report",
        object_ref=str(run.pk),
        detail=f"{run.kind} {file_format}",
        ip_address=ip_address,
    )


def reports_delete_expired(*, now: datetime | None = None) -> int:
    """Delete the files of runs finished more than ``REPORT_RETENTION_DAYS`` ago; return how many runs.

    The runs stay, with their hashes, so the verification page still recognises a file.
    Side effects: files removed from storage; ``files_deleted_at`` set and the file fields
    emptied. A file that cannot be deleted now leaves its run for the next day's scan.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REPORT_RETENTION_DAYS)
    expired = ReportRun.objects.filter(finished_at__lt=cutoff, files_deleted_at__isnull=True).exclude(pdf="", csv="")
    deleted = 0
    for run in expired.iterator():
        try:
            for field_file in (run.pdf, run.csv):
                if field_file.name:
                    field_file.storage.delete(field_file.name)
        except OSError:
            logger.warning("report run %s: could not delete its files; next scan retries", run.pk, exc_info=True)
            continue
        ReportRun.objects.filter(pk=run.pk).update(pdf="", csv="", files_deleted_at=now)
        deleted += 1
    return deleted
