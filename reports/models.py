"""Report runs: what an auditor (or finance, or a supervisor) asked for, and the files produced."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    FUND_STATEMENT = "fund_statement", _("Fund statement")
    DONATION_REGISTER = "donation_register", _("Donation register")
    DISBURSEMENT_REGISTER = "disbursement_register", _("Disbursement register")
    BOND_REGISTER = "bond_register", _("Bond register")
    ACCESS_LOG = "access_log", _("Access log")
    CASELOAD = "caseload", _("Caseload statistics")


class ReportRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Being produced")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Failure(models.TextChoices):
        """Why a run failed, in words for the person who asked (shown in their language)."""

        ERROR = "error", _("Stopped by an error.")
        STORAGE = "storage", _("The files could not be stored; try again later.")
        DATABASE = "database", _("The database could not be reached while it was produced; try again later.")
        TIME_LIMIT = "time_limit", _("It took longer than a report may take; choose a shorter period.")
        WORKER_LOST = (
            "worker_lost",
            _(
                "The worker producing it stopped several times before it was finished. "
                "Request it again, or choose a shorter period."
            ),
        )
        NEVER_STARTED = "never_started", _("No worker took it up in time. Request it again later.")
        REPLACED = "replaced", _("It stopped making progress and was replaced by a new request.")

    kind = models.CharField(max_length=30, choices=ReportKind.choices)
    # Normalised parameters: {"from": "2026-01-01", "to": "2026-03-31", "fund": "bond" or ""}
    parameters = models.JSONField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why it failed (``failure``, shown translated) and a short technical detail (an exception's class).
    failure = models.CharField(max_length=20, choices=Failure.choices, blank=True)
    error = models.CharField(max_length=300, blank=True)
    # Recovery (reports.services): a worker that claims the run counts an attempt; while it runs it
    # writes ``heartbeat_at`` as the progress moves and extends its lease. A run whose lease has
    # expired (waiting with no worker taking it up, or running with a dead worker) is stuck: the
    # sweep sends it again, ``requeues`` times at most, then fails it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requeues = models.PositiveSmallIntegerField(default=0)
    pdf = models.FileField(upload_to="reports/", blank=True)
    csv = models.FileField(upload_to="reports/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    csv_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # SHA-256 of the report's data (its rows), printed in the PDF's footer.
    content_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    row_count = models.PositiveIntegerField(default=0)
    page_count = models.PositiveIntegerField(default=0)
    files_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["kind", "status"]), models.Index(fields=["status", "lease_expires_at"])]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.kind})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def period_from(self) -> date:
        return date.fromisoformat(self.parameters["from"])

    @property
    def period_to(self) -> date:
        return date.fromisoformat(self.parameters["to"])

    @property
    def fund_slug(self) -> str:
        """The fund the report is limited to, or "" for all funds."""
        return str(self.parameters.get("fund", ""))
