"""Who asked for the records, who read too much, and what was erased.

* ``LegalDemand``: a subpoena, warrant, court order or informal request for records (from ICE, the
  police, a prosecutor, a court…), with what was asked, who was told and what was produced. Its
  cases are on *legal hold* while it is open: nothing about them is erased.
* ``ReadAlert``: an unusual pattern in the access log (an account reading many cases it is not
  assigned to, bulk exports) raised for administrators.
* ``ErasureRequest``: a supervisor's request to erase a closed case's personal data now,
  carried out only when a second supervisor confirms it; retention erasures are recorded the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.case import Case
from kernel.fields import EncryptedTextField


class DemandSource(models.TextChoices):
    ICE = "ice", _("ICE or another DHS component")
    CBP = "cbp", _("CBP")
    POLICE = "police", _("Police or sheriff")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    COURT = "court", _("A court")
    OTHER_GOVERNMENT = "other_government", _("Other government agency")
    PRIVATE = "private", _("A private party (e.g. in a lawsuit)")


class DemandKind(models.TextChoices):
    JUDICIAL_WARRANT = "judicial_warrant", _("Search warrant signed by a judge")
    COURT_ORDER = "court_order", _("Court order")
    ADMIN_SUBPOENA = "admin_subpoena", _("Administrative subpoena (e.g. DHS, 8 CFR 287.4)")
    ADMIN_WARRANT = "admin_warrant", _("Administrative warrant (e.g. ICE Form I-200 or I-205, not signed by a judge)")
    GRAND_JURY_SUBPOENA = "grand_jury_subpoena", _("Grand jury or trial subpoena")
    INFORMAL = "informal", _("Informal request (call, e-mail, visit)")


class DemandStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    UNDER_REVIEW = "under_review", _("With counsel")
    CHALLENGED = "challenged", _("Objected to or motion to quash filed")
    ANSWERED = "answered", _("Answered")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED = "closed", _("Closed")


OPEN_DEMAND_STATUSES = (DemandStatus.RECEIVED, DemandStatus.UNDER_REVIEW, DemandStatus.CHALLENGED)


class LegalDemand(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    received_at = models.DateTimeField(_("received at"))
    received_how = models.CharField(_("how it arrived"), max_length=120)
    source = models.CharField(_("from"), max_length=20, choices=DemandSource.choices)
    source_detail = models.CharField(_("agency, office or officer"), max_length=200)
    kind = models.CharField(_("what it is"), max_length=24, choices=DemandKind.choices)
    # What was asked names people: encrypted like the rest of their data.
    asked = EncryptedTextField(_("what was asked"), max_length=5000)
    respond_by = models.DateField(_("response due"), null=True, blank=True)
    counsel = models.CharField(_("counsel"), max_length=200, blank=True)
    counsel_notified_at = models.DateTimeField(_("counsel notified at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=14, choices=DemandStatus.choices, default=DemandStatus.RECEIVED)
    response = EncryptedTextField(_("response"), max_length=5000, blank=True)
    produced = EncryptedTextField(_("documents produced"), max_length=5000, blank=True)
    cases = models.ManyToManyField(Case, blank=True, related_name="legal_demands", verbose_name=_("cases concerned"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("legal demand")

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DEMAND_STATUSES


class AlertKind(models.TextChoices):
    UNASSIGNED_READS = "unassigned_reads", _("Read many cases the account is not assigned to")
    BULK_EXPORTS = "bulk_exports", _("Many exports or downloads")


class ReadAlert(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="read_alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    count = models.PositiveIntegerField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            # One alert per account, kind and window: a re-run of the scan raises nothing new.
            models.UniqueConstraint(fields=["user", "kind", "window_start"], name="casework_read_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.user_id} at {self.raised_at:%Y-%m-%d %H:%M}"


class ErasureReason(models.TextChoices):
    RETENTION = "retention", _("Retention period ended")
    REQUEST = "request", _("Erased on request")


class ErasureRequest(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="erasure_requests")
    reason = models.CharField(max_length=10, choices=ErasureReason.choices)
    why = models.CharField(_("why"), max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    erased_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(erased_at__isnull=True, cancelled_at__isnull=True),
                name="casework_one_pending_erasure_per_case",
            ),
            # Four eyes: whoever confirms an erasure on request is not who asked for it.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=models.F("requested_by")),
                name="casework_erasure_confirmed_by_another",
            ),
        ]

    def __str__(self) -> str:
        return f"erasure of case {self.case_id} ({self.reason})"

    @property
    def pending(self) -> bool:
        return self.erased_at is None and self.cancelled_at is None
