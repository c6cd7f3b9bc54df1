"""Real Celery worker processes for fault tests: started as production starts them, killed as the OOM
killer or a lost machine kills them.

``CeleryWorker`` runs ``.venv/bin/celery -A amparo worker`` in a process group of its own, with the
production settings module (``amparo.settings``, not eager) pointed by the environment at the test's
PostgreSQL database (the one pytest-django created, from ``connection.settings_dict``), at a private
Redis and at a private storage folder. ``kill()`` sends SIGKILL to the whole group (the main process
and its pool children, nothing is told); ``kill_pool_child()`` kills only a prefork child, as the OOM
killer picks the biggest process. The worker's log is kept in its folder and shown when it does not
start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

CELERY = Path(settings.BASE_DIR) / ".venv" / "bin" / "celery"
READY_MARK = "ready."


def database_url() -> str:
    """A ``DATABASE_URL`` for the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryWorker:
    """One ``celery worker`` process (group); see the module docstring."""

    def __init__(self, *, folder: Path, broker_url: str, pool: str, queues: str, env: dict[str, str]) -> None:
        self.folder = folder
        self.broker_url = broker_url
        self.pool = pool
        self.queues = queues
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = folder / "worker.log"
        self.starts = 0

    def start(self, *, timeout: float = 45) -> CeleryWorker:
        """Start the worker and wait until it says it is ready to consume."""
        self.starts += 1
        self.log_path = self.folder / f"worker-{self.starts}.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "amparo.settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(CELERY),
                    "-A",
                    "amparo",
                    "worker",
                    "--pool",
                    self.pool,
                    "--concurrency",
                    "1",
                    "--queues",
                    self.queues,
                    "--hostname",
                    f"fault-{self.pool}-{self.starts}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "INFO",
                ],
                cwd=settings.BASE_DIR,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so that kill() reaches the pool too
            )
        deadline = time.monotonic() + timeout
        while READY_MARK not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"celery worker did not start:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pool_children(self) -> list[int]:
        """The process ids of the main process's children (a prefork pool's workers)."""
        assert self.process is not None
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

    def kill_pool_child(self) -> int:
        """SIGKILL the prefork pool's only child (the main process lives on); its pid."""
        children = self.pool_children()
        assert len(children) == 1, children
        os.kill(children[0], signal.SIGKILL)
        return children[0]

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker dies without acknowledging or cleaning up anything."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL if it takes longer than 15 seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
