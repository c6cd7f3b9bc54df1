"""A full disk or a file-size limit during an upload: a clear 400, no row, no file, not even a partial one
(kernel/storage.py; and kernel/upload_limits.py for the folder Django spools large uploads to). And a file whose transaction rolls back after it was written is removed.

The faults are real: a 1 MiB tmpfs mounted as the private storage (``ENOSPC``; needs root, skipped
otherwise) and ``RLIMIT_FSIZE`` lowered for this process (``EFBIG``, with ``SIGXFSZ`` ignored so the
write fails instead of killing the process).
"""

from __future__ import annotations

import html
import resource
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from casework import services as casework_services
from casework.models import Document
from tests.casework.test_documents import minimal_pdf
from tests.forms import once

NOT_STORED = (
    "The file could not be stored; nothing was saved. Try again later, and tell your administrator "
    "if it happens again: the server's storage may be full."
)


def files_under(root: Path) -> list[Path]:
    """Every file, hidden ones too (a partial upload is ``.partial-…``)."""
    return sorted(path for path in root.rglob("*") if path.is_file())


def use_private_root(settings, root: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(root), "base_url": None}},
    }


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 1 MiB tmpfs; unmounted afterwards."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mountpoint)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


@pytest.fixture
def tiny_disk(settings, tiny_tmpfs):
    """A 1 MiB tmpfs as the private storage."""
    use_private_root(settings, tiny_tmpfs)
    return tiny_tmpfs


@pytest.fixture
def tiny_upload_temp_dir(settings, tiny_tmpfs):
    """A 1 MiB tmpfs as the folder Django spools uploads to; files above 64 KiB are spooled."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tiny_tmpfs)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    return tiny_tmpfs


FILE_SIZE_LIMIT = 64 * 1024


@contextmanager
def file_size_limit():
    """Lower this process's file-size limit to 64 KiB (``EFBIG`` past it) for the block only.

    Only around the request: pytest itself writes its report to a file (CI's log, far above 64 KiB)
    between a test's call and its fixtures' teardown, and that write must not hit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def upload(client, case, content: bytes):
    return client.post(
        reverse("casework:document-upload", args=[case.number]),
        once({"file": SimpleUploadedFile("notice.pdf", content), "kind": "evidence", "title": "Exhibit A"}),
    )


def test_a_full_disk_is_a_form_error_and_leaves_no_row_and_no_partial_file(attorney_client, assigned_case, tiny_disk):
    content = minimal_pdf(padding=1536 * 1024)  # 1.5 MiB: the write fails part-way through

    response = upload(attorney_client, assigned_case, content)

    assert response.status_code == 422
    assert NOT_STORED in html.unescape(response.content.decode())
    assert Document.objects.filter(case=assigned_case).count() == 0
    assert files_under(tiny_disk) == []


def test_after_a_full_disk_a_file_that_fits_is_stored(attorney_client, assigned_case, tiny_disk):
    assert upload(attorney_client, assigned_case, minimal_pdf(padding=1536 * 1024)).status_code == 422

    response = upload(attorney_client, assigned_case, minimal_pdf())

    assert response.status_code == 302
    document = Document.objects.get(case=assigned_case)
    assert [path.relative_to(tiny_disk).as_posix() for path in files_under(tiny_disk)] == [document.file.name]
    assert document.file.open().read() == minimal_pdf()


def test_a_file_size_limit_is_a_form_error_and_leaves_no_row_and_no_partial_file(
    attorney_client, assigned_case, private_root
):
    content = minimal_pdf(padding=4 * FILE_SIZE_LIMIT)

    with file_size_limit():
        response = upload(attorney_client, assigned_case, content)

    assert response.status_code == 422
    assert NOT_STORED in html.unescape(response.content.decode())
    assert Document.objects.filter(case=assigned_case).count() == 0
    assert files_under(private_root) == []


def test_a_full_upload_temp_dir_is_a_clear_400_with_nothing_left_behind(
    attorney_client, assigned_case, private_root, tiny_upload_temp_dir
):
    """Before the form sees it, Django spools a large upload to its temporary folder: when that disk
    is full the request is refused as not stored (not a 500), and no partial temporary file stays."""
    response = upload(attorney_client, assigned_case, minimal_pdf(padding=1536 * 1024))

    assert response.status_code == 400
    assert NOT_STORED in html.unescape(response.content.decode())
    assert Document.objects.filter(case=assigned_case).count() == 0
    assert files_under(tiny_upload_temp_dir) == []
    assert files_under(private_root) == []


def test_after_a_full_upload_temp_dir_a_spooled_file_that_fits_is_stored(
    attorney_client, assigned_case, private_root, tiny_upload_temp_dir
):
    upload(attorney_client, assigned_case, minimal_pdf(padding=1536 * 1024))

    response = upload(attorney_client, assigned_case, minimal_pdf(padding=256 * 1024))

    assert response.status_code == 302
    assert Document.objects.filter(case=assigned_case).count() == 1
    assert files_under(tiny_upload_temp_dir) == []


def test_a_file_written_in_a_transaction_that_rolls_back_is_removed(db, private_root):
    with pytest.raises(RuntimeError), transaction.atomic():
        name = default_storage.save("documents/1/x", ContentFile(b"sealed on disk"))
        assert files_under(private_root) != []  # written: the transaction is still open
        raise RuntimeError("something after the file failed")

    assert not default_storage.exists(name)
    assert files_under(private_root) == []


def test_a_document_whose_transaction_rolls_back_after_the_upload_leaves_no_file(assigned_case, attorney, private_root):
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
    assert files_under(private_root) == []


def test_a_file_whose_transaction_commits_is_kept(db, private_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        name = default_storage.save("documents/1/x", ContentFile(b"kept"))

    assert default_storage.open(name).read() == b"kept"


def test_a_file_saved_outside_a_transaction_is_kept(private_root, transactional_db):
    name = default_storage.save("documents/1/x", ContentFile(b"kept"))

    assert default_storage.open(name).read() == b"kept"


def test_a_name_already_taken_is_never_overwritten(private_root):
    first = default_storage.save("disbursements/attachment", ContentFile(b"first"))
    second = default_storage.save("disbursements/attachment", ContentFile(b"second"))

    assert first != second
    assert (default_storage.open(first).read(), default_storage.open(second).read()) == (b"first", b"second")
