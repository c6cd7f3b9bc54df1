"""Authenticator secrets at rest: a raw read of ``mfa_authenticator`` finds neither the TOTP secret
nor the recovery-code seed nor a code; sign-in still works; the secrets rotate with the field keys."""

from __future__ import annotations

import base64
import json
import re
from importlib import import_module

import pytest
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.apps import apps
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from accounts.mfa import MFA_SECRET_PLACE, mfa_secret_open
from accounts.roles import Role
from kernel.crypto import DecryptionError, key_id, keyring, parse_keys, text_key_id
from kernel.rotation import reencrypt
from tests.conftest import totp_code
from tests.factories import PASSWORD, TOTP_SECRET, UserFactory

pytestmark = pytest.mark.django_db

OLD = base64.b64encode(b"an-older-key-for-mfa-rotation-t!").decode()
NEW = base64.b64encode(b"the-newest-key-for-mfa-rotation!").decode()
migration = import_module("accounts.migrations.0004_mfa_secrets_sealed")


def _raw_rows(user) -> dict[str, dict]:
    """Each authenticator of ``user`` as the database holds it, read with plain SQL."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, data FROM mfa_authenticator WHERE user_id = %s", [user.pk])
        rows = cursor.fetchall()
    return {kind: data if isinstance(data, dict) else json.loads(data) for kind, data in rows}


def _raw_text(user) -> str:
    return json.dumps(_raw_rows(user))


def _password_step(client: Client, email: str) -> None:
    client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def _enrol(user) -> str:
    """Enrol an authenticator on the real pages; returns the secret the app was shown."""
    client = Client()
    _password_step(client, user.email)
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(r"\b([A-Z2-7]{32})\b", page).group(1)
    client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return secret


def _signs_in_with(user, code: str) -> bool:
    client = Client()
    _password_step(client, user.email)
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    home = client.get("/")
    return response.status_code == 302 and not home.get("Location", "").startswith("/accounts/login/")


def _recovery_codes(user) -> list[str]:
    return RecoveryCodes(
        Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()


def test_the_database_holds_neither_the_totp_secret_nor_the_recovery_seed_nor_a_code():
    user = UserFactory(role=Role.ATTORNEY, mfa=False)
    secret = _enrol(user)
    codes = _recovery_codes(user)
    seed = mfa_secret_open(Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES).data["seed"])

    rows, dump = _raw_rows(user), _raw_text(user)

    assert set(rows) == {"totp", "recovery_codes"}
    assert secret not in dump
    assert seed not in dump
    assert not [code for code in codes if code in dump]
    for sealed in (rows["totp"]["secret"], rows["recovery_codes"]["seed"]):
        assert text_key_id(sealed) == keyring().primary_id


def test_sign_in_still_works_with_the_code_and_with_a_recovery_code():
    user = UserFactory(role=Role.ATTORNEY, mfa=False)
    secret = _enrol(user)
    cache.clear()  # the enrolment's code is good once

    assert _signs_in_with(user, totp_code(secret))
    assert _signs_in_with(user, _recovery_codes(user)[0])


def test_a_sealed_secret_does_not_open_elsewhere_and_a_plain_one_is_refused():
    sealed = get_adapter().encrypt(TOTP_SECRET)

    assert get_adapter().decrypt(sealed) == TOTP_SECRET
    with pytest.raises(DecryptionError):
        keyring().decrypt_text(sealed, place="casework.detainee.given_names")
    with pytest.raises(DecryptionError):
        get_adapter().decrypt(TOTP_SECRET)  # fail closed: never taken as a secret in the clear
    assert MFA_SECRET_PLACE == migration.PLACE


def test_the_migration_seals_existing_plain_secrets_and_opens_them_back():
    user = UserFactory(role=Role.FINANCE)
    seed = "ab" * 40
    # As allauth stored them before: in the clear (and codes migrated from another system).
    Authenticator.objects.filter(user=user, type="totp").update(data={"secret": TOTP_SECRET})
    Authenticator.objects.filter(user=user, type="recovery_codes").update(
        data={"seed": seed, "used_mask": 0, "migrated_codes": ["11112222", "33334444"]}
    )

    migration.seal(apps, None)

    dump = _raw_text(user)
    assert TOTP_SECRET not in dump and seed not in dump and "11112222" not in dump
    assert _raw_rows(user)["recovery_codes"]["used_mask"] == 0
    assert _signs_in_with(user, totp_code())
    assert _signs_in_with(user, "33334444")
    migration.seal(apps, None)  # running twice changes nothing
    assert _raw_rows(user)["totp"]["secret"] != TOTP_SECRET

    migration.open_(apps, None)

    rows = _raw_rows(user)
    assert rows["totp"] == {"secret": TOTP_SECRET}
    assert rows["recovery_codes"]["seed"] == seed
    assert rows["recovery_codes"]["migrated_codes"] == ["11112222"]


def test_reencrypt_reseals_the_secrets_under_the_newest_key(settings):
    # Secrets other tests' fixtures sealed under the suite's keys may be in the database too: those
    # keys stay configured (after OLD and NEW) until the rewrite, which moves everything to NEW.
    suite_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    settings.FIELD_ENCRYPTION_KEYS = parse_keys(OLD) + suite_keys
    user = UserFactory(role=Role.ATTORNEY)
    codes = _recovery_codes(user)
    assert {text_key_id(v) for v in (_raw_rows(user)["totp"]["secret"], _raw_rows(user)["recovery_codes"]["seed"])} == {
        key_id(parse_keys(OLD)[0])
    }

    settings.FIELD_ENCRYPTION_KEYS = parse_keys(f"{NEW},{OLD}") + suite_keys
    counted = reencrypt(dry_run=True)
    assert counted.values[key_id(parse_keys(OLD)[0])] == 2 and counted.rewritten_values == 0
    with pytest.raises(CommandError, match="not under the newest key"):
        call_command("reencrypt", "--check")
    done = reencrypt()
    assert done.rewritten_values == counted.behind

    settings.FIELD_ENCRYPTION_KEYS = parse_keys(NEW)  # the old key is gone: sign-in still works
    rows = _raw_rows(user)
    assert {text_key_id(rows["totp"]["secret"]), text_key_id(rows["recovery_codes"]["seed"])} == {
        key_id(parse_keys(NEW)[0])
    }
    assert _signs_in_with(user, totp_code())
    assert _signs_in_with(user, codes[0])
    call_command("reencrypt", "--check")
