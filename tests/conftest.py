from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from accounts.roles import Role
from funds.models import Fund
from tests.factories import TOTP_SECRET, UserFactory
from tests.personas import Personas, make_personas


def totp_code(secret: str = TOTP_SECRET, offset: int = 0) -> str:
    """The code an authenticator app would show now (``offset`` periods away).

    The app accepts the current 30-second period only (allauth's tolerance is 0), so a code read
    in a period's last seconds can be stale by the time the request checks it: wait for the next.
    """
    if 30 - time.time() % 30 < 3:
        time.sleep(30 - time.time() % 30 + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def restore_reference_data() -> None:
    """Put back what the data migrations load (courts, facilities, the two funds).

    Transactional tests (browser, Celery worker, database-trigger tests) end with a flush that
    empties every table, including rows the migrations inserted; later tests expect them.
    """
    from importlib import import_module

    from django.apps import apps

    from casework.models import ImmigrationCourt
    from funds.models import Fund

    if not ImmigrationCourt.objects.exists():
        # 0004 holds the current loader (0002 loses one codeless facility on today's schema).
        import_module("casework.migrations.0004_facilities_without_code").load(apps, None)
        import_module("casework.migrations.0009_facilities_no_longer_used").retire(apps, None)
    if Fund.objects.filter(slug__in=["general", "bond"]).count() != 2:
        import_module("funds.migrations.0002_ledger_rules_and_funds").create_funds(apps, None)


@pytest.fixture(autouse=True)
def _reference_data(request):
    if request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    ):
        request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
        restore_reference_data()
    yield


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return (
        bool(marker and marker.kwargs.get("transaction"))
        or {"transactional_db", "live_server"} & set(request.fixturenames) != set()
    )


@pytest.fixture(autouse=True)
def _default_language():
    # A request in Spanish leaves Spanish active in the thread (LocaleMiddleware activates the
    # request's language and nothing switches back); the next test must start in English.
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    # allauth's rate limits and used-code records live in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db):
    def make(role: Role | None = None, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def client_for(db):
    """A test client signed in as a new staff member with ``role`` (MFA already enrolled)."""

    def make(role: Role | None, **kwargs) -> Client:
        user = UserFactory(role=role, **kwargs)
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make


@pytest.fixture
def admin_client_(client_for) -> Client:
    return client_for(Role.ADMIN)


@pytest.fixture
def personas(db) -> Personas:
    """Every persona of ``tests/personas.py``, around one active case; ``personas.client(name)`` signs in."""
    return make_personas()


@pytest.fixture
def private_root(settings, tmp_path):
    """A fresh private (encrypted) storage folder for one test; returns its path."""
    root = tmp_path / "private"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(root), "base_url": None}},
    }
    return root


@pytest.fixture
def general_fund(db) -> Fund:
    """The general fund, open to gifts (the funds tests and the demo's sandbox tests give to it)."""
    return Fund.objects.update_or_create(
        slug="general",
        defaults={"name": "General fund", "active": True, "accepts_donations": True, "sort_order": 1},
    )[0]
