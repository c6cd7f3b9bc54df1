"""The forms of funds' pages: the public donation form, then the staff forms of payment
requests, approvals, payments and bonds (attorneys and finance).

Every staff form here creates something or moves money, so each is a ``OnceForm``: it carries a
one-time key, and its view does the work inside ``kernel.once.submission`` (a second POST of the
same rendered form shows the first result instead of doing it again). The donation form has its
own ``nonce``, Stripe Checkout's idempotency key."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from funds.models import BondType, BreachService, Donation, Fund, ObligorKind, PostingMethod, Purpose
from funds.services.bonds import BondTerms
from funds.services.checkout import CheckoutGift
from kernel.forms import MONEY_DAYS, BoundedDateField, MoneyField, PhoneField
from kernel.money import cents_as_decimal_text, format_cents
from kernel.once import OnceForm
from kernel.uploads import check_upload

CUSTOM = "custom"
# Under every free-text field that finance staff and auditors read (payees, payment references: they
# are shown on the audit pages and written into the ledger's descriptions).
NO_PERSONAL_DATA = _(
    "Finance staff and auditors read this: never write the detainee's or a relative's name, an A-number "
    "or other personal details here."
)
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
        max_length=254,
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
    def initial_for(cls, donation: Donation | CheckoutGift | None = None) -> dict:
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
                frequency="monthly" if donation.monthly else "once",
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


class DisbursementRequestForm(OnceForm):
    fund = forms.ModelChoiceField(label=_("Fund"), queryset=Fund.objects.filter(active=True))
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    amount = MoneyField(label=_("Amount (USD)"))
    payee = forms.CharField(
        label=_("Payee"),
        max_length=200,
        help_text=format_lazy(
            "{} {}", _("Who is paid: the office or business, e.g. 'DHS/ICE' for a bond."), NO_PERSONAL_DATA
        ),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    attachment = forms.FileField(label=_("Attachment (optional)"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachment"].help_text = _(
            "E.g. the bond notice or an invoice: a PDF, an image or an office document, up to %(limit)s."
        ) % {"limit": filesizeformat(settings.DOCUMENT_MAX_BYTES)}

    def clean_attachment(self):
        """The checks case documents pass, shown with the other fields' errors (the service checks again)."""
        attachment = self.cleaned_data.get("attachment")
        if attachment:
            check_upload(attachment, max_bytes=settings.DOCUMENT_MAX_BYTES)
        return attachment


class DecisionForm(OnceForm):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class PaymentForm(OnceForm):
    paid_on = BoundedDateField(days=MONEY_DAYS, label=_("Paid on"), initial=timezone.localdate)
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[("check", _("Check")), ("wire", _("Wire")), ("ach", _("ACH")), ("other", _("Other"))],
    )
    reference = forms.CharField(label=_("Check number or wire reference"), max_length=100, help_text=NO_PERSONAL_DATA)


def _date(label, **kwargs) -> BoundedDateField:
    return BoundedDateField(days=MONEY_DAYS, label=label, **kwargs)


def _note(label=None, *, required: bool = False) -> forms.CharField:
    return forms.CharField(label=label or _("Note"), max_length=300, required=required)


class BondPaymentForm(PaymentForm):
    """Paying a bond: the payment from the bank, and what the bond (Form I-352) says."""

    bond_type = forms.ChoiceField(label=_("Bond type"), choices=BondType.choices, initial=BondType.DELIVERY)
    ordered = MoneyField(
        label=_("Amount ordered (USD)"),
        required=False,
        help_text=_("As the judge's order or ICE's custody decision set it, if it differs from what is paid."),
    )
    bond_number = forms.CharField(label=_("Bond number (Form I-352)"), max_length=40, required=False)
    posting_method = forms.ChoiceField(
        label=_("Posted through"), choices=[c for c in PostingMethod.choices if c[0] != PostingMethod.UNKNOWN]
    )
    posted_on = _date(_("Posted with ICE on"), required=False, help_text=_("Leave empty if the same day as paid."))
    obligor_kind = forms.ChoiceField(
        label=_("Obligor"),
        choices=ObligorKind.choices,
        initial=ObligorKind.FUND,
        widget=forms.RadioSelect,
        help_text=_("ICE refunds the bond to the obligor. A person-obligor must pass the refund back to the fund."),
    )
    obligor_name = forms.CharField(label=_("Obligor's name (a person only)"), max_length=200, required=False)
    obligor_phone = PhoneField(label=_("Obligor's phone (a person only)"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("obligor_kind") == ObligorKind.PERSON and not (cleaned.get("obligor_name") or "").strip():
            self.add_error("obligor_name", _("Name the obligor: ICE refunds the bond to them, and they pass it back."))
        return cleaned

    def terms(self) -> BondTerms:
        data = self.cleaned_data
        return BondTerms(
            bond_type=data["bond_type"],
            bond_number=data["bond_number"],
            posting_method=data["posting_method"],
            posted_on=data["posted_on"],
            ordered_cents=data["ordered"],
            obligor_kind=data["obligor_kind"],
            obligor_name=data["obligor_name"],
            obligor_phone=data["obligor_phone"],
        )


class BondCancellationForm(OnceForm):
    notice_on = _date(_("Cancellation notice (I-391) dated"))
    note = _note()


class BondRefundClaimForm(OnceForm):
    claimed_on = _date(_("Refund claimed on"))
    note = _note()


class BondRefundForm(OnceForm):
    refunded = MoneyField(label=_("Principal refunded (USD)"), allow_zero=True)
    interest = MoneyField(label=_("Interest (USD)"), required=False, allow_zero=True)
    refunded_on = _date(_("Refunded on"))
    note = _note()


class BondPassBackForm(OnceForm):
    amount = MoneyField(label=_("Amount passed back (USD)"), required=False, help_text=_("Leave empty for all of it."))
    received_on = _date(_("Received by the fund on"))
    note = _note()


class BondShortfallForm(OnceForm):
    recovered = MoneyField(
        label=_("Recovered (USD)"), required=False, allow_zero=True, help_text=_("The rest is written off.")
    )
    resolved_on = _date(_("Resolved on"))
    note = _note()


class BondBreachForm(OnceForm):
    served_on = _date(
        _("Breach notice (I-323) served on"),
        help_text=_("For a notice sent by mail, the date it was mailed (on the notice), not the day it arrived."),
    )
    service = forms.ChoiceField(label=_("Served"), choices=BreachService.choices, widget=forms.RadioSelect)
    breached_on = _date(_("Date of breach shown on the notice"), required=False)
    note = _note()


class BondAppealForm(OnceForm):
    filed_on = _date(_("Appeal (I-290B) received by USCIS on"))
    note = _note()


class BondBreachWithdrawnForm(OnceForm):
    withdrawn_on = _date(_("Breach withdrawn on"))
    note = _note()


class BondForfeitForm(OnceForm):
    forfeited_on = _date(_("Forfeited on"))
    note = _note(_("What happened"), required=True)


class BondBreachInterestForm(OnceForm):
    interest = MoneyField(label=_("Interest to the date of breach (USD)"), required=False, allow_zero=True)
    received_on = _date(_("Received on"))
    note = _note()


# --- Finance: a refund of a gift, a parked webhook event's retry ----------------------------


class RefundForm(OnceForm):
    """A refund of a paid gift (one per row of the donation list)."""

    amount = MoneyField(label=_("Amount (USD)"))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
