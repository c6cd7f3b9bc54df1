"""The deploy checks of amparo/checks.py: every back end off this machine over verified TLS, https
addresses, no .git on the server (ASVS 12.3.x, 13.4.1); and SECRET_KEY_FALLBACKS for key rotation."""

from __future__ import annotations

import ssl

import pytest
from django.conf import settings
from django.core import checks, signing
from django.test import override_settings

from amparo import env
from amparo.checks import (
    check_database_tls,
    check_email_tls,
    check_public_addresses,
    check_redis_tls,
    check_source_control,
)
from tests.security.test_settings import PRODUCTION, _manage

SMTP = "django.core.mail.backends.smtp.EmailBackend"
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_the_checks_are_registered_as_deploy_checks():
    registered = checks.registry.registry.get_checks(include_deployment_checks=True)
    ordinary = checks.registry.registry.get_checks(include_deployment_checks=False)

    for check in (check_database_tls, check_redis_tls, check_email_tls, check_public_addresses, check_source_control):
        assert check in registered
        assert check not in ordinary


# --- PostgreSQL -------------------------------------------------------------------------------


def _database_messages(monkeypatch, url: str) -> list[str]:
    # The URL goes through the same reader as DATABASE_URL, under an alias of its own; the test
    # run's own connection (settings.DATABASES["default"]) is local and left alone.
    monkeypatch.setenv("AMPARO_TEST_DATABASE_URL", url)
    monkeypatch.setitem(settings.DATABASES, "remote", env.database("AMPARO_TEST_DATABASE_URL", ""))
    return [m.id for m in check_database_tls() if "'remote'" in m.msg]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://amparo:pw@db.example.org:5432/amparo",
        "postgres://amparo:pw@db.example.org/amparo?sslmode=prefer",
        "postgres://amparo:pw@db.example.org/amparo?sslmode=require",
        "postgres://amparo:pw@10.0.0.5/amparo?sslmode=allow",
    ],
)
def test_a_remote_database_without_a_verified_certificate_is_a_warning(monkeypatch, url):
    monkeypatch.delenv("PGSSLMODE", raising=False)

    assert _database_messages(monkeypatch, url) == ["amparo.W001"]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://amparo:pw@db.example.org/amparo?sslmode=verify-full&sslrootcert=/etc/amparo/ca.pem",
        "postgres://amparo:pw@db.example.org/amparo?sslmode=verify-ca",
        "postgres://amparo:pw@127.0.0.1:5432/amparo",
        "postgres://amparo:pw@localhost/amparo",
        "postgres://amparo:pw@[::1]/amparo",
        "postgres://amparo:pw@%2Fvar%2Frun%2Fpostgresql/amparo",
        "postgres:///amparo",
        "sqlite:////var/lib/amparo/db.sqlite3",
    ],
)
def test_a_verified_or_local_database_passes(monkeypatch, url):
    monkeypatch.delenv("PGSSLMODE", raising=False)

    assert _database_messages(monkeypatch, url) == []


def test_libpqs_own_pgsslmode_counts(monkeypatch):
    monkeypatch.setenv("PGSSLMODE", "verify-full")

    assert _database_messages(monkeypatch, "postgres://amparo:pw@db.example.org/amparo") == []


# --- Redis: the Celery broker and the cache ---------------------------------------------------


@pytest.mark.parametrize(
    ("broker", "expected"),
    [
        ("redis://redis.example.org:6379/0", ["amparo.W002"]),
        ("redis://:pw@10.0.0.7:6379/0", ["amparo.W002"]),
        ("rediss://redis.example.org:6380/0", ["amparo.W003"]),
        ("rediss://redis.example.org:6380/0?ssl_cert_reqs=none", ["amparo.W003"]),
        ("rediss://redis.example.org:6380/0?ssl_cert_reqs=optional", ["amparo.W003"]),
        # A failover list: each URL is looked at.
        ("redis://127.0.0.1:6379/0;redis://redis.example.org:6379/0", ["amparo.W002"]),
        ("rediss://redis.example.org:6380/0?ssl_cert_reqs=required", []),
        ("rediss://redis.example.org:6380/0?ssl_cert_reqs=CERT_REQUIRED", []),
        ("redis://127.0.0.1:6379/0", []),
        ("redis://localhost:6379/0", []),
        ("memory://", []),
        ("filesystem://", []),
    ],
)
def test_the_broker_reaches_a_remote_redis_only_over_verified_tls(broker, expected):
    with override_settings(CELERY_BROKER_URL=broker, CACHES={"default": {"BACKEND": REDIS_CACHE}}):
        assert ids(check_redis_tls()) == expected


def test_celerys_broker_use_ssl_can_require_the_certificate():
    with override_settings(
        CELERY_BROKER_URL="rediss://redis.example.org:6380/0",
        CELERY_BROKER_USE_SSL={"ssl_cert_reqs": ssl.CERT_REQUIRED},
        CACHES={"default": {"BACKEND": REDIS_CACHE}},
    ):
        assert ids(check_redis_tls()) == []

    with override_settings(
        CELERY_BROKER_URL="rediss://redis.example.org:6380/0",
        CELERY_BROKER_USE_SSL={"ssl_cert_reqs": ssl.CERT_NONE},
        CACHES={"default": {"BACKEND": REDIS_CACHE}},
    ):
        assert ids(check_redis_tls()) == ["amparo.W003"]


@pytest.mark.parametrize(
    ("cache_url", "expected"),
    [
        ("rediscache://cache.example.org:6379/1", ["amparo.W002"]),
        ("rediss://cache.example.org:6380/1", ["amparo.W003"]),
        # django-environ moves the query into OPTIONS; Django's RedisCache passes it to redis-py.
        ("rediss://cache.example.org:6380/1?ssl_cert_reqs=required", []),
        ("rediscache://127.0.0.1:6379/1", []),
        ("locmemcache://amparo", []),
    ],
)
def test_the_cache_reaches_a_remote_redis_only_over_verified_tls(monkeypatch, cache_url, expected):
    monkeypatch.setenv("AMPARO_TEST_CACHE_URL", cache_url)

    with override_settings(CELERY_BROKER_URL="memory://", CACHES={"default": env.cache("AMPARO_TEST_CACHE_URL", "")}):
        assert ids(check_redis_tls()) == expected


def test_every_cache_location_is_looked_at():
    caches = {
        "default": {"BACKEND": REDIS_CACHE, "LOCATION": "redis://127.0.0.1:6379/1"},
        "replicas": {"BACKEND": REDIS_CACHE, "LOCATION": ["redis://127.0.0.1:6379/2", "redis://r2.example.org/2"]},
        "pooled": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "rediss://r3.example.org:6380/3",
            "OPTIONS": {"CONNECTION_POOL_KWARGS": {"ssl_cert_reqs": "required"}},
        },
    }

    with override_settings(CELERY_BROKER_URL="memory://", CACHES=caches):
        messages = check_redis_tls()

    assert ids(messages) == ["amparo.W002"]
    assert "'replicas'" in messages[0].msg
    assert "r2.example.org" in messages[0].msg


def test_a_redis_password_is_never_in_the_message():
    with override_settings(
        CELERY_BROKER_URL="redis://:hunter2-broker@redis.example.org:6379/0",
        CACHES={"default": {"BACKEND": REDIS_CACHE, "LOCATION": "rediss://:hunter2-cache@c.example.org/1"}},
    ):
        messages = check_redis_tls()

    assert ids(messages) == ["amparo.W002", "amparo.W003"]
    assert not any("hunter2" in f"{m.msg} {m.hint}" for m in messages)


# --- E-mail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"EMAIL_HOST": "smtp.example.org", "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False}, ["amparo.W004"]),
        ({"EMAIL_HOST": "smtp.example.org", "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False}, []),
        ({"EMAIL_HOST": "smtp.example.org", "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True}, []),
        ({"EMAIL_HOST": "localhost", "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False}, []),
        ({"EMAIL_HOST": "127.0.0.1", "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False}, []),
    ],
)
def test_smtp_to_a_remote_server_needs_tls(overrides, expected):
    with override_settings(EMAIL_BACKEND=SMTP, **overrides):
        assert ids(check_email_tls()) == expected


def test_a_backend_that_sends_nothing_over_the_network_passes():
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        EMAIL_HOST="smtp.example.org",
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
    ):
        assert ids(check_email_tls()) == []


# --- Stripe and the site's own address --------------------------------------------------------


@pytest.mark.parametrize(
    ("stripe_base", "expected"),
    [
        ("http://api.stripe.com", ["amparo.E001"]),
        ("http://stripe-proxy.example.org:8080", ["amparo.E001"]),
        ("ftp://api.stripe.com", ["amparo.E001"]),
        ("api.stripe.com", ["amparo.E001"]),
        ("https://api.stripe.com", []),
        ("http://127.0.0.1:12111", []),  # a fake Stripe on this machine (stripe-mock, the tests' own)
        ("http://localhost:12111", []),
    ],
)
def test_stripe_is_called_over_https(stripe_base, expected):
    with override_settings(STRIPE_API_BASE=stripe_base, SITE_URL="https://amparo.example.org", DEBUG=False):
        assert ids(check_public_addresses()) == expected


@pytest.mark.parametrize(
    ("site_url", "debug", "expected"),
    [
        ("http://amparo.example.org", False, ["amparo.E002"]),
        ("amparo.example.org", False, ["amparo.E002"]),
        ("https://amparo.example.org", False, []),
        ("http://127.0.0.1:8000", True, []),
    ],
)
def test_the_site_address_is_https_without_debug(site_url, debug, expected):
    with override_settings(STRIPE_API_BASE="https://api.stripe.com", SITE_URL=site_url, DEBUG=debug):
        assert ids(check_public_addresses()) == expected


# --- No source-control metadata on the server -------------------------------------------------


def test_a_git_folder_in_the_deployed_tree_is_a_warning(tmp_path):
    (tmp_path / ".git").mkdir()

    with override_settings(BASE_DIR=tmp_path, DEBUG=False):
        assert ids(check_source_control()) == ["amparo.W005"]
    with override_settings(BASE_DIR=tmp_path, DEBUG=True):
        assert ids(check_source_control()) == []


def test_a_git_worktree_file_counts_too(tmp_path):
    (tmp_path / ".git").write_text("gitdir: /src/amparo/.git/worktrees/release\n")

    with override_settings(BASE_DIR=tmp_path, DEBUG=False):
        assert ids(check_source_control()) == ["amparo.W005"]


def test_a_build_without_git_passes(tmp_path):
    (tmp_path / "amparo").mkdir()

    with override_settings(BASE_DIR=tmp_path, DEBUG=False):
        assert ids(check_source_control()) == []


def test_the_git_warning_can_be_silenced_from_the_environment():
    env_with_git_warning = {k: v for k, v in PRODUCTION.items() if k != "SILENCED_SYSTEM_CHECKS"}

    loud = _manage("check", "--deploy", "--tag", "security", env=env_with_git_warning)
    quiet = _manage("check", "--deploy", "--tag", "security", env=PRODUCTION)

    # The test runs in a checkout, so BASE_DIR holds a .git.
    assert "amparo.W005" in loud.stdout + loud.stderr
    assert "amparo.W005" not in quiet.stdout + quiet.stderr


# --- SECRET_KEY_FALLBACKS: rotating the secret key ----------------------------------------------

OLD_KEY = "old-" + "m4Tq8vW1" * 8


@pytest.mark.parametrize(
    ("fallbacks", "message"),
    [
        ("short-old-key", "SECRET_KEY_FALLBACKS: key number 1 is shorter than 50 characters."),
        (f"{OLD_KEY},too-short", "SECRET_KEY_FALLBACKS: key number 2 is shorter than 50 characters."),
        (PRODUCTION["SECRET_KEY"], "SECRET_KEY_FALLBACKS: key number 1 is the SECRET_KEY itself."),
    ],
)
def test_bad_secret_key_fallbacks_stop_start_up(fallbacks, message):
    result = _manage("check", env={**PRODUCTION, "SECRET_KEY_FALLBACKS": fallbacks})

    assert result.returncode != 0
    assert message in result.stderr


def test_a_value_signed_under_the_old_key_stays_valid_during_a_rotation():
    token = signing.Signer(key=OLD_KEY, salt="amparo.rotation-test").sign("still-valid")
    unsign = f"from django.core import signing; print(signing.Signer(salt='amparo.rotation-test').unsign({token!r}))"

    rotating = _manage("shell", "-c", unsign, env={**PRODUCTION, "SECRET_KEY_FALLBACKS": OLD_KEY})
    rotated = _manage("shell", "-c", unsign, env=PRODUCTION)

    assert rotating.returncode == 0, rotating.stderr
    assert rotating.stdout.strip().splitlines()[-1] == "still-valid"
    assert rotated.returncode != 0
    assert "BadSignature" in rotated.stderr
