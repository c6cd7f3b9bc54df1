"""Name keys now fold look-alike letters (Unicode TR39 skeletons) and drop bidi controls: every
detainee's name keys are recomputed, so a name stored before still matches the same name typed
today. Only the keyed indexes change; the names themselves are not touched.

Runs on the historical models with the current matching rules (``casework.identity``); backward
is a no-op (the old keys would need the old rules).
"""

from django.db import migrations

from casework.identity import name_index_keys


def forwards(apps, schema_editor):
    Detainee = apps.get_model("casework", "Detainee")
    NameKey = apps.get_model("casework", "DetaineeNameKey")
    for detainee in Detainee.objects.filter(erased_at__isnull=True).iterator():
        keys = set(name_index_keys(detainee.given_names, detainee.family_names, detainee.other_names))
        NameKey.objects.filter(detainee=detainee).exclude(key__in=keys).delete()
        existing = set(NameKey.objects.filter(detainee=detainee).values_list("key", flat=True))
        NameKey.objects.bulk_create([NameKey(detainee=detainee, key=k) for k in keys - existing])


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0012_oversight"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
