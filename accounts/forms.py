from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from kernel.concurrency import VersionedForm
from kernel.once import OnceForm
from kernel.widgets import ColumnChoiceField, FastSelect


class StaffChoiceField(ColumnChoiceField):
    """A staff account from ``queryset``, labelled as the app names people (``str(user)``: the full
    name, or the e-mail address of an account without one); drawn without an instance per account."""

    label_columns = ("full_name", "email")

    def label_from_columns(self, full_name: str, email: str) -> str:
        return full_name or email


class StaffEmailChoiceField(ColumnChoiceField):
    """A staff account labelled by its e-mail address, which tells apart two people of one name
    (the access log's filter)."""

    label_columns = ("email",)


class InviteForm(OnceForm):
    """Inviting a person: sent twice (a retry, a double click), it is one account and one e-mail.

    Whether the address is taken is checked by ``accounts.services.staff_invite``, after the
    form's one-time key: the same form sent again must find its first result, not this error."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    role = forms.ChoiceField(widget=FastSelect, label=_("Role"), choices=Role.choices)

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()


class RoleForm(VersionedForm):
    """A staff member's role; stamped (``kernel.concurrency``), so two administrators changing
    it at once do not silently overwrite each other."""

    role = forms.ChoiceField(widget=FastSelect, label=_("Role"), choices=Role.choices)


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or e-mail"), required=False, max_length=100)
    role = forms.ChoiceField(
        widget=FastSelect, label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices]
    )
    status = forms.ChoiceField(
        widget=FastSelect,
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Active")),
            ("invited", _("Invited, not yet joined")),
            ("inactive", _("Deactivated")),
            ("all", _("All")),
        ],
    )
