"""Load the shipped immigration courts and detention facilities (real public names)."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def load(apps, schema_editor):
    Court = apps.get_model("casework", "ImmigrationCourt")
    Facility = apps.get_model("casework", "DetentionFacility")
    with open(DATA / "immigration_courts.csv", newline="") as f:
        for row in csv.DictReader(f):
            Court.objects.update_or_create(
                name=row["name"],
                defaults={"code": row["code"], "city": row["city"], "state": row["state"], "timezone": row["timezone"]},
            )
    with open(DATA / "detention_facilities.csv", newline="") as f:
        for row in csv.DictReader(f):
            Facility.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name": row["name"],
                    "city": row["city"],
                    "state": row["state"],
                    "timezone": row["timezone"],
                    "kind": row["type"],
                },
            )


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
