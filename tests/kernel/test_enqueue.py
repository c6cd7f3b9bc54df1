"""Services queue tasks by name; the look-up finds tasks a web process has not imported yet."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from celery import current_app
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from kernel.enqueue import enqueue_on_commit, outbox_backlog, outbox_sweep, registered_task
from kernel.models import OutboxMessage

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


# --- The outbox: the request to do the work commits with the work -----------------------------

PAYLOAD = {"template_prefix": "account/email/unknown_account", "email": "a@example.org", "user_id": None}


@pytest.fixture
def broker_down(settings):
    """Not eager, and a broker that refuses connections at once (a closed port on 127.0.0.1)."""
    keys = ("broker_url", "broker_write_url", "task_always_eager", "broker_connection_retry")
    saved = {key: current_app.conf[key] for key in keys}
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    current_app.conf.update(broker_url=url, broker_write_url=url, task_always_eager=False)
    current_app.conf.update(broker_connection_retry=False, task_publish_retry=False)
    current_app._pool = None
    current_app.amqp._producer_pool = None
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.OUTBOX_BACKOFF_SECONDS = 0
    yield
    current_app.conf.update(saved, task_publish_retry=True)
    current_app._pool = None
    current_app.amqp._producer_pool = None


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_the_request_is_a_row_written_in_the_same_transaction_and_marked_sent():
    with transaction.atomic():
        enqueue_on_commit("accounts.tasks.send_account_email", **PAYLOAD)
        message = OutboxMessage.objects.get()
        assert message.sent_at is None and json.loads(message.arguments) == PAYLOAD
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit("accounts.tasks.send_account_email", **PAYLOAD)
        raise RuntimeError("rolled back")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_arguments_are_encrypted_at_rest():
    enqueue_on_commit("accounts.tasks.send_account_email", **PAYLOAD)
    with connection.cursor() as cursor:
        cursor.execute("SELECT arguments FROM kernel_outboxmessage")
        (stored,) = cursor.fetchone()
    assert "a@example.org" not in stored


def test_an_unknown_task_fails_in_the_request_not_later():
    with pytest.raises(KeyError):
        enqueue_on_commit("accounts.tasks.no_such_task", user_id=1)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_commit_succeeds_and_the_sweep_sends_it_later(broker_down, caplog):
    with transaction.atomic():
        enqueue_on_commit("accounts.tasks.send_account_email", **PAYLOAD)
    message = OutboxMessage.objects.get()
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    assert "a@example.org" not in caplog.text  # only the exception's class is logged

    # Still down: the sweep keeps it.
    assert outbox_sweep(older_than_seconds=0)["failed"] == 1
    assert OutboxMessage.objects.get().sent_at is None

    # Back up (here: in-process), the sweep sends it and the e-mail goes out once.
    current_app.conf.update(task_always_eager=True)
    assert outbox_sweep(older_than_seconds=0) == {"sent": 1, "failed": 0, "deleted": 0}
    assert OutboxMessage.objects.get().sent_at is not None
    assert [m.subject for m in mail.outbox] == ["[Amparo] No account for this address"]
    assert outbox_sweep(older_than_seconds=0)["sent"] == 0  # nothing is sent twice by the sweep


@pytest.mark.django_db(transaction=True)
def test_after_a_failure_the_process_leaves_new_messages_to_the_sweep_for_a_while(broker_down, settings):
    settings.OUTBOX_BACKOFF_SECONDS = 60
    enqueue_on_commit("accounts.tasks.send_account_email", **PAYLOAD)
    enqueue_on_commit("accounts.tasks.send_account_email", **PAYLOAD)
    attempts = sorted(OutboxMessage.objects.values_list("attempts", flat=True))
    assert attempts == [0, 1]  # the second request did not wait for the broker again


@pytest.mark.django_db(transaction=True)
def test_the_sweep_leaves_young_messages_to_their_commit_hook_and_drops_old_sent_ones(settings):
    settings.OUTBOX_KEEP_DAYS = 7
    young = OutboxMessage.objects.create(task_name="accounts.tasks.send_account_email", arguments=json.dumps(PAYLOAD))
    old = OutboxMessage.objects.create(
        task_name="accounts.tasks.send_account_email",
        arguments="{}",
        sent_at=timezone.now() - timedelta(days=8),
    )
    counts = outbox_sweep(older_than_seconds=30)
    assert counts == {"sent": 0, "failed": 0, "deleted": 1}
    assert OutboxMessage.objects.filter(pk=young.pk, sent_at__isnull=True).exists()
    assert not OutboxMessage.objects.filter(pk=old.pk).exists()
    assert outbox_backlog(older_than_seconds=0) == 1
