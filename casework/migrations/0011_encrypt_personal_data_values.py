"""Personal data encrypted at rest, the values: each plain value is encrypted in place with the
newest field key, the date of birth's blind index and the minor flag are computed, the blind-index
key's fingerprint is recorded, and the files in private storage are sealed. Backward decrypts
everything again.
"""

from datetime import date

import django.utils.timezone
from django.db import migrations

from casework.identity import date_of_birth_index, key_fingerprint
from kernel.rotation import open_columns, open_files, seal_columns, seal_files

PERSONAL = {
    "detainee": ["given_names", "family_names", "other_names", "a_number", "other_a_numbers", "date_of_birth"],
    "familycontact": ["name", "phone"],
    "note": ["body"],
    "document": ["title", "original_name"],
    "case": ["detained_where"],
}


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def forwards(apps, schema_editor):
    for model, names in PERSONAL.items():
        seal_columns(apps.get_model("casework", model), names)
    Detainee = apps.get_model("casework", "Detainee")
    for detainee in Detainee.objects.exclude(date_of_birth__isnull=True).iterator():
        detainee.date_of_birth_index = date_of_birth_index(detainee.date_of_birth)
        detainee.save(update_fields=["date_of_birth_index"])
    Case = apps.get_model("casework", "Case")
    for case in Case.objects.select_related("detainee").exclude(detainee__date_of_birth__isnull=True).iterator():
        born = case.detainee.date_of_birth
        if case.detained_on is not None:
            minor = _age_on(born, case.detained_on) < 18
        else:
            registered = django.utils.timezone.localdate(case.registered_at)
            minor = True if _age_on(born, registered) < 18 else None
        case.detained_as_minor = minor
        case.save(update_fields=["detained_as_minor"])
    apps.get_model("casework", "BlindIndexKeyFingerprint").objects.create(fingerprint=key_fingerprint())
    seal_files()


def backwards(apps, schema_editor):
    for model, names in PERSONAL.items():
        open_columns(apps.get_model("casework", model), names)
    open_files()


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0010_encrypt_personal_data"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
