"""The encryption migration seals the personal data already there, and the way back opens it again."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.roles import Role
from casework.identity import date_of_birth_index, key_fingerprint, name_index_keys
from casework.models import BlindIndexKeyFingerprint, Case, Detainee, DetaineeNameKey, Document, FamilyContact, Note
from tests.factories import UserFactory

BEFORE = [("casework", "0009_facilities_no_longer_used")]

SCAN = b"%PDF-1.4 scan of the passport of Wilmer Ajqui Tzoc"


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def _raw(table: str, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id DESC LIMIT 1")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_plain_personal_data_is_encrypted_by_the_migration_and_decrypted_on_the_way_back(private_root):
    user = UserFactory(role=Role.INTAKE)
    executor = _migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    person = apps.get_model("casework", "Detainee").objects.create(
        given_names="Wilmer",
        family_names="Ajqui Tzoc",
        other_names="Wilmer Ajkui",
        a_number="098765432",
        date_of_birth=date(2009, 6, 1),
        created_by_id=user.pk,
    )
    apps.get_model("casework", "FamilyContact").objects.create(detainee=person, name="Juana Tzoc", phone="+1 555 0142")
    case = apps.get_model("casework", "Case").objects.create(
        number="2026-999999",
        detainee=person,
        detained_on=date(2026, 10, 1),
        detained_where="a car wash on 5th Street",
        registered_by_id=user.pk,
        registered_at=timezone.now(),
    )
    apps.get_model("casework", "Note").objects.create(case=case, author_id=user.pk, body="Juana says he is 17.")
    # A file stored before files were encrypted: plain bytes on disk.
    with open(private_root / "old-scan", "wb") as handle:
        handle.write(SCAN)
    apps.get_model("casework", "Document").objects.create(
        case=case,
        title="Passport",
        file="old-scan",
        original_name="wilmer-passport.pdf",
        content_type="application/pdf",
        size=len(SCAN),
        sha256="0" * 64,
        uploaded_by_id=user.pk,
    )

    # The live models below read columns of later migrations too: forward means to the latest.
    _migrate(list(MigrationExecutor(connection).loader.graph.leaf_nodes()))

    for table, column in [
        ("casework_detainee", "given_names"),
        ("casework_detainee", "family_names"),
        ("casework_detainee", "a_number"),
        ("casework_detainee", "date_of_birth"),
        ("casework_familycontact", "phone"),
        ("casework_case", "detained_where"),
        ("casework_note", "body"),
        ("casework_document", "original_name"),
    ]:
        assert _raw(table, column).startswith("v1."), (table, column)
    detainee = Detainee.objects.get(pk=person.pk)
    assert (detainee.full_name, detainee.a_number, detainee.date_of_birth) == (
        "Wilmer Ajqui Tzoc",
        "098765432",
        date(2009, 6, 1),
    )
    assert detainee.date_of_birth_index == date_of_birth_index(date(2009, 6, 1))
    assert Case.objects.get(pk=case.pk).detained_as_minor is True  # 17 when detained
    assert FamilyContact.objects.get(detainee=detainee).phone == "+1 555 0142"
    assert Note.objects.get(case_id=case.pk).body == "Juana says he is 17."
    assert BlindIndexKeyFingerprint.objects.get().fingerprint == key_fingerprint()
    sealed = (private_root / "old-scan").read_bytes()
    assert b"PDF" not in sealed and b"Wilmer" not in sealed
    assert Document.objects.get(case_id=case.pk).file.open().read() == SCAN

    _migrate(BEFORE)

    assert _raw("casework_detainee", "family_names") == "Ajqui Tzoc"
    assert _raw("casework_detainee", "date_of_birth") == "2009-06-01"
    assert _raw("casework_note", "body") == "Juana says he is 17."
    assert (private_root / "old-scan").read_bytes() == SCAN
    _migrate(list(MigrationExecutor(connection).loader.graph.leaf_nodes()))


@pytest.mark.django_db(transaction=True)
def test_name_keys_made_under_the_old_rules_are_recomputed():
    # A name whose second letter is a Cyrillic o (U+043E): under the old rules its key differed from the Latin spelling's.
    user = UserFactory(role=Role.INTAKE)
    executor = _migrate([("casework", "0012_oversight")])
    apps = executor.loader.project_state([("casework", "0012_oversight")]).apps
    person = apps.get_model("casework", "Detainee").objects.create(
        given_names="R\u043esa", family_names="Quispe", created_by_id=user.pk
    )
    apps.get_model("casework", "DetaineeNameKey").objects.create(detainee=person, key="stale-key-from-old-rules")

    _migrate([("casework", "0013_reindex_names_with_skeletons")])

    stored = set(DetaineeNameKey.objects.filter(detainee_id=person.pk).values_list("key", flat=True))
    assert stored == set(name_index_keys("Rosa", "Quispe"))  # the Latin spelling finds the person
    _migrate(list(MigrationExecutor(connection).loader.graph.leaf_nodes()))
