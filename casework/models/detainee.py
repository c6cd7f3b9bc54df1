"""The detained person and the people to call about them.

Names, A-numbers, the date of birth and contacts' names and phones are encrypted at rest
(``kernel.fields``); nothing can filter or sort on them in SQL. Duplicate checks and search match
the keyed blind indexes instead: ``a_number_index``, ``DetaineeANumberKey``, ``DetaineeNameKey``
and ``date_of_birth_index``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.identity import format_a_number
from kernel.fields import EncryptedDateField, EncryptedTextField


class Detainee(models.Model):
    given_names = EncryptedTextField(_("given names"), max_length=120, single_line=True)
    family_names = EncryptedTextField(_("family names"), max_length=120, single_line=True)
    other_names = EncryptedTextField(
        _("other names"),
        max_length=300,
        blank=True,
        single_line=True,
        help_text=_("Aliases and other spellings, separated by commas."),
    )
    a_number = EncryptedTextField(_("A-number"), max_length=9, blank=True, single_line=True)
    a_number_index = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # A second (or third) A-number from files that were never consolidated: 9 digits each, separated by
    # commas; each has its blind index in ``DetaineeANumberKey`` so that any of them finds the person.
    other_a_numbers = EncryptedTextField(_("other A-numbers"), max_length=100, blank=True, single_line=True)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    # Duplicate detection asks "same birth date and a similar name?" through this keyed index.
    date_of_birth_index = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)
    country_of_birth = models.CharField(_("country of birth"), max_length=80, blank=True)
    citizenship = models.CharField(_("citizenship"), max_length=80, blank=True)
    languages = models.CharField(_("languages"), max_length=200, blank=True, help_text=_("Separated by commas."))
    needs_interpreter = models.BooleanField(_("needs an interpreter"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set when every case of the person has been erased: the fields above are then empty.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

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
    key = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["detainee", "key"], name="casework_name_key_unique")]
        # A word's people in detainee order, read from the index alone: a name search merges the
        # lists of its words instead of probing each person of the commonest one.
        indexes = [models.Index(fields=["key", "detainee"], name="casework_name_key_people")]

    def __str__(self) -> str:
        return f"name key of detainee {self.detainee_id}"


class FamilyContact(models.Model):
    detainee = models.ForeignKey(Detainee, on_delete=models.CASCADE, related_name="contacts")
    name = EncryptedTextField(_("name"), max_length=160, single_line=True)
    relationship = models.CharField(_("relationship"), max_length=60, blank=True)
    phone = EncryptedTextField(_("phone"), max_length=40, blank=True, single_line=True)
    preferred_language = models.CharField(_("preferred language"), max_length=60, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class BlindIndexKeyFingerprint(models.Model):
    """Which blind-index key made the stored indexes (one row; see ``casework.identity.key_fingerprint``)."""

    fingerprint = models.CharField(max_length=16)
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"blind-index key {self.fingerprint}"
