"""Forms of the finance and disbursement pages (the donation form is in ``funds/forms.py``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funds.models import Fund, Purpose


class MoneyField(forms.CharField):
    """Dollars and cents typed by a person ("1,500", "$1500.00") → integer cents."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)  # no max_length validator: the cleaned value is an int
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off", "maxlength": "20"})

    def to_python(self, value):
        value = (super().to_python(value) or "").replace("$", "").replace(",", "").strip()
        if not value:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation as exc:
            raise forms.ValidationError(_("Enter an amount in dollars, e.g. 1500 or 1,500.00.")) from exc
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError(_("Use at most two decimals (cents)."))
        cents = int(amount * 100)
        if cents <= 0:
            raise forms.ValidationError(_("Enter an amount above zero."))
        if cents > 100_000_000:
            raise forms.ValidationError(_("That is more than this system handles in one payment."))
        return cents

    def prepare_value(self, value):
        if isinstance(value, int):
            return f"{value / 100:.2f}"
        return value


class DisbursementRequestForm(forms.Form):
    fund = forms.ModelChoiceField(label=_("Fund"), queryset=Fund.objects.filter(active=True))
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    amount = MoneyField(label=_("Amount (USD)"))
    payee = forms.CharField(label=_("Payee"), max_length=200, help_text=_("Who is paid, e.g. 'DHS/ICE' for a bond."))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    attachment = forms.FileField(
        label=_("Attachment (optional)"), required=False, help_text=_("E.g. the bond notice or an invoice.")
    )


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class PaymentForm(forms.Form):
    paid_on = forms.DateField(
        label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[("check", _("Check")), ("wire", _("Wire")), ("ach", _("ACH")), ("other", _("Other"))],
    )
    reference = forms.CharField(label=_("Check number or wire reference"), max_length=100)


class BondRefundForm(forms.Form):
    refunded = MoneyField(label=_("Refunded (USD)"))
    interest = MoneyField(label=_("Interest (USD)"), required=False)
    refunded_on = forms.DateField(label=_("Refunded on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class BondForfeitForm(forms.Form):
    forfeited_on = forms.DateField(label=_("Forfeited on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("What happened"), max_length=300)
