# A staff session keeps a coarse description of its browser ("Chrome", "Android") instead of the
# raw User-Agent, and when it was last seen. Sessions open at the migration show "Unknown browser"
# until their next sign-in (at most SESSION_ABSOLUTE_MAX_AGE later); their last-seen time starts
# at their sign-in.

import django.utils.timezone
from django.db import migrations, models


def last_seen_from_start(apps, schema_editor):
    StaffSession = apps.get_model("accounts", "StaffSession")
    StaffSession.objects.update(last_seen_at=models.F("started_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles_and_append_only_access_log"),
    ]

    operations = [
        migrations.AddField(
            model_name="staffsession",
            name="browser",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="staffsession",
            name="platform",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="staffsession",
            name="last_seen_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(last_seen_from_start, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="staffsession",
            name="user_agent",
        ),
    ]
