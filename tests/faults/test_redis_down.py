"""Redis stopped (connections refused): the site keeps answering, sign-in keeps working, work is kept.

The broker and the cache both live on the private Redis, as in production. /healthz says 503 within
a second; a page that needs no Redis answers; an invitation is committed and its e-mail is sent by
a real worker once Redis is back and the outbox sweep has run; staff sign in with password and
code while the limits count in the process, and the wrong password or code is still refused.
"""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.cache import cache
from django.test import Client

from accounts.roles import Role
from kernel.enqueue import outbox_sweep
from tests.conftest import totp_code
from tests.factories import PASSWORD, UserFactory
from tests.faults.conftest import CACHE_DB, DEFAULT_QUEUE, invite, signed_in, timed

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_down(celery_on_private_redis, cache_on_private_redis):
    """Broker and cache on the private Redis, which is stopped for the test (``restart()`` brings it back)."""
    cache_on_private_redis.stop()
    return cache_on_private_redis


def test_healthz_answers_503_within_a_second_and_200_once_redis_is_back(redis_down):
    down, took = timed(lambda: Client().get("/healthz"))
    redis_down.restart()
    back = Client().get("/healthz")

    assert took < 1
    assert (down.status_code, down.json()["failing"], down.json()["database"]) == (503, ["broker"], True)
    assert back.status_code == 200


def test_a_page_that_needs_no_redis_answers_as_usual(redis_down):
    attorney = signed_in(Role.ATTORNEY)

    response, took = timed(lambda: attorney.get("/dashboard/"))

    assert response.status_code == 200
    assert "My day" in response.content.decode()
    assert took < 1


def test_an_invitation_made_while_redis_is_down_is_sent_by_a_worker_once_it_is_back(
    redis_down, celery_on_private_redis
):
    invitation = invite()
    redis_down.restart()
    swept = outbox_sweep(older_than_seconds=0)
    queued = redis_down.queued_tasks()
    with start_worker(
        celery_on_private_redis,
        pool="solo",
        queues=[DEFAULT_QUEUE],
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=10,
    ):
        deadline = time.monotonic() + 15
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)

    invited = invitation.invited
    assert (invitation.response.status_code, invitation.response["Location"]) == (302, f"/staff/{invited.pk}/")
    assert invitation.took < 3
    assert (invitation.waiting.sent_at, invitation.waiting.last_error) == (None, "OperationalError")
    assert swept["sent"] == 1
    assert queued == [("accounts.tasks.send_invitation_email", {"user_id": invited.pk})]
    assert [message.to for message in mail.outbox] == [["rosa@example.org"]]


def test_sign_in_works_while_redis_is_down_and_still_checks_password_and_code(redis_down):
    user = UserFactory(role=Role.ATTORNEY)

    wrong_password, took = timed(
        lambda: Client().post("/accounts/login/", {"login": user.email, "password": "not the password"})
    )
    client = Client()
    password = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    wrong = "000000" if totp_code() != "000000" else "111111"
    wrong_code = client.post("/accounts/2fa/authenticate/", {"code": wrong})
    right_code, code_took = timed(lambda: client.post("/accounts/2fa/authenticate/", {"code": totp_code()}))

    assert took < 1 and code_took < 1
    assert wrong_password.status_code == 200
    assert "are not correct" in wrong_password.content.decode()
    assert (password.status_code, password["Location"]) == (302, "/accounts/2fa/authenticate/")
    assert wrong_code.status_code == 200
    assert "Incorrect code." in wrong_code.content.decode()
    assert right_code.status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_the_cache_goes_back_to_redis_after_the_fail_open_window(redis_down, settings):
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "OPTIONS": {**settings.CACHES["default"]["OPTIONS"], "FAIL_OPEN_SECONDS": 0.5},
        }
    }
    cache.set("while-down", "kept here")  # refused: this process's memory
    redis_down.restart()
    within_window = cache.get("while-down")
    time.sleep(0.6)
    cache.set("after", "in redis")

    assert within_window == "kept here"
    assert cache.get("while-down") is None  # Redis never had it
    assert redis_down.client(CACHE_DB).exists(":1:after") == 1
