"""A donor's e-mail blind index, filled by the previous migration, is required and unique: one
address (up to case and spaces) is one donor.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0011_encrypt_donor_values"),
    ]

    operations = [
        migrations.AlterField(
            model_name="donor",
            name="email_index",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.AddConstraint(
            model_name="donor",
            constraint=models.CheckConstraint(condition=models.Q(("email_index", ""), _negated=True), name="funds_donor_email_indexed"),
        ),
    ]
