"""A person-obligor's name and phone are encrypted at rest: the values (and back)."""

from django.db import migrations

from kernel.rotation import open_columns, seal_columns

NAMES = ["obligor_name", "obligor_phone"]


def forwards(apps, schema_editor):
    seal_columns(apps.get_model("funds", "Bond"), NAMES)


def backwards(apps, schema_editor):
    open_columns(apps.get_model("funds", "Bond"), NAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0007_encrypt_obligor"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
