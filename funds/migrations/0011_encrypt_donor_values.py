"""A donor's name and e-mail address are encrypted at rest, the values: each is sealed in place with
the newest field key and the e-mail address's blind index is filled in. Backward opens them again.

Two donors whose addresses differ only in case or surrounding spaces would get the same index; the
next migration's unique constraint would refuse them, so this one stops first, naming their ids
(never their addresses): merge them by hand (their gifts onto one) and migrate again.
"""

from collections import defaultdict

from django.db import migrations

from funds.identity import donor_email_index
from kernel.rotation import open_columns, seal_columns

PERSONAL = ["name", "email"]


def forwards(apps, schema_editor):
    Donor = apps.get_model("funds", "Donor")
    seal_columns(Donor, PERSONAL)
    same_address = defaultdict(list)
    for donor in Donor.objects.order_by("pk").iterator():
        donor.email_index = donor_email_index(donor.email)
        donor.save(update_fields=["email_index"])
        same_address[donor.email_index].append(donor.pk)
    clashes = [ids for ids in same_address.values() if len(ids) > 1]
    if clashes:
        raise RuntimeError(
            "Donors share an e-mail address (up to case and spaces) and must be merged before it is "
            f"indexed; donor ids: {'; '.join(', '.join(map(str, ids)) for ids in clashes)}."
        )


def backwards(apps, schema_editor):
    open_columns(apps.get_model("funds", "Donor"), PERSONAL)


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0010_encrypt_donor"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
