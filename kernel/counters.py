"""Fixed-window counters in the shared cache, the one way every limit in Amparo counts.

Each limit (sign-in codes, donor codes, checkouts, intake look-ups, statements) keys a counter by
what it limits and the current window, and asks ``counter_add`` for the new total. The cache is
the ``default`` one: Redis in production, shared by every web process.
"""

from __future__ import annotations

from django.core.cache import cache


def counter_add(key: str, *, timeout: int, amount: int = 1) -> int:
    """Add ``amount`` to the counter ``key`` (made with ``timeout`` seconds to live) and return the total.

    ``cache.add`` then ``incr`` is atomic in Redis; if the counter expires between the two, it
    starts again at ``amount``.
    """
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key, amount))
    except ValueError:  # expired between add and incr
        cache.set(key, amount, timeout=timeout)
        return amount
