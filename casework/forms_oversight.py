"""Forms of the oversight pages: recording a legal demand and what followed, filtering read histories,
acknowledging a read alert. They validate; the services in ``casework.services.oversight`` write."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models import Case, DemandKind, DemandSource, DemandStatus, LegalDemand
from casework.selectors_oversight import cases_by_number
from kernel.clock import fund_time_zone
from kernel.concurrency import VersionedForm, versioned
from kernel.forms import PERIOD_DAYS, RECORD_DAYS, BoundedDateField
from kernel.once import OnceForm
from kernel.widgets import FastSelect

TEXT_MAX_LENGTH = 5000
# A demand names at most this many cases in the form (a larger one is recorded in several parts).
MAX_CASES = 200
CASE_NUMBER = re.compile(r"^\d{4}-\d{5,7}$")
CASE_NUMBER_SEPARATORS = re.compile(r"[\s,;]+")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


def _at(day: date, moment: time | None) -> datetime:
    """``day`` at ``moment`` (midnight if none) in the fund's time zone."""
    return datetime.combine(day, moment or time.min, tzinfo=fund_time_zone())


class CaseNumbersField(forms.CharField):
    """Case numbers separated by commas, spaces or lines (``2026-00042, 2026-00043``) → the cases.

    Numbers only, never names: anything that is not a case number is refused, and so is a number
    no case has.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 4000)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        if self.max_length is not None and len(text) > self.max_length:
            raise forms.ValidationError(
                _("At most %(limit)s characters.") % {"limit": self.max_length}, code="max_length"
            )
        numbers: list[str] = []
        for part in CASE_NUMBER_SEPARATORS.split(text.strip()):
            if part and part not in numbers:
                numbers.append(part)
        return numbers

    def validate(self, value: Any) -> None:
        super().validate(value)
        malformed = [number for number in value if not CASE_NUMBER.match(number)]
        if malformed:
            raise forms.ValidationError(
                _(
                    "Enter case numbers only (like 2026-00042), separated by commas; not names. Not a case number: %(values)s"
                )
                % {"values": ", ".join(malformed[:5])},
                code="malformed",
            )
        if len(value) > MAX_CASES:
            raise forms.ValidationError(
                _("At most %(limit)s cases per demand; record a larger one in parts.") % {"limit": MAX_CASES},
                code="too_many",
            )

    def clean(self, value: Any) -> list[Case]:
        numbers: list[str] = super().clean(value)
        found = cases_by_number(numbers)
        unknown = [number for number in numbers if number not in found]
        if unknown:
            raise forms.ValidationError(
                _("No case has the number %(values)s.") % {"values": ", ".join(unknown[:5])}, code="unknown"
            )
        return [found[number] for number in numbers]


class LegalDemandForm(OnceForm):
    received_on = BoundedDateField(days=RECORD_DAYS, label=_("Received on"), initial=timezone.localdate)
    received_time = forms.TimeField(label=_("At"), widget=TimeInput, help_text=_("The time it was served or arrived."))
    received_how = forms.CharField(
        label=_("How it arrived"),
        max_length=120,
        help_text=_("For example: served in person at the front desk, by mail, by fax, by e-mail, a phone call."),
    )
    source = forms.ChoiceField(widget=FastSelect, label=_("Sent by"), choices=DemandSource.choices)
    source_detail = forms.CharField(
        label=_("Agency, office or officer"),
        max_length=200,
        help_text=_("As written on the document: the office, and the officer's name and badge number if given."),
    )
    kind = forms.ChoiceField(
        widget=FastSelect,
        label=_("What it is"),
        choices=DemandKind.choices,
        help_text=_(
            "A judicial warrant or court order is signed by a judge. An administrative subpoena or warrant "
            "(ICE Forms I-200, I-205) is signed by an immigration officer. If unsure, ask counsel."
        ),
    )
    asked = forms.CharField(
        label=_("What was asked"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Which records, about whom, for which period. Refer to clients by case number where you can."),
    )
    respond_by = BoundedDateField(days=RECORD_DAYS, label=_("Response due"), required=False)
    counsel = forms.CharField(
        label=_("Counsel"), max_length=200, required=False, help_text=_("The lawyer who handles it for the fund.")
    )
    cases = CaseNumbersField(
        label=_("Cases concerned"),
        required=False,
        help_text=_(
            "Case numbers separated by commas (e.g. 2026-00042, 2026-00043); never names. "
            "These cases are on legal hold while the demand is open."
        ),
    )

    def clean_received_on(self) -> date:
        value: date = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("A demand is recorded once it has been received."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, moment = data.get("received_on"), data.get("received_time")
        if day is not None and moment is not None:
            data["received_at"] = _at(day, moment)
        respond_by = data.get("respond_by")
        if day is not None and respond_by is not None and respond_by < day:
            self.add_error("respond_by", _("The response cannot be due before the demand was received."))
        return data


def demand_values(demand: LegalDemand) -> dict[str, Any]:
    """What the update form shows of ``demand`` (its initial values, and what its stamp covers)."""
    notified = timezone.localtime(demand.counsel_notified_at, fund_time_zone()) if demand.counsel_notified_at else None
    return {
        "status": demand.status,
        "counsel": demand.counsel,
        "counsel_notified_on": notified.date() if notified else None,
        "counsel_notified_time": notified.time().replace(second=0, microsecond=0) if notified else None,
        "response": demand.response,
        "produced": demand.produced,
    }


class LegalDemandUpdateForm(VersionedForm):
    status = forms.ChoiceField(widget=FastSelect, label=_("Status"), choices=DemandStatus.choices)
    counsel = forms.CharField(label=_("Counsel"), max_length=200, required=False)
    counsel_notified_on = BoundedDateField(days=RECORD_DAYS, label=_("Counsel notified on"), required=False)
    counsel_notified_time = forms.TimeField(label=_("At"), widget=TimeInput, required=False)
    response = forms.CharField(
        label=_("Response"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the fund answered, when and through whom (or that the demand was withdrawn)."),
    )
    produced = forms.CharField(
        label=_("Documents produced"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only what counsel approved: list each document (by case number and document), or none."),
    )

    @classmethod
    def for_demand(cls, demand: LegalDemand, data: Any = None) -> LegalDemandUpdateForm:
        """The form as the demand stands now, with the stamp that detects a change by someone else."""
        return cls(data, initial=versioned(demand_values(demand)))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, moment = data.get("counsel_notified_on"), data.get("counsel_notified_time")
        if day is None and moment is not None:
            self.add_error("counsel_notified_on", _("Give the day counsel was notified."))
        if "counsel_notified_on" not in self.errors:
            data["counsel_notified_at"] = _at(day, moment) if day is not None else None
        return data


class ReadsFilterForm(forms.Form):
    """A period of local days, both ends optional and included."""

    date_from = BoundedDateField(days=PERIOD_DAYS, label=_("From"), required=False)
    date_to = BoundedDateField(days=PERIOD_DAYS, label=_("To"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The period must start on or before the day it ends."))
        return data

    def filters(self) -> dict[str, date]:
        """The valid filters (an invalid form filters nothing; its errors are shown)."""
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value is not None}


class AlertAcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("What you found"),
        max_length=300,
        help_text=_("For example: covering for an absent colleague, asked by the supervisor. Name no client."),
    )
