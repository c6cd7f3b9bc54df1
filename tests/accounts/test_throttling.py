"""Repeated failures slow an attacker down without locking the real user out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
COLLEAGUE = "198.51.100.20"


def _attempt(email: str, password: str, ip: str):
    return Client().post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


def test_attacker_is_locked_out_after_repeated_failures_even_with_the_right_password():
    user = UserFactory(role=Role.ATTORNEY)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _attempt(user.email, "guess", ATTACKER).status_code == 200
    assert _attempt(user.email, "guess", ATTACKER).status_code == 429

    response = _attempt(user.email, PASSWORD, ATTACKER)

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_real_user_from_another_address_still_signs_in_during_an_attack():
    user = UserFactory(role=Role.ATTORNEY)
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        _attempt(user.email, "guess", ATTACKER)

    response = _attempt(user.email, PASSWORD, COLLEAGUE)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"


def test_lock_out_is_per_account_so_colleagues_on_the_same_network_are_unaffected():
    target = UserFactory(role=Role.ATTORNEY)
    colleague = UserFactory(role=Role.INTAKE)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(target.email, "guess", ATTACKER)

    response = _attempt(colleague.email, PASSWORD, ATTACKER)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"


def test_e_mail_case_does_not_dodge_the_throttle():
    user = UserFactory(role=Role.ATTORNEY)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        email = user.email.upper() if attempt % 2 else user.email
        _attempt(email, "guess", ATTACKER)

    assert _attempt(user.email, PASSWORD, ATTACKER).status_code == 429
