"""Test settings: production settings (DEBUG off) with a few fast substitutes.

The database comes from DATABASE_URL (PostgreSQL in CI; ``make test`` starts one).
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-for-the-deploy-check-0123456789")
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("PWNED_PASSWORDS_API_URL", "")  # no network: tests that need it serve a fake
os.environ.setdefault("UPLOAD_SCANNER_URL", "")  # no scan: tests/kernel/test_malware.py serves a fake clamd
# Django's per-request connections in tests: live-server threads would otherwise keep theirs open
# past the test (and the test database could not be dropped). Production's default is
# tests/security/test_settings.py's to check.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")
os.environ.setdefault("STRIPE_CHECKOUT_HOSTS", "checkout.stripe.com,127.0.0.1")  # the fake Stripe's own pages
# Fixed test keys (two field keys, so every test also runs with a rotation in progress: the
# second only decrypts).
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEYS",
    "dGVzdC1maWVsZC1rZXktbmV3ZXN0LTAwMDAwMDAwMDA=,dGVzdC1maWVsZC1rZXktb2xkZXItMDAwMDAwMDAwMDA=",
)
os.environ.setdefault("BLIND_INDEX_KEY", "test-blind-index-key-0123456789abcdefghijklmnop")
# Files the tests store go to a folder of this run, never to the demo's var/private (whose files
# are sealed with the development key). Made once per run (the workers and commands the tests start
# inherit it) and removed when the run ends.
if "PRIVATE_MEDIA_ROOT" not in os.environ:
    os.environ["PRIVATE_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="amparo-test-private-")
    atexit.register(shutil.rmtree, os.environ["PRIVATE_MEDIA_ROOT"], ignore_errors=True)

from amparo.settings import *  # noqa: F403
from amparo.settings import INSTALLED_APPS, MIDDLEWARE, STORAGES

# The dev-only demo app (installed by amparo.settings with DEBUG on) has tests too.
if "demo" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Every redirect is also shown to the personal-data watch (tests/pii_watch.py).
MIDDLEWARE = ["tests.pii_watch.RecordRedirectsMiddleware", *MIDDLEWARE]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tasks run in-process unless a test starts a real worker (tests/integration).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
