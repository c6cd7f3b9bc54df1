# Per-case permissions are granted to users only (an assignment is personal); the
# group table was never written to.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0002_reference_data"),
    ]

    operations = [
        migrations.DeleteModel(
            name="CaseGroupObjectPermission",
        ),
    ]
