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

    kind = models.CharField(max_length=30, choices=ReportKind.choices)
    # Normalised parameters: {"from": "2026-01-01", "to": "2026-03-31", "fund": "bond" or ""}
    parameters = models.JSONField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
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
        indexes = [models.Index(fields=["kind", "status"])]

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
