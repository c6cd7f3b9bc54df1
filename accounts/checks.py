"""System checks for what the sign-in limits need from the deployment."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

# Caches whose counts are not shared between the web server's processes: each process would
# keep its own budget of attempts, multiplying every limit by the number of workers.
PER_PROCESS_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_cache(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """``manage.py check --deploy``: the rate limits need a cache every process shares (Redis)."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        return [
            checks.Warning(
                "The default cache is kept per process, so every sign-in, code and donation limit is "
                "multiplied by the number of web processes.",
                hint="Set CACHE_URL to a Redis shared by all web processes, e.g. rediscache://127.0.0.1:6379/1.",
                id="accounts.W001",
            )
        ]
    return []
