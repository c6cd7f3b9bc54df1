"""Forms for the audit pages' filters, report requests and file verification."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import StaffEmailChoiceField
from accounts.models import AccessEvent, User
from casework.services.oversight import legal_demand_for_export
from funds.models import AccountKind, Bond, Disbursement, Donation, Fund
from kernel.forms import PERIOD_DAYS, BoundedDateField
from kernel.once import OneTimeKeyField
from reports.permissions import KindChoices

MAX_REPORT_SPAN_DAYS = 5 * 366  # five years, leap days included
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# The days a filter or a report may name are ``kernel.forms.PERIOD_DAYS`` (2000 to 2100): the fund keeps no
# record from before 2000, and a day far in the future (9999-12-31) would overflow the date arithmetic of a
# period's end. Such dates are a form error, not a server error.


def _fund_field(label=None) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label or _("Fund"),
        queryset=Fund.objects.order_by("sort_order", "name"),
        to_field_name="slug",
        required=False,
        empty_label=_("All funds"),
    )


class PeriodFilterForm(forms.Form):
    """Date range shared by the list filters: both ends optional, inclusive, local days."""

    date_from = BoundedDateField(days=PERIOD_DAYS, label=_("From"), required=False)
    date_to = BoundedDateField(days=PERIOD_DAYS, label=_("To"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("The period must start on or before the day it ends."))
        return cleaned

    def filters(self) -> dict:
        """The valid filters (an invalid form filters nothing; its errors are shown)."""
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}


class LedgerFilterForm(PeriodFilterForm):
    fund = _fund_field()
    account_kind = forms.ChoiceField(
        label=_("Account"), choices=[("", _("All accounts")), *AccountKind.choices], required=False
    )


class DonationFilterForm(PeriodFilterForm):
    fund = _fund_field()
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any")), *Donation.Status.choices], required=False)


class DisbursementFilterForm(PeriodFilterForm):
    fund = _fund_field()
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any")), *Disbursement.Status.choices], required=False
    )


class BondFilterForm(forms.Form):
    fund = _fund_field()
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any")), *Bond.Status.choices], required=False)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}


class AccessLogFilterForm(PeriodFilterForm):
    # Every staff account by e-mail, read as two columns and drawn in one string (a thousand accounts:
    # ~1.5 ms instead of ~60 ms through Django's per-option templates).
    user = StaffEmailChoiceField(
        label=_("Who"), queryset=User.objects.order_by("email"), required=False, empty_label=_("Everyone")
    )
    action = forms.ChoiceField(label=_("Action"), choices=[("", _("Any")), *AccessEvent.Action.choices], required=False)


class ReportRequestForm(forms.Form):
    # A second POST of the same page (a double click, a retry) shows the first request's run.
    once = OneTimeKeyField()
    kind = forms.ChoiceField(label=_("Report"))
    date_from = BoundedDateField(days=PERIOD_DAYS, label=_("From"))
    date_to = BoundedDateField(days=PERIOD_DAYS, label=_("To"))
    fund = _fund_field(_("Fund (optional)"))
    legal_demand = forms.CharField(
        label=_("In answer to a legal demand (optional)"),
        required=False,
        max_length=20,
        help_text=_(
            "The demand's reference, e.g. LD-2026-001, if counsel approved producing this report in answer to it. "
            "The access log marks the export with it."
        ),
    )

    def __init__(self, *args: Any, kinds: KindChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ``self.fields`` holds a copy of the field declared above, of the same class.
        cast(forms.ChoiceField, self.fields["kind"]).choices = kinds

    def clean_legal_demand(self) -> str:
        try:
            demand = legal_demand_for_export(self.cleaned_data.get("legal_demand") or "")
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return demand.reference if demand else ""

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if not date_from or not date_to:
            return cleaned
        today = timezone.localdate()
        if date_from > date_to:
            self.add_error("date_to", _("The period must end on or after the day it starts."))
        elif (date_to - date_from).days >= MAX_REPORT_SPAN_DAYS:
            self.add_error("date_to", _("A report covers at most five years; choose a shorter period."))
        if date_to > today:
            self.add_error("date_to", _("The period cannot end in the future (today is %(today)s).") % {"today": today})
        return cleaned


class VerifyForm(forms.Form):
    file = forms.FileField(
        label=_("A report file (PDF or CSV)"),
        required=False,
        max_length=255,
        help_text=_("Up to 50 MB. The file is read to compute its fingerprint and is not kept."),
    )
    sha256 = forms.CharField(
        label=_("Or the SHA-256 fingerprint"),
        required=False,
        max_length=100,
        help_text=_("64 hexadecimal characters, e.g. the fingerprint printed in a report's footer."),
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        limit = settings.REPORT_VERIFY_MAX_BYTES
        if upload and upload.size > limit:
            raise forms.ValidationError(
                _("This file is larger than %(limit)s MB; Amparo's reports are never that large.")
                % {"limit": limit // (1024 * 1024)}
            )
        return upload

    def clean_sha256(self):
        value = re.sub(r"\s+", "", self.cleaned_data.get("sha256", "")).lower()
        if value and not SHA256_PATTERN.match(value):
            raise forms.ValidationError(_("A SHA-256 fingerprint is 64 characters, 0 to 9 and a to f."))
        return value

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if bool(cleaned.get("file")) == bool(cleaned.get("sha256")):
            raise forms.ValidationError(_("Choose a file or paste a fingerprint (one of the two)."))
        return cleaned
