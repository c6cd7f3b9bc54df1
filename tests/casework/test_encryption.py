"""Personal data at rest: a raw read of the database or the private folder finds none of it.

Also: the app keeps working on top (search, duplicates, triage order), field keys rotate without
loss, and a blind-index key that does not fit the stored data stops the app from starting.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from casework import selectors, services
from casework.identity import key_fingerprint
from casework.models import BlindIndexKeyFingerprint, Detainee, DocumentKind, FamilyContact, Note
from casework.services.keys import identities_reindex, keys_verify
from demo.accounts import DEMO_ACCOUNTS, demo_account_save
from demo.cases import seed_casework
from demo.money import seed_funds
from funds.models import Bond, Donor
from kernel.crypto import key_id, keyring, parse_keys, text_key_id
from kernel.rotation import reencrypt

OLD = base64.b64encode(b"an-older-key-for-rotation-tests!").decode()
NEW = base64.b64encode(b"the-newest-key-for-rotation-test").decode()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\nPassport of Rosa Quispe Mamani, A-012-345-678\n"


def _raw(model, pk: int, column: str) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _every_stored_value() -> list[str]:
    """Every value of every row of every table, as text, read with plain SQL."""
    values = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {quote(table)}")
            for row in cursor.fetchall():
                values.extend(str(v) for v in row if v is not None)
    return values


# --- what a raw read finds ---------------------------------------------------------------


@pytest.mark.django_db
def test_no_table_holds_a_seeded_name_a_number_or_phone_number(private_root):
    for email, name, role in DEMO_ACCOUNTS:
        demo_account_save(email=email, full_name=name, role=role)
    seed_casework(count=30)
    seed_funds()
    # The demo's bonds are posted by the fund; one posted by a relative carries a person's name and phone.
    bond = Bond.objects.order_by("pk").first()
    bond.obligor_kind, bond.obligor_name, bond.obligor_phone = "person", "Teodora Quispe Apaza", "+1 555 0199"
    bond.save()
    people = list(Detainee.objects.all())
    secrets: set[str] = set()
    for person in people:
        secrets |= {person.full_name, person.family_names}
        secrets |= {name.strip() for name in person.other_names.split(",") if len(name.strip()) > 3}
        if person.a_number:
            secrets |= {person.a_number, person.a_number_display}
        secrets |= set(person.other_a_number_list)
    for contact in FamilyContact.objects.all():
        secrets.add(contact.name)
        if contact.phone:
            secrets.add(contact.phone)
    for bond in Bond.objects.exclude(obligor_name=""):
        secrets |= {bond.obligor_name, bond.obligor_phone} - {""}
    for note in Note.objects.all()[:50]:
        secrets.add(note.body[:40])
    donors = list(Donor.objects.all())
    for donor in donors:
        secrets |= {donor.email, donor.name} - {""}
    assert len(people) == 30 and FamilyContact.objects.exists() and Note.objects.exists()
    assert len(donors) >= 5 and all("@" in donor.email for donor in donors)
    assert any(p.a_number for p in people) and Bond.objects.exclude(obligor_name="").exists()

    stored = "\n".join(_every_stored_value())
    found = sorted(s for s in secrets if s in stored)

    assert found == []
    # The data is there, just not readable: every detainee's names are ciphertexts.
    assert stored.count("v1." + keyring().primary_id) >= 2 * len(people)


@pytest.mark.django_db
def test_the_private_folder_holds_no_readable_document(private_root, register_case, attorney, intake_worker):
    case = register_case(by=intake_worker)
    services.case_assign(case=case, attorney=attorney, role="lead", by=intake_worker)
    upload = SimpleUploadedFile("rosa-quispe-passport.pdf", PDF, content_type="application/pdf")
    document = services.document_upload(
        case=case, upload=upload, kind=DocumentKind.IDENTITY, title="Passport of Rosa", by=attorney
    )

    files = [p for p in private_root.rglob("*") if p.is_file()]
    assert len(files) == 1
    on_disk = files[0].read_bytes()
    assert b"PDF" not in on_disk and b"Quispe" not in on_disk and b"012-345-678" not in on_disk
    assert "rosa" not in str(files[0]).lower()
    assert _raw(type(document), document.pk, "original_name").startswith("v1.")
    # The attorney downloads exactly what was uploaded.
    client = Client()
    client.force_login(attorney)
    response = client.get(reverse("casework:document-download", args=[case.number, document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


# --- the app on top of encrypted data ------------------------------------------------------


@pytest.mark.django_db
def test_encrypted_fields_cannot_be_filtered_or_sorted_in_sql():
    with pytest.raises(FieldError):
        list(Detainee.objects.filter(family_names="Lopez"))
    with pytest.raises(FieldError):
        list(Detainee.objects.filter(family_names__icontains="lop"))
    with pytest.raises(FieldError):
        list(Detainee.objects.order_by("family_names__lower"))
    # Only emptiness can be asked (check constraints need it).
    assert Detainee.objects.filter(other_names="").count() == Detainee.objects.count()


@pytest.mark.django_db
def test_search_and_duplicate_detection_match_through_the_blind_indexes(register_case, intake_worker, supervisor):
    case = register_case(by=intake_worker, given_names="Rosa", family_names="Quispe Mamani", a_number="012345678")

    assert case.pk in {row["pk"] for row in selectors.search_case_ids("A-012-345-678")}
    assert case.pk in {row["pk"] for row in selectors.search_case_ids("quispe rosa")}
    duplicates = selectors.possible_duplicates(
        supervisor, a_number=None, names=["Roza", "Kispe Mamani"], date_of_birth=date(1990, 5, 17)
    )
    assert [d.case for d in duplicates] == [case]
    assert duplicates[0].reason == "name_and_birth_date"
    # A different birthday is not the same person.
    assert (
        selectors.possible_duplicates(
            supervisor, a_number=None, names=["Rosa", "Quispe Mamani"], date_of_birth=date(1990, 5, 18)
        )
        == []
    )


@pytest.mark.django_db
def test_the_triage_queue_puts_a_child_first_without_reading_the_date_of_birth(register_case, intake_worker):
    adult = register_case(by=intake_worker, a_number="", date_of_birth=date(1980, 1, 1), detained_on=date(2026, 11, 1))
    child = register_case(
        by=intake_worker, a_number="", given_names="Niño", date_of_birth=date(2010, 1, 1), detained_on=date(2026, 11, 1)
    )

    assert (adult.detained_as_minor, child.detained_as_minor) == (False, True)
    assert list(selectors.triage_queue())[:2] == [child, adult]
    # Correcting the birth date moves the case in the queue.
    services.case_update_details(case=child, by=intake_worker, date_of_birth=date(1970, 1, 1))
    child.refresh_from_db()
    assert child.detained_as_minor is False


# --- keys -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_field_keys_rotate_without_losing_a_value(settings, register_case, intake_worker, private_root):
    # The staff fixtures' authenticator secrets were sealed under the suite's keys: those stay
    # configured (after OLD and NEW) until the rewrite, which moves everything to NEW.
    suite_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    settings.FIELD_ENCRYPTION_KEYS = parse_keys(OLD) + suite_keys
    case = register_case(by=intake_worker, given_names="Rosa", family_names="Quispe Mamani")
    services.document_upload(
        case=case,
        upload=SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"),
        kind=DocumentKind.IDENTITY,
        title="Passport",
        by=intake_worker,
    )
    assert text_key_id(_raw(Detainee, case.detainee_id, "family_names")) == key_id(parse_keys(OLD)[0])

    settings.FIELD_ENCRYPTION_KEYS = parse_keys(f"{NEW},{OLD}") + suite_keys
    counted = reencrypt(dry_run=True)
    assert counted.behind > 0 and counted.rewritten_values == 0 and counted.files
    with pytest.raises(CommandError, match="not under the newest key"):
        call_command("reencrypt", "--check")
    done = reencrypt()
    assert done.rewritten_values + done.rewritten_files == counted.behind

    settings.FIELD_ENCRYPTION_KEYS = parse_keys(NEW)  # the old key is gone: everything still reads
    detainee = Detainee.objects.get(pk=case.detainee_id)
    assert (detainee.given_names, detainee.family_names, detainee.a_number) == ("Rosa", "Quispe Mamani", "012345678")
    assert FamilyContact.objects.get(detainee=detainee).phone == "+1 555 0100"
    assert case.documents.get().file.open().read() == PDF
    call_command("reencrypt", "--check")


@pytest.mark.django_db
def test_a_blind_index_key_that_does_not_fit_the_data_refuses_to_start(settings, register_case, intake_worker):
    BlindIndexKeyFingerprint.objects.all().delete()
    keys_verify()  # an empty database records the key in use
    assert BlindIndexKeyFingerprint.objects.get().fingerprint == key_fingerprint()
    case = register_case(by=intake_worker, a_number="012345678")
    keys_verify()  # the same key: fine

    settings.BLIND_INDEX_KEY = "a-restored-backup-with-another-key-0123456789"
    with pytest.raises(ImproperlyConfigured, match="BLIND_INDEX_KEY does not match"):
        keys_verify()
    assert not selectors.search_case_ids("012345678").exists()  # what would silently happen

    # Re-keying on purpose makes the data fit the new key.
    assert identities_reindex() == Detainee.objects.count()
    keys_verify()
    assert case.pk in {row["pk"] for row in selectors.search_case_ids("012345678")}


@pytest.mark.django_db
@pytest.mark.parametrize("a_number", ["012345678", ""])
def test_without_a_stored_fingerprint_the_key_is_tried_on_the_data(settings, register_case, intake_worker, a_number):
    register_case(by=intake_worker, a_number=a_number)
    BlindIndexKeyFingerprint.objects.all().delete()

    settings.BLIND_INDEX_KEY = "a-restored-backup-with-another-key-0123456789"
    with pytest.raises(ImproperlyConfigured, match="BLIND_INDEX_KEY does not match"):
        keys_verify()
    assert not BlindIndexKeyFingerprint.objects.exists()

    settings.BLIND_INDEX_KEY = os.environ["BLIND_INDEX_KEY"]  # the test settings' key
    keys_verify()  # the key the data was indexed with: recorded
    assert BlindIndexKeyFingerprint.objects.get().fingerprint == key_fingerprint()


@pytest.mark.django_db
def test_field_keys_that_cannot_read_the_data_refuse_to_start(settings, register_case, intake_worker):
    register_case(by=intake_worker)
    BlindIndexKeyFingerprint.objects.update_or_create(pk=1, defaults={"fingerprint": key_fingerprint()})

    settings.FIELD_ENCRYPTION_KEYS = parse_keys(NEW)
    with pytest.raises(ImproperlyConfigured, match="not in FIELD_ENCRYPTION_KEYS"):
        keys_verify()


def _second_process_env() -> dict[str, str]:
    """The environment for another process on this test database (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a database a second process can open (PostgreSQL, as in CI)")
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }


@pytest.mark.django_db(transaction=True)
def test_the_web_application_does_not_start_under_another_blind_index_key(register_case, intake_worker):
    BlindIndexKeyFingerprint.objects.all().delete()
    keys_verify()
    register_case(by=intake_worker)
    env = _second_process_env()

    def start(**extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", "import amparo.wsgi"],
            cwd=django_settings.BASE_DIR,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert start().returncode == 0
    refused = start(BLIND_INDEX_KEY="a-restored-backup-with-another-key-0123456789")
    assert refused.returncode != 0
    assert "BLIND_INDEX_KEY does not match" in refused.stderr


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_does_not_start_under_another_blind_index_key(register_case, intake_worker):
    BlindIndexKeyFingerprint.objects.all().delete()
    keys_verify()
    register_case(by=intake_worker)
    env = {
        **_second_process_env(),
        "CELERY_BROKER_URL": "memory://",
        "BLIND_INDEX_KEY": "a-restored-backup-with-another-key-0123456789",
    }

    refused = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "amparo", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert refused.returncode != 0
    assert "BLIND_INDEX_KEY does not match" in refused.stdout + refused.stderr
