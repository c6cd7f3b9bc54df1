"""Repeated failures slow an attacker down without locking the real user out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

from accounts.roles import Role
from funds.services import donor_portal
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
COLLEAGUE = "198.51.100.20"
# The first of allauth's "login_failed" rates, "20/m/ip": failed sign-ins per minute per IP.
ALLAUTH_FAILURES_PER_MINUTE = int(settings.ACCOUNT_RATE_LIMITS["login_failed"].split("/")[0])


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


# --- Behind reverse proxies (PROXY_COUNT) -----------------------------------------------------
#
# Every request then arrives from our nearest proxy (REMOTE_ADDR); the client's address is in
# X-Forwarded-For, PROXY_COUNT entries from the right. Throttles must key on that address, or
# one attacker's failures would count against everyone behind the same proxy.

PROXY = "10.0.0.2"
FAR_PROXY = "10.0.0.1"
# What X-Forwarded-For holds for a client at ``ip``, as our proxies deliver it: whatever the
# client sent itself (``forged``), then the client's address, then our farther proxies.
CHAINS = {
    1: lambda ip, forged="": f"{forged}{ip}",
    2: lambda ip, forged="": f"{forged}{ip}, {FAR_PROXY}",
}


def _attempt_via_proxies(proxies: int, email: str, password: str, ip: str, *, forged: str = ""):
    return Client().post(
        "/accounts/login/",
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=CHAINS[proxies](ip, forged),
    )


@pytest.mark.parametrize("proxies", [1, 2])
def test_behind_proxies_an_attack_does_not_lock_the_real_user_out(proxies):
    user = UserFactory(role=Role.ATTORNEY)
    with override_settings(PROXY_COUNT=proxies):
        for _ in range(settings.AXES_FAILURE_LIMIT + 2):
            # Claiming to be the colleague in the header's client-written part does not help.
            _attempt_via_proxies(proxies, user.email, "guess", ATTACKER, forged=f"{COLLEAGUE}, ")

        response = _attempt_via_proxies(proxies, user.email, PASSWORD, COLLEAGUE)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"


@pytest.mark.parametrize("proxies", [1, 2])
def test_behind_proxies_the_attackers_own_address_is_locked(proxies):
    user = UserFactory(role=Role.ATTORNEY)
    with override_settings(PROXY_COUNT=proxies):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _attempt_via_proxies(proxies, user.email, "guess", ATTACKER)

        response = _attempt_via_proxies(proxies, user.email, PASSWORD, ATTACKER, forged="192.0.2.44, ")

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()


@override_settings(PROXY_COUNT=0)
def test_without_proxies_a_rotating_forged_x_forwarded_for_changes_nothing():
    user = UserFactory(role=Role.ATTORNEY)
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = Client().post(
            "/accounts/login/",
            {"login": user.email, "password": "guess"},
            REMOTE_ADDR=ATTACKER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}",
        )
        assert response.status_code == (429 if n == settings.AXES_FAILURE_LIMIT - 1 else 200)

    response = Client().post(
        "/accounts/login/",
        {"login": user.email, "password": PASSWORD},
        REMOTE_ADDR=ATTACKER,
        HTTP_X_FORWARDED_FOR=COLLEAGUE,
    )

    assert response.status_code == 429
    # The colleague really elsewhere is not affected.
    assert _attempt(user.email, PASSWORD, COLLEAGUE).status_code == 302


@pytest.mark.parametrize("proxies", [1, 2])
def test_allauth_per_ip_limit_counts_each_client_behind_proxies(proxies):
    """allauth's ``login_failed`` 20/m/ip budget is the attacker's alone, not the proxy's."""
    user = UserFactory(role=Role.ATTORNEY)
    too_many = "Too many failed login attempts. Try again later."
    with override_settings(PROXY_COUNT=proxies):
        # A different address each time stays under axes' per-account limit: only allauth's
        # per-IP limit can stop this sweep.
        for n in range(ALLAUTH_FAILURES_PER_MINUTE):
            response = _attempt_via_proxies(proxies, f"sweep{n}@example.org", "guess", ATTACKER)
            assert too_many not in response.content.decode()

        stopped = _attempt_via_proxies(proxies, "one-more@example.org", "guess", ATTACKER)
        colleague = _attempt_via_proxies(proxies, user.email, PASSWORD, COLLEAGUE)

    assert too_many in stopped.content.decode()
    assert colleague.status_code == 302
    assert colleague["Location"] == "/accounts/2fa/authenticate/"


# --- Donor sign-in codes ---------------------------------------------------------------------


def _ask_for_code(email: str, ip: str, *, proxies: int):
    return Client().post("/donor/", {"email": email}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CHAINS[proxies](ip))


@pytest.mark.parametrize("proxies", [1, 2])
def test_donor_code_requests_are_counted_per_real_client_behind_proxies(proxies):
    with override_settings(PROXY_COUNT=proxies):
        for _ in range(donor_portal.REQUESTS_PER_ADDRESS_AND_IP):
            assert _ask_for_code("maria@example.org", ATTACKER, proxies=proxies).status_code == 302
        throttled = _ask_for_code("maria@example.org", ATTACKER, proxies=proxies)
        elsewhere = _ask_for_code("maria@example.org", COLLEAGUE, proxies=proxies)

    assert throttled.status_code == 429
    assert elsewhere.status_code == 302


@pytest.mark.parametrize("proxies", [1, 2])
def test_donor_code_per_ip_cap_holds_back_only_the_client_trying_many_addresses(proxies):
    with override_settings(PROXY_COUNT=proxies):
        for n in range(donor_portal.REQUESTS_PER_IP):
            assert _ask_for_code(f"guess{n}@example.org", ATTACKER, proxies=proxies).status_code == 302
        throttled = _ask_for_code("maria@example.org", ATTACKER, proxies=proxies)
        elsewhere = _ask_for_code("maria@example.org", COLLEAGUE, proxies=proxies)

    assert throttled.status_code == 429
    assert elsewhere.status_code == 302
