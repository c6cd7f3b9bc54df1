"""Services queue tasks by name; the look-up finds tasks a web process has not imported yet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction

from kernel.enqueue import enqueue_on_commit, registered_task

ROOT = Path(__file__).resolve().parent.parent.parent


def test_registered_task_is_found_by_name():
    assert registered_task("accounts.tasks.send_account_email").name == "accounts.tasks.send_account_email"


def test_an_unknown_task_name_is_a_key_error():
    with pytest.raises(KeyError):
        registered_task("accounts.tasks.no_such_task")


@pytest.mark.django_db(transaction=True)
def test_the_task_runs_only_after_the_transaction_commits():
    payload = {"template_prefix": "account/email/unknown_account", "email": "a@example.org", "user_id": None}
    with transaction.atomic():
        enqueue_on_commit("accounts.tasks.send_account_email", **payload)
        assert mail.outbox == []
    assert [m.subject for m in mail.outbox] == ["[Amparo] No account for this address"]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_queued_when_the_transaction_rolls_back():
    payload = {"template_prefix": "account/email/unknown_account", "email": "a@example.org", "user_id": None}
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit("accounts.tasks.send_account_email", **payload)
        raise RuntimeError("rolled back")
    assert mail.outbox == []


WEB_PROCESS = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
django.setup()
assert "casework.tasks" not in sys.modules, "set-up already imported the tasks module"
from kernel.enqueue import registered_task
print(registered_task("casework.tasks.scan_reminders").name)
"""


def test_a_web_process_that_never_imported_the_tasks_module_finds_it():
    # A fresh interpreter, set up as a web process is: no tasks module has been imported yet.
    result = subprocess.run([sys.executable, "-c", WEB_PROCESS], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "casework.tasks.scan_reminders"
