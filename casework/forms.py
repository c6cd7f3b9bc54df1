from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.forms import BoundField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.forms import StaffChoiceField
from accounts.models import User
from casework.deadlines import Forum, Rule, Service
from casework.identity import ANumberError, format_a_number, normalise_a_number
from casework.models import (
    BIA_OUTCOMES,
    HELD_BY,
    IJ_OUTCOMES,
    Appeal,
    AppearanceForum,
    Assignment,
    AssignmentRole,
    AsylumException,
    BondCondition,
    CaseStage,
    CaseStatus,
    CloseReason,
    Custodian,
    DeadlineStatus,
    Decision,
    DecisionOutcome,
    DetentionAuthority,
    DetentionFacility,
    DhsCustody,
    DocumentKind,
    HearingKind,
    HearingMedium,
    HearingOutcome,
    ImmigrationCourt,
    ProceedingType,
    ReleaseBasis,
    ReliefKind,
    ReliefStatus,
    RepresentationScope,
    Supervision,
    UacDetermination,
)
from casework.selectors import DETAINED, attorneys
from casework.services.case import DETAINEE_FIELDS
from casework.services.deadlines import RuleOptions
from casework.services.decisions import DecisionFields
from kernel.concurrency import VersionField
from kernel.forms import CASE_DAYS, LIFETIME_DAYS, BoundedDateField, MoneyField, PhoneField
from kernel.once import OneTimeKeyField
from kernel.uploads import check_upload
from kernel.widgets import ColumnChoiceField, FastSelect

# A note (at intake or on the case) is at most this many characters: some twelve typed pages.
NOTE_MAX_LENGTH = 20_000


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


class ANumberField(forms.CharField):
    """Accepts every common way of writing an A-number; cleans to 9 digits or ''."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("label", _("A-number"))
        kwargs.setdefault("help_text", _("7 to 9 digits, e.g. A-012-345-678. Leave empty if not known yet."))
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        try:
            return normalise_a_number(value) or ""
        except ANumberError as exc:
            raise forms.ValidationError(str(exc), code="a_number") from exc

    def prepare_value(self, value: Any) -> Any:
        if value and isinstance(value, str) and value.isdigit() and len(value) == 9:
            return format_a_number(value)
        return value


class OtherANumbersField(forms.CharField):
    """Further A-numbers of the same person (unconsolidated files), separated by commas; cleans to a list of 9 digits."""

    SEPARATORS = re.compile(r"[,;\n]+")
    # Stored as 9 digits each, comma-separated, in ``Detainee.other_a_numbers`` (100 characters).
    MAX_NUMBERS = 10

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 120)
        kwargs.setdefault("label", _("Other A-numbers"))
        kwargs.setdefault(
            "help_text", _("A second A-number from a file that was never consolidated. Separate several with commas.")
        )
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        numbers: list[str] = []
        for part in self.SEPARATORS.split(text):
            try:
                number = normalise_a_number(part)
            except ANumberError as exc:
                raise forms.ValidationError(str(exc), code="a_number") from exc
            if number and number not in numbers:
                numbers.append(number)
        if len(numbers) > self.MAX_NUMBERS:
            raise forms.ValidationError(
                _("At most %(count)d other A-numbers can be recorded.") % {"count": self.MAX_NUMBERS}, code="too_many"
            )
        return numbers

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(r"[0-9]{9}(,[0-9]{9})*", value):
            value = value.split(",")
        if isinstance(value, list) and all(isinstance(n, str) and re.fullmatch(r"[0-9]{9}", n) for n in value):
            return ", ".join(format_a_number(n) for n in value)
        return value


class FacilityChoiceField(ColumnChoiceField):
    """Facilities in use, plus the one the form was given as its initial value.

    A facility ICE no longer uses is not offered for a new choice, but a record that already
    names one keeps it: pass the record's current facility as the form's ``initial`` (on the
    posted form too), and it stays selectable and valid.
    """

    label_columns = ("name", "city", "state", "code")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", _("Unknown / not listed"))
        kwargs.setdefault("label", _("Facility"))
        super().__init__(queryset=self._offered(current=None), **kwargs)
        # amparo.js puts a search box over the ~490 options (the select itself stays, and works
        # without JavaScript): typing part of a name, a city or ICE's code offers the matches.
        self.widget.attrs.update(
            {
                "data-search": _("Type part of a name, a city or the ICE code"),
                "data-search-invalid": _("Choose a facility from the list, or clear the field for “Unknown”."),
            }
        )

    @staticmethod
    def _offered(*, current: object) -> QuerySet[DetentionFacility]:
        wanted = Q(in_use=True)
        if isinstance(current, DetentionFacility):
            current = current.pk
        if current not in (None, ""):
            wanted |= Q(pk=current)
        return DetentionFacility.objects.filter(wanted).order_by("name", "city")

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> BoundField:
        # The form's initial value is only known here; each form has its own copy of the field,
        # so narrowing this field's queryset affects that form alone (its choices and cleaning).
        self.queryset = self._offered(current=form.get_initial_for_field(self, field_name))
        return super().get_bound_field(form, field_name)

    def label_from_columns(self, name: str, city: str, state: str, code: str) -> str:
        # Name first, so that typing on the plain select finds it too.
        return f"{name} · {city}, {state}" + (f" · {code}" if code else "")


class CourtChoiceField(ColumnChoiceField):
    label_columns = ("state", "name")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Immigration court"))
        super().__init__(queryset=ImmigrationCourt.objects.order_by("state", "name"), **kwargs)

    def label_from_columns(self, state: str, name: str) -> str:
        return f"{state} · {name}"


class DetaineeAndDetentionFields(forms.Form):
    """The person and the arrest, as entered at intake and corrected on the case later.

    ``IntakeForm`` and ``CaseDetailsForm`` both extend it, so a field means the same thing
    (label, limits, checks) in both places.
    """

    given_names = forms.CharField(label=_("Given names"), max_length=120)
    family_names = forms.CharField(label=_("Family names"), max_length=120)
    other_names = forms.CharField(
        label=_("Other names or spellings"), max_length=300, required=False, help_text=_("Separate with commas.")
    )
    a_number = ANumberField()
    other_a_numbers = OtherANumbersField()
    date_of_birth = BoundedDateField(
        days=LIFETIME_DAYS,
        label=_("Date of birth"),
        required=False,
        error_messages={"too_late": _("The date of birth cannot be in the future.")},
    )
    country_of_birth = forms.CharField(label=_("Country of birth"), max_length=80, required=False)
    citizenship = forms.CharField(label=_("Citizenship"), max_length=80, required=False)
    languages = forms.CharField(
        label=_("Languages"), max_length=200, required=False, help_text=_("Separate with commas.")
    )
    needs_interpreter = forms.BooleanField(label=_("Needs an interpreter"), required=False)
    detained_on = BoundedDateField(days=CASE_DAYS, label=_("Detained on"), required=False)
    detained_where = forms.CharField(
        label=_("Where detained"),
        max_length=200,
        required=False,
        help_text=_("Place of arrest, e.g. a street or a check-in."),
    )
    flag_imminent_removal = forms.BooleanField(label=_("Imminent removal"), required=False)
    flag_medical = forms.BooleanField(label=_("Medical needs"), required=False)
    flag_minor_children = forms.BooleanField(label=_("Minor children"), required=False)

    def clean_detained_on(self) -> date | None:
        value = self.cleaned_data.get("detained_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date of detention cannot be in the future."))
        return value


# The detainee's own fields, in the order the service knows them.
PERSON_FIELDS = list(DETAINEE_FIELDS)
FLAG_FIELDS = ["flag_imminent_removal", "flag_medical", "flag_minor_children"]


class IntakeForm(DetaineeAndDetentionFields):
    once = OneTimeKeyField()
    facility = FacilityChoiceField()
    custodian = forms.ChoiceField(
        widget=FastSelect,
        label=_("Held by"),
        choices=[(c.value, c.label) for c in Custodian if c in HELD_BY or c == Custodian.UNKNOWN],
        initial=Custodian.ICE,
        help_text=_("A person in a jail or prison on an ICE detainer is in criminal custody with a detainer."),
    )
    contact_name = forms.CharField(label=_("Family contact: name"), max_length=160, required=False)
    contact_relationship = forms.CharField(label=_("Relationship"), max_length=60, required=False)
    contact_phone = PhoneField(label=_("Phone"), required=False)
    contact_language = forms.CharField(label=_("Preferred language"), max_length=60, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )

    field_order = [
        *PERSON_FIELDS,
        "detained_on",
        "detained_where",
        "facility",
        "custodian",
        "contact_name",
        "contact_relationship",
        "contact_phone",
        "contact_language",
        *FLAG_FIELDS,
        "notes",
    ]


class CaseDetailsForm(DetaineeAndDetentionFields):
    version = VersionField()
    proceeding_type = forms.ChoiceField(widget=FastSelect, label=_("Proceeding"), choices=ProceedingType.choices)
    detention_authority = forms.ChoiceField(
        widget=FastSelect,
        label=_("Detention authority"),
        choices=DetentionAuthority.choices,
        required=False,
        help_text=_(
            "Only under INA 236(a) can an immigration judge set a bond; under 235(b) only DHS can release "
            "(parole), Matter of Yajure Hurtado, 29 I&N Dec. 216 (BIA 2025)."
        ),
    )
    stage = forms.ChoiceField(widget=FastSelect, label=_("Stage"), choices=CaseStage.choices, required=False)
    scope = forms.ChoiceField(
        widget=FastSelect, label=_("Scope of representation"), choices=RepresentationScope.choices, required=False
    )
    court = CourtChoiceField(required=False, empty_label=_("Not yet known"))
    last_arrival_on = BoundedDateField(days=LIFETIME_DAYS, label=_("Last arrival in the US"), required=False)
    asylum_exception = forms.ChoiceField(
        widget=FastSelect,
        label=_("Exception to the asylum one-year deadline claimed"),
        choices=AsylumException.choices,
        required=False,
        help_text=_(
            "Changed or extraordinary circumstances (INA 208(a)(2)(D)); the application must still be filed "
            "within a reasonable period (8 CFR 1208.4(a)(4)(ii), (a)(5))."
        ),
    )
    asylum_exception_note = forms.CharField(
        label=_("The exception: what happened, and when"), max_length=300, required=False
    )

    field_order = [
        *PERSON_FIELDS,
        "proceeding_type",
        "detention_authority",
        "stage",
        "scope",
        "court",
        "detained_on",
        "detained_where",
        "last_arrival_on",
        "asylum_exception",
        "asylum_exception_note",
    ]

    # Left as they are when not sent (the page always sends them).
    KEPT_WHEN_MISSING = ("detention_authority", "stage", "scope")

    def clean(self) -> dict[str, Any]:
        super().clean()
        for name in self.KEPT_WHEN_MISSING:
            if not self.cleaned_data.get(name):
                self.cleaned_data.pop(name, None)
        return self.cleaned_data


class CustodyForm(forms.Form):
    """A change of custody: it starts a custody period (once) and edits the case's custody (stamped)."""

    once = OneTimeKeyField()
    version = VersionField()
    custodian = forms.ChoiceField(widget=FastSelect, label=_("Custody"), choices=Custodian.choices)
    release_basis = forms.ChoiceField(
        widget=FastSelect,
        label=_("Released on"),
        choices=ReleaseBasis.choices,
        required=False,
        help_text=_("For a release only."),
    )
    supervision = forms.ChoiceField(
        widget=FastSelect, label=_("Supervision"), choices=Supervision.choices, required=False
    )
    facility = FacilityChoiceField(help_text=_("For a transfer, the new facility."))
    started_on = BoundedDateField(days=CASE_DAYS, label=_("From"), initial=timezone.localdate)

    def clean_started_on(self) -> date:
        value = self.cleaned_data["started_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("Record a change once it has happened."))
        return value


class SupervisionForm(forms.Form):
    version = VersionField()
    supervision = forms.ChoiceField(
        widget=FastSelect, label=_("Supervision"), choices=Supervision.choices, required=False
    )
    next_check_in_on = BoundedDateField(days=CASE_DAYS, label=_("Next check-in"), required=False)


class UacDeterminationForm(forms.Form):
    version = VersionField()
    determination = forms.ChoiceField(
        widget=FastSelect, label=_("Unaccompanied child?"), choices=UacDetermination.choices
    )
    determined_on = BoundedDateField(
        days=CASE_DAYS,
        label=_("Determined on"),
        required=False,
        help_text=_(
            "HHS must be notified within 48 hours and the child transferred to ORR within 72 (8 U.S.C. 1232(b))."
        ),
    )


class AppearanceForm(forms.Form):
    once = OneTimeKeyField()
    forum = forms.ChoiceField(widget=FastSelect, label=_("Before"), choices=AppearanceForum.choices)
    attorney: forms.ModelChoiceField[User] = StaffChoiceField(label=_("Attorney of record"), queryset=None)
    filed_on = BoundedDateField(days=CASE_DAYS, label=_("Filed on"), initial=timezone.localdate)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["attorney"]).queryset = attorneys()


def _hearing_zone_choices() -> list[tuple[str, Any]]:
    """The zones immigration courts sit in: a video hearing's notice gives one of them."""
    zones = ImmigrationCourt.objects.order_by().values_list("timezone", flat=True).distinct()
    return [("", _("The court's own")), *((zone, zone.replace("_", " ")) for zone in sorted(zones))]


class HearingForm(forms.Form):
    """A new hearing (sent once); ``HearingEditForm`` edits one."""

    once = OneTimeKeyField()
    kind = forms.ChoiceField(widget=FastSelect, label=_("Type"), choices=HearingKind.choices)
    court = CourtChoiceField(
        required=False, help_text=_("For a hearing before an immigration judge (a Joseph hearing too).")
    )
    venue = forms.CharField(
        label=_("Or, for an appointment away from the court: where"),
        max_length=200,
        required=False,
        help_text=_("E.g. the ICE field office, the ISAP office, the USCIS office or the federal district court."),
    )
    date = BoundedDateField(days=CASE_DAYS, label=_("Date"))
    time = forms.TimeField(label=_("Time (as the notice gives it)"), widget=TimeInput)
    timezone_override = forms.ChoiceField(
        widget=FastSelect,
        label=_("Time zone of the notice"),
        required=False,
        help_text=_(
            "For a hearing held by video from a court in another time zone, or the zone of an appointment's place."
        ),
    )
    judge = forms.CharField(label=_("Immigration judge"), max_length=120, required=False)
    medium = forms.ChoiceField(
        widget=FastSelect, label=_("Held"), choices=HearingMedium.choices, initial=HearingMedium.IN_PERSON
    )
    interpreter_language = forms.CharField(label=_("Interpreter language"), max_length=60, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ChoiceField", self.fields["timezone_override"]).choices = _hearing_zone_choices()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        court, day, time = data.get("court"), data.get("date"), data.get("time")
        if court is not None and data.get("timezone_override") == court.timezone:
            data["timezone_override"] = ""
        zone = data.get("timezone_override") or getattr(court, "timezone", "")
        if not zone and "timezone_override" not in self.errors:
            self.add_error(
                "timezone_override" if data.get("venue") else "court",
                _("Choose the court, or give the place and its time zone."),
            )
        elif day and time:
            data["starts_at"] = datetime.combine(day, time, tzinfo=ZoneInfo(str(zone)))
        return data


class HearingEditForm(HearingForm):
    once = None  # type: ignore[assignment]  # an edit is stamped instead
    version = VersionField()


def _grouped_outcomes(outcomes: frozenset[DecisionOutcome]) -> list[tuple[Any, Any]]:
    """Decision outcomes for a select, grouped as attorneys think of them."""
    groups = [
        (_("Removal proceedings"), [o for o in DecisionOutcome if o in outcomes and o in _REMOVAL_GROUP]),
        (_("Custody"), [o for o in DecisionOutcome if o in outcomes and o.value.startswith("bond")]),
        (_("Fear reviews"), [o for o in DecisionOutcome if o in outcomes and o.value.startswith("fear")]),
        (_("Board of Immigration Appeals"), [o for o in DecisionOutcome if o in outcomes and o in BIA_OUTCOMES]),
    ]
    return [(label, [(o.value, o.label) for o in members]) for label, members in groups if members]


_REMOVAL_GROUP = IJ_OUTCOMES - {o for o in DecisionOutcome if o.value.startswith(("bond", "fear"))}


class DecisionForm(forms.Form):
    """What a decision records. Fields that do not fit the outcome are ignored by the service."""

    forum = forms.ChoiceField(widget=FastSelect, label=_("Decided by"), choices=Forum.choices, initial=Forum.IJ)
    outcome = forms.ChoiceField(widget=FastSelect, label=_("Outcome"))
    decided_on = BoundedDateField(days=CASE_DAYS, label=_("Decided on"))
    service = forms.ChoiceField(
        widget=FastSelect,
        label=_("How the decision was given"),
        choices=Service.choices,
        initial=Service.ORAL,
        help_text=_("The appeal clock runs from an oral decision, or from the mailing or service of a written one."),
    )
    served_on = BoundedDateField(days=CASE_DAYS, label=_("Mailed or served on"), required=False)
    appeal = forms.ChoiceField(
        widget=FastSelect,
        label=_("Appeal"),
        choices=[
            ("", _("As the law sets it for this outcome")),
            *[c for c in Appeal.choices if c[0] != Appeal.NOT_APPLICABLE],
        ],
        required=False,
        help_text=_("For a decision in the client's favour: whether DHS reserved or waived appeal."),
    )
    bond = MoneyField(label=_("Bond set by the judge (USD)"), required=False)
    bond_conditions = forms.MultipleChoiceField(
        label=_("Conditions of release"),
        choices=BondCondition.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    dhs_custody = forms.ChoiceField(
        widget=FastSelect, label=_("DHS's custody determination"), choices=DhsCustody.choices, required=False
    )
    dhs_bond = MoneyField(label=_("Bond set by DHS (USD)"), required=False)
    dhs_stay_filed_on = BoundedDateField(days=CASE_DAYS, label=_("DHS filed Form EOIR-43 on"), required=False)
    dhs_appeal_filed_on = BoundedDateField(days=CASE_DAYS, label=_("DHS filed its notice of appeal on"), required=False)
    stay_ended_on = BoundedDateField(days=CASE_DAYS, label=_("Automatic stay ended on"), required=False)
    vd_days = forms.IntegerField(label=_("Days allowed to depart"), min_value=1, max_value=120, required=False)
    vd_bond = MoneyField(label=_("Voluntary departure bond (USD)"), required=False)
    alternate_order = forms.CharField(label=_("Alternate order: removal to"), max_length=80, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ChoiceField", self.fields["outcome"]).choices = self.outcome_choices()

    def outcome_choices(self) -> list[tuple[Any, Any]]:
        return [
            *_grouped_outcomes(IJ_OUTCOMES | BIA_OUTCOMES),
            (DecisionOutcome.OTHER.value, DecisionOutcome.OTHER.label),
        ]

    @staticmethod
    def initial_for(decision: Decision) -> dict[str, Any]:
        return {
            "forum": decision.forum,
            "outcome": decision.outcome,
            "decided_on": decision.decided_on,
            "service": decision.service,
            "served_on": decision.served_on,
            "appeal": decision.appeal if decision.appeal != Appeal.NOT_APPLICABLE else "",
            "bond": decision.bond_cents,
            "bond_conditions": decision.bond_conditions,
            "dhs_custody": decision.dhs_custody,
            "dhs_bond": decision.dhs_bond_cents,
            "dhs_stay_filed_on": decision.dhs_stay_filed_on,
            "dhs_appeal_filed_on": decision.dhs_appeal_filed_on,
            "stay_ended_on": decision.stay_ended_on,
            "vd_days": decision.vd_days,
            "vd_bond": decision.vd_bond_cents,
            "alternate_order": decision.alternate_order,
            "note": decision.note,
        }

    def decision_fields(self) -> DecisionFields:
        """The cleaned data under the service's names."""
        data = self.cleaned_data
        return DecisionFields(
            forum=Forum(data.get("forum") or Forum.IJ),
            outcome=DecisionOutcome(data["outcome"]),
            decided_on=data["decided_on"],
            service=Service(data["service"]),
            served_on=data["served_on"],
            appeal=Appeal(data["appeal"]) if data["appeal"] else None,
            bond_cents=data["bond"],
            bond_conditions=list(data["bond_conditions"]),
            dhs_custody=data["dhs_custody"],
            dhs_bond_cents=data["dhs_bond"],
            dhs_stay_filed_on=data["dhs_stay_filed_on"],
            dhs_appeal_filed_on=data["dhs_appeal_filed_on"],
            stay_ended_on=data["stay_ended_on"],
            vd_days=data["vd_days"],
            vd_bond_cents=data["vd_bond"],
            alternate_order=data["alternate_order"],
            note=data["note"],
        )


class DecisionNewForm(DecisionForm):
    once = OneTimeKeyField()


class DecisionEditForm(DecisionForm):
    version = VersionField()


class HearingOutcomeForm(DecisionForm):
    """What happened at a hearing; a judge's decision there is recorded with it."""

    version = VersionField()

    decided_on = BoundedDateField(
        days=CASE_DAYS, label=_("Decided on"), required=False, help_text=_("Empty: the day of the hearing.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["forum"]
        self.fields["outcome"].required = False

    def outcome_choices(self) -> list[tuple[Any, Any]]:
        return [
            ("", HearingOutcome.PENDING.label),
            (HearingOutcome.CONTINUED.value, HearingOutcome.CONTINUED.label),
            (HearingOutcome.DECISION_RESERVED.value, HearingOutcome.DECISION_RESERVED.label),
            *_grouped_outcomes(IJ_OUTCOMES),
            (HearingOutcome.OTHER.value, HearingOutcome.OTHER.label),
        ]

    @property
    def hearing_outcome(self) -> HearingOutcome:
        value = self.cleaned_data.get("outcome") or ""
        return HearingOutcome(value) if value in HearingOutcome.values else HearingOutcome.DECIDED

    def decision_fields_for(self, hearing_day: date) -> DecisionFields | None:
        if self.hearing_outcome != HearingOutcome.DECIDED:
            return None
        if not self.cleaned_data.get("decided_on"):
            self.cleaned_data["decided_on"] = hearing_day
        fields = self.decision_fields()
        fields["forum"] = Forum.IJ
        return fields


class DeadlineRuleForm(forms.Form):
    once = OneTimeKeyField()
    rule = forms.ChoiceField(
        widget=FastSelect, label=_("Rule"), choices=[c for c in Rule.choices if c[0] != Rule.MANUAL]
    )
    source_date = BoundedDateField(
        days=CASE_DAYS,
        label=_("Counted from"),
        help_text=_("The decision, its service, the arrival, the final order or the hearing, as the rule says."),
    )
    forum = forms.ChoiceField(
        widget=FastSelect,
        label=_("Decided by (motions, petition for review, change of address)"),
        choices=[("", "—"), *Forum.choices],
        required=False,
    )
    service = forms.ChoiceField(
        widget=FastSelect,
        label=_("How the decision was served (appeals)"),
        choices=[("", "—"), *Service.choices],
        required=False,
    )
    hearing_kind = forms.ChoiceField(
        widget=FastSelect,
        label=_("Hearing (pre-hearing filings)"),
        choices=[
            ("", "—"),
            (HearingKind.MASTER.value, HearingKind.MASTER.label),
            (HearingKind.INDIVIDUAL.value, HearingKind.INDIVIDUAL.label),
        ],
        required=False,
    )
    days = forms.IntegerField(label=_("Days allowed (voluntary departure)"), min_value=1, max_value=120, required=False)
    title = forms.CharField(label=_("Title (optional)"), max_length=200, required=False)

    def rule_options(self) -> RuleOptions:
        """The options given, under ``compute_deadline``'s names; a rule refuses those it does not take."""
        data = self.cleaned_data
        options = RuleOptions()
        if data.get("forum"):
            options["forum"] = Forum(data["forum"])
        if data.get("service"):
            options["service"] = Service(data["service"])
        if data.get("hearing_kind"):
            options["hearing_kind"] = data["hearing_kind"]
        if data.get("days"):
            options["days"] = data["days"]
        return options


class DeadlineManualForm(forms.Form):
    once = OneTimeKeyField()
    title = forms.CharField(label=_("What is due"), max_length=200)
    due_on = BoundedDateField(days=CASE_DAYS, label=_("Due on"))


class DeadlineEditForm(DeadlineManualForm):
    once = None  # type: ignore[assignment]  # an edit is stamped instead
    version = VersionField()


class DeadlineStatusForm(forms.Form):
    version = VersionField()
    status = forms.ChoiceField(widget=FastSelect, choices=DeadlineStatus.choices)


class NoteForm(forms.Form):
    once = OneTimeKeyField()
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 4}), max_length=NOTE_MAX_LENGTH)
    privileged = forms.BooleanField(
        label=_("Privileged (attorney-client or work product)"), required=False, initial=True
    )


class DocumentForm(forms.Form):
    once = OneTimeKeyField()
    file = forms.FileField(label=_("File"), help_text=_("PDF, image or office document."))
    kind = forms.ChoiceField(
        widget=FastSelect, label=_("Type"), choices=DocumentKind.choices, initial=DocumentKind.OTHER
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)

    def clean_file(self) -> Any:
        """The content checks and the malware scan, before the service's transaction opens (a scan
        can take seconds); the service checks again, and a file scanned clean is not scanned twice."""
        upload = self.cleaned_data.get("file")
        if upload:
            check_upload(upload, max_bytes=settings.DOCUMENT_MAX_BYTES)
        return upload


class ReliefForm(forms.Form):
    """A form of relief newly sought (sent once); ``ReliefEditForm`` changes one already recorded."""

    once = OneTimeKeyField()
    kind = forms.ChoiceField(widget=FastSelect, label=_("Relief"), choices=ReliefKind.choices)
    status = forms.ChoiceField(widget=FastSelect, label=_("Status"), choices=ReliefStatus.choices)
    filed_on = BoundedDateField(days=CASE_DAYS, label=_("Filed on"), required=False)
    decided_on = BoundedDateField(days=CASE_DAYS, label=_("Decided on"), required=False)


class ReliefEditForm(ReliefForm):
    once = None  # type: ignore[assignment]  # an edit is stamped instead
    version = VersionField()
    relief = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].disabled = True  # the relief being changed; another kind is added, not edited


class CloseForm(forms.Form):
    once = OneTimeKeyField()
    reason = forms.ChoiceField(widget=FastSelect, label=_("Reason"), choices=CloseReason.choices)
    note = forms.CharField(label=_("Closing note"), max_length=300, required=False)


class AttorneyChoiceField(ColumnChoiceField):
    """An attorney labelled with their workload, so that whoever assigns sees who has room: "Ana
    Attorney — 12 active cases, 3 hearings in 14 days" (the counts ``casework.services.workload``
    keeps; just the name while they were never counted). Written in the reader's language when drawn."""

    label_columns = ("full_name", "email", "caseload__active_cases", "caseload__hearings_14_days")

    def label_from_columns(self, full_name: str, email: str, active: int | None, hearings: int | None) -> str:
        name = full_name or email
        if active is None or hearings is None:
            return name
        cases = ngettext("%(count)d active case", "%(count)d active cases", active) % {"count": active}
        soon = ngettext("%(count)d hearing in 14 days", "%(count)d hearings in 14 days", hearings) % {"count": hearings}
        return f"{name} — {cases}, {soon}"


class AssignForm(forms.Form):
    """Putting an attorney on a case (once), stamped with the lead the supervisor saw."""

    once = OneTimeKeyField()
    version = VersionField()
    attorney: forms.ModelChoiceField[User] = AttorneyChoiceField(label=_("Attorney"), queryset=None)
    role = forms.ChoiceField(
        widget=FastSelect, label=_("Role"), choices=AssignmentRole.choices, initial=AssignmentRole.LEAD
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``self.fields`` holds copies of the fields declared above, of the same classes.
        cast("forms.ModelChoiceField[User]", self.fields["attorney"]).queryset = attorneys()


class BulkReassignForm(forms.Form):
    once = OneTimeKeyField()
    from_attorney: forms.ModelChoiceField[User] = StaffChoiceField(label=_("Move every active case of"), queryset=None)
    to_attorneys: forms.ModelMultipleChoiceField[User] = forms.ModelMultipleChoiceField(
        label=_("Move them to"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Cases are shared out evenly."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A leaver may already be deactivated; they must still be choosable here.
        holds_cases = Assignment.objects.filter(attorney=OuterRef("pk"), ended_at__isnull=True)
        cast("forms.ModelChoiceField[User]", self.fields["from_attorney"]).queryset = User.objects.filter(
            Exists(holds_cases)
        ).order_by("full_name")
        cast("forms.ModelMultipleChoiceField[User]", self.fields["to_attorneys"]).queryset = attorneys()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        source, targets = data.get("from_attorney"), data.get("to_attorneys")
        if source and targets and source in targets:
            raise forms.ValidationError(_("Choose other attorneys than the one whose cases move."))
        return data


# The longest search anyone types: a case number, an A-number or a few names.
SEARCH_MAX_LENGTH = 100


class CaseSearchForm(forms.Form):
    """The case list's search box. Posted, never sent in a URL: the words may be a name or an A-number."""

    q = forms.CharField(
        label=_("Case number, A-number or name"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )


class CaseFilterForm(forms.Form):
    """The case list's filters, which may travel in the URL: none of them says anything about a person."""

    status = forms.ChoiceField(
        widget=FastSelect, label=_("Status"), required=False, choices=[("", _("Any status")), *CaseStatus.choices]
    )
    custody = forms.ChoiceField(
        widget=FastSelect,
        label=_("Custody"),
        required=False,
        choices=[("", _("Any custody")), (DETAINED, _("Detained (any custodian)")), *Custodian.choices],
    )
    authority = forms.ChoiceField(
        widget=FastSelect,
        label=_("Detention authority"),
        required=False,
        choices=[("", _("Any authority")), *DetentionAuthority.choices],
    )
    court = ColumnChoiceField(
        label_columns=("name",),
        label=_("Court"),
        required=False,
        queryset=ImmigrationCourt.objects.order_by("name"),
        empty_label=_("Any court"),
    )
    sort = forms.ChoiceField(
        widget=FastSelect,
        label=_("Sort"),
        required=False,
        choices=[
            ("-registered_at", _("Newest first")),
            ("registered_at", _("Oldest first")),
            ("next_hearing", _("Next hearing")),
            ("number", _("Case number")),
        ],
    )

    # The filters' names, in the order the case list writes them into its URLs.
    NAMES = ("status", "custody", "authority", "court", "sort")


class SearchForm(forms.Form):
    """The supervisors' search page. Posted, never sent in a URL."""

    q = forms.CharField(
        label=_("Case number, A-number or name"),
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"autofocus": True, "type": "search", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
