"""The local default broker (kombu's filesystem transport) on a fresh checkout: no folder exists yet.

Processes started as ``Procfile.dev`` starts them, without ``make demo`` having made the folders:
one sends a task, a worker takes it. Neither dies with ``FileNotFoundError``: the app creates the
folders its broker needs when it is configured (``amparo.celery``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

TASK = "kernel.tasks.submission_keys_expire"  # harmless: forgets old one-time keys


def _environment(var_dir: Path) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CELERY_BROKER_URL": "filesystem://",
        "AMPARO_VAR_DIR": str(var_dir),
        # The worker checks the keys against the data at start: the test database, migrated.
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }


def test_a_fresh_checkout_sends_and_works_off_a_task_without_making_any_folder(tmp_path):
    var_dir = tmp_path / "var"  # does not exist
    environment = _environment(var_dir)
    celery = [sys.executable, "-m", "celery", "-A", "amparo"]

    sent = subprocess.run([*celery, "call", TASK], env=environment, capture_output=True, text=True, timeout=60)
    queued = [path.name for path in (var_dir / "celery-queue").glob("*.msg")]
    worker = subprocess.Popen(
        [
            *celery,
            "worker",
            "--pool=solo",
            "--queues=celery",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while list((var_dir / "celery-queue").glob("*.msg")) and time.monotonic() < deadline:
            assert worker.poll() is None, worker.communicate()[0][-3000:]
            time.sleep(0.2)
        left = list((var_dir / "celery-queue").glob("*.msg"))
        alive = worker.poll() is None
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]

    assert sent.returncode == 0, sent.stderr[-3000:]
    assert len(queued) == 1
    assert alive, output[-3000:]
    assert left == [], output[-3000:]
    assert "FileNotFoundError" not in output
    assert sorted(path.name for path in var_dir.iterdir()) >= ["celery-control", "celery-processed", "celery-queue"]
