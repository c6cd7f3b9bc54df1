"""Sign-in throttles: how django-axes names an account, and the limits on authenticator codes.

**Passwords** are django-axes' job. allauth passes ``email=...`` to ``authenticate()`` and posts
the address as ``login``; axes then throttles per (address, IP) pair, so an attacker elsewhere
cannot lock a real user out. allauth adds its per-IP caps (``ACCOUNT_RATE_LIMITS["login_failed"]``).

**Authenticator codes** (TOTP, recovery codes) follow the same rule, with one more cap, because
guessing a 6-digit code from many addresses at once would otherwise be limited by nothing but the
number of addresses the attacker has:

* per account **and address** (IPv6: its /64 network): ``MFA_CODE_FAILURE_LIMIT`` wrong codes, as
  axes does for passwords; a right code from that address clears its count;
* per account, from every address the account has **not** signed in from during the last
  ``MFA_CODE_KNOWN_ADDRESS_DAYS`` days taken together: ``MFA_CODE_NEW_ADDRESS_FAILURE_LIMIT``
  wrong codes. A right code does not clear this count (otherwise each sign-in of the real user
  would hand the attacker a fresh budget); it runs out by itself.

Failures are counted in ``MFA_CODE_COOLOFF`` windows and the current and the previous window are
added up, so a paused account or address can try again 1-2 cool-offs after the last failure.

So a botnet holding the password gets ``MFA_CODE_NEW_ADDRESS_FAILURE_LIMIT`` guesses per window in
all, and cannot lock the real user out: from an address they have signed in from before (their
office, their home) codes are refused only after wrong codes from that very address; from a new
address the real user waits out the cool-off at worst. allauth's own per-IP cap
(``login_failed``) still applies on top. Reaching the code step takes the right password, so an
account that hits these limits has a leaked password: the pause page says so.

Counters live in the ``default`` cache (Redis in production: one count for every web process)
and are keyed by the account's id and a hash of the address, from the one proxy-aware reader
(``kernel.client_ip``). While Redis is down or hung, that cache fails open
(``kernel.cache.FailOpenRedisCache``): each web process counts in its own memory, so for those
minutes the limits hold per process (an attacker spread over N processes gets N times the budget)
— the password and the code are still checked as always; only the counting is weaker.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.selectors import staff_sign_in_addresses
from kernel.counters import counter_add

_PREFIX = "amparo:mfa-code"


def username_from_request(request: HttpRequest, credentials: dict | None) -> str:
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None and request.method == "POST":
        value = request.POST.get("login", "")
    return str(value or "").strip().lower()[:254]


def throttle_clock() -> float:
    """Seconds since the epoch; the one place tests move the clock of these counters."""
    return time.time()


def address_bucket(ip_address: str | None) -> str:
    """The unit an address is counted in: an IPv4 address, or the /64 network of an IPv6 one
    (one subscriber's line holds a whole /64, as allauth assumes too)."""
    if not ip_address:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address) + "/64"
    return str(address)


def _window_seconds() -> int:
    cooloff: timedelta = settings.MFA_CODE_COOLOFF
    return max(int(cooloff.total_seconds()), 1)


def _windows() -> tuple[int, int]:
    current = int(throttle_clock() // _window_seconds())
    return current, current - 1


def _pair_counter(user: User, ip_address: str | None) -> str:
    """The cache key of the account + address count, with ``{window}`` left to fill in."""
    digest = hashlib.sha256(address_bucket(ip_address).encode()).hexdigest()[:32]
    return f"{_PREFIX}:pair:{user.pk}:{digest}:{{window}}"


def _new_address_counter(user: User) -> str:
    """The cache key of the account's count from new addresses, with ``{window}`` left to fill in."""
    return f"{_PREFIX}:new:{user.pk}:{{window}}"


def _count(counter: str) -> int:
    return sum(int(cache.get(counter.format(window=w)) or 0) for w in _windows())


def _increment(counter: str) -> None:
    current, _previous = _windows()
    key = counter.format(window=current)
    # Kept two windows: the next window still adds this one up.
    counter_add(key, timeout=2 * _window_seconds())


def is_known_address(*, user: User, ip_address: str | None) -> bool:
    """Whether ``user`` has completed a sign-in from this address (or /64) lately (one query)."""
    bucket = address_bucket(ip_address)
    if bucket == "unknown":
        return False
    since = timezone.now() - timedelta(days=settings.MFA_CODE_KNOWN_ADDRESS_DAYS)
    return bucket in {address_bucket(ip) for ip in staff_sign_in_addresses(user=user, since=since)}


def mfa_code_attempt_allowed(*, user: User, ip_address: str | None) -> bool:
    """May a code for ``user`` from ``ip_address`` be checked now? No side effects."""
    if _count(_pair_counter(user, ip_address)) >= settings.MFA_CODE_FAILURE_LIMIT:
        return False
    if _count(_new_address_counter(user)) < settings.MFA_CODE_NEW_ADDRESS_FAILURE_LIMIT:
        return True
    return is_known_address(user=user, ip_address=ip_address)


def mfa_code_failed(*, user: User, ip_address: str | None) -> None:
    """Count a wrong code. Side effects: cache counters (the pair; the account's new-address count
    when the address is not one the account signed in from)."""
    _increment(_pair_counter(user, ip_address))
    if not is_known_address(user=user, ip_address=ip_address):
        _increment(_new_address_counter(user))


def mfa_code_succeeded(*, user: User, ip_address: str | None) -> None:
    """A right code: the count of this account and address starts again (side effect: cache).
    The account's new-address count is left to run out (see the module docstring)."""
    counter = _pair_counter(user, ip_address)
    cache.delete_many([counter.format(window=w) for w in _windows()])
