"""Fixtures that inject faults for real on 127.0.0.1.

``private_redis`` starts a redis-server of the test's own (a free 127.0.0.1 port, its own folder,
no persistence) and hands back a :class:`PrivateRedis`, whose methods break it the ways production
Redis breaks: ``hang()`` (SIGSTOP: connections are accepted by the kernel, never answered),
``resume()`` (SIGCONT), ``stop()`` (a clean shutdown: connections are refused), ``kill()``
(SIGKILL), ``restart()`` (the same port again, empty). It is always killed at the end of the
test, hung or not. Other fault tests may use it directly::

    def test_something(private_redis):
        private_redis.hang()
        ...
        private_redis.resume()
        assert private_redis.llen("celery") == 1

``celery_on_private_redis`` points the Celery app (broker_url, broker_write_url, broker_read_url:
the test settings send with ``memory://``) at that server, not eager, with the outbox's back-off
off so that every commit hook tries the broker; everything is put back afterwards.

``cache_on_private_redis`` makes the ``default`` cache the fail-open Redis cache of production
(``kernel.cache.FailOpenRedisCache``) on DB 1 of that server.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import redis
from celery import Celery
from django.db import connection
from django.http import HttpResponse
from django.test import Client

from accounts.models import User
from accounts.roles import Role
from amparo.celery import app
from kernel.cache import fail_open_reset
from kernel.models import OutboxMessage
from tests.factories import UserFactory
from tests.faults.workers import CeleryWorker
from tests.forms import once

BROKER_DB = 0
CACHE_DB = 1
DEFAULT_QUEUE = "celery"
REPORTS_QUEUE = "reports"
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A redis-server process of one test; see the module docstring."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.hung = False

    def url(self, db: int = BROKER_DB) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start the server (on the same port as before) and wait until it answers PING."""
        log = (self.folder / "redis.log").open("ab")
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder)]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]  # no persistence, in the foreground
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.exceptions.RedisError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.05)

    def client(self, db: int = BROKER_DB) -> redis.Redis:
        """A redis-py client of this server with short timeouts (for the test's own checks)."""
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=2, socket_connect_timeout=2)

    def llen(self, queue: str = DEFAULT_QUEUE) -> int:
        """How many messages wait in ``queue`` (kombu's Redis transport keeps a queue as a list)."""
        return int(self.client().llen(queue))

    def queued_tasks(self, queue: str = DEFAULT_QUEUE) -> list[tuple[str, dict]]:
        """The (task name, keyword arguments) of each message waiting in ``queue``, oldest first."""
        tasks = []
        for raw in reversed(self.client().lrange(queue, 0, -1)):  # kombu pushes on the left
            message = json.loads(raw)
            body = message["body"]
            if message["properties"].get("body_encoding") == "base64":
                body = base64.b64decode(body)
            _args, kwargs, _embed = json.loads(body)
            tasks.append((message["headers"]["task"], kwargs))
        return tasks

    def hang(self) -> None:
        """SIGSTOP: the server neither answers nor closes; new connections still complete (the kernel's backlog)."""
        self._signal(signal.SIGSTOP)
        self.hung = True

    def resume(self) -> None:
        """SIGCONT after ``hang()``."""
        self._signal(signal.SIGCONT)
        self.hung = False

    def stop(self) -> None:
        """A clean shutdown (SIGTERM; resumed first if hung): the port refuses connections."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer would."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        """Stop the server if it runs and start an empty one on the same port."""
        self.stop()
        self.start()

    def _signal(self, signum: int) -> None:
        assert self.process is not None and self.process.poll() is None, "redis-server is not running"
        os.kill(self.process.pid, signum)

    def _end(self, signum: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if self.hung:
            self.resume()  # a stopped process would keep the SIGTERM pending
        os.kill(self.process.pid, signum)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path_factory) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own; see the module docstring. Killed at the end, whatever its state."""
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def celery_on_private_redis(private_redis, settings) -> Iterator[Celery]:
    """The Celery app sending to (and reading from) ``private_redis``, not eager; put back afterwards."""
    keys = ("broker_url", "broker_write_url", "broker_read_url", "task_always_eager")
    saved = {key: app.conf[key] for key in keys}
    settings.CELERY_TASK_ALWAYS_EAGER = False  # kernel.enqueue reads the setting
    settings.OUTBOX_BACKOFF_SECONDS = 0  # every commit hook tries the broker
    _drop_connection_pools()
    url = private_redis.url(BROKER_DB)
    app.conf.update(broker_url=url, broker_write_url=url, broker_read_url=url, task_always_eager=False)
    try:
        yield app
    finally:
        _drop_connection_pools()
        app.conf.update(saved)


@pytest.fixture
def cache_on_private_redis(private_redis, settings) -> Iterator[PrivateRedis]:
    """The ``default`` cache on ``private_redis`` (DB 1) through the fail-open wrapper, as in production."""
    fail_open_reset()
    settings.CACHES = {
        "default": {
            "BACKEND": "kernel.cache.FailOpenRedisCache",
            "LOCATION": private_redis.url(CACHE_DB),
            "OPTIONS": dict(settings.REDIS_CACHE_OPTIONS),
        }
    }
    yield private_redis
    fail_open_reset()


def _drop_connection_pools() -> None:
    # Pools made earlier would still point at the old broker. kombu shares them through a global
    # registry, so they are dropped, not closed; app.close() would also forget the app's tasks.
    app._pool = None
    app.amqp._producer_pool = None


# --- What the Redis fault tests share -----------------------------------------------------------

INVITE = {"full_name": "Rosa Parks-Ortega", "email": "rosa@example.org", "role": "attorney"}


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """What ``call()`` returns, and how many seconds it took."""
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def signed_in(role: Role) -> Client:
    """A browser signed in as a new staff member of ``role``."""
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


@dataclass(frozen=True)
class Invitation:
    """An administrator's invitation of ``INVITE``'s person (``invite``)."""

    response: HttpResponse
    took: float  # seconds
    invited: User
    waiting: OutboxMessage  # its e-mail's outbox row, as it was right after the response


def invite() -> Invitation:
    """An administrator invites ``INVITE``'s person through the staff page, as a browser would."""
    admin = signed_in(Role.ADMIN)
    response, took = timed(lambda: admin.post("/staff/invite/", once(INVITE)))
    invited = User.objects.get(email=INVITE["email"])
    waiting = OutboxMessage.objects.get(task_name="accounts.tasks.send_invitation_email")
    return Invitation(response=response, took=took, invited=invited, waiting=waiting)


@pytest.fixture
def storage(settings, tmp_path) -> Path:
    """One private storage folder for the test process and its workers."""
    folder = tmp_path / "private"
    folder.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "kernel.storage.EncryptedFileSystemStorage", "OPTIONS": {"location": str(folder)}},
    }
    return folder


@pytest.fixture
def start_worker(
    transactional_db, celery_on_private_redis, private_redis, storage, tmp_path
) -> Iterator[Callable[..., CeleryWorker]]:
    """Start a real worker (``tests/faults/workers.py``) of ``pool`` serving ``queues``, with extra
    environment ``env``, on ``private_redis`` and ``storage``; every worker started is killed at the end."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs the test's PostgreSQL database")
    started: list[CeleryWorker] = []

    def start(pool: str = "prefork", *, queues: str = REPORTS_QUEUE, env: dict[str, str] | None = None) -> CeleryWorker:
        folder = tmp_path / f"worker-{len(started)}"
        folder.mkdir()
        worker = CeleryWorker(
            folder=folder,
            broker_url=private_redis.url(),
            pool=pool,
            queues=queues,
            env={"PRIVATE_MEDIA_ROOT": str(storage), **(env or {})},
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.kill()
