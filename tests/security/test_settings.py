"""Settings come from the environment and fail loudly; production passes Django's deploy check."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-" + "x7Qp9zR2" * 8,
    "SITE_URL": "https://amparo.example.org",
    "ALLOWED_HOSTS": "amparo.example.org",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    # The limits count in a cache every web process shares (the deploy check accounts.W001).
    "CACHE_URL": "rediscache://127.0.0.1:6379/1",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
    "FIELD_ENCRYPTION_KEYS": "c2VydmVyLWZpZWxkLWtleS0wMDAwMDAwMDAwMDAwMDA=",
    "BLIND_INDEX_KEY": "server-blind-index-key-0123456789abcdef",
    # The test runs in a git checkout; a real server gets a build without .git (amparo.W005).
    "SILENCED_SYSTEM_CHECKS": "amparo.W005",
    "UPLOAD_SCANNER_URL": "tcp://127.0.0.1:3310",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what a server's environment would hold: nothing from the test settings leaks in.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL") if k in os.environ}
    clean["DATABASE_URL"] = os.environ.get("DATABASE_URL", "sqlite:///:memory:")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"DEBUG": "perhaps"}, "DEBUG='perhaps' is not a boolean"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL names no database engine"),
        ({"AXES_FAILURE_LIMIT": "five"}, "AXES_FAILURE_LIMIT='five' is not an integer"),
        ({"SITE_URL": ""}, "SITE_URL must be set"),
        ({"FIELD_ENCRYPTION_KEYS": ""}, "FIELD_ENCRYPTION_KEYS must be set"),
        ({"FIELD_ENCRYPTION_KEYS": "c2hvcnQ="}, "Encryption key number 1 is 5 bytes; it must be 32"),
        ({"FIELD_ENCRYPTION_KEYS": "not base64!"}, "Encryption key number 1 is not base64"),
        ({"BLIND_INDEX_KEY": "short"}, "BLIND_INDEX_KEY must be set to a random value of 32+ characters"),
        ({"BLIND_INDEX_KEY": "k3y-" + "x7Qp9zR2" * 8}, "BLIND_INDEX_KEY must not be the SECRET_KEY"),
    ],
)
def test_bad_settings_stop_start_up_with_a_clear_message(env, message):
    result = _manage("check", env={**PRODUCTION, **env})

    assert result.returncode != 0
    assert message in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {**PRODUCTION, "SECRET_KEY": "", "SECRET_KEY_FILE": str(secret_file)}

    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stderr


def test_seed_demo_does_not_exist_without_debug():
    # The demo app that owns it is installed only with DEBUG on (tests/demo checks the rest).
    result = _manage("seed_demo", env=PRODUCTION)

    assert result.returncode != 0
    assert "Unknown command: 'seed_demo'" in result.stderr


@pytest.mark.parametrize(
    ("database_url", "kept"),
    [("postgres://amparo@127.0.0.1:5432/amparo", 60), ("sqlite:///db.sqlite3", 0)],
)
def test_database_connections_are_kept_on_postgresql_and_checked_before_reuse(database_url, kept):
    """A new PostgreSQL connection per request costs more than a small page (issue 12): production
    keeps each for a minute, and checks it before a request reuses it."""
    script = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    result = _manage("shell", "--no-imports", "-c", script, env={**PRODUCTION, "DATABASE_URL": database_url})

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(kept), "True"]
