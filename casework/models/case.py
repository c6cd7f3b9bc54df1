"""A case: one legal matter for one detainee, who works on it, and where the person is held."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from casework.models.detainee import Detainee
from casework.models.reference import DetentionFacility, ImmigrationCourt


class CaseStatus(models.TextChoices):
    INTAKE = "intake", _("Intake")
    TRIAGE = "triage", _("Triage")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class CustodyStatus(models.TextChoices):
    DETAINED = "detained", _("Detained")
    BOND = "bond", _("Released on bond")
    RECOGNIZANCE = "recognizance", _("Released on recognizance")
    PAROLE = "parole", _("Paroled")
    ATD = "atd", _("Alternatives to detention")
    REMOVED = "removed", _("Removed")
    UNKNOWN = "unknown", _("Unknown")


class ProceedingType(models.TextChoices):
    REMOVAL = "removal", _("Removal (INA 240)")
    EXPEDITED = "expedited", _("Expedited removal")
    CREDIBLE_FEAR = "credible_fear", _("Credible fear review")
    REASONABLE_FEAR = "reasonable_fear", _("Reasonable fear review")
    BOND = "bond", _("Bond only")
    WITHHOLDING_ONLY = "withholding_only", _("Withholding-only")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Not yet known")


class CloseReason(models.TextChoices):
    RELIEF_GRANTED = "relief_granted", _("Relief granted")
    TERMINATED = "terminated", _("Proceedings terminated or dismissed")
    RELEASED_REFERRED = "released_referred", _("Released and referred to other counsel")
    OTHER_COUNSEL = "other_counsel", _("Represented by other counsel")
    DECLINED = "declined", _("Representation declined")
    REMOVED = "removed", _("Removed")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    DUPLICATE = "duplicate", _("Duplicate record")
    OTHER = "other", _("Other")


class Case(models.Model):
    number = models.CharField(_("case number"), max_length=12, unique=True, editable=False)
    detainee = models.ForeignKey(Detainee, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.TRIAGE)
    custody_status = models.CharField(
        _("custody"), max_length=15, choices=CustodyStatus.choices, default=CustodyStatus.DETAINED
    )
    facility = models.ForeignKey(
        DetentionFacility, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("facility")
    )
    proceeding_type = models.CharField(
        _("proceeding"), max_length=20, choices=ProceedingType.choices, default=ProceedingType.UNKNOWN
    )
    court = models.ForeignKey(
        ImmigrationCourt,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("immigration court"),
    )
    detained_on = models.DateField(_("detained on"), null=True, blank=True)
    detained_where = models.CharField(_("where detained"), max_length=200, blank=True)
    last_arrival_on = models.DateField(_("last arrival in the US"), null=True, blank=True)
    flag_medical = models.BooleanField(_("medical needs"), default=False)
    flag_minor_children = models.BooleanField(_("minor children"), default=False)
    flag_imminent_removal = models.BooleanField(_("imminent removal"), default=False)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(default=timezone.now)
    first_assigned_at = models.DateTimeField(null=True, blank=True)
    needs_reassignment = models.BooleanField(
        default=False, help_text=_("Set when the lead attorney left; cleared when a new lead is assigned.")
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(_("reason closed"), max_length=20, choices=CloseReason.choices, blank=True)
    close_note = models.CharField(_("closing note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-registered_at"]
        permissions = []  # view_case and change_case (Django's defaults) are granted per case
        constraints = [
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False) | ~Q(status="closed"),
                name="casework_closed_case_has_closed_at",
            ),
        ]
        indexes = [models.Index(fields=["status", "registered_at"])]

    def __str__(self) -> str:
        return self.number

    @property
    def urgent_flags(self) -> list[str]:
        flags = []
        if self.flag_imminent_removal:
            flags.append(str(_("imminent removal")))
        if self.flag_medical:
            flags.append(str(_("medical needs")))
        if self.flag_minor_children:
            flags.append(str(_("minor children")))
        return flags

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED


class CaseNumberSequence(models.Model):
    """The last case number issued in a year; read with SELECT … FOR UPDATE."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead attorney")
    CO_COUNSEL = "co_counsel", _("Co-counsel")
    BOND_ONLY = "bond_only", _("Bond only")


class Assignment(models.Model):
    """Who works on a case. The source of truth for attorneys' access (see services)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    attorney = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=12, choices=AssignmentRole.choices, default=AssignmentRole.LEAD)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(role="lead", ended_at__isnull=True), name="casework_one_active_lead"
            ),
            models.UniqueConstraint(
                fields=["case", "attorney"],
                condition=Q(ended_at__isnull=True),
                name="casework_one_active_assignment_per_attorney",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="casework_assignment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["attorney", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.attorney_id} {self.role}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class CaseUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's per-case user permissions, with a real foreign key (fast joins)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CustodyPeriod(models.Model):
    """Where the person was held (or their custody status) from one date to another."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="custody_periods")
    status = models.CharField(_("custody"), max_length=15, choices=CustodyStatus.choices)
    facility = models.ForeignKey(
        DetentionFacility, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("facility")
    )
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("to"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="casework_custody_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(ended_on__isnull=True), name="casework_one_current_custody"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.status} from {self.started_on}"


class ReliefKind(models.TextChoices):
    ASYLUM = "asylum", _("Asylum")
    WITHHOLDING = "withholding", _("Withholding of removal")
    CAT = "cat", _("Protection under the Convention Against Torture")
    CANCELLATION_LPR = "cancellation_lpr", _("Cancellation of removal (permanent residents)")
    CANCELLATION_NON_LPR = "cancellation_non_lpr", _("Cancellation of removal (non-permanent residents)")
    SIJS = "sijs", _("Special Immigrant Juvenile Status")
    U_VISA = "u_visa", _("U visa")
    T_VISA = "t_visa", _("T visa")
    ADJUSTMENT = "adjustment", _("Adjustment of status")
    TPS = "tps", _("Temporary Protected Status")
    VOLUNTARY_DEPARTURE = "voluntary_departure", _("Voluntary departure")
    PROSECUTORIAL_DISCRETION = "prosecutorial_discretion", _("Prosecutorial discretion")
    BOND = "bond", _("Bond")
    OTHER = "other", _("Other")


class ReliefStatus(models.TextChoices):
    CONSIDERING = "considering", _("Considering")
    PREPARING = "preparing", _("Preparing")
    FILED = "filed", _("Filed")
    GRANTED = "granted", _("Granted")
    DENIED = "denied", _("Denied")
    APPEALED = "appealed", _("Appealed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Relief(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="relief")
    kind = models.CharField(_("relief"), max_length=30, choices=ReliefKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=ReliefStatus.choices, default=ReliefStatus.CONSIDERING
    )
    filed_on = models.DateField(_("filed on"), null=True, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="casework_one_relief_of_each_kind")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"
