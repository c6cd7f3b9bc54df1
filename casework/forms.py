from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.forms import BoundField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from casework.deadlines import Rule
from casework.identity import ANumberError, format_a_number, normalise_a_number
from casework.models import (
    Assignment,
    AssignmentRole,
    CaseStatus,
    CloseReason,
    CustodyStatus,
    DeadlineStatus,
    DetentionFacility,
    DocumentKind,
    HearingKind,
    HearingMedium,
    HearingOutcome,
    ImmigrationCourt,
    ProceedingType,
    ReliefKind,
    ReliefStatus,
)
from casework.selectors import attorneys
from casework.services.case import DETAINEE_FIELDS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


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


class FacilityChoiceField(forms.ModelChoiceField):
    """Facilities in use, plus the one the form was given as its initial value.

    A facility ICE no longer uses is not offered for a new choice, but a record that already
    names one keeps it: pass the record's current facility as the form's ``initial`` (on the
    posted form too), and it stays selectable and valid.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", _("Unknown / not listed"))
        kwargs.setdefault("label", _("Facility"))
        super().__init__(queryset=self._offered(current=None), **kwargs)

    @staticmethod
    def _offered(*, current: object) -> QuerySet[DetentionFacility]:
        wanted = Q(in_use=True)
        if isinstance(current, DetentionFacility):
            current = current.pk
        if current not in (None, ""):
            wanted |= Q(pk=current)
        return DetentionFacility.objects.filter(wanted).order_by("state", "name")

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> BoundField:
        # The form's initial value is only known here; each form has its own copy of the field,
        # so narrowing this field's queryset affects that form alone (its choices and cleaning).
        self.queryset = self._offered(current=form.get_initial_for_field(self, field_name))
        return super().get_bound_field(form, field_name)

    def label_from_instance(self, obj: DetentionFacility) -> str:
        return f"{obj.state} · {obj.name} ({obj.city})"


class CourtChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Immigration court"))
        super().__init__(queryset=ImmigrationCourt.objects.order_by("state", "name"), **kwargs)

    def label_from_instance(self, obj: ImmigrationCourt) -> str:
        return f"{obj.state} · {obj.name}"


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
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput)
    country_of_birth = forms.CharField(label=_("Country of birth"), max_length=80, required=False)
    citizenship = forms.CharField(label=_("Citizenship"), max_length=80, required=False)
    languages = forms.CharField(
        label=_("Languages"), max_length=200, required=False, help_text=_("Separate with commas.")
    )
    needs_interpreter = forms.BooleanField(label=_("Needs an interpreter"), required=False)
    detained_on = forms.DateField(label=_("Detained on"), required=False, widget=DateInput)
    detained_where = forms.CharField(
        label=_("Where detained"),
        max_length=200,
        required=False,
        help_text=_("Place of arrest, e.g. a street or a check-in."),
    )
    flag_imminent_removal = forms.BooleanField(label=_("Imminent removal"), required=False)
    flag_medical = forms.BooleanField(label=_("Medical needs"), required=False)
    flag_minor_children = forms.BooleanField(label=_("Minor children"), required=False)

    def clean_date_of_birth(self) -> date | None:
        value = self.cleaned_data.get("date_of_birth")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        return value

    def clean_detained_on(self) -> date | None:
        value = self.cleaned_data.get("detained_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date of detention cannot be in the future."))
        return value


# The detainee's own fields, in the order the service knows them.
PERSON_FIELDS = list(DETAINEE_FIELDS)
FLAG_FIELDS = ["flag_imminent_removal", "flag_medical", "flag_minor_children"]


class IntakeForm(DetaineeAndDetentionFields):
    facility = FacilityChoiceField()
    custody_status = forms.ChoiceField(
        label=_("Custody"), choices=CustodyStatus.choices, initial=CustodyStatus.DETAINED
    )
    contact_name = forms.CharField(label=_("Family contact: name"), max_length=160, required=False)
    contact_relationship = forms.CharField(label=_("Relationship"), max_length=60, required=False)
    contact_phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "type": "tel"}),
    )
    contact_language = forms.CharField(label=_("Preferred language"), max_length=60, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    field_order = [
        *PERSON_FIELDS,
        "detained_on",
        "detained_where",
        "facility",
        "custody_status",
        "contact_name",
        "contact_relationship",
        "contact_phone",
        "contact_language",
        *FLAG_FIELDS,
        "notes",
    ]


class CaseDetailsForm(DetaineeAndDetentionFields):
    proceeding_type = forms.ChoiceField(label=_("Proceeding"), choices=ProceedingType.choices)
    court = CourtChoiceField(required=False, empty_label=_("Not yet known"))
    last_arrival_on = forms.DateField(label=_("Last arrival in the US"), required=False, widget=DateInput)

    field_order = [*PERSON_FIELDS, "proceeding_type", "court", "detained_on", "detained_where", "last_arrival_on"]


class CustodyForm(forms.Form):
    status = forms.ChoiceField(label=_("Custody"), choices=CustodyStatus.choices)
    facility = FacilityChoiceField(help_text=_("For a transfer, the new facility."))
    started_on = forms.DateField(label=_("From"), widget=DateInput, initial=timezone.localdate)

    def clean_started_on(self) -> date:
        value = self.cleaned_data["started_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("Record a change once it has happened."))
        return value


class HearingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=HearingKind.choices)
    court = CourtChoiceField()
    date = forms.DateField(label=_("Date"), widget=DateInput)
    time = forms.TimeField(label=_("Time (court's local time)"), widget=TimeInput)
    judge = forms.CharField(label=_("Immigration judge"), max_length=120, required=False)
    medium = forms.ChoiceField(label=_("Held"), choices=HearingMedium.choices, initial=HearingMedium.IN_PERSON)
    interpreter_language = forms.CharField(label=_("Interpreter language"), max_length=60, required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        court, day, time = data.get("court"), data.get("date"), data.get("time")
        if court and day and time:
            data["starts_at"] = datetime.combine(day, time, tzinfo=ZoneInfo(court.timezone))
        return data


class HearingOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=HearingOutcome.choices, required=False)
    outcome_note = forms.CharField(label=_("Note on the outcome"), max_length=300, required=False)


class DeadlineRuleForm(forms.Form):
    rule = forms.ChoiceField(label=_("Rule"), choices=[c for c in Rule.choices if c[0] != Rule.MANUAL])
    source_date = forms.DateField(
        label=_("Counted from"), widget=DateInput, help_text=_("The decision, arrival or final order date.")
    )
    title = forms.CharField(label=_("Title (optional)"), max_length=200, required=False)


class DeadlineManualForm(forms.Form):
    title = forms.CharField(label=_("What is due"), max_length=200)
    due_on = forms.DateField(label=_("Due on"), widget=DateInput)


class DeadlineEditForm(DeadlineManualForm):
    pass


class DeadlineStatusForm(forms.Form):
    status = forms.ChoiceField(choices=DeadlineStatus.choices)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20000)
    privileged = forms.BooleanField(
        label=_("Privileged (attorney-client or work product)"), required=False, initial=True
    )


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("PDF, image or office document."))
    kind = forms.ChoiceField(label=_("Type"), choices=DocumentKind.choices, initial=DocumentKind.OTHER)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)


class ReliefForm(forms.Form):
    kind = forms.ChoiceField(label=_("Relief"), choices=ReliefKind.choices)
    status = forms.ChoiceField(label=_("Status"), choices=ReliefStatus.choices)
    filed_on = forms.DateField(label=_("Filed on"), widget=DateInput, required=False)
    decided_on = forms.DateField(label=_("Decided on"), widget=DateInput, required=False)


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=CloseReason.choices)
    note = forms.CharField(label=_("Closing note"), max_length=300, required=False)


class AssignForm(forms.Form):
    attorney: forms.ModelChoiceField[User] = forms.ModelChoiceField(label=_("Attorney"), queryset=None)
    role = forms.ChoiceField(label=_("Role"), choices=AssignmentRole.choices, initial=AssignmentRole.LEAD)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``self.fields`` holds copies of the fields declared above, of the same classes.
        cast("forms.ModelChoiceField[User]", self.fields["attorney"]).queryset = attorneys()


class BulkReassignForm(forms.Form):
    from_attorney: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label=_("Move every active case of"), queryset=None
    )
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


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")), *CaseStatus.choices])
    custody = forms.ChoiceField(
        label=_("Custody"), required=False, choices=[("", _("Any custody")), *CustodyStatus.choices]
    )
    court = forms.ModelChoiceField(
        label=_("Court"), required=False, queryset=ImmigrationCourt.objects.order_by("name"), empty_label=_("Any court")
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-registered_at", _("Newest first")),
            ("registered_at", _("Oldest first")),
            ("next_hearing", _("Next hearing")),
            ("number", _("Case number")),
            ("name", _("Name")),
        ],
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Case number, A-number or name"), max_length=100, widget=forms.TextInput(attrs={"autofocus": True})
    )
