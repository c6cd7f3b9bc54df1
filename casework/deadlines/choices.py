"""The choices a deadline is stored and asked for with, and the computed result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _


class Rule(models.TextChoices):
    """The rule that set a deadline; stored on ``casework.Deadline.rule``."""

    BIA_APPEAL = "bia_appeal", _("Appeal to the BIA")
    DHS_APPEAL_PERIOD = "dhs_appeal_period", _("DHS appeal period ends (watch)")
    DHS_STAY_NOTICE = "dhs_stay_notice", _("DHS notice of automatic stay of bond, EOIR-43 (watch)")
    DHS_STAY_APPEAL = "dhs_stay_appeal", _("DHS appeal of the bond order, or the stay lapses (watch)")
    DHS_STAY_LAPSE = "dhs_stay_lapse", _("Automatic stay of bond lapses (watch)")
    ASYLUM_ONE_YEAR = "asylum_one_year", _("Asylum application (one-year deadline)")
    MOTION_TO_RECONSIDER = "motion_to_reconsider", _("Motion to reconsider")
    MOTION_TO_REOPEN = "motion_to_reopen", _("Motion to reopen")
    MOTION_TO_RESCIND = "motion_to_rescind", _("Motion to rescind an in-absentia order")
    PETITION_FOR_REVIEW = "petition_for_review", _("Petition for review")
    VD_BOND = "vd_bond", _("Voluntary departure bond")
    VD_DEPARTURE = "vd_departure", _("Voluntary departure: leave by")
    BIA_BRIEF = "bia_brief", _("Brief to the BIA")
    CREDIBLE_FEAR_REVIEW = "credible_fear_review", _("Credible fear review (watch)")
    REASONABLE_FEAR_REVIEW = "reasonable_fear_review", _("Reasonable fear review (watch)")
    PREHEARING_FILING = "prehearing_filing", _("Pre-hearing filing")
    CHANGE_OF_ADDRESS = "change_of_address", _("Change of address (EOIR-33)")
    FOIA_RESPONSE = "foia_response", _("FOIA response due (watch)")
    FOIA_APPEAL = "foia_appeal", _("FOIA appeal")
    BOND_BREACH_APPEAL = "bond_breach_appeal", _("Appeal of a bond breach (I-290B)")
    UAC_HHS_NOTICE = "uac_hhs_notice", _("HHS notified of a child (watch)")
    UAC_TRANSFER = "uac_transfer", _("Child transferred to ORR (watch)")
    AGE_OUT = "age_out", _("Turns 18 (age-out)")
    MANUAL = "manual", _("Set by hand")


class Service(models.TextChoices):
    """How a decision reached the parties; some periods run from it (8 CFR 1003.38(b))."""

    ORAL = "oral", _("Stated orally in court")
    MAIL = "mail", _("Written decision, mailed")
    ELECTRONIC = "electronic", _("Written decision, served electronically")


class Forum(models.TextChoices):
    """Who made the decision a motion attacks, and so where the motion is filed."""

    IJ = "ij", _("Immigration judge")
    BIA = "bia", _("Board of Immigration Appeals")


class Counting(models.TextChoices):
    """How a rule counts; shown in explanations and the README, stored nowhere else."""

    CALENDAR = "calendar", _("Calendar days")
    BUSINESS = "business", _("Business days")
    BACKWARD = "backward", _("Calendar days counted back from a hearing")
    FRAP = "frap", _("Calendar days under FRAP 26(a)")


@dataclass(frozen=True)
class ComputedDeadline:
    """A deadline and how it was reached, kept together so the reasoning is never lost."""

    rule: Rule
    source_date: date  # the triggering date (decision, arrival, final order, hearing, birth)
    unadjusted: date  # source_date plus (or minus) the rule's period, before any weekend or holiday move
    due: date  # the date to act by
    explanation: str  # sentences in the language active when computed, with the citation
    citation: str = ""  # the rule's citation and the day-count rule, in the active language
