# Facilities ICE no longer uses are kept (old custody periods point at them) but not offered for new
# records. The shipped list has no status column; `casework/data/facilities_no_longer_used.csv`
# names the ones known closed, each with its source. `retire` is also what tests/conftest.py re-runs
# after a flush, next to 0004's loader. Staff mark others with `manage.py facility_in_use`.

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "facilities_no_longer_used.csv"


def retire(apps, schema_editor):
    Facility = apps.get_model("casework", "DetentionFacility")
    with open(DATA, newline="") as f:
        codes = [row["code"] for row in csv.DictReader(f)]
    Facility.objects.filter(code__in=codes).update(in_use=False)


def unretire(apps, schema_editor):
    Facility = apps.get_model("casework", "DetentionFacility")
    with open(DATA, newline="") as f:
        codes = [row["code"] for row in csv.DictReader(f)]
    Facility.objects.filter(code__in=codes).update(in_use=True)


class Migration(migrations.Migration):
    dependencies = [("casework", "0008_labels_and_choices")]

    operations = [migrations.RunPython(retire, unretire)]
