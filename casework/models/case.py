"""A case: one legal matter for one detainee, who works on it, and where the person is held."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from casework.models.detainee import Detainee
from casework.models.reference import DetentionFacility, ImmigrationCourt
from kernel.fields import EncryptedTextField


class CaseStatus(models.TextChoices):
    INTAKE = "intake", _("Intake")
    TRIAGE = "triage", _("Triage")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class Custodian(models.TextChoices):
    """Who holds the person now (or that nobody does). ``HELD_BY`` are the ones that mean "detained"."""

    ICE = "ice", _("ICE detention")
    CBP = "cbp", _("CBP custody")
    ORR = "orr", _("ORR custody (unaccompanied child)")
    CRIMINAL_DETAINER = "criminal_detainer", _("Criminal custody with an ICE detainer")
    RELEASED = "released", _("Released")
    REMOVED = "removed", _("Removed")
    UNKNOWN = "unknown", _("Unknown")


HELD_BY = frozenset({Custodian.ICE, Custodian.CBP, Custodian.ORR, Custodian.CRIMINAL_DETAINER})


class ReleaseBasis(models.TextChoices):
    """What a release rests on; blank while the person is held."""

    NONE = "", _("Not released")
    BOND = "bond", _("Bond")
    RECOGNIZANCE = "recognizance", _("Recognizance")
    CONDITIONAL_PAROLE = "conditional_parole", _("Conditional parole (INA 236(a)(2)(B))")
    HUMANITARIAN_PAROLE = "humanitarian_parole", _("Humanitarian parole (INA 212(d)(5)(A))")
    ORDER_OF_SUPERVISION = "order_of_supervision", _("Order of supervision")
    HABEAS = "habeas", _("Habeas (federal court order)")
    OTHER = "other", _("Other")


class Supervision(models.TextChoices):
    """Supervision on top of a release."""

    NONE = "", _("None")
    ATD = "atd", _("Alternatives to detention (ATD/ISAP)")


class DetentionAuthority(models.TextChoices):
    """The statute ICE holds the person under: it decides whether an immigration judge can set a bond."""

    UNKNOWN = "unknown", _("Not yet known")
    INA_236A = "236a", _("INA 236(a): discretionary detention, bond possible")
    INA_236C = "236c", _("INA 236(c): mandatory detention (a Joseph hearing can contest it)")
    INA_235B = "235b", _("INA 235(b): applicant for admission, parole only")
    INA_241 = "241", _("INA 241: detention after a final order")


class CaseStage(models.TextChoices):
    IMMIGRATION_JUDGE = "immigration_judge", _("Immigration judge")
    BIA = "bia", _("Board of Immigration Appeals")
    PETITION_FOR_REVIEW = "petition_for_review", _("Petition for review (court of appeals)")
    HABEAS = "habeas", _("Habeas (federal district court)")


class RepresentationScope(models.TextChoices):
    FULL = "full", _("Full representation")
    BOND_ONLY = "bond_only", _("Bond only")
    LIMITED = "limited", _("Limited scope")


class UacDetermination(models.TextChoices):
    """Whether the person is an unaccompanied alien child (6 U.S.C. 279(g)(2))."""

    NOT_ASSESSED = "not_assessed", _("Not assessed")
    UNACCOMPANIED = "unaccompanied", _("Unaccompanied child")
    ACCOMPANIED = "accompanied", _("Minor with a parent or legal guardian")
    NOT_A_MINOR = "not_a_minor", _("Not a minor")


class AsylumException(models.TextChoices):
    """An exception claimed to the asylum one-year deadline (INA 208(a)(2)(D); 8 CFR 1208.4(a)(4), (5))."""

    NONE = "", _("None claimed")
    CHANGED = "changed_circumstances", _("Changed circumstances")
    EXTRAORDINARY = "extraordinary_circumstances", _("Extraordinary circumstances")


def age_on(born: date, day: date) -> int:
    """Completed years on ``day``.

    A person born on February 29 turns a year older on March 1 in a common year, so on February 28
    they still count as a minor: the safer reading for a child's protections.
    """
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def eighteenth_birthday(born: date) -> date:
    """The 18th birthday, taken as February 28 for a February 29 birth in a common year.

    The earlier date is the safer one for preparing a release plan, and it is the date of the
    age-out watch (``Rule.AGE_OUT``).
    """
    try:
        return born.replace(year=born.year + 18)
    except ValueError:
        return date(born.year + 18, 2, 28)


class ProceedingType(models.TextChoices):
    REMOVAL = "removal", _("Removal (INA 240)")
    EXPEDITED = "expedited", _("Expedited removal")
    CREDIBLE_FEAR = "credible_fear", _("Credible fear review")
    REASONABLE_FEAR = "reasonable_fear", _("Reasonable fear review")
    WITHHOLDING_ONLY = "withholding_only", _("Withholding-only")
    REINSTATEMENT = "reinstatement", _("Reinstatement of a prior order (INA 241(a)(5))")
    ADMINISTRATIVE_REMOVAL = "administrative_removal", _("Administrative removal (INA 238(b))")
    STIPULATED_REMOVAL = "stipulated_removal", _("Stipulated removal (INA 240(d))")
    ASYLUM_ONLY = "asylum_only", _("Asylum-only (8 CFR 1208.2(c))")
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


# Cases waiting for an attorney: new, in triage, or active with no lead since theirs left.
WAITING = Q(status__in=["intake", "triage"]) | Q(needs_reassignment=True, status="active")


_ANY_NUMBER = "0000-00000"  # stands for a case number in the URL reversed once


@lru_cache(maxsize=8)
def _case_url_pattern(script_prefix: str) -> str:
    return reverse("casework:case-detail", args=[_ANY_NUMBER])


class Case(models.Model):
    number = models.CharField(_("case number"), max_length=12, unique=True, editable=False)
    detainee = models.ForeignKey(Detainee, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.TRIAGE)
    custodian = models.CharField(_("custody"), max_length=20, choices=Custodian.choices, default=Custodian.ICE)
    release_basis = models.CharField(
        _("released on"), max_length=20, choices=ReleaseBasis.choices, blank=True, default=ReleaseBasis.NONE
    )
    supervision = models.CharField(
        _("supervision"), max_length=8, choices=Supervision.choices, blank=True, default=Supervision.NONE
    )
    next_check_in_on = models.DateField(_("next check-in"), null=True, blank=True)
    detention_authority = models.CharField(
        _("detention authority"),
        max_length=8,
        choices=DetentionAuthority.choices,
        default=DetentionAuthority.UNKNOWN,
    )
    facility = models.ForeignKey(
        DetentionFacility, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("facility")
    )
    proceeding_type = models.CharField(
        _("proceeding"), max_length=24, choices=ProceedingType.choices, default=ProceedingType.UNKNOWN
    )
    stage = models.CharField(_("stage"), max_length=20, choices=CaseStage.choices, default=CaseStage.IMMIGRATION_JUDGE)
    scope = models.CharField(
        _("scope of representation"),
        max_length=10,
        choices=RepresentationScope.choices,
        default=RepresentationScope.FULL,
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
    # Often an address or a workplace: encrypted like the person's own data.
    detained_where = EncryptedTextField(_("where detained"), max_length=200, blank=True, single_line=True)
    last_arrival_on = models.DateField(_("last arrival in the US"), null=True, blank=True)
    uac_determination = models.CharField(
        _("unaccompanied-child determination"),
        max_length=14,
        choices=UacDetermination.choices,
        default=UacDetermination.NOT_ASSESSED,
    )
    uac_determined_on = models.DateField(_("determined on"), null=True, blank=True)
    asylum_exception = models.CharField(
        _("exception to the one-year deadline claimed"),
        max_length=30,
        choices=AsylumException.choices,
        blank=True,
        default=AsylumException.NONE,
    )
    asylum_exception_note = models.CharField(_("exception: why, and when it arose"), max_length=300, blank=True)
    # Kept by ``relief_save``: an open claim to U.S. citizenship (the most urgent flag there is).
    citizenship_claimed = models.BooleanField(_("claims U.S. citizenship"), default=False)
    flag_medical = models.BooleanField(_("medical needs"), default=False)
    flag_minor_children = models.BooleanField(_("minor children"), default=False)
    # ``minor_at_detention`` kept by the services (intake, case details) so the triage queue can
    # sort on it: the date of birth it comes from is encrypted and cannot be read in SQL.
    detained_as_minor = models.BooleanField(null=True, editable=False)
    flag_imminent_removal = models.BooleanField(_("imminent removal"), default=False)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(default=timezone.now)
    first_assigned_at = models.DateTimeField(null=True, blank=True)
    needs_reassignment = models.BooleanField(
        default=False, help_text=_("Set when the lead attorney left; cleared when a new lead is assigned.")
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the personal data of this case was erased (retention or an erasure on request); the case
    # number, dates, statuses and the money stay for the record and the aggregates.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
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
            models.CheckConstraint(
                condition=Q(custodian="released") | Q(release_basis="", supervision=""),
                name="casework_release_basis_only_when_released",
            ),
            models.CheckConstraint(
                condition=~Q(uac_determination="unaccompanied") | Q(uac_determined_on__isnull=False),
                name="casework_uac_determination_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "registered_at"]),
            # The case list's default order, newest first, paged by keyset (kernel.pagination).
            models.Index(fields=["registered_at", "id"], name="casework_case_registered"),
            # The triage queue (``casework.selectors.triage_queue``): only the waiting cases, in the
            # queue's order of urgency, so its first page is read from the front of this index.
            models.Index(
                F("citizenship_claimed").desc(),
                F("detained_as_minor").desc(nulls_last=True),
                F("flag_imminent_removal").desc(),
                F("flag_medical").desc(),
                F("flag_minor_children").desc(),
                F("registered_at"),
                name="casework_case_waiting",
                condition=WAITING,
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        """The case's page, ``reverse("casework:case-detail", args=[number])`` without its cost on
        every row of a list: the URL is reversed once per script prefix, then the number put in."""
        return _case_url_pattern(get_script_prefix()).replace(_ANY_NUMBER, quote(self.number, safe=""))

    @property
    def urgent_flags(self) -> list[str]:
        """The flags shown wherever a case is listed, most urgent first (uses the detainee: select it)."""
        flags = []
        if self.citizenship_claimed:
            flags.append(str(_("claims U.S. citizenship")))
        if self.uac_determination == UacDetermination.UNACCOMPANIED:
            flags.append(str(_("unaccompanied child")))
        elif self.minor_at_detention:
            flags.append(str(_("minor")))
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

    @property
    def is_detained(self) -> bool:
        """Held by ICE, CBP or ORR, or in criminal custody with an ICE detainer."""
        return self.custodian in HELD_BY

    @property
    def custody_label(self) -> str:
        """The current custody in words: who holds the person, or what the release rests on."""
        if self.custodian == Custodian.RELEASED and self.release_basis:
            label = str(_("Released: %(basis)s") % {"basis": ReleaseBasis(self.release_basis).label})
        else:
            label = str(Custodian(self.custodian).label)
        if self.supervision:
            label = f"{label} · {Supervision(self.supervision).label}"
        return label

    @property
    def bond_possible(self) -> bool | None:
        """Whether an immigration judge can set a bond: only under INA 236(a); None while not known.

        Under 236(c) detention is mandatory (8 CFR 1003.19(h)(2)(i)(D)); under 235(b) only DHS's parole
        releases (Matter of Yajure Hurtado, 29 I&N Dec. 216 (BIA 2025)); under 241 the order is final.
        """
        if self.detention_authority == DetentionAuthority.UNKNOWN:
            return None
        return self.detention_authority == DetentionAuthority.INA_236A

    @property
    def minor_at_detention(self) -> bool | None:
        """Whether the person was under 18 when detained; None if that cannot be told.

        Without a date of detention, the registration day stands in for it when the person was still a
        minor then (they were detained on or before it, so younger still); otherwise it is not known.
        """
        born = self.detainee.date_of_birth
        if born is None:
            return None
        if self.detained_on is not None:
            return age_on(born, self.detained_on) < 18
        if age_on(born, timezone.localdate(self.registered_at)) < 18:
            return True
        return None

    @property
    def uac_pending(self) -> bool:
        """A child at detention whose unaccompanied-child determination is not recorded yet (the case
        page shows its form open)."""
        return bool(self.minor_at_detention) and self.uac_determination == UacDetermination.NOT_ASSESSED

    @property
    def turns_18_on(self) -> date | None:
        born = self.detainee.date_of_birth
        return eighteenth_birthday(born) if born else None

    @property
    def age_out_pending(self) -> bool:
        """A child in ORR custody who has not yet turned 18: at 18 ORR's custody ends (8 U.S.C. 1232(c)(2)(B))."""
        turns_18 = self.turns_18_on
        return self.custodian == Custodian.ORR and turns_18 is not None and turns_18 > timezone.localdate()

    @property
    def asylum_one_year_applies(self) -> bool:
        """The one-year deadline does not apply to an unaccompanied child (INA 208(a)(2)(E))."""
        return self.uac_determination != UacDetermination.UNACCOMPANIED


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
    custodian = models.CharField(_("custody"), max_length=20, choices=Custodian.choices)
    release_basis = models.CharField(
        _("released on"), max_length=20, choices=ReleaseBasis.choices, blank=True, default=ReleaseBasis.NONE
    )
    supervision = models.CharField(
        _("supervision"), max_length=8, choices=Supervision.choices, blank=True, default=Supervision.NONE
    )
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
            models.CheckConstraint(
                condition=Q(custodian="released") | Q(release_basis="", supervision=""),
                name="casework_period_release_basis_only_when_released",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.custodian} from {self.started_on}"

    @property
    def label(self) -> str:
        if self.custodian == Custodian.RELEASED and self.release_basis:
            label = str(_("Released: %(basis)s") % {"basis": ReleaseBasis(self.release_basis).label})
        else:
            label = str(Custodian(self.custodian).label)
        return f"{label} · {Supervision(self.supervision).label}" if self.supervision else label


class ReliefKind(models.TextChoices):
    ASYLUM = "asylum", _("Asylum")
    WITHHOLDING = "withholding", _("Withholding of removal")
    CAT_WITHHOLDING = "cat_withholding", _("CAT: withholding of removal (8 CFR 1208.16(c))")
    CAT_DEFERRAL = "cat_deferral", _("CAT: deferral of removal (8 CFR 1208.17)")
    CANCELLATION_LPR = "cancellation_lpr", _("Cancellation of removal (permanent residents)")
    CANCELLATION_NON_LPR = "cancellation_non_lpr", _("Cancellation of removal (non-permanent residents)")
    VAWA_CANCELLATION = "vawa_cancellation", _("VAWA cancellation of removal (INA 240A(b)(2))")
    WAIVER_212H = "waiver_212h", _("Waiver under INA 212(h)")
    WAIVER_212C = "waiver_212c", _("Waiver under former INA 212(c)")
    NACARA = "nacara", _("NACARA (special rule cancellation or adjustment)")
    REGISTRY = "registry", _("Registry (INA 249)")
    DACA = "daca", _("Deferred Action for Childhood Arrivals (DACA)")
    CITIZENSHIP_CLAIM = "citizenship_claim", _("Claim to U.S. citizenship")
    SIJS = "sijs", _("Special Immigrant Juvenile Status")
    U_VISA = "u_visa", _("U visa")
    T_VISA = "t_visa", _("T visa")
    ADJUSTMENT = "adjustment", _("Adjustment of status")
    TPS = "tps", _("Temporary Protected Status")
    VOLUNTARY_DEPARTURE = "voluntary_departure", _("Voluntary departure")
    PROSECUTORIAL_DISCRETION = "prosecutorial_discretion", _("Prosecutorial discretion")
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
