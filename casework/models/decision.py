"""Decisions: what an immigration judge or the Board decided, when, and how the parties learned of it.

A hearing is an appointment; a decision is what has legal effect. The appeal clock runs from the
decision (stated orally, or a written decision mailed or served electronically: 8 CFR 1003.38(b)),
not from the hearing, and a written decision can come weeks after the hearing or from the Board with
no hearing at all. So the decision is its own record, and the deadlines it starts point at it.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.deadlines import Forum, Service
from casework.models.case import Case
from casework.models.hearing import Hearing

# DHS's own custody decision at or above this many cents (or no bond at all) lets it stay an
# immigration judge's bond order automatically by filing Form EOIR-43 (8 CFR 1003.19(i)(2)).
AUTOMATIC_STAY_THRESHOLD_CENTS = 10_000_00


class DecisionOutcome(models.TextChoices):
    # Removal proceedings before an immigration judge
    REMOVAL_ORDERED = "removal_ordered", _("Removal ordered")
    RELIEF_DENIED = "relief_denied", _("Relief denied; removal ordered")
    IN_ABSENTIA = "in_absentia", _("Removal ordered in absentia")
    STIPULATED_REMOVAL = "stipulated_removal", _("Stipulated removal order")
    VD_GRANTED = "vd_granted", _("Voluntary departure granted, with an alternate order of removal")
    RELIEF_GRANTED = "relief_granted", _("Relief granted")
    TERMINATED = "terminated", _("Proceedings terminated")
    DISMISSED_DHS_MOTION = "dismissed_dhs_motion", _("Proceedings dismissed on DHS's motion")
    ADMIN_CLOSED = "admin_closed", _("Administratively closed")
    VENUE_CHANGED = "venue_changed", _("Venue changed to another court")
    # Custody (bond redetermination)
    BOND_GRANTED = "bond_granted", _("Bond granted")
    BOND_DENIED = "bond_denied", _("Bond denied")
    BOND_NO_JURISDICTION = "bond_no_jurisdiction", _("Bond: no jurisdiction (mandatory detention found)")
    # Credible-fear and reasonable-fear reviews
    FEAR_FOUND = "fear_found", _("Negative fear finding vacated (fear found)")
    FEAR_AFFIRMED = "fear_affirmed", _("Negative fear finding affirmed")
    # The Board of Immigration Appeals
    BIA_REMOVAL_FINAL = "bia_removal_final", _("BIA: removal order final (appeal dismissed, or DHS's appeal sustained)")
    BIA_FOR_CLIENT = "bia_for_client", _("BIA: decided for the client (appeal sustained, or DHS's appeal dismissed)")
    BIA_REMANDED = "bia_remanded", _("BIA: remanded to the immigration judge")
    OTHER = "other", _("Other")


class Appeal(models.TextChoices):
    """What the losing side said about appeal when the decision was made."""

    RESERVED = "reserved", _("Appeal reserved")
    WAIVED = "waived", _("Appeal waived")
    NOT_APPLICABLE = "not_applicable", _("No appeal lies")


class DhsCustody(models.TextChoices):
    """DHS's own custody determination before the judge's bond hearing: it decides the automatic stay."""

    UNKNOWN = "", _("Not recorded")
    NO_BOND = "no_bond", _("No bond")
    BOND_SET = "bond_set", _("Bond set by DHS")


class BondCondition(models.TextChoices):
    ATD = "atd", _("Alternatives to detention (ISAP)")
    ELECTRONIC_MONITORING = "electronic_monitoring", _("Electronic monitoring")
    REPORTING = "reporting", _("Report to ICE as directed")
    STAY_IN_AREA = "stay_in_area", _("Stay within the area set by the judge")
    OTHER = "other", _("Other conditions (see the note)")


# Outcomes the client lost: if the client reserved appeal, the appeal is theirs (Form EOIR-26).
CLIENT_LOSSES = frozenset(
    {
        DecisionOutcome.REMOVAL_ORDERED,
        DecisionOutcome.RELIEF_DENIED,
        DecisionOutcome.VD_GRANTED,
        DecisionOutcome.DISMISSED_DHS_MOTION,
        DecisionOutcome.BOND_DENIED,
        DecisionOutcome.BOND_NO_JURISDICTION,
    }
)
# Outcomes the client won: DHS may appeal; the client watches DHS's appeal period.
CLIENT_WINS = frozenset({DecisionOutcome.RELIEF_GRANTED, DecisionOutcome.TERMINATED, DecisionOutcome.BOND_GRANTED})
APPEALABLE_DECISIONS = CLIENT_LOSSES | CLIENT_WINS
# Orders from which no appeal lies or whose appeal is waived by their nature.
FINAL_WHEN_MADE = {
    DecisionOutcome.IN_ABSENTIA: Appeal.NOT_APPLICABLE,  # 8 CFR 1240.15: the remedy is a motion to rescind
    DecisionOutcome.STIPULATED_REMOVAL: Appeal.WAIVED,  # 8 CFR 1003.25(b): the stipulation waives appeal
}
BIA_OUTCOMES = frozenset(
    {DecisionOutcome.BIA_REMOVAL_FINAL, DecisionOutcome.BIA_FOR_CLIENT, DecisionOutcome.BIA_REMANDED}
)
IJ_OUTCOMES = frozenset(set(DecisionOutcome) - BIA_OUTCOMES - {DecisionOutcome.OTHER})


class Decision(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="decisions")
    hearing = models.OneToOneField(
        Hearing, null=True, blank=True, on_delete=models.SET_NULL, related_name="decision", verbose_name=_("hearing")
    )
    forum = models.CharField(_("decided by"), max_length=3, choices=Forum.choices, default=Forum.IJ)
    outcome = models.CharField(_("outcome"), max_length=24, choices=DecisionOutcome.choices)
    decided_on = models.DateField(_("decided on"))
    service = models.CharField(_("how it was served"), max_length=10, choices=Service.choices, default=Service.ORAL)
    served_on = models.DateField(
        _("served on"), null=True, blank=True, help_text=_("For a written decision: the date it was mailed or served.")
    )
    appeal = models.CharField(_("appeal"), max_length=14, choices=Appeal.choices, default=Appeal.RESERVED)
    # Bond redetermination
    bond_cents = models.PositiveIntegerField(_("bond set by the judge"), null=True, blank=True)
    bond_conditions = models.JSONField(_("conditions of release"), default=list, blank=True)
    dhs_custody = models.CharField(
        _("DHS's custody determination"), max_length=8, choices=DhsCustody.choices, blank=True, default=""
    )
    dhs_bond_cents = models.PositiveIntegerField(_("bond set by DHS"), null=True, blank=True)
    dhs_stay_filed_on = models.DateField(_("DHS filed Form EOIR-43 on"), null=True, blank=True)
    dhs_appeal_filed_on = models.DateField(_("DHS filed its notice of appeal on"), null=True, blank=True)
    stay_ended_on = models.DateField(
        _("automatic stay ended on"),
        null=True,
        blank=True,
        help_text=_("When the Board decided DHS's custody appeal or DHS withdrew the stay."),
    )
    # Voluntary departure
    vd_days = models.PositiveSmallIntegerField(_("days to depart"), null=True, blank=True)
    vd_bond_cents = models.PositiveIntegerField(_("voluntary departure bond"), null=True, blank=True)
    alternate_order = models.CharField(_("alternate order: removal to"), max_length=80, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(service="oral", served_on__isnull=True) | (~Q(service="oral") & Q(served_on__isnull=False)),
                name="casework_written_decision_has_service_date",
            ),
            models.CheckConstraint(
                condition=Q(served_on__isnull=True) | Q(served_on__gte=models.F("decided_on")),
                name="casework_decision_served_after_made",
            ),
        ]
        indexes = [models.Index(fields=["case", "decided_on"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome} {self.decided_on}"

    @property
    def clock_starts_on(self) -> date:
        """The day appeal periods run from: the oral decision, or the service of the written one."""
        return self.served_on or self.decided_on

    @property
    def stay_eligible(self) -> bool:
        """Whether DHS can stay this bond order automatically (8 CFR 1003.19(i)(2))."""
        if self.outcome != DecisionOutcome.BOND_GRANTED or self.appeal == Appeal.WAIVED:
            return False
        if self.dhs_custody == DhsCustody.NO_BOND:
            return True
        return self.dhs_custody == DhsCustody.BOND_SET and (self.dhs_bond_cents or 0) >= AUTOMATIC_STAY_THRESHOLD_CENTS

    @property
    def condition_labels(self) -> list[str]:
        return [str(BondCondition(code).label) for code in self.bond_conditions if code in BondCondition.values]
