"""``manage.py orphaned_files`` and the weekly check: files no row references, listed without contents
or personal names, and removed once they are an hour old."""

from __future__ import annotations

import logging
import os
import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from casework import services as casework_services
from kernel.tasks import orphaned_files_check
from tests.casework.test_documents import minimal_pdf


@pytest.fixture
def stored_document(assigned_case, attorney, private_root):
    return casework_services.document_upload(
        case=assigned_case,
        upload=SimpleUploadedFile("Rosa-Quispe-passport.pdf", minimal_pdf()),
        kind="identity",
        title="Passport of Rosa Quispe",
        by=attorney,
    )


def orphan(root, name: str, size: int, *, hours_old: float):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    then = time.time() - hours_old * 3600
    os.utime(path, (then, then))
    return path


def run(*args: str) -> str:
    out = StringIO()
    call_command("orphaned_files", *args, stdout=out)
    return out.getvalue()


def test_orphaned_files_lists_unreferenced_files_with_sizes_and_ages_only(stored_document, private_root):
    orphan(private_root, "documents/1/0123456789abcdef", 2048, hours_old=30)
    orphan(private_root, "documents/1/.partial-x1y2z3", 10, hours_old=0.1)

    output = run()

    assert output.splitlines() == [
        "documents/1/0123456789abcdef\t2.0\xa0KB\t30.0 h",
        "documents/1/.partial-x1y2z3\t10\xa0bytes\t6 min",
        "2 orphaned files, 2.0\xa0KB in all.",
    ]
    assert stored_document.file.name not in output
    for personal in ("Rosa", "Quispe", "passport"):
        assert personal not in output


def test_orphaned_files_delete_removes_only_those_older_than_an_hour(stored_document, private_root):
    old = orphan(private_root, "receipts/old.pdf", 100, hours_old=2)
    young = orphan(private_root, "receipts/young.pdf", 100, hours_old=0.5)

    output = run("--delete")

    assert output.splitlines()[-1] == "Deleted 1; kept 1 younger than an hour (or referenced meanwhile)."
    assert (old.exists(), young.exists()) == (False, True)
    assert stored_document.file.open().read() == minimal_pdf()  # a referenced file is never touched


def test_orphaned_files_with_nothing_to_report(stored_document, private_root):
    assert run("--delete").splitlines() == [
        "0 orphaned files, 0\xa0bytes in all.",
        "Deleted 0; kept 0 younger than an hour (or referenced meanwhile).",
    ]


def test_the_weekly_check_logs_the_count(stored_document, private_root, caplog):
    orphan(private_root, "reports/abc.csv", 5, hours_old=200)

    with caplog.at_level(logging.INFO, logger="kernel.tasks"):
        assert orphaned_files_check() == 1

    assert [record.getMessage() for record in caplog.records] == [
        "1 orphaned files in private storage (5 bytes): run `manage.py orphaned_files` to list them, "
        "`--delete` to remove those older than an hour"
    ]


def test_the_weekly_check_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["kernel-orphaned-files-check"]

    assert entry["task"] == "kernel.tasks.orphaned_files_check"
    assert entry["schedule"].day_of_week == {0}
