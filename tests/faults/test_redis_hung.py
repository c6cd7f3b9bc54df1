"""Redis hung (SIGSTOP): connections complete, nothing answers. The site keeps answering.

The broker and the cache both live on the private Redis, as in production. /healthz says 503 within
a second; a page that needs no Redis answers as usual; an invitation is committed within the
broker's timeout, its outbox row kept unsent, and once Redis resumes the sweep puts the task in
Redis's queue.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from accounts.roles import Role
from kernel.enqueue import outbox_sweep
from kernel.models import OutboxMessage
from tests.faults.conftest import invite, signed_in, timed

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_hung(celery_on_private_redis, cache_on_private_redis):
    """Broker and cache on the private Redis, which is hung for the test and resumed after it."""
    cache_on_private_redis.hang()
    yield cache_on_private_redis
    if cache_on_private_redis.hung:
        cache_on_private_redis.resume()


def test_healthz_answers_503_within_a_second(redis_hung):
    hung, took = timed(lambda: Client().get("/healthz"))
    redis_hung.resume()
    back = Client().get("/healthz")

    assert took < 1
    assert hung.status_code == 503
    assert hung.json() == {
        "status": "unavailable",
        "database": True,
        "broker": False,
        "failing": ["broker"],
        "outbox_backlog": 0,
    }
    assert back.status_code == 200


def test_a_page_that_needs_no_redis_answers_as_usual(redis_hung):
    attorney = signed_in(Role.ATTORNEY)

    response, took = timed(lambda: attorney.get("/dashboard/"))

    assert response.status_code == 200
    assert "My day" in response.content.decode()
    assert took < 1


def test_an_invitation_is_kept_while_redis_hangs_and_queued_once_it_resumes(redis_hung):
    invitation = invite()
    redis_hung.resume()
    swept = outbox_sweep(older_than_seconds=0)
    sent = OutboxMessage.objects.get(pk=invitation.waiting.pk)

    invited = invitation.invited
    assert (invitation.response.status_code, invitation.response["Location"]) == (302, f"/staff/{invited.pk}/")
    assert invitation.took < 3
    assert (invitation.waiting.sent_at, invitation.waiting.last_error) == (None, "OperationalError")
    assert mail.outbox == []
    assert swept["sent"] == 1
    assert sent.sent_at is not None
    # The send that timed out may still be read by Redis once it resumes: a task can arrive twice
    # (every task is safe to run twice), never not at all.
    queued = redis_hung.queued_tasks()
    assert queued and set(map(repr, queued)) == {
        repr(("accounts.tasks.send_invitation_email", {"user_id": invited.pk}))
    }
