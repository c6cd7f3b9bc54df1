"""The demo app is development only: installed with DEBUG on, absent from production settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import User

SERVER = {
    "SECRET_KEY": "k3y-" + "x7Qp9zR2" * 8,
    "SITE_URL": "https://amparo.example.org",
    "ALLOWED_HOSTS": "amparo.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    "FIELD_ENCRYPTION_KEYS": "c2VydmVyLWZpZWxkLWtleS0wMDAwMDAwMDAwMDAwMDA=",
    "BLIND_INDEX_KEY": "server-blind-index-key-0123456789abcdef",
}


def _python_with_server_env(code: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter with only a server's environment: the test settings (which add the demo
    # so that these tests run) are not involved.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(SERVER, **env_extra)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _installed_apps(debug: str) -> list[str]:
    result = _python_with_server_env(
        "import json, amparo.settings as s; print(json.dumps(s.INSTALLED_APPS))", DEBUG=debug
    )
    result.check_returncode()
    return json.loads(result.stdout)


def test_demo_app_is_not_installed_with_debug_off():
    apps = _installed_apps("0")

    assert "demo" not in apps
    assert "casework" in apps  # the settings did load


def test_demo_app_is_installed_with_debug_on():
    assert _installed_apps("1").count("demo") == 1


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_without_debug_even_where_installed(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="seed_demo only runs with DEBUG on"):
        call_command("seed_demo")

    assert not User.objects.filter(email__endswith="@demo.amparo.test").exists()


def test_production_settings_refuse_the_stripe_sandbox():
    result = _python_with_server_env("import amparo.settings", DEBUG="0", STRIPE_SANDBOX="1")

    assert result.returncode != 0
    assert "STRIPE_SANDBOX is the demo's stand-in for Stripe and needs DEBUG=1" in result.stderr


def test_the_demo_talks_to_the_sandbox_unless_given_a_stripe_key():
    def stripe_base(**extra: str) -> str:
        result = _python_with_server_env(
            "import amparo.settings as s; print(s.STRIPE_SANDBOX, s.STRIPE_API_BASE)", DEBUG="1", **extra
        )
        result.check_returncode()
        return result.stdout.strip()

    assert stripe_base() == "True http://127.0.0.1:12111"
    assert stripe_base(STRIPE_SECRET_KEY="sk_test_mine") == "False https://api.stripe.com"
