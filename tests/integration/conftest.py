"""Real Celery workers on the test Redis (not eager mode), and the fake Stripe API beside them.

``worker`` is the worker for e-mail, webhooks and reminders (solo pool, the default queue);
``reports_worker`` is the thread-pool worker for report PDFs (queue ``reports``), as
``make demo`` runs them. Both run in threads of the test process, so they share its settings
and its locmem outbox; their database connections are their own, which is why tests using
them need ``transaction=True``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from amparo.celery import app
from demo.stripe_sandbox.fake import FakeStripe

DEFAULT_QUEUE = "celery"
REPORTS_QUEUE = "reports"
WEBHOOK_SECRET = "whsec_test_integration_0123456789abcdef"


@pytest.fixture
def redis_celery() -> Iterator[Celery]:
    """Point the Celery app at the test Redis, not eager, for the length of one test; queues start empty."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.fail("TEST_REDIS_URL is not set; `make test` starts a Redis server and sets it.")
    saved = {key: app.conf[key] for key in ("broker_url", "broker_write_url", "broker_read_url", "task_always_eager")}
    _drop_connection_pool()
    app.conf.update(broker_url=redis_url, broker_write_url=None, broker_read_url=None, task_always_eager=False)
    _purge_queues()
    try:
        yield app
    finally:
        _purge_queues()
        _drop_connection_pool()
        app.conf.update(saved)


def _purge_queues() -> None:
    # A task left over by an earlier test would otherwise run against this test's database.
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in (DEFAULT_QUEUE, REPORTS_QUEUE):
            channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            channel.queue_purge(queue)


def _drop_connection_pool() -> None:
    # Connection pools made earlier would still point at the old broker. They are shared
    # through kombu's global registry, so they are dropped, not closed; app.close() would
    # also deregister the app and lose its tasks.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(redis_celery) -> Iterator:
    """The worker for everything but reports: solo pool, the default queue only."""
    with start_worker(
        redis_celery,
        pool="solo",
        queues=[DEFAULT_QUEUE],
        hostname="worker@amparo-test",
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=10,
    ) as running:
        yield running


@pytest.fixture
def reports_worker(redis_celery) -> Iterator:
    """The report worker: a thread pool consuming only the ``reports`` queue."""
    with start_worker(
        redis_celery,
        pool="threads",
        concurrency=2,
        queues=[REPORTS_QUEUE],
        hostname="reports@amparo-test",
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
    ) as running:
        yield running


@pytest.fixture
def private_storage(settings, tmp_path):
    """Uploaded and generated files (receipts, report PDFs) in a directory of this test's own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "kernel.storage.EncryptedFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


@pytest.fixture
def fake_stripe(settings) -> Iterator[FakeStripe]:
    """The fake Stripe API, with the gateway pointed at it (the worker calls it too)."""
    fake = FakeStripe().start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = "sk_test_amparo_fake_key"
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    yield fake
    fake.stop()
