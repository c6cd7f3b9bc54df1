"""Hearings and deadlines of a case."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.deadlines import Rule
from casework.models.case import Case
from casework.models.reference import ImmigrationCourt


class HearingKind(models.TextChoices):
    MASTER = "master", _("Master calendar")
    INDIVIDUAL = "individual", _("Individual (merits)")
    BOND = "bond", _("Bond redetermination")
    CREDIBLE_FEAR = "credible_fear", _("Credible fear review")
    REASONABLE_FEAR = "reasonable_fear", _("Reasonable fear review")


class HearingMedium(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("Video")
    PHONE = "phone", _("Phone")


class HearingOutcome(models.TextChoices):
    PENDING = "", _("Not yet held")
    CONTINUED = "continued", _("Continued (reset)")
    BOND_GRANTED = "bond_granted", _("Bond granted")
    BOND_DENIED = "bond_denied", _("Bond denied")
    RELIEF_GRANTED = "relief_granted", _("Relief granted")
    RELIEF_DENIED = "relief_denied", _("Relief denied; removal ordered")
    REMOVAL_ORDERED = "removal_ordered", _("Removal ordered")
    TERMINATED = "terminated", _("Proceedings terminated")
    FEAR_FOUND = "fear_found", _("Negative finding vacated (fear found)")
    FEAR_AFFIRMED = "fear_affirmed", _("Negative finding affirmed")
    OTHER = "other", _("Other")


# Outcomes that are an immigration judge's decision a party can appeal to the BIA.
APPEALABLE_OUTCOMES = frozenset(
    {
        HearingOutcome.BOND_DENIED,
        HearingOutcome.RELIEF_DENIED,
        HearingOutcome.REMOVAL_ORDERED,
        HearingOutcome.BOND_GRANTED,
        HearingOutcome.RELIEF_GRANTED,
        HearingOutcome.TERMINATED,
    }
)


class Hearing(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="hearings")
    kind = models.CharField(_("type"), max_length=20, choices=HearingKind.choices)
    starts_at = models.DateTimeField(_("starts at"))
    court = models.ForeignKey(ImmigrationCourt, on_delete=models.PROTECT, related_name="+", verbose_name=_("court"))
    judge = models.CharField(_("immigration judge"), max_length=120, blank=True)
    medium = models.CharField(_("held"), max_length=10, choices=HearingMedium.choices, default=HearingMedium.IN_PERSON)
    interpreter_language = models.CharField(_("interpreter language"), max_length=60, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=HearingOutcome.choices, blank=True, default="")
    outcome_note = models.CharField(_("outcome note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.starts_at:%Y-%m-%d}"

    @property
    def local_start(self):
        """The start in the court's own time zone (what the notice of hearing says)."""
        return timezone.localtime(self.starts_at, self.court.zone)


class DeadlineStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    WAIVED = "waived", _("Waived")


class Deadline(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    title = models.CharField(_("what"), max_length=200)
    due_on = models.DateField(_("due on"))
    rule = models.CharField(_("rule"), max_length=30, choices=Rule.choices, default=Rule.MANUAL)
    source_date = models.DateField(_("counted from"), null=True, blank=True)
    explanation = models.TextField(_("how it was computed"), blank=True)
    status = models.CharField(_("status"), max_length=8, choices=DeadlineStatus.choices, default=DeadlineStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hearing = models.ForeignKey(Hearing, null=True, blank=True, on_delete=models.SET_NULL, related_name="deadlines")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rule="manual") | Q(source_date__isnull=False), name="casework_rule_deadline_has_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.title} {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.status == DeadlineStatus.OPEN
