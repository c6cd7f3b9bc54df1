# A bond points at the custody decision that set it (issue 9); existing bonds are linked to their
# case's latest bond grant, when there is one.

import django.db.models.deletion
from django.db import migrations, models


def link(apps, schema_editor):
    Bond = apps.get_model("funds", "Bond")
    Decision = apps.get_model("casework", "Decision")
    for bond in Bond.objects.filter(decision__isnull=True).iterator():
        outcome = "vd_granted" if bond.bond_type == "voluntary_departure" else "bond_granted"
        decision = (
            Decision.objects.filter(case_id=bond.case_id, outcome=outcome, decided_on__lte=bond.paid_on)
            .order_by("-decided_on", "-id")
            .first()
        )
        if decision is not None:
            bond.decision_id = decision.pk
            bond.save(update_fields=["decision_id"])


class Migration(migrations.Migration):
    dependencies = [("funds", "0005_bond_lifecycle_constraints"), ("casework", "0006_decisions")]

    operations = [
        migrations.AddField(
            model_name="bond",
            name="decision",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="bonds",
                to="casework.decision",
                verbose_name="the custody decision that set it",
            ),
        ),
        migrations.RunPython(link, migrations.RunPython.noop),
    ]
