"""The one client-IP reader: ``PROXY_COUNT`` proxies in front, the client N hops from the right."""

from __future__ import annotations

import pytest
from allauth.account.adapter import get_adapter
from allauth.core.internal.httpkit import get_client_ip as allauth_client_ip
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory, override_settings

from accounts.models import AccessEvent, StaffSession
from accounts.roles import Role
from kernel.client_ip import client_ip
from tests.conftest import totp_code
from tests.factories import PASSWORD, UserFactory

PROXY = "10.0.0.2"  # the proxy nearest to the app: what REMOTE_ADDR shows behind it
FAR_PROXY = "10.0.0.1"
CLIENT = "198.51.100.20"
FORGED = "203.0.113.66"


def _request(remote_addr: str | None = PROXY, forwarded_for: str | None = None, **headers: str):
    meta = dict(headers)
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    request = RequestFactory().get("/", **meta)
    if remote_addr is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote_addr
    return request


# --- No proxy: only the connection counts ---------------------------------------------------


@override_settings(PROXY_COUNT=0)
def test_without_proxies_the_connecting_address_is_the_client():
    assert client_ip(_request(remote_addr=CLIENT)) == CLIENT


@override_settings(PROXY_COUNT=0)
@pytest.mark.parametrize(
    "headers",
    [
        {"forwarded_for": FORGED},
        {"forwarded_for": f"{FORGED}, 192.0.2.1"},
        {"HTTP_X_REAL_IP": FORGED},
        {"HTTP_CLIENT_IP": FORGED},
        {"HTTP_FORWARDED": f"for={FORGED}"},
        {"HTTP_CF_CONNECTING_IP": FORGED},
    ],
)
def test_without_proxies_forged_headers_change_nothing(headers):
    assert client_ip(_request(remote_addr=CLIENT, **headers)) == CLIENT


# --- Behind proxies: the client is PROXY_COUNT hops from the right ------------------------


@override_settings(PROXY_COUNT=1)
def test_behind_one_proxy_the_client_is_the_last_forwarded_entry():
    assert client_ip(_request(forwarded_for=CLIENT)) == CLIENT


@override_settings(PROXY_COUNT=1)
def test_behind_one_proxy_entries_the_client_wrote_are_ignored():
    assert client_ip(_request(forwarded_for=f"{FORGED}, {CLIENT}")) == CLIENT


@override_settings(PROXY_COUNT=2)
def test_behind_two_proxies_the_client_is_second_from_the_right():
    assert client_ip(_request(forwarded_for=f"{FORGED}, {CLIENT}, {FAR_PROXY}")) == CLIENT
    assert client_ip(_request(forwarded_for=f"{CLIENT}, {FAR_PROXY}")) == CLIENT


@override_settings(PROXY_COUNT=1)
@pytest.mark.parametrize("header", ["HTTP_X_REAL_IP", "HTTP_CLIENT_IP", "HTTP_CF_CONNECTING_IP", "HTTP_TRUE_CLIENT_IP"])
def test_behind_proxies_only_x_forwarded_for_is_read(header):
    assert client_ip(_request(forwarded_for=CLIENT, **{header: FORGED})) == CLIENT


@pytest.mark.parametrize("proxies", [1, 2, 3])
@pytest.mark.parametrize("forged", ["", f"{FORGED}, ", f"{FORGED},192.0.2.9, "])
def test_reader_agrees_with_allauths_trusted_proxy_count(proxies, forged):
    """Same answer as allauth's own reader with ``ALLAUTH_TRUSTED_PROXY_COUNT`` = PROXY_COUNT."""
    our_proxies = ", ".join(f"10.0.0.{n}" for n in range(1, proxies))
    chain = f"{forged}{CLIENT}" + (f", {our_proxies}" if our_proxies else "")
    request = _request(forwarded_for=chain)

    with override_settings(PROXY_COUNT=proxies, ALLAUTH_TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == allauth_client_ip(request) == CLIENT


@override_settings(PROXY_COUNT=1)
@pytest.mark.parametrize(
    ("forwarded_for", "expected"),
    [
        (f"{CLIENT}:51234", CLIENT),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:DB8:0:0::7", "2001:db8::7"),
        (f"::ffff:{CLIENT}", CLIENT),
        (f"  {CLIENT}  ", CLIENT),
    ],
)
def test_addresses_come_back_normalised(forwarded_for, expected):
    assert client_ip(_request(forwarded_for=forwarded_for)) == expected


# --- Malformed or missing headers never crash --------------------------------------------


@override_settings(PROXY_COUNT=1)
@pytest.mark.parametrize(
    "left_of_client",
    ["not-an-ip, ", '"unclosed quote, ', "for=unknown, ", ",,, ", "999.1.1.1, ", "\u00e9\u00e8, ", "x" * 5000 + ", "],
)
def test_junk_the_client_wrote_does_not_move_or_hide_them(left_of_client):
    assert client_ip(_request(forwarded_for=f"{left_of_client}{CLIENT}")) == CLIENT


@override_settings(PROXY_COUNT=1)
@pytest.mark.parametrize("forwarded_for", ["", " ", "not-an-ip", f"{CLIENT}, garbage", "0.0.0.0", "unknown"])
def test_unreadable_client_entry_falls_back_to_the_connection(forwarded_for):
    assert client_ip(_request(forwarded_for=forwarded_for)) == PROXY


@override_settings(PROXY_COUNT=1)
def test_request_that_bypassed_the_proxy_is_read_from_the_connection():
    assert client_ip(_request(remote_addr=CLIENT)) == CLIENT


@override_settings(PROXY_COUNT=2)
def test_header_shorter_than_our_proxy_chain_falls_back_to_the_connection():
    """Only the nearest proxy saw it (a health check, say): the header holds no client entry."""
    assert client_ip(_request(forwarded_for=FAR_PROXY)) == PROXY


@pytest.mark.parametrize("proxies", [0, 1])
@pytest.mark.parametrize("remote_addr", [None, "", "garbage", "unix:/run/gunicorn.sock"])
def test_no_readable_address_at_all_is_none(proxies, remote_addr):
    with override_settings(PROXY_COUNT=proxies):
        assert client_ip(_request(remote_addr=remote_addr)) is None


def test_no_request_is_none():
    assert client_ip(None) is None


# --- The access log ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "forwarded_for"),
    [(1, f"{FORGED}, {CLIENT}"), (2, f"{FORGED}, {CLIENT}, {FAR_PROXY}")],
)
def test_access_log_records_the_real_client_behind_proxies(proxies, forwarded_for):
    user = UserFactory(role=Role.ATTORNEY)
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)

    with override_settings(PROXY_COUNT=proxies):
        client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
        session_ip = StaffSession.objects.get(user=user).ip_address
        client.post("/accounts/logout/")

    assert session_ip == CLIENT
    logged = AccessEvent.objects.filter(user=user).values_list("action", "ip_address")
    assert sorted(logged) == sorted([(AccessEvent.Action.SIGN_IN, CLIENT), (AccessEvent.Action.SIGN_OUT, CLIENT)])


@pytest.mark.django_db
@override_settings(PROXY_COUNT=0)
def test_access_log_ignores_a_forged_header_without_proxies():
    user = UserFactory(role=Role.ATTORNEY)
    client = Client(REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=FORGED)

    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert AccessEvent.objects.get(user=user, action=AccessEvent.Action.SIGN_IN).ip_address == CLIENT


# --- allauth goes through the same door ------------------------------------------------------


@override_settings(PROXY_COUNT=1)
def test_allauth_adapter_reads_the_client_through_the_kernel_reader():
    adapter = get_adapter()

    assert adapter.get_client_ip(_request(forwarded_for=f"{FORGED}, {CLIENT}")) == CLIENT


@override_settings(PROXY_COUNT=0)
def test_allauth_adapter_refuses_a_request_with_no_readable_address():
    with pytest.raises(PermissionDenied):
        get_adapter().get_client_ip(_request(remote_addr="garbage"))
