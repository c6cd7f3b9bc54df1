"""The bond lifecycle's rules in the database, now that every bond fits them (see 0004)."""

from django.db import migrations, models

CLOSED = ["refunded", "forfeited"]


class Migration(migrations.Migration):
    dependencies = [("funds", "0004_bond_lifecycle_data")]

    operations = [
        migrations.AlterField(
            model_name="bond", name="posted_on", field=models.DateField(verbose_name="posted with ICE on")
        ),
        migrations.AddConstraint(
            model_name="bond",
            constraint=models.CheckConstraint(
                condition=models.Q(status__in=CLOSED, closed_on__isnull=False)
                | (~models.Q(status__in=CLOSED) & models.Q(closed_on__isnull=True)),
                name="funds_bond_closed_only_when_done",
            ),
        ),
        migrations.AddConstraint(
            model_name="bond",
            constraint=models.CheckConstraint(
                condition=models.Q(obligor_kind="person") | models.Q(due_from_obligor_cents=0),
                name="funds_bond_only_a_person_owes_a_refund_back",
            ),
        ),
        migrations.AddConstraint(
            model_name="bond",
            constraint=models.CheckConstraint(
                condition=~models.Q(obligor_kind="person") | ~models.Q(obligor_name=""),
                name="funds_bond_person_obligor_named",
            ),
        ),
        migrations.AddConstraint(
            model_name="bond",
            constraint=models.CheckConstraint(
                condition=models.Q(refunded_cents__lte=models.F("amount_cents")),
                name="funds_bond_refund_not_above_principal",
            ),
        ),
        migrations.AddConstraint(
            model_name="bond",
            constraint=models.CheckConstraint(
                condition=~models.Q(status__in=["breached", "appeal_filed"])
                | models.Q(breach_notice_on__isnull=False, appeal_due_on__isnull=False),
                name="funds_bond_breach_has_its_dates",
            ),
        ),
        migrations.AddConstraint(
            model_name="bond",
            constraint=models.UniqueConstraint(
                fields=["bond_number"], condition=~models.Q(bond_number=""), name="funds_bond_number_unique"
            ),
        ),
    ]
