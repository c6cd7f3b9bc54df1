"""The production-like environment that ``bench/bigdata.py`` and ``bench/pages.py`` share.

Both run under ``amparo.settings`` (not the test settings) with the same fixed, bench-only keys,
so that the data ``bigdata.py`` encrypts and blind-indexes is what the gunicorn worker of
``pages.py`` decrypts and searches (``amparo/wsgi.py`` refuses to start under other keys).
These keys protect nothing but throw-away benchmark data: never use them anywhere else.
``DATABASE_URL`` must name the benchmark database (``scripts/services.sh start`` prints it).
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def _bench_key(label: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"amparo-bench-only:{label}".encode()).digest()).decode()


STRIPE_WEBHOOK_SECRET = "whsec_bench_only_not_a_real_secret"

ENV = {
    "DJANGO_SETTINGS_MODULE": "amparo.settings",
    "DEBUG": "false",
    "SECRET_KEY": hashlib.sha512(b"amparo-bench-only:secret-key").hexdigest(),
    "FIELD_ENCRYPTION_KEYS": _bench_key("field-key"),
    "BLIND_INDEX_KEY": _bench_key("blind-index-key"),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SITE_URL": "http://127.0.0.1:8000",
    # Plain HTTP on 127.0.0.1: no TLS redirect (a TLS proxy would sit in front in production).
    "HTTPS": "false",
    "STRIPE_SECRET_KEY": "sk_test_bench_only",
    "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
    "STRIPE_API_BASE": "http://127.0.0.1:9",
    "EMAIL_URL": "consolemail://",
    "LOG_LEVEL": "WARNING",
    # The bench asks the same pages many times from one address: the per-user rate limits of
    # the live duplicate check and of search would answer 429 after a few dozen requests.
    "INTAKE_LOOKUPS_PER_WINDOW": "1000000",
    "AMPARO_VAR_DIR": "/tmp/amparo-bench-var",  # noqa: S108 - throw-away bench files (static, private)
}


def apply() -> None:
    """Set the bench environment (values already set in the shell win) and make the project importable."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database (see scripts/services.sh).")
    for name, value in ENV.items():
        os.environ.setdefault(name, value)
    redis = os.environ.get("TEST_REDIS_URL")
    if redis:
        os.environ.setdefault("CELERY_BROKER_URL", redis)
    Path(os.environ["AMPARO_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    # First on the path: ``bench/reports.py`` must not shadow the ``reports`` app.
    while str(ROOT) in sys.path:
        sys.path.remove(str(ROOT))
    sys.path.insert(0, str(ROOT))
