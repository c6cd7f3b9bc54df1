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
    assert response.json() == {"status": "ok", "database": True, "broker": True}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_answers_503_when_the_broker_is_unreachable(settings):
    from amparo.celery import app

    original = app.conf.broker_url, app.conf.broker_write_url
    # Nothing listens on the discard port.
    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:9/0"
    try:
        response = Client().get("/healthz")
    finally:
        app.conf.broker_url, app.conf.broker_write_url = original

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": True, "broker": False}
