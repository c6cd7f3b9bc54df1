from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache
from django.test import Client

from accounts.roles import Role
from tests.factories import TOTP_SECRET, UserFactory


def totp_code(secret: str = TOTP_SECRET, offset: int = 0) -> str:
    """The code an authenticator app would show now (``offset`` periods away)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


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
