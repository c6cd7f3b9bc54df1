"""The access log filtered by person is one index range, newest first: ``(user, at, id)``.

It replaces the foreign key's own index on ``user`` (a prefix of the new one), so each access
event written still updates as many indexes as before. The new index is built before the old one
is dropped: no moment without an index on the person. The old index is dropped by name (Django's
name for it, the same on every database) rather than by altering the field, which would drop and
re-validate the foreign key: a scan of the whole log under lock.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The foreign key's index as Django named it (``schema_editor._create_index_name``).
OLD_INDEX = "accounts_accessevent_user_id_20eb4ea1"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_mfa_secrets_sealed"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="accessevent",
            index=models.Index(fields=["user", "at", "id"], name="accounts_event_user_at"),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f"DROP INDEX IF EXISTS {OLD_INDEX}",
                    reverse_sql=f"CREATE INDEX {OLD_INDEX} ON accounts_accessevent (user_id)",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="accessevent",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
