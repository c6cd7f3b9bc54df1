"""Authenticator codes are limited per account and per address, without locking the real user out.

The attacker here knows the password (only then does anyone reach the code step) and tries codes
from three addresses. Worked example with the default limits: 5 wrong codes per account and
address, 10 per account from addresses it has never signed in from, counted over 15-minute
windows. So address A gets 5 guesses, B gets 5, and C none: 10 in all. The real user, from the
address they signed in from last week, still signs in at once; from a new address, after the
cool-off.
"""

from __future__ import annotations

import os

import pytest
import redis
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings

from accounts import throttling
from accounts.checks import check_shared_cache
from accounts.models import AccessEvent
from accounts.roles import Role
from accounts.services import access_event_record
from tests.conftest import totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ATTACKERS = ("203.0.113.7", "203.0.113.8", "198.51.100.99")
HOME = "192.0.2.10"  # where the real user signed in from before
TRAVEL = "192.0.2.200"  # a hotel: never seen before


def _at_code_step(email: str, ip: str) -> Client:
    """A client from ``ip`` past the password step, asked for its authenticator code."""
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    return client


def _wrong_code() -> str:
    right = {totp_code(offset=n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def _signed_in(client: Client) -> bool:
    return client.get("/", follow=False)["Location"] != "/accounts/login/?next=/"


def _attack(user, addresses=ATTACKERS, per_address: int = 8) -> list[int]:
    """Every status the attacker's code posts got, address after address."""
    statuses = []
    for ip in addresses:
        client = _at_code_step(user.email, ip)
        for _ in range(per_address):
            statuses.append(client.post("/accounts/2fa/authenticate/", {"code": _wrong_code()}).status_code)
    return statuses


def test_three_addresses_get_ten_wrong_codes_in_all_then_are_cut_off():
    user = UserFactory(role=Role.ATTORNEY)

    statuses = _attack(user)

    per_address = settings.MFA_CODE_FAILURE_LIMIT  # 5
    in_all = settings.MFA_CODE_NEW_ADDRESS_FAILURE_LIMIT  # 10
    assert statuses.count(200) == in_all  # a code was checked: "Incorrect code."
    assert statuses[:8] == [200] * per_address + [429] * 3  # address A: 5, then paused
    assert statuses[8:16] == [200] * per_address + [429] * 3  # address B: 5, and the account is full
    assert statuses[16:] == [429] * 8  # address C: not one guess


def test_during_the_pause_even_the_right_code_from_the_attackers_address_is_refused():
    user = UserFactory(role=Role.ATTORNEY)
    _attack(user)
    client = _at_code_step(user.email, ATTACKERS[2])

    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many wrong authenticator codes" in page
    assert "Only someone who knows your password reaches this step" in page
    assert not _signed_in(client)


def test_the_real_user_from_an_address_they_signed_in_from_is_not_locked_out():
    user = UserFactory(role=Role.ATTORNEY)
    access_event_record(user=user, action=AccessEvent.Action.SIGN_IN, object_type="staff", ip_address=HOME)
    _attack(user)
    client = _at_code_step(user.email, HOME)

    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_real_user_from_a_new_address_signs_in_after_the_cool_off(monkeypatch):
    user = UserFactory(role=Role.ATTORNEY)
    _attack(user)
    assert _at_code_step(user.email, TRAVEL).post("/accounts/2fa/authenticate/", {"code": "123"}).status_code == 429

    later = throttling.throttle_clock() + 2 * settings.MFA_CODE_COOLOFF.total_seconds()
    monkeypatch.setattr(throttling, "throttle_clock", lambda: later)
    client = _at_code_step(user.email, TRAVEL)
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert response.status_code == 302
    assert _signed_in(client)


def test_wrong_codes_from_a_known_address_are_limited_too():
    user = UserFactory(role=Role.ATTORNEY)
    access_event_record(user=user, action=AccessEvent.Action.SIGN_IN, object_type="staff", ip_address=HOME)

    statuses = _attack(user, addresses=[HOME], per_address=7)

    assert statuses == [200] * 5 + [429] * 2


def test_a_right_code_starts_the_address_count_again():
    user = UserFactory(role=Role.FINANCE)
    recovery = RecoveryCodes(Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES))
    first = _at_code_step(user.email, HOME)
    for _ in range(4):
        assert first.post("/accounts/2fa/authenticate/", {"code": _wrong_code()}).status_code == 200
    assert first.post("/accounts/2fa/authenticate/", {"code": recovery.get_unused_codes()[0]}).status_code == 302

    second = _at_code_step(user.email, HOME)
    statuses = [second.post("/accounts/2fa/authenticate/", {"code": _wrong_code()}).status_code for _ in range(5)]

    assert statuses == [200] * 5  # a fresh budget of 5 for this address, not the 1 left before


def test_one_attacker_cannot_pause_someone_else_s_account():
    target = UserFactory(role=Role.ATTORNEY)
    colleague = UserFactory(role=Role.INTAKE)
    _attack(target)
    client = _at_code_step(colleague.email, ATTACKERS[0])

    assert client.post("/accounts/2fa/authenticate/", {"code": totp_code()}).status_code == 302


def test_re_authenticating_by_code_is_limited_like_signing_in():
    user = UserFactory(role=Role.ATTORNEY)
    client = Client(REMOTE_ADDR=ATTACKERS[0])
    client.force_login(user)

    statuses = [client.post("/accounts/2fa/reauthenticate/", {"code": _wrong_code()}).status_code for _ in range(7)]

    assert statuses == [200] * 5 + [429] * 2


def test_ipv6_addresses_of_one_network_count_as_one():
    user = UserFactory(role=Role.ATTORNEY)
    addresses = [f"2001:db8:1:2::{n:x}" for n in range(1, 8)]

    statuses = _attack(user, addresses=addresses, per_address=1)

    assert statuses == [200] * 5 + [429] * 2


def test_address_buckets():
    assert throttling.address_bucket("203.0.113.7") == "203.0.113.7"
    assert throttling.address_bucket("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert throttling.address_bucket(None) == "unknown"
    assert throttling.address_bucket("not an address") == "unknown"


# --- One count for every web process -----------------------------------------------------------


def test_the_counts_are_kept_in_the_shared_cache():
    """With the production cache (Redis), the count lives where every web process reads it."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("needs the private Redis of scripts/services.sh (TEST_REDIS_URL)")
    prefix = "amparo-limits-test"
    shared = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": prefix}
    user = UserFactory(role=Role.ATTORNEY)
    with override_settings(CACHES={"default": shared}):
        cache.clear()
        try:
            statuses = _attack(user, addresses=ATTACKERS[:1], per_address=3)
            stored = redis.Redis.from_url(redis_url).keys(f"{prefix}:*mfa-code*")
            statuses += _attack(user, addresses=ATTACKERS[:1], per_address=3)
        finally:
            cache.clear()

    assert stored
    assert statuses == [200] * 5 + [429]


def test_the_deploy_check_warns_about_a_per_process_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [m.id for m in check_shared_cache()] == ["accounts.W001"]

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}
    assert check_shared_cache() == []
