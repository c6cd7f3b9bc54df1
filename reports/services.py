"""Every write for report runs: requesting one, producing its files, deleting expired files.

Each function's docstring lists its side effects. Nothing here writes a detainee's personal
data anywhere: report rows come from ``reports.builders``, which shows cases by number only.
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import NotRequired, TypedDict, Unpack

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessEvent, User
from accounts.services import access_event_record
from funds.models import Fund
from kernel.enqueue import enqueue_on_commit
from reports.builders import build_report
from reports.csv_export import write_csv
from reports.data import ReportData, content_digest
from reports.models import ReportKind, ReportRun
from reports.pdf.render import render_pdf

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = (ReportRun.Status.QUEUED, ReportRun.Status.RUNNING)
# A run still "running" this long after it started was lost with its worker (acks_late
# redelivers the task): it may be claimed again.
STALE_AFTER = timedelta(minutes=30)
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


def _check_run_limits(*, by: User, now: datetime) -> None:
    """``ReportRunsLimited`` if ``by`` may not ask for another run now. No side effects.

    A run still waiting or running after ``STALE_AFTER`` lost its task (see ``report_request``) and
    no longer counts as active; every run asked for in the last hour counts for the hourly limit.
    """
    active_limit = getattr(settings, "REPORT_RUNS_PER_USER_ACTIVE", DEFAULT_RUNS_PER_USER_ACTIVE)
    hour_limit = getattr(settings, "REPORT_RUNS_PER_USER_HOUR", DEFAULT_RUNS_PER_USER_HOUR)
    stale = now - STALE_AFTER
    active = ReportRun.objects.filter(requested_by=by, status__in=ACTIVE_STATUSES).filter(
        Q(started_at__gte=stale) | Q(started_at__isnull=True, requested_at__gte=stale)
    )
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
    A new run is refused with ``ReportRunsLimited`` (nothing written) when the user already has
    ``REPORT_RUNS_PER_USER_ACTIVE`` runs waiting or running, or asked for ``REPORT_RUNS_PER_USER_HOUR``
    runs in the last hour; the lock makes the count exact. Asking again for a waiting run is no new run.
    Side effects: a ``ReportRun`` (queued); after commit, the Celery task ``generate_report``
    (also for an identical run waiting or running for longer than ``STALE_AFTER``, whose task
    was lost; producing a run twice is harmless, see ``report_generate``).
    """
    ReportKind(kind)  # a programming error, not a user's: the form offers only known kinds
    User.objects.select_for_update().only("pk").get(pk=by.pk)
    parameters = report_parameters(date_from=date_from, date_to=date_to, fund=fund, legal_demand=legal_demand)
    now = timezone.now()
    stale = now - STALE_AFTER
    for run in ReportRun.objects.filter(requested_by=by, kind=kind, status__in=ACTIVE_STATUSES).order_by("id"):
        if run.parameters == parameters:
            if (run.started_at or run.requested_at) < stale:
                enqueue_report_run(run.pk)  # its task was lost (broker or worker gone): send it again
            return run
    _check_run_limits(by=by, now=now)
    run = ReportRun.objects.create(kind=kind, parameters=parameters, requested_by=by)
    enqueue_report_run(run.pk)
    return run


def enqueue_report_run(run_id: int) -> None:
    """Queue the run's production after commit (its own function, so a test can hold it back)."""
    enqueue_on_commit("reports.tasks.generate_report", run_id=run_id)


def _claim(run_id: int) -> ReportRun | None:
    """Mark the run running if it is waiting (or was lost by a dead worker); None if it is not ours to do."""
    now = timezone.now()
    claimed = (
        ReportRun.objects.filter(pk=run_id)
        .filter(
            Q(status=ReportRun.Status.QUEUED) | Q(status=ReportRun.Status.RUNNING, started_at__lt=now - STALE_AFTER)
        )
        .update(status=ReportRun.Status.RUNNING, started_at=now, progress=0, error="")
    )
    if not claimed:
        return None
    return ReportRun.objects.select_related("requested_by").get(pk=run_id)


def _progress_between(run_id: int, start: int, end: int) -> Callable[[float], None]:
    """A callback for a builder or renderer: its own percentage (0 to 100) mapped onto ``start`` to ``end``.

    Each step is written straight away (outside any transaction) so the polling page sees it,
    and only when the whole percentage changes.
    """
    last = [start]

    def report(percent: float) -> None:
        value = start + round((end - start) * min(max(percent, 0), 100) / 100)
        if value != last[0]:
            last[0] = value
            ReportRun.objects.filter(pk=run_id).update(progress=value)

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

    Not one transaction on purpose: progress is written as it goes, for the polling page.
    A run that is done or failed (or being produced by another worker) is left alone.
    Side effects: the run moves to running, then done (files saved to private storage under
    random names, SHA-256 of each, content digest, row and page counts) with an
    ``AccessEvent`` (export) for the requester; or to failed with a short message (the
    exception is logged, never stored: it may quote data). An ``OSError`` (storage) puts the
    run back in the queue and is raised again, so that the task retries it.
    """
    run = _claim(run_id)
    if run is None:
        return None
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
            progress=_progress_between(run.pk, 0, BUILD_UNTIL),
        )
        digest = content_digest(data)
        csv_content = _csv_bytes(data)
        ReportRun.objects.filter(pk=run.pk).update(progress=CSV_UNTIL)
        generated_at = timezone.now()
        rendered = render_pdf(
            data,
            run_id=run.pk,
            generated_by=str(run.requested_by),
            generated_at=generated_at,
            digest=digest,
            progress=_progress_between(run.pk, CSV_UNTIL, 99),
        )
        run.csv.save(_random_name("csv"), ContentFile(csv_content), save=False)
        stored.append(run.csv)
        run.pdf.save(_random_name("pdf"), ContentFile(rendered.content), save=False)
        stored.append(run.pdf)
        _finish(
            run,
            csv_sha256=_sha256(csv_content),
            pdf_sha256=_sha256(rendered.content),
            content_sha256=digest,
            row_count=data.row_count,
            page_count=rendered.page_count,
            finished_at=generated_at,
        )
    except OSError:
        _discard(stored)
        logger.warning("report run %s: storage error, will retry", run.pk, exc_info=True)
        ReportRun.objects.filter(pk=run.pk).update(status=ReportRun.Status.QUEUED, progress=0, started_at=None)
        raise
    except Exception as exc:
        _discard(stored)
        logger.exception("report run %s failed", run.pk)
        report_fail(run_id=run.pk, error=_("Stopped by an error (%(error)s).") % {"error": type(exc).__name__})
        return ReportRun.objects.get(pk=run.pk)
    run.refresh_from_db()
    return run


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
    finished_at: datetime


@transaction.atomic
def _finish(run: ReportRun, **figures: Unpack[RunFigures]) -> None:
    ReportRun.objects.filter(pk=run.pk).update(
        status=ReportRun.Status.DONE, progress=100, pdf=run.pdf.name, csv=run.csv.name, **figures
    )
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


def report_fail(*, run_id: int, error: str) -> None:
    """Mark a run failed with a short message (never personal data). Side effect: the run's status."""
    ReportRun.objects.filter(pk=run_id).exclude(status=ReportRun.Status.DONE).update(
        status=ReportRun.Status.FAILED, error=error[:300], finished_at=timezone.now()
    )


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
