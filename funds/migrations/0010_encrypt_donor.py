"""A donor's name and e-mail address are encrypted at rest, the schema: encrypted text columns and
the (still empty, nullable) blind index of the e-mail address that lookups use instead.

The next migration seals the values and fills the index; the one after makes the index required and
unique (on PostgreSQL, rows cannot be rewritten and the schema changed in one transaction).
"""

from django.db import migrations, models

import kernel.fields


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0009_stripe_event_parked"),
    ]

    operations = [
        migrations.AddField(
            model_name="donor",
            name="email_index",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="donor",
            name="email",
            field=kernel.fields.EncryptedTextField(max_length=254, single_line=True, verbose_name="e-mail address"),
        ),
        migrations.AlterField(
            model_name="donor",
            name="name",
            field=kernel.fields.EncryptedTextField(blank=True, max_length=200, single_line=True, verbose_name="name"),
        ),
    ]
