"""The detained person and the people to call about them.

Personal fields are plain columns for now; matching never reads them: duplicate checks and
search use the keyed blind indexes in ``a_number_index`` and ``DetaineeNameKey``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.identity import format_a_number


class Detainee(models.Model):
    given_names = models.CharField(_("given names"), max_length=120)
    family_names = models.CharField(_("family names"), max_length=120)
    other_names = models.CharField(
        _("other names"), max_length=300, blank=True, help_text=_("Aliases and other spellings, separated by commas.")
    )
    a_number = models.CharField(_("A-number"), max_length=9, blank=True)
    a_number_index = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # A second (or third) A-number from files that were never consolidated: 9 digits each, separated by
    # commas; each has its blind index in ``DetaineeANumberKey`` so that any of them finds the person.
    other_a_numbers = models.CharField(_("other A-numbers"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    country_of_birth = models.CharField(_("country of birth"), max_length=80, blank=True)
    citizenship = models.CharField(_("citizenship"), max_length=80, blank=True)
    languages = models.CharField(_("languages"), max_length=200, blank=True, help_text=_("Separated by commas."))
    needs_interpreter = models.BooleanField(_("needs an interpreter"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("detainee")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_names}".strip()

    @property
    def a_number_display(self) -> str:
        return format_a_number(self.a_number) if self.a_number else ""

    @property
    def other_a_number_list(self) -> list[str]:
        return [n for n in self.other_a_numbers.split(",") if n]

    @property
    def other_a_numbers_display(self) -> str:
        return ", ".join(format_a_number(n) for n in self.other_a_number_list)


class DetaineeANumberKey(models.Model):
    """The blind index of one of a detainee's other A-numbers; unique, as the main one is."""

    detainee = models.ForeignKey(Detainee, on_delete=models.CASCADE, related_name="a_number_keys")
    key = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"other A-number key of detainee {self.detainee_id}"


class DetaineeNameKey(models.Model):
    """One blind index of one name token (legal or other name) of a detainee."""

    detainee = models.ForeignKey(Detainee, on_delete=models.CASCADE, related_name="name_keys")
    key = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["detainee", "key"], name="casework_name_key_unique")]

    def __str__(self) -> str:
        return f"name key of detainee {self.detainee_id}"


class FamilyContact(models.Model):
    detainee = models.ForeignKey(Detainee, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=160)
    relationship = models.CharField(_("relationship"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=60, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
