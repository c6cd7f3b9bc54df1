"""Personal data encrypted at rest, the schema: encrypted text columns for names, A-numbers, the date
of birth, contacts, notes, document titles and names and where a person was detained; the blind
index of the date of birth; the stored minor flag; the blind-index key's fingerprint.

The values themselves are sealed by the next migration (on PostgreSQL, rows cannot be rewritten and
the schema changed in one transaction).
"""

import django.utils.timezone
from django.db import migrations, models

import kernel.fields


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0009_facilities_no_longer_used"),
    ]

    operations = [
        migrations.CreateModel(
            name="BlindIndexKeyFingerprint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("fingerprint", models.CharField(max_length=16)),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name="case",
            name="detained_as_minor",
            field=models.BooleanField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="detainee",
            name="date_of_birth_index",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="case",
            name="detained_where",
            field=kernel.fields.EncryptedTextField(
                blank=True, max_length=200, single_line=True, verbose_name="where detained"
            ),
        ),
        migrations.AlterField(
            model_name="detainee",
            name="a_number",
            field=kernel.fields.EncryptedTextField(blank=True, max_length=9, single_line=True, verbose_name="A-number"),
        ),
        migrations.AlterField(
            model_name="detainee",
            name="date_of_birth",
            field=kernel.fields.EncryptedDateField(blank=True, null=True, verbose_name="date of birth"),
        ),
        migrations.AlterField(
            model_name="detainee",
            name="family_names",
            field=kernel.fields.EncryptedTextField(max_length=120, single_line=True, verbose_name="family names"),
        ),
        migrations.AlterField(
            model_name="detainee",
            name="given_names",
            field=kernel.fields.EncryptedTextField(max_length=120, single_line=True, verbose_name="given names"),
        ),
        migrations.AlterField(
            model_name="detainee",
            name="other_a_numbers",
            field=kernel.fields.EncryptedTextField(
                blank=True, max_length=100, single_line=True, verbose_name="other A-numbers"
            ),
        ),
        migrations.AlterField(
            model_name="detainee",
            name="other_names",
            field=kernel.fields.EncryptedTextField(
                blank=True,
                help_text="Aliases and other spellings, separated by commas.",
                max_length=300,
                single_line=True,
                verbose_name="other names",
            ),
        ),
        migrations.AlterField(
            model_name="document",
            name="original_name",
            field=kernel.fields.EncryptedTextField(max_length=200, single_line=True),
        ),
        migrations.AlterField(
            model_name="document",
            name="title",
            field=kernel.fields.EncryptedTextField(max_length=200, single_line=True, verbose_name="title"),
        ),
        migrations.AlterField(
            model_name="familycontact",
            name="name",
            field=kernel.fields.EncryptedTextField(max_length=160, single_line=True, verbose_name="name"),
        ),
        migrations.AlterField(
            model_name="familycontact",
            name="phone",
            field=kernel.fields.EncryptedTextField(blank=True, max_length=40, single_line=True, verbose_name="phone"),
        ),
        migrations.AlterField(
            model_name="note",
            name="body",
            field=kernel.fields.EncryptedTextField(verbose_name="note"),
        ),
    ]
