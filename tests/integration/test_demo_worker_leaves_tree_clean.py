"""A demo run of the Celery workers and beat leaves `git status` clean.

The checkout is copied (its tracked and not-ignored files, as a fresh clone would have them)
into a temporary directory that becomes a git repository of its own, so the real checkout is
never written to. There the folders are made by `make var-dirs` (what `make demo` does) and
the worker, reports worker and beat run exactly as Procfile.dev starts them for `make demo`:
DEBUG=1, the file-backed broker and the default var/ layout, nothing else in the environment.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 25
LONG_RUNNING = ("worker", "reports", "beat", "web", "stripe")

# What a demo run may leave behind, all of it ignored by .gitignore: runtime state under var/,
# the SQLite database beside manage.py and Python's bytecode caches.
ALLOWED_IGNORED = ("var/", "db.sqlite3")

# Run in the copy: arguments are the timeout, the e-mail's subject and the worker names.
# The ping travels through the broker's control folder, the e-mail through its queue.
SEND_AFTER_PING = """
import sys, time
import django
from amparo.celery import app  # sets DJANGO_SETTINGS_MODULE, as the workers' -A amparo does
django.setup()

timeout, subject, *expected = sys.argv[1:]
deadline = time.monotonic() + float(timeout)
answered = set()
while not set(expected) <= answered:
    if time.monotonic() > deadline:
        sys.exit(f"no ping reply from {sorted(set(expected) - answered)} (got {sorted(answered)})")
    for reply in app.control.ping(timeout=1.0):
        answered.update(name.partition("@")[0] for name in reply)
# An e-mail the worker renders itself from ids (no database needed for it): its subject is ``subject``.
app.send_task(
    "accounts.tasks.send_account_email",
    kwargs={"template_prefix": "account/email/unknown_account", "email": "tree-check@example.org",
            "user_id": None},
)
print("pinged", " ".join(sorted(answered)))
"""


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Amparo test", "-c", "user.email=test@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _copy_checkout(dest: Path) -> None:
    """Copy what a fresh clone would hold (the working-tree versions) and commit it."""
    listing = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listing.split("\0")):
        source = REPO / name
        # Files deleted in the working tree but not yet in git are gone from a fresh clone too.
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "--no-verify", "-m", "snapshot")


def _procfile_commands(checkout: Path) -> dict[str, str]:
    commands = {}
    for line in (checkout / "Procfile.dev").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and not line.startswith("#"):
            # Procfile.dev names .venv/bin/ relative to the checkout; the copy has no .venv.
            commands[name.strip()] = command.strip().replace(".venv/bin/", f"{VENV_BIN}/")
    return commands


def _demo_env() -> dict[str, str]:
    # Only what any shell has: no DATABASE_URL, DJANGO_SETTINGS_MODULE or AMPARO_VAR_DIR from
    # the test run, so settings fall back to their demo defaults.
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # Celery's warm shutdown; the process group also holds the prefork pool's children.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class DemoProcesses:
    """The demo's processes, each logging to its own file; stopped together at the end."""

    def __init__(self, *, checkout: Path, logs: Path, env: dict[str, str] | None = None) -> None:
        self.checkout = checkout
        self.logs = logs
        self.env = {**_demo_env(), **(env or {})}
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: str) -> subprocess.Popen:
        with self.log(name).open("wb") as out:
            self.running[name] = subprocess.Popen(
                ["bash", "-c", command],
                cwd=self.checkout,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.running[name]

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def output(self, name: str) -> str:
        return self.log(name).read_text(errors="replace")

    def wait_for(self, predicate, *, what: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll predicate; fail early, with the logs, if a long-running process died."""
        deadline = time.monotonic() + timeout
        while not predicate():
            died = [
                name for name, process in self.running.items() if name in LONG_RUNNING and process.poll() is not None
            ]
            if died or time.monotonic() > deadline:
                reason = f"{', '.join(died)} exited" if died else "timed out"
                pytest.fail(f"{reason} while waiting for {what}\n{self.tails()}")
            time.sleep(0.2)

    def tails(self) -> str:
        return "\n".join(f"--- {name}.log\n{self.output(name)[-3000:]}" for name in self.running)

    def stop_all(self) -> None:
        for process in reversed(self.running.values()):
            _stop(process)


def _beat_entries(database: Path) -> set[str]:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            return {name for (name,) in connection.execute("SELECT name FROM django_celery_beat_periodictask")}
    except sqlite3.Error:
        return set()


def test_demo_workers_and_beat_write_only_under_var(tmp_path):
    checkout = tmp_path / "checkout"
    logs = tmp_path / "logs"
    checkout.mkdir()
    logs.mkdir()
    _copy_checkout(checkout)
    subprocess.run(["make", "-s", "var-dirs"], cwd=checkout, env=_demo_env(), check=True)
    commands = _procfile_commands(checkout)
    subject = "[Amparo] No account for this address"
    demo = DemoProcesses(checkout=checkout, logs=logs)
    try:
        # The workers need no database; beat's DatabaseScheduler does, so it waits for migrate.
        migrate = demo.start("migrate", f"exec env DEBUG=1 {VENV_BIN}/python manage.py migrate -v0")
        demo.start("worker", commands["worker"])
        demo.start("reports", commands["reports"])
        send = demo.start(
            "send",
            f"exec env DEBUG=1 {VENV_BIN}/python -c {shlex.quote(SEND_AFTER_PING)} "
            f"{STARTUP_TIMEOUT} {shlex.quote(subject)} celery reports",
        )
        demo.wait_for(lambda: send.poll() is not None, what="both workers to answer a ping")
        assert send.returncode == 0, demo.tails()
        assert demo.output("send").split()[-3:] == ["pinged", "celery", "reports"]
        demo.wait_for(lambda: f"Subject: {subject}" in demo.output("worker"), what="the worker to send the e-mail")

        demo.wait_for(lambda: migrate.poll() is not None, what="migrate")
        assert migrate.returncode == 0, demo.output("migrate")
        demo.start("beat", commands["beat"])
        demo.wait_for(
            lambda: "casework-daily-reminders" in _beat_entries(checkout / "db.sqlite3"),
            what="beat to load its schedule into the database",
        )
    finally:
        demo.stop_all()

    assert _git(checkout, "status", "--porcelain") == ""
    # The remote-control mailbox really went through var/, not a control/ beside manage.py.
    assert (checkout / "var/celery-control/celery.pidbox.exchange").is_file()
    ignored = _git(checkout, "status", "--porcelain", "--ignored", "--untracked-files=all").splitlines()
    unexpected = [
        line for line in ignored if not line[3:].startswith(ALLOWED_IGNORED) and "__pycache__/" not in line[3:]
    ]
    assert unexpected == []
