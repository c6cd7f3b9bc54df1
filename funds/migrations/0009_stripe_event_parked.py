# Stripe webhook events that keep failing are parked for finance instead of retried for ever.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0008_encrypt_obligor_values"),
    ]

    operations = [
        migrations.AddField(
            model_name="stripeevent",
            name="parked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="stripeevent",
            index=models.Index(
                condition=models.Q(("parked_at__isnull", False)),
                fields=["parked_at"],
                name="funds_stripeevent_parked",
            ),
        ),
    ]
