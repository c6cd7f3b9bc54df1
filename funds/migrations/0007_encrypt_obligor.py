"""A person-obligor's name and phone are encrypted at rest, like the detainee's own data: the columns
(the next migration seals the values).
"""

from django.db import migrations

import kernel.fields


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0006_bond_decision"),
    ]

    operations = [
        migrations.AlterField(
            model_name="bond",
            name="obligor_name",
            field=kernel.fields.EncryptedTextField(
                blank=True, max_length=200, single_line=True, verbose_name="obligor's name"
            ),
        ),
        migrations.AlterField(
            model_name="bond",
            name="obligor_phone",
            field=kernel.fields.EncryptedTextField(
                blank=True, max_length=40, single_line=True, verbose_name="obligor's phone"
            ),
        ),
    ]
