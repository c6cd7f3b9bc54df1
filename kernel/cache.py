"""The Redis cache, failing open while Redis does not answer.

Amparo's cache holds only what makes checks stricter for a while: the limits' counts (allauth's
sign-in rate limits, authenticator codes, donor codes, checkouts, look-ups; ``kernel.counters``),
allauth's record of a TOTP code already used, short-lived memories of a form. None of it says
whether a password or a code is right: that is checked against the database every time.

So when Redis refuses a connection or times out (``socket_timeout``/``socket_connect_timeout`` in
``OPTIONS``), :class:`FailOpenRedisCache` answers from a memory of this process instead of raising:
the limits then count per process (as with a per-process cache) and a code used here is still
refused here, while sign-in keeps working. The first failure is logged as a WARNING (its class
only: the message could quote a key); for ``FAIL_OPEN_SECONDS`` after it the process does not ask
Redis at all, so a hung Redis costs one call its timeout, not every call of every request. Then one
call tries Redis again. What was counted in the process meanwhile is not carried over.

Settings: ``CACHES["default"]["BACKEND"] = "kernel.cache.FailOpenRedisCache"`` (``amparo.settings``
puts it in place of Django's Redis cache, with the timeouts of the redis block).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

#: What "Redis does not answer" looks like from redis-py (refused, reset, timed out, still loading).
UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
DEFAULT_FAIL_OPEN_SECONDS = 10

_T = TypeVar("_T")
_lock = threading.Lock()
# Per process and Redis location: the monotonic time until which Redis is not asked. Django makes a
# cache object per thread, so this lives here, shared by them all.
_skip_until: dict[str, float] = {}


def fail_open_reset() -> None:
    """Ask Redis again from the next call on (tests; a process that knows Redis is back)."""
    with _lock:
        _skip_until.clear()


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache; while Redis is unreachable, a per-process memory (see the module docstring)."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        self._fail_open_seconds = float(options.pop("FAIL_OPEN_SECONDS", DEFAULT_FAIL_OPEN_SECONDS))
        super().__init__(server, {**params, "OPTIONS": options})
        self._location = ",".join(server) if isinstance(server, list) else server
        fallback_params = {key: value for key, value in params.items() if key not in {"OPTIONS", "LOCATION"}}
        # Named after the location: every thread's cache object shares one memory (LocMemCache keys
        # its storage by name), so a count made in one thread is seen by the next.
        self._fallback = LocMemCache(f"amparo-fail-open:{self._location}", fallback_params)

    def _call(self, redis_call: Callable[[], _T], fallback_call: Callable[[], _T]) -> _T:
        if time.monotonic() < _skip_until.get(self._location, 0.0):
            return fallback_call()
        try:
            return redis_call()
        except UNREACHABLE as exc:
            with _lock:
                _skip_until[self._location] = time.monotonic() + self._fail_open_seconds
            logger.warning(
                "The Redis cache did not answer (%s): limits count in this process for the next %d s",
                type(exc).__name__,
                self._fail_open_seconds,
            )
            return fallback_call()

    def add(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call(
            lambda: super(FailOpenRedisCache, self).add(key, value, timeout, version),
            lambda: self._fallback.add(key, value, timeout, version),
        )

    def get(self, key: Any, default: Any | None = None, version: int | None = None) -> Any:
        return self._call(
            lambda: super(FailOpenRedisCache, self).get(key, default, version),
            lambda: self._fallback.get(key, default, version),
        )

    def set(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._call(
            lambda: super(FailOpenRedisCache, self).set(key, value, timeout, version),
            lambda: self._fallback.set(key, value, timeout, version),
        )

    def touch(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call(
            lambda: super(FailOpenRedisCache, self).touch(key, timeout, version),
            lambda: self._fallback.touch(key, timeout, version),
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._call(
            lambda: super(FailOpenRedisCache, self).delete(key, version),
            lambda: self._fallback.delete(key, version),
        )

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        return self._call(
            lambda: super(FailOpenRedisCache, self).get_many(keys, version),
            lambda: self._fallback.get_many(keys, version),
        )

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._call(
            lambda: super(FailOpenRedisCache, self).has_key(key, version),
            lambda: self._fallback.has_key(key, version),
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._call(
            lambda: super(FailOpenRedisCache, self).incr(key, delta, version),
            lambda: self._fallback.incr(key, delta, version),
        )

    def set_many(
        self, data: dict[Any, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return self._call(
            lambda: super(FailOpenRedisCache, self).set_many(data, timeout, version),
            lambda: self._fallback.set_many(data, timeout, version),
        )

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = list(keys)
        self._call(
            lambda: super(FailOpenRedisCache, self).delete_many(keys, version),
            lambda: self._fallback.delete_many(keys, version),
        )

    def clear(self) -> None:
        self._call(lambda: super(FailOpenRedisCache, self).clear(), self._fallback.clear)

    @property
    def fallback(self) -> BaseCache:
        """The per-process memory used while Redis does not answer (tests look into it)."""
        return self._fallback
