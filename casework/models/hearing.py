"""Hearings and deadlines of a case."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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
    JOSEPH = "joseph", _("Joseph hearing (mandatory detention contested)")
    # Appointments away from the immigration court: a venue and its time zone instead of a court.
    ICE_CHECK_IN = "ice_check_in", _("ICE check-in")
    ISAP_CHECK_IN = "isap_check_in", _("ISAP check-in")
    USCIS_INTERVIEW = "uscis_interview", _("USCIS interview")
    HABEAS = "habeas", _("Federal habeas hearing")


# Appointments held before an immigration judge: they need a court.
COURT_KINDS = frozenset(
    {
        HearingKind.MASTER,
        HearingKind.INDIVIDUAL,
        HearingKind.BOND,
        HearingKind.CREDIBLE_FEAR,
        HearingKind.REASONABLE_FEAR,
        HearingKind.JOSEPH,
    }
)


class HearingMedium(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("Video")
    PHONE = "phone", _("Phone")


class HearingOutcome(models.TextChoices):
    """What happened at the hearing; a decision made there is a ``Decision`` of its own."""

    PENDING = "", _("Not yet held")
    CONTINUED = "continued", _("Continued (reset)")
    DECIDED = "decided", _("Decided")
    DECISION_RESERVED = "reserved", _("Held; written decision to follow")
    OTHER = "other", _("Other")


class Hearing(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="hearings")
    kind = models.CharField(_("type"), max_length=20, choices=HearingKind.choices)
    starts_at = models.DateTimeField(_("starts at"))
    court = models.ForeignKey(
        ImmigrationCourt, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("court")
    )
    venue = models.CharField(
        _("where"),
        max_length=200,
        blank=True,
        help_text=_(
            "For an appointment away from the immigration court: the field office, USCIS office or federal court."
        ),
    )
    judge = models.CharField(_("immigration judge"), max_length=120, blank=True)
    medium = models.CharField(_("held"), max_length=10, choices=HearingMedium.choices, default=HearingMedium.IN_PERSON)
    interpreter_language = models.CharField(_("interpreter language"), max_length=60, blank=True)
    timezone_override = models.CharField(
        _("time zone of the hearing, if not the court's"),
        max_length=40,
        blank=True,
        help_text=_("For a hearing held by video from a court in another time zone: the zone its notice gives."),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=HearingOutcome.choices, blank=True, default="")
    outcome_note = models.CharField(_("outcome note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(court__isnull=False) | (~Q(venue="") & ~Q(timezone_override="")),
                name="casework_hearing_has_a_place_and_zone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.starts_at:%Y-%m-%d}"

    @property
    def zone(self) -> ZoneInfo:
        """The zone the notice gives: the court's, unless held from elsewhere; a venue's own otherwise."""
        return ZoneInfo(self.timezone_name)

    @property
    def timezone_name(self) -> str:
        if self.timezone_override or self.court is None:
            return self.timezone_override
        return self.court.timezone

    @property
    def place_name(self) -> str:
        """The court's name, or the venue of an appointment away from the court."""
        return self.court.name if self.court is not None else self.venue

    @property
    def local_start(self) -> datetime:
        """The start in the hearing's own time zone (what the notice of hearing says)."""
        return timezone.localtime(self.starts_at, self.zone)


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
    decision = models.ForeignKey(
        "casework.Decision", null=True, blank=True, on_delete=models.SET_NULL, related_name="deadlines"
    )
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
