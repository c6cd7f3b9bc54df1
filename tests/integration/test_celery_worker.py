"""An invitation e-mail really travels through Redis to a Celery worker."""

from __future__ import annotations

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.test import Client

from accounts.models import User
from accounts.roles import Role
from amparo.celery import app
from tests.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_celery():
    """Point the Celery app at the test Redis, not eager, for the length of one test."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.fail("TEST_REDIS_URL is not set; `make test` starts a Redis server and sets it.")
    saved = {key: app.conf[key] for key in ("broker_url", "broker_write_url", "broker_read_url", "task_always_eager")}
    _drop_connection_pool()
    app.conf.update(broker_url=redis_url, broker_write_url=None, broker_read_url=None, task_always_eager=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            yield app
    finally:
        _drop_connection_pool()
        app.conf.update(saved)


def _drop_connection_pool() -> None:
    # Connection pools made earlier would still point at the old broker. They are shared
    # through kombu's global registry, so they are dropped, not closed; app.close() would
    # also deregister the app and lose its tasks.
    app._pool = None
    app.amqp._producer_pool = None


def test_invitation_email_is_sent_by_a_real_worker_on_redis(redis_celery):
    admin = UserFactory(role=Role.ADMIN)
    client = Client()
    client.force_login(admin)

    response = client.post(
        "/staff/invite/", {"full_name": "Lupe Worker", "email": "lupe@example.org", "role": "intake"}
    )

    assert response.status_code == 302
    assert User.objects.filter(email="lupe@example.org").exists()
    deadline = time.monotonic() + 30
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m.to for m in mail.outbox] == [["lupe@example.org"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
