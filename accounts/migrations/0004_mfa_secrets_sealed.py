"""Authenticator secrets are sealed at rest, and an authenticator reset is remembered.

allauth keeps a TOTP secret in ``data["secret"]`` and the seed recovery codes are derived from in
``data["seed"]`` (and codes migrated from elsewhere in ``data["migrated_codes"]``); these are the
values that pass through ``MFA_ADAPTER.encrypt()``. They are sealed here with the field keyring
(``kernel.crypto``), as ``accounts.adapters.StaffMFAAdapter`` seals new ones; back, they are opened.

``User.mfa_reset_at``: when an administrator last reset the authenticator (a new enrolment then
needs the e-mailed link).
"""

from django.db import migrations, models

from kernel.crypto import keyring, text_key_id

# The same place as accounts.mfa.MFA_SECRET_PLACE (a migration does not import live code).
PLACE = "mfa.authenticator.secret"
SEALED_TEXTS = ("secret", "seed")
SEALED_LISTS = ("migrated_codes",)


def _convert(data, convert):
    data = dict(data)
    for name in SEALED_TEXTS:
        if isinstance(data.get(name), str):
            data[name] = convert(data[name])
    for name in SEALED_LISTS:
        if isinstance(data.get(name), list):
            data[name] = [convert(v) if isinstance(v, str) else v for v in data[name]]
    return data


def _seal(value):
    return value if not value or text_key_id(value) is not None else keyring().encrypt_text(value, place=PLACE)


def _open(value):
    return value if not value or text_key_id(value) is None else keyring().decrypt_text(value, place=PLACE)


def _each(apps, convert):
    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.exclude(type="webauthn").order_by("pk").iterator():
        data = _convert(row.data, convert)
        if data != row.data:
            Authenticator.objects.filter(pk=row.pk).update(data=data)


def seal(apps, schema_editor):
    _each(apps, _seal)


def open_(apps, schema_editor):
    _each(apps, _open)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_staffsession_device"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="mfa_reset_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(seal, open_),
    ]
