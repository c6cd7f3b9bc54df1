"""Security headers, caching, session lifetime."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone

from accounts.receivers import SIGNED_IN_AT
from accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_content_security_policy_allows_no_inline_script_or_style():
    response = Client().get("/accounts/login/")

    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    features = dict(part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))
    assert features["camera"] == features["geolocation"] == features["microphone"] == features["payment"] == "()"


def test_signed_in_pages_are_never_cached(client_for):
    response = client_for(Role.ATTORNEY).get("/")

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_staff_session_expires_after_30_idle_minutes(client_for):
    client = client_for(Role.ATTORNEY)

    client.get("/")

    session = Session.objects.get(session_key=client.session.session_key)
    assert abs((session.expire_date - timezone.now()) - timedelta(minutes=30)) < timedelta(seconds=10)
    # After 30 quiet minutes the session is gone.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_each_request_renews_the_idle_window(client_for):
    client = client_for(Role.ATTORNEY)
    client.get("/")
    key = client.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=1))

    assert client.get("/dashboard/").status_code == 200

    assert Session.objects.get(pk=key).expire_date > timezone.now() + timedelta(minutes=29)


def test_staff_session_ends_12_hours_after_sign_in_however_active(client_for):
    client = client_for(Role.ATTORNEY)
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 12 * 3600 - 60
    session.save()

    response = client.get("/staff/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/")["Location"].startswith("/accounts/login/")


@override_settings(
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_SSL_REDIRECT=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
    LANGUAGE_COOKIE_SECURE=True,
)
def test_https_settings_send_hsts_and_secure_cookies():
    client = Client()

    plain = client.get("/accounts/login/")
    secure = client.get("/accounts/login/", secure=True)

    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure.cookies["csrftoken"]["secure"]
    chosen = client.post("/i18n/setlang/", {"language": "es", "next": "/accounts/login/"}, secure=True)
    cookie = chosen.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_the_language_cookie_is_secure_wherever_the_session_cookie_is():
    assert settings.LANGUAGE_COOKIE_SECURE == settings.SESSION_COOKIE_SECURE
    assert settings.LANGUAGE_COOKIE_HTTPONLY


def test_healthz_reports_database_and_broker():
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": True, "outbox_backlog": 0}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_answers_503_when_the_broker_is_unreachable(settings):
    from amparo.celery import app

    original = app.conf.broker_url, app.conf.broker_write_url
    # Nothing listens on the discard port.
    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:9/0"
    try:
        started = time.monotonic()
        response = Client().get("/healthz")
        took = time.monotonic() - started
    finally:
        app.conf.broker_url, app.conf.broker_write_url = original

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": True,
        "broker": False,
        "failing": ["broker"],
        "outbox_backlog": 0,
    }
    assert took < 1


def test_healthz_counts_the_outbox_backlog_without_failing():
    from kernel.models import OutboxMessage

    waiting = OutboxMessage.objects.create(task_name="kernel.tasks.outbox_sweep", arguments="{}")
    OutboxMessage.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    OutboxMessage.objects.create(task_name="kernel.tasks.outbox_sweep", arguments="{}")  # just written

    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json()["outbox_backlog"] == 1


@pytest.fixture
def filesystem_broker(tmp_path):
    """The Celery app on kombu's filesystem transport (the local default), in folders under ``tmp_path``."""
    from amparo.celery import app

    folders = {
        "data_folder_in": tmp_path / "queue",
        "data_folder_out": tmp_path / "queue",
        "processed_folder": tmp_path / "processed",
        "control_folder": tmp_path / "control",
    }
    keys = ("broker_url", "broker_write_url", "broker_read_url", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        broker_url="filesystem://",
        broker_write_url="filesystem://",
        broker_read_url="filesystem://",
        broker_transport_options={**app.conf.broker_transport_options, **{k: str(v) for k, v in folders.items()}},
    )
    try:
        yield folders
    finally:
        app.conf.update(saved)


def test_healthz_checks_the_filesystem_brokers_folders(filesystem_broker):
    from amparo.celery import broker_folders_create

    missing = Client().get("/healthz")
    broker_folders_create()
    present = Client().get("/healthz")
    left_behind = list(filesystem_broker["data_folder_in"].iterdir())
    filesystem_broker["processed_folder"].rmdir()  # removed under a running process
    removed = Client().get("/healthz")

    assert (missing.status_code, missing.json()["failing"]) == (503, ["broker"])
    assert present.status_code == 200
    assert left_behind == []  # the probe's file is gone again
    assert (removed.status_code, removed.json()["failing"]) == (503, ["broker"])
