"""The fail-open Redis cache (kernel/cache.py): Redis while it answers, this process's memory while not.

Three Redis servers for real: the test Redis (answers), a port nobody listens on (refused), and a
socket that accepts connections and never answers (hung, as a Redis stopped by SIGSTOP).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis
from django.core.cache import cache
from django.test import Client

from accounts.roles import Role
from kernel.cache import FailOpenRedisCache, fail_open_reset
from kernel.counters import counter_add
from tests.conftest import totp_code
from tests.factories import PASSWORD, UserFactory

REFUSED = "redis://127.0.0.1:9/0"  # the discard port: nothing listens on it
OPTIONS = {"socket_timeout": 0.3, "socket_connect_timeout": 0.3, "FAIL_OPEN_SECONDS": 30}


@pytest.fixture(autouse=True)
def _ask_redis_again():
    fail_open_reset()
    yield
    fail_open_reset()


@pytest.fixture
def hung_redis() -> Iterator[str]:
    """The URL of a socket that completes connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


@pytest.fixture
def live_redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.fail("TEST_REDIS_URL is not set; `make test` starts a Redis server and sets it.")
    return url.rsplit("/", 1)[0] + "/5"  # a database of its own: the worker tests purge /0


def _default_cache(settings, location: str) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "kernel.cache.FailOpenRedisCache", "LOCATION": location, "OPTIONS": OPTIONS}
    }


def test_settings_put_the_fail_open_cache_with_timeouts_in_place_of_djangos_redis_cache():
    program = "from django.conf import settings; import json; print(json.dumps(settings.CACHES['default']))"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "amparo.settings",
        "DEBUG": "1",
        "CACHE_URL": "rediscache://127.0.0.1:6379/1",
        "CACHE_SOCKET_TIMEOUT_MS": "250",
    }

    printed = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)

    assert json.loads(printed.stdout) == {
        "BACKEND": "kernel.cache.FailOpenRedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.5, "FAIL_OPEN_SECONDS": 10},
    }


def test_values_are_kept_in_redis_while_it_answers(live_redis_url):
    shared = FailOpenRedisCache(live_redis_url, {"OPTIONS": OPTIONS})
    shared.clear()

    shared.set("greeting", "hola", timeout=60)
    total = [counter_add_in(shared, "count") for _ in range(3)]

    assert shared.get("greeting") == "hola"
    assert total == [1, 2, 3]
    assert redis.Redis.from_url(live_redis_url).exists(":1:greeting") == 1  # in Redis, not in the process
    assert shared.fallback.get("greeting") is None
    shared.clear()


def counter_add_in(backend: FailOpenRedisCache, key: str) -> int:
    backend.add(key, 0, timeout=60)
    return backend.incr(key)


def test_a_refused_redis_is_a_miss_and_counts_go_on_in_the_process(settings, caplog):
    _default_cache(settings, REFUSED)

    with caplog.at_level(logging.WARNING, logger="kernel.cache"):
        missing = cache.get("never-set", "default")
        counts = [counter_add("failures", timeout=60) for _ in range(3)]
        cache.set("remembered", "yes")
        remembered = cache.get("remembered")

    assert missing == "default"
    assert counts == [1, 2, 3]  # a limit still counts, per process
    assert remembered == "yes"
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [
        "The Redis cache did not answer (ConnectionError): limits count in this process for the next 30 s"
    ]


def test_a_hung_redis_costs_one_timeout_then_none(settings, hung_redis):
    _default_cache(settings, hung_redis)

    started = time.monotonic()
    cache.get("first")
    first = time.monotonic() - started
    started = time.monotonic()
    for number in range(20):
        counter_add(f"key-{number}", timeout=60)
        cache.get(f"key-{number}")
    rest = time.monotonic() - started

    assert 0.25 < first < 1.0  # the socket timeout of OPTIONS, once
    assert rest < 0.2  # Redis is not asked again within FAIL_OPEN_SECONDS


@pytest.mark.django_db
def test_sign_in_works_with_the_cache_refused_and_still_checks_password_and_code(settings):
    _default_cache(settings, REFUSED)
    user = UserFactory(role=Role.ATTORNEY)

    wrong_password = Client().post("/accounts/login/", {"login": user.email, "password": "not the password"})
    client = Client()
    password = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    wrong = "000000" if totp_code() != "000000" else "111111"
    wrong_code = client.post("/accounts/2fa/authenticate/", {"code": wrong})
    right_code = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    replay = Client()
    replay.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    replayed_code = replay.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert wrong_password.status_code == 200
    assert "are not correct" in wrong_password.content.decode()
    assert (password.status_code, password["Location"]) == (302, "/accounts/2fa/authenticate/")
    assert wrong_code.status_code == 200
    assert "Incorrect code." in wrong_code.content.decode()
    assert right_code.status_code == 302
    assert not right_code["Location"].startswith("/accounts/")
    # allauth's record of a used code is kept in this process meanwhile: the same code is refused.
    assert replayed_code.status_code == 200
    assert client.get("/dashboard/").status_code == 200
    assert replay.get("/dashboard/").status_code == 302
