"""The forms of funds' pages: the public donation form, then the staff forms of payment
requests, approvals, payments and bonds (attorneys and finance)."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funds.models import Donation, Fund, Purpose
from kernel.money import cents_as_decimal_text, format_cents

CUSTOM = "custom"
_AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$", re.ASCII)


def new_nonce() -> str:
    """A fresh value for the form's hidden nonce (one per rendered form)."""
    return secrets.token_urlsafe(24)


def _dollars(cents: int) -> str:
    """Whole dollars without cents on buttons and limits: ``2500`` → ``"$25"``."""
    return format_cents(cents).removesuffix(".00")


class DonationForm(forms.Form):
    amount_choice = forms.ChoiceField(label=_("Amount"), widget=forms.RadioSelect, required=False)
    custom_amount = forms.CharField(
        label=_("Other amount (US dollars)"),
        required=False,
        max_length=12,
        help_text=_("Filled in, this amount is used instead of the buttons above."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "75"}),
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=[("once", _("Once")), ("monthly", _("Every month"))],
        initial="once",
        widget=forms.RadioSelect,
    )
    fund = forms.ModelChoiceField(
        label=_("Fund"),
        queryset=Fund.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("Your receipt is sent here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    anonymous = forms.BooleanField(
        label=_("Give anonymously"),
        required=False,
        help_text=_("We will not name you when we thank our donors."),
    )
    cover_fee = forms.BooleanField(
        label=_("Add the processing fee so the fund gets the full amount"),
        required=False,
    )
    nonce = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]{16,64}$")],
        error_messages={"required": _("This form has expired. Please fill it in again.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = Fund.objects.filter(active=True, accepts_donations=True)
        self.fields["amount_choice"].choices = [
            (str(cents), _dollars(cents)) for cents in settings.DONATION_PRESETS_CENTS
        ] + [(CUSTOM, _("Other"))]
        self.fields["cover_fee"].help_text = _(
            "Card payments cost the fund %(percent)s%% + %(fixed)s; ticking this adds that to your payment."
        ) % {
            "percent": f"{settings.STRIPE_FEE_PERCENT_BASIS_POINTS / 100:g}",
            "fixed": format_cents(settings.STRIPE_FEE_FIXED_CENTS),
        }

    @classmethod
    def initial_for(cls, donation: Donation | None = None) -> dict:
        """Initial values: a fresh nonce, and the values of ``donation`` (a gift abandoned at Checkout)."""
        initial: dict = {"nonce": new_nonce(), "frequency": "once"}
        fund = Fund.objects.filter(active=True, accepts_donations=True).first()
        if fund is not None:
            initial["fund"] = fund.pk
        if settings.DONATION_PRESETS_CENTS:
            initial["amount_choice"] = str(settings.DONATION_PRESETS_CENTS[len(settings.DONATION_PRESETS_CENTS) // 2])
        if donation is not None:
            if donation.amount_cents in settings.DONATION_PRESETS_CENTS:
                initial["amount_choice"] = str(donation.amount_cents)
            else:
                initial["amount_choice"] = CUSTOM
                initial["custom_amount"] = cents_as_decimal_text(donation.amount_cents)
            initial.update(
                frequency="monthly" if donation.recurring_id else "once",
                fund=donation.fund_id,
                name=donation.donor.name,
                email=donation.donor.email,
                anonymous=donation.anonymous,
                cover_fee=donation.fee_covered_cents > 0,
            )
        return initial

    def clean_custom_amount(self) -> int | None:
        raw = (self.cleaned_data.get("custom_amount") or "").strip().replace("$", "").replace(",", "")
        if not raw:
            return None
        if not _AMOUNT.match(raw):
            raise forms.ValidationError(_("Enter an amount in dollars, like 75 or 75.50."))
        return int(Decimal(raw) * 100)

    def clean(self):
        cleaned = super().clean()
        custom = cleaned.get("custom_amount")
        choice = cleaned.get("amount_choice")
        if "custom_amount" in self.errors:
            return cleaned
        if custom is not None:
            cents = custom
        elif choice and choice != CUSTOM:
            cents = int(choice)
        else:
            self.add_error("custom_amount", _("Choose an amount, or enter your own."))
            return cleaned
        low, high = settings.DONATION_MIN_CENTS, settings.DONATION_MAX_CENTS
        if cents < low:
            self.add_error("custom_amount", _("The smallest gift we can take is %(min)s.") % {"min": _dollars(low)})
        elif cents > high:
            self.add_error(
                "custom_amount",
                _("The largest gift we can take online is %(max)s. Please contact us for a larger gift.")
                % {"max": _dollars(high)},
            )
        else:
            cleaned["gift_cents"] = cents
        return cleaned


# --- Staff: payment requests, approvals, payments, bonds ------------------------------------


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
            return cents_as_decimal_text(value)
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
