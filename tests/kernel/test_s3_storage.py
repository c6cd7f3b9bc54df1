"""Private files in an S3-compatible object store (``PRIVATE_STORAGE=s3``, kernel/storage.py).

A real server (moto in server mode, a subprocess on 127.0.0.1: tests/kernel/s3server.py) and the real
boto3 client over HTTP. The guarantees are the filesystem storage's: every object sealed in the same
framing, never a partial or replaced object, none left by a rolled-back transaction, a clear 400 and no
row when the store is down or hung, orphans listed; and no URL, signed or not, is ever made.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import socket
import subprocess
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import services as casework_services
from casework.models import Document
from funds.models import Donation, Donor, Fund
from funds.services.receipts import donation_send_receipt
from kernel.crypto import FILE_MAGIC, key_id, parse_keys
from kernel.crypto import new_key as new_key_text
from kernel.rotation import reencrypt
from kernel.storage import (
    EncryptedFileSystemStorage,
    EncryptedS3Storage,
    FileNotStored,
    orphaned_files,
    orphaned_files_delete,
)
from reports import services as report_services
from reports.models import ReportKind, ReportRun
from tests.casework.test_documents import minimal_pdf
from tests.factories import UserFactory
from tests.forms import once
from tests.kernel.s3server import S3Server
from tests.security.test_settings import PRODUCTION
from tests.security.test_settings import _manage as manage

NOT_STORED = (
    "The file could not be stored; nothing was saved. Try again later, and tell your administrator "
    "if it happens again: the server's storage may be full."
)
PREFIX = "amparo"  # S3_PREFIX of the tests' storage (s3server.storage_options)


@pytest.fixture(scope="module")
def s3_server():
    server = S3Server().start()
    yield server
    server.stop()


class Bucket:
    """The tests' own look at the bucket, through a boto3 client of their own."""

    def __init__(self, server: S3Server, name: str) -> None:
        self.server, self.name, self.client = server, name, server.client()

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return sorted(entry["Key"] for entry in listing.get("Contents", ()))

    def raw(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=f"{PREFIX}/{name}")["Body"].read()

    def put_raw(self, name: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=f"{PREFIX}/{name}", Body=body)


def use_s3(settings, server: S3Server, bucket: str, **overrides) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "kernel.storage.EncryptedS3Storage",
            "OPTIONS": server.storage_options(bucket, **overrides),
        },
    }


@pytest.fixture
def bucket(settings, s3_server) -> Bucket:
    """A new, empty bucket as the default (private) storage."""
    name = s3_server.new_bucket()
    use_s3(settings, s3_server, name)
    return Bucket(s3_server, name)


def upload(client, case, content: bytes):
    return client.post(
        reverse("casework:document-upload", args=[case.number]),
        once({"file": SimpleUploadedFile("notice.pdf", content), "kind": "evidence", "title": "Exhibit A"}),
    )


def download(client, case, document):
    return client.get(reverse("casework:document-download", args=[case.number, document.pk]))


# --- Sealed, private, served only by the permission-checked view ----------------------------


def test_an_uploaded_document_is_stored_sealed_and_private_in_the_bucket(attorney_client, assigned_case, bucket):
    content = minimal_pdf()

    response = upload(attorney_client, assigned_case, content)

    assert response.status_code == 302
    document = Document.objects.get(case=assigned_case)
    assert bucket.keys() == [f"{PREFIX}/{document.file.name}"]
    raw = bucket.raw(document.file.name)
    assert raw.startswith(FILE_MAGIC)
    assert b"%PDF" not in raw and b"/Type /Catalog" not in raw
    head = bucket.client.head_object(Bucket=bucket.name, Key=f"{PREFIX}/{document.file.name}")
    assert head["ContentType"] == "application/octet-stream"  # not even the type is told
    grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=f"{PREFIX}/{document.file.name}")["Grants"]
    assert [(grant["Grantee"]["Type"], grant["Permission"]) for grant in grants] == [("CanonicalUser", "FULL_CONTROL")]
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert default_storage.size(document.file.name) == len(content)


def test_a_document_in_the_bucket_is_downloaded_by_its_attorney_only(attorney_client, assigned_case, bucket):
    content = minimal_pdf()
    upload(attorney_client, assigned_case, content)
    document = Document.objects.get(case=assigned_case)
    stranger = Client()
    stranger.force_login(UserFactory(role=Role.ATTORNEY))

    mine = download(attorney_client, assigned_case, document)
    theirs = download(stranger, assigned_case, document)

    assert mine.status_code == 200
    assert b"".join(mine.streaming_content) == content
    assert mine["Content-Disposition"].startswith("attachment;")
    assert theirs.status_code == 404


def test_no_url_is_ever_made_for_a_stored_object(attorney_client, assigned_case, bucket):
    upload(attorney_client, assigned_case, minimal_pdf())
    document = Document.objects.get(case=assigned_case)

    with pytest.raises(NotImplementedError, match="no URL"):
        default_storage.url(document.file.name)
    with pytest.raises(NotImplementedError, match="no URL"):
        _ = document.file.url
    page = attorney_client.get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()
    assert bucket.server.url not in page and "X-Amz-Signature" not in page


def test_a_public_acl_or_overwriting_is_refused_at_start(s3_server):
    bucket = s3_server.new_bucket()

    with pytest.raises(Exception, match="never public"):
        EncryptedS3Storage(**s3_server.storage_options(bucket, default_acl="public-read"))
    with pytest.raises(Exception, match="never replaces"):
        EncryptedS3Storage(**s3_server.storage_options(bucket, file_overwrite=True))
    with pytest.raises(Exception, match="S3_BUCKET"):
        EncryptedS3Storage(**s3_server.storage_options(""))


def test_server_side_encryption_is_asked_for_when_configured(settings, s3_server):
    name = s3_server.new_bucket()
    use_s3(settings, s3_server, name, object_parameters={"ServerSideEncryption": "AES256"})
    bucket = Bucket(s3_server, name)

    stored = default_storage.save("documents/1/sse", ContentFile(b"sealed twice"))

    head = bucket.client.head_object(Bucket=name, Key=f"{PREFIX}/{stored}")
    assert head["ServerSideEncryption"] == "AES256"
    assert default_storage.open(stored).read() == b"sealed twice"


# --- Receipts and report files round-trip ---------------------------------------------------


def test_a_receipt_pdf_is_stored_sealed_in_the_bucket_and_read_back(db, bucket, settings):
    settings.FUND_LEGAL_NAME = "Amparo Legal Defense Fund (test)"
    settings.FUND_ADDRESS = "1 Test Plaza, Testville, NY 10001"
    settings.FUND_TAX_ID = "12-3456789"
    donor = Donor.objects.create(email="maria@example.org", name="María Donante Núñez")
    donation = Donation.objects.create(
        donor=donor,
        fund=Fund.objects.get(slug="general"),
        amount_cents=12500,
        status=Donation.Status.PAID,
        paid_at=timezone.now(),
    )

    donation_send_receipt(donation=donation)

    donation.refresh_from_db()
    assert bucket.keys() == [f"{PREFIX}/{donation.receipt_pdf.name}"]
    assert bucket.raw(donation.receipt_pdf.name).startswith(FILE_MAGIC)
    with donation.receipt_pdf.open("rb") as stored:
        pdf = stored.read()
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).hexdigest() == donation.receipt_sha256


def test_a_report_run_stores_its_files_in_the_bucket_and_they_download(
    db, client, bucket, django_capture_on_commit_callbacks
):
    auditor = UserFactory(role=Role.AUDITOR)
    client.force_login(auditor)
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        report_services.report_request(
            kind=ReportKind.FUND_STATEMENT, fund=None, by=auditor, date_from=today - timedelta(days=30), date_to=today
        )
    run = ReportRun.objects.get()

    assert run.status == ReportRun.Status.DONE, run.error
    assert bucket.keys() == sorted(f"{PREFIX}/{name}" for name in (run.pdf.name, run.csv.name))
    assert all(bucket.raw(name).startswith(FILE_MAGIC) for name in (run.pdf.name, run.csv.name))
    response = client.get(reverse("reports:report-download", args=[run.pk, "pdf"]))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert body.startswith(b"%PDF-")
    assert hashlib.sha256(body).hexdigest() == run.pdf_sha256


# --- Never a partial, replaced or rolled-back object ----------------------------------------


def test_an_object_whose_transaction_rolls_back_is_deleted(db, bucket):
    with pytest.raises(RuntimeError), transaction.atomic():
        name = default_storage.save("documents/1/x", ContentFile(b"written, then rolled back"))
        assert bucket.keys() == [f"{PREFIX}/{name}"]  # written: the transaction is still open
        raise RuntimeError("something after the file failed")

    assert bucket.keys() == []


def test_a_document_whose_transaction_rolls_back_after_the_upload_leaves_no_object(assigned_case, attorney, bucket):
    with pytest.raises(RuntimeError), transaction.atomic():
        casework_services.document_upload(
            case=assigned_case,
            upload=SimpleUploadedFile("notice.pdf", minimal_pdf()),
            kind="notice",
            title="Notice",
            by=attorney,
        )
        raise RuntimeError("the enclosing transaction fails at the end")

    assert Document.objects.filter(case=assigned_case).count() == 0
    assert bucket.keys() == []


def test_an_object_whose_transaction_commits_is_kept(db, bucket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        name = default_storage.save("documents/1/x", ContentFile(b"kept"))

    assert default_storage.open(name).read() == b"kept"
    assert bucket.keys() == [f"{PREFIX}/{name}"]


def test_a_name_already_taken_is_never_overwritten(db, bucket):
    first = default_storage.save("disbursements/attachment", ContentFile(b"first"))
    second = default_storage.save("disbursements/attachment", ContentFile(b"second"))

    assert first != second
    assert (default_storage.open(first).read(), default_storage.open(second).read()) == (b"first", b"second")


def test_a_name_taken_between_the_check_and_the_write_is_not_overwritten(db, bucket):
    """The PUT is conditional (If-None-Match: *): an object that appeared since the name was checked stays."""
    bucket.put_raw("documents/1/race", b"written by another process")

    name = default_storage._save("documents/1/race", ContentFile(b"mine"))

    assert name != "documents/1/race"
    assert bucket.raw("documents/1/race") == b"written by another process"
    assert default_storage.open(name).read() == b"mine"


def test_a_file_copied_between_the_folder_and_the_bucket_stays_readable(db, bucket, tmp_path):
    on_disk = EncryptedFileSystemStorage(location=str(tmp_path))
    name = on_disk.save("documents/7/moved", ContentFile(b"the same framing everywhere"))

    bucket.put_raw(name, (tmp_path / name).read_bytes())

    assert default_storage.open(name).read() == b"the same framing everywhere"


# --- The store down or hung: a clear 400, no row, no object ---------------------------------


def test_an_upload_while_the_store_is_down_is_a_clear_400_and_leaves_no_row(settings, attorney_client, assigned_case):
    own = S3Server().start()
    try:
        name = own.new_bucket()
        use_s3(settings, own, name)
        assert upload(attorney_client, assigned_case, minimal_pdf()).status_code == 302
        own.stop()

        started = time.monotonic()
        response = upload(attorney_client, assigned_case, minimal_pdf())
        elapsed = time.monotonic() - started
    finally:
        own.stop()

    assert response.status_code == 422
    assert NOT_STORED in html.unescape(response.content.decode())
    assert Document.objects.filter(case=assigned_case).count() == 1  # the first upload only
    assert elapsed < 10


@pytest.fixture
def hung_store():
    """A server that accepts connections and never answers: a hung object store."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_hung_store_costs_a_bounded_wait_then_a_clear_400(settings, attorney_client, assigned_case, hung_store):
    server = S3Server()
    server.url = hung_store
    use_s3(settings, server, "amparo-hung", read_timeout=1, connect_timeout=1, max_attempts=2)

    started = time.monotonic()
    response = upload(attorney_client, assigned_case, minimal_pdf())
    elapsed = time.monotonic() - started

    assert response.status_code == 422
    assert NOT_STORED in html.unescape(response.content.decode())
    assert Document.objects.filter(case=assigned_case).count() == 0
    assert elapsed < 8  # two tries of a one-second read timeout, and the backoff between them


def test_a_task_writing_to_a_store_that_is_down_gets_an_oserror_it_retries(db, settings):
    server = S3Server()  # never started: nothing listens on its port
    use_s3(settings, server, "amparo-down")

    with pytest.raises(FileNotStored) as raised:
        default_storage.save("receipts/x.pdf", ContentFile(b"%PDF-"))

    assert isinstance(raised.value, OSError)
    assert raised.value.code == "storage_failed"


# --- Orphans and verification on the bucket -------------------------------------------------


def test_orphaned_files_lists_an_unreferenced_object_and_deletes_it_when_old(attorney_client, assigned_case, bucket):
    upload(attorney_client, assigned_case, minimal_pdf())
    document = Document.objects.get(case=assigned_case)
    orphan = default_storage.save("documents/1/orphan", ContentFile(b"no row names me"))

    found = orphaned_files()
    output = io.StringIO()
    call_command("orphaned_files", stdout=output)

    assert [stored.name for stored in found] == [orphan]
    assert f"{orphan}\t" in output.getvalue()
    assert "1 orphaned files" in output.getvalue()
    assert orphaned_files_delete(now=timezone.now()) == []  # young: may belong to an open transaction
    deleted = orphaned_files_delete(now=timezone.now() + timedelta(hours=2))
    assert [stored.name for stored in deleted] == [orphan]
    assert bucket.keys() == [f"{PREFIX}/{document.file.name}"]


def test_verify_restore_reads_every_object_and_names_a_damaged_one(attorney_client, assigned_case, bucket):
    upload(attorney_client, assigned_case, minimal_pdf())
    document = Document.objects.get(case=assigned_case)
    output = io.StringIO()

    call_command("verify_restore", stdout=output)

    assert "files casework.document.file: 1 opened, 1 SHA-256 checked" in output.getvalue()
    bucket.put_raw(document.file.name, bucket.raw(document.file.name)[:-1] + b"!")
    errors = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_restore", stdout=io.StringIO(), stderr=errors)
    assert f"FAILED casework.document.file row {document.pk}: file DecryptionError" in errors.getvalue()


def test_verify_restore_names_a_missing_object(attorney_client, assigned_case, bucket):
    upload(attorney_client, assigned_case, minimal_pdf())
    document = Document.objects.get(case=assigned_case)
    bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/{document.file.name}")
    errors = io.StringIO()

    with pytest.raises(CommandError):
        call_command("verify_restore", stdout=io.StringIO(), stderr=errors)

    assert f"FAILED casework.document.file row {document.pk}: file missing" in errors.getvalue()


# --- Settings -------------------------------------------------------------------------------


S3_PRODUCTION = {
    **PRODUCTION,
    "PRIVATE_STORAGE": "s3",
    "S3_BUCKET": "amparo-private",
    "S3_ENDPOINT_URL": "https://objects.example.org",
    "S3_REGION": "eu-west-1",
    "S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "S3_SECRET_ACCESS_KEY": "example-secret",
}


def test_production_settings_with_s3_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=S3_PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_plain_http_store_elsewhere_is_a_deploy_warning():
    result = manage("check", "--deploy", env={**S3_PRODUCTION, "S3_ENDPOINT_URL": "http://objects.example.org"})

    assert "kernel.W003" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"S3_BUCKET": ""}, "PRIVATE_STORAGE=s3 needs S3_BUCKET"),
        ({"PRIVATE_STORAGE": "ftp"}, "PRIVATE_STORAGE='ftp' must be one of"),
        ({"S3_SECRET_ACCESS_KEY": ""}, "Set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"),
        ({"S3_SERVER_SIDE_ENCRYPTION": "rot13"}, "S3_SERVER_SIDE_ENCRYPTION='rot13' must be one of"),
        ({"S3_READ_TIMEOUT_SECONDS": "0"}, "S3_READ_TIMEOUT_SECONDS=0 must be at least 1"),
        ({"S3_ENDPOINT_URL": "objects.example.org"}, "is not an http(s):// address"),
    ],
)
def test_bad_s3_settings_stop_start_up_with_a_clear_message(env, message):
    result = manage("check", env={**S3_PRODUCTION, **env})

    assert result.returncode != 0
    assert message in result.stderr


def test_a_backup_of_an_installation_on_s3_names_the_bucket_and_archives_no_folder():
    """backup.sh leaves the files to the bucket (its versioning and replication) and says where they are."""
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "DATABASE_URL") if k in os.environ}
    script = django_settings.BASE_DIR / "scripts" / "backup.sh"

    result = subprocess.run(
        [str(script), "--describe"],
        env={**clean, **S3_PRODUCTION, "S3_PREFIX": "private/"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert (lines["files_dir"], lines["files_store"]) == ("", "s3://amparo-private/private")


def test_an_object_under_an_older_key_is_resealed_with_the_newest(db, bucket, settings):
    """What ``manage.py reencrypt`` needs of the bucket: which key sealed an object, and a whole rewrite."""
    old_key, new_key = new_key_text(), new_key_text()
    settings.FIELD_ENCRYPTION_KEYS = parse_keys(old_key)
    name = default_storage.save("documents/1/old", ContentFile(b"under the old key"))
    settings.FIELD_ENCRYPTION_KEYS = parse_keys(f"{new_key},{old_key}")

    assert default_storage.sealed_key_id(name) == key_id(parse_keys(old_key)[0])
    assert default_storage.rewrite_with_newest_key(name) is True
    assert default_storage.rewrite_with_newest_key(name) is False
    assert default_storage.sealed_key_id(name) == key_id(parse_keys(new_key)[0])
    settings.FIELD_ENCRYPTION_KEYS = parse_keys(new_key)
    assert default_storage.open(name).read() == b"under the old key"


def test_reencrypt_reseals_every_object_in_the_bucket_so_the_old_key_can_go(db, bucket, settings):
    """``manage.py reencrypt`` on a bucket: counted by key, rewritten whole, readable with the new key alone."""
    old_key, new_key = new_key_text(), new_key_text()
    settings.FIELD_ENCRYPTION_KEYS = parse_keys(old_key)
    names = [default_storage.save(f"documents/1/{n}", ContentFile(b"sealed %d" % n)) for n in range(3)]
    settings.FIELD_ENCRYPTION_KEYS = parse_keys(f"{new_key},{old_key}")

    counted = reencrypt(dry_run=True)
    assert counted.files[key_id(parse_keys(old_key)[0])] == 3 and counted.rewritten_files == 0
    assert reencrypt().rewritten_files == 3

    settings.FIELD_ENCRYPTION_KEYS = parse_keys(new_key)
    assert [default_storage.open(name).read() for name in names] == [b"sealed 0", b"sealed 1", b"sealed 2"]
    assert reencrypt(dry_run=True).files == {key_id(parse_keys(new_key)[0]): 3}
