# Two shipped facilities have no ICE code. 0002 matched rows by code alone (and the column was
# unique), so the second codeless row overwrote the first and one facility never loaded. A codeless
# facility is now identified by its name and place, and the load below is re-run so that existing
# databases get the missing row. 0002 is left as it was: it runs against the schema of its time,
# where two blank codes cannot coexist, and this migration completes what it loaded.
#
# `load` is also what tests/conftest.py re-runs after a flush, so it loads the courts too.

import csv
from pathlib import Path

from django.db import migrations, models

DATA = Path(__file__).resolve().parent.parent / "data"


def _facility_for(Facility, row):
    """The stored facility a CSV row describes, or None.

    A row that gained a code since the last load still finds its codeless row by name and
    place, so a later CSV that fills in a code updates that row rather than adding a second one.
    """
    if row["code"]:
        found = Facility.objects.filter(code=row["code"]).first()
        if found is not None:
            return found
    return Facility.objects.filter(code="", name=row["name"], city=row["city"], state=row["state"]).first()


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
            facility = _facility_for(Facility, row) or Facility()
            # `in_use` is not in the CSV: it is set by hand and a re-load must not undo that.
            facility.code = row["code"]
            facility.name = row["name"]
            facility.city = row["city"]
            facility.state = row["state"]
            facility.timezone = row["timezone"]
            facility.kind = row["type"]
            facility.save()


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0003_drop_unused_group_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="detentionfacility",
            name="in_use",
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="detentionfacility",
            name="code",
            field=models.CharField(blank=True, max_length=12),
        ),
        migrations.AddConstraint(
            model_name="detentionfacility",
            constraint=models.UniqueConstraint(
                condition=~models.Q(code=""), fields=("code",), name="casework_facility_code_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="detentionfacility",
            constraint=models.UniqueConstraint(
                condition=models.Q(code=""),
                fields=("name", "city", "state"),
                name="casework_codeless_facility_unique",
            ),
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
