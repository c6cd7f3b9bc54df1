"""Backup and restore for real: ``scripts/backup.sh`` against the test database, ``scripts/restore.sh``
into a fresh database (``createdb`` on the same PostgreSQL) and a fresh files folder, then the
application pointed at the restored database reads every record and file and still detects a
duplicate A-number; under another blind-index key the restore, the web application and
``verify_restore`` all refuse, saying why.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accounts.roles import Role
from casework import services as casework_services
from casework.models import Document
from casework.services.keys import keys_verify
from tests.casework.test_documents import minimal_pdf, one_pixel_png
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
A_NUMBER = "012345678"
OTHER_INDEX_KEY = "another-blind-index-key-0123456789abcdefghijklmnop"
DUPLICATE_CHECK = f"""
from django.core.exceptions import ValidationError
from accounts.models import User
from casework import services
try:
    services.case_register(
        data=services.IntakeData(given_names="Otra", family_names="Persona", a_number="{A_NUMBER}"),
        by=User.objects.order_by("pk").first(),
    )
except ValidationError as exc:
    print("refused:", exc.message_dict["a_number"][0])
else:
    print("accepted as new")
"""


def database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST']}:{db['PORT']}/{name}"


def pg_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": db["HOST"],
        "PGPORT": str(db["PORT"]),
        "PGUSER": db["USER"],
        "PGPASSWORD": db["PASSWORD"] or "",
    }


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``args`` from the checkout with the test settings and ``env`` over this process's environment."""
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHON": sys.executable, **env}
    return subprocess.run(args, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120, check=False)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "manage.py", *args], **env)


@pytest.fixture
def fresh_databases():
    """``fresh()`` creates an empty database on the test server and returns its name; all dropped afterwards."""
    made: list[str] = []

    def fresh() -> str:
        name = f"amparo_restored_{uuid.uuid4().hex[:8]}"
        subprocess.run(["createdb", name], env=pg_env(), check=True)
        made.append(name)
        return name

    yield fresh
    for name in made:
        subprocess.run(["dropdb", "--force", "--if-exists", name], env=pg_env(), check=True)


@pytest.fixture
def cases_with_documents(private_root):
    """Two people with cases, three documents: committed through the services, as intake and an attorney do."""
    intake, attorney = UserFactory(role=Role.INTAKE), UserFactory(role=Role.ATTORNEY)
    first = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Rosa", family_names="Quispe Mamani", a_number=A_NUMBER),
        by=intake,
    )
    second = casework_services.case_register(
        data=casework_services.IntakeData(given_names="José", family_names="Hernández", a_number="087654321"),
        by=intake,
    )
    contents = [minimal_pdf(), minimal_pdf(padding=5000), one_pixel_png()]
    for case, content in zip([first, first, second], contents, strict=True):
        casework_services.document_upload(
            case=case, upload=SimpleUploadedFile("scan", content), kind="evidence", title="Exhibit", by=attorney
        )
    keys_verify()  # the blind-index key's fingerprint is stored with the data (a flushed test database lost it)
    return [hashlib.sha256(content).hexdigest() for content in contents]


def test_a_backup_restores_into_a_fresh_database_readable_and_still_detecting_duplicates(
    cases_with_documents, private_root, tmp_path, fresh_databases
):
    source = {"DATABASE_URL": database_url(connection.settings_dict["NAME"]), "PRIVATE_MEDIA_ROOT": str(private_root)}
    backed_up = run(["scripts/backup.sh", str(tmp_path / "backups"), str(tmp_path / "keys")], **source)
    assert backed_up.returncode == 0, backed_up.stderr
    backup = Path(backed_up.stdout.strip())
    assert sorted(path.name for path in backup.iterdir()) == ["SHA256SUMS", "database.dump", "files.tar", "manifest"]
    manifest = dict(line.split("=", 1) for line in (backup / "manifest").read_text().splitlines())
    assert manifest["files_count"] == "3"
    (keys_file,) = (tmp_path / "keys").iterdir()
    assert keys_file.stat().st_mode & 0o777 == 0o600
    assert manifest["keys_sha256"] == hashlib.sha256(keys_file.read_bytes()).hexdigest()

    # The keys come from the keys file, not from this environment's (deliberately wrong) values.
    target = {
        "DATABASE_URL": database_url(fresh_databases()),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "restored-files"),
    }
    wrong_keys = {
        "BLIND_INDEX_KEY": OTHER_INDEX_KEY,
        "FIELD_ENCRYPTION_KEYS": "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy0wMDAwMDA=",
    }
    restored = run(["scripts/restore.sh", str(backup), str(keys_file)], **target, **wrong_keys)
    assert restored.returncode == 0, restored.stderr
    assert "verify_restore: OK, " in restored.stdout

    # The application on the restored database, with the backup's keys, reads everything.
    verified = manage("verify_restore", **target)
    assert verified.returncode == 0, verified.stderr
    assert "files casework.document.file: 3 opened, 3 SHA-256 checked" in verified.stdout.splitlines()
    restored_files = sorted(path for path in (tmp_path / "restored-files").rglob("*") if path.is_file())
    assert len(restored_files) == 3

    duplicate = manage("shell", "--no-imports", "-c", DUPLICATE_CHECK, **target)
    assert duplicate.stdout.strip() == "refused: A person with this A-number is already registered.", duplicate.stderr

    # Under another blind-index key, the restored installation refuses to start, saying why.
    other_key = {**target, "BLIND_INDEX_KEY": OTHER_INDEX_KEY}
    web = run([sys.executable, "-c", "import amparo.wsgi"], **other_key)
    assert web.returncode != 0
    assert "BLIND_INDEX_KEY does not match the key the stored indexes were made with" in web.stderr
    refused = manage("verify_restore", **other_key)
    assert refused.returncode == 1
    assert "BLIND_INDEX_KEY does not match the key the stored indexes were made with" in refused.stderr
    assert "reindex_identities" in refused.stderr


def test_a_restore_under_another_blind_index_key_refuses_unless_told_to_reindex(
    cases_with_documents, private_root, tmp_path, fresh_databases
):
    source = {"DATABASE_URL": database_url(connection.settings_dict["NAME"]), "PRIVATE_MEDIA_ROOT": str(private_root)}
    backed_up = run(["scripts/backup.sh", str(tmp_path / "backups"), str(tmp_path / "keys")], **source)
    assert backed_up.returncode == 0, backed_up.stderr
    backup = backed_up.stdout.strip()
    target = {
        "DATABASE_URL": database_url(fresh_databases()),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "restored-files"),
        "BLIND_INDEX_KEY": OTHER_INDEX_KEY,
    }

    refused = run(["scripts/restore.sh", backup], **target)

    assert refused.returncode == 2
    assert "BLIND_INDEX_KEY of this environment" in refused.stderr
    assert "is not the key of this backup" in refused.stderr
    assert "reindex_identities" in refused.stderr
    tables = subprocess.run(
        ["psql", "-XAtc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", target["DATABASE_URL"]],
        env=pg_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert tables.stdout.strip() == "0"
    assert not (tmp_path / "restored-files").exists()

    # The old key lost, or replaced on purpose: restored and re-indexed under the new one.
    reindexed = run(["scripts/restore.sh", "--new-index-key", backup], **target)

    assert reindexed.returncode == 0, reindexed.stderr
    assert "Indexed 2 detainees" in reindexed.stdout
    duplicate = manage("shell", "--no-imports", "-c", DUPLICATE_CHECK, **target)
    assert duplicate.stdout.strip() == "refused: A person with this A-number is already registered.", duplicate.stderr
    assert run([sys.executable, "-c", "import amparo.wsgi"], **target).returncode == 0


def test_a_restore_refuses_a_database_that_is_not_empty(cases_with_documents, private_root, tmp_path):
    source = {"DATABASE_URL": database_url(connection.settings_dict["NAME"]), "PRIVATE_MEDIA_ROOT": str(private_root)}
    backed_up = run(["scripts/backup.sh", str(tmp_path / "backups"), str(tmp_path / "keys")], **source)
    assert backed_up.returncode == 0, backed_up.stderr

    refused = run(
        ["scripts/restore.sh", backed_up.stdout.strip()], **{**source, "PRIVATE_MEDIA_ROOT": str(tmp_path / "new")}
    )

    assert refused.returncode == 2
    assert "is not empty" in refused.stderr
    assert Document.objects.count() == 3


def test_verify_restore_fails_on_a_damaged_file(cases_with_documents, private_root):
    damaged = Document.objects.order_by("pk").first()
    path = private_root / damaged.file.name
    path.write_bytes(path.read_bytes()[:-1] + b"?")

    result = manage(
        "verify_restore",
        DATABASE_URL=database_url(connection.settings_dict["NAME"]),
        PRIVATE_MEDIA_ROOT=str(private_root),
    )

    assert result.returncode == 1
    assert f"FAILED casework.document.file row {damaged.pk}: file DecryptionError" in result.stderr
    assert "files casework.document.file: 2 opened, 2 SHA-256 checked" in result.stdout.splitlines()
