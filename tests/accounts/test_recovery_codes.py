"""Recovery codes are shown or made again only after re-authenticating, every time.

A fresh sign-in is not enough (a session left open, or taken over, in its first minutes must not
reveal the codes), and one re-authentication shows the codes once.
"""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.test import Client

from accounts.roles import Role
from tests.conftest import totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CODES_URL = "/accounts/2fa/recovery-codes/"
DOWNLOAD_URL = "/accounts/2fa/recovery-codes/download/"
GENERATE_URL = "/accounts/2fa/recovery-codes/generate/"


def _codes(user) -> list[str]:
    return RecoveryCodes(
        Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()


def _signed_in(user) -> Client:
    """Signed in the real way a moment ago: password, then the authenticator code."""
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/authenticate/", {"code": totp_code()}).status_code == 302
    return client


def _asks_to_reauthenticate(response, path: str) -> bool:
    return response.status_code == 302 and response["Location"] == f"/accounts/reauthenticate/?next={path}"


def _reauthenticate(client: Client, path: str):
    return client.post(f"/accounts/reauthenticate/?next={path}", {"password": PASSWORD}, follow=True)


def test_right_after_signing_in_the_codes_need_the_password_again():
    user = UserFactory(role=Role.ATTORNEY)
    client = _signed_in(user)

    response = client.get(CODES_URL)

    assert _asks_to_reauthenticate(response, CODES_URL.replace("/", "%2F"))
    assert not any(code in client.get(CODES_URL, follow=True).content.decode() for code in _codes(user))


def test_the_download_needs_it_too():
    user = UserFactory(role=Role.ATTORNEY)
    client = _signed_in(user)

    response = client.get(DOWNLOAD_URL)

    assert _asks_to_reauthenticate(response, DOWNLOAD_URL.replace("/", "%2F"))


def test_one_re_authentication_shows_the_codes_once():
    user = UserFactory(role=Role.ATTORNEY)
    client = _signed_in(user)

    shown = _reauthenticate(client, CODES_URL)
    again = client.get(CODES_URL)

    assert shown.redirect_chain[-1][0] == CODES_URL
    page = shown.content.decode()
    assert all(code in page for code in _codes(user))
    assert _asks_to_reauthenticate(again, CODES_URL.replace("/", "%2F"))


def test_a_new_re_authentication_shows_them_again():
    user = UserFactory(role=Role.ATTORNEY)
    client = _signed_in(user)
    _reauthenticate(client, CODES_URL)

    shown = _reauthenticate(client, DOWNLOAD_URL)

    assert shown.status_code == 200
    assert shown["Content-Disposition"] == 'attachment; filename="recovery-codes.txt"'
    assert all(code in shown.content.decode() for code in _codes(user))


def test_making_new_codes_without_re_authentication_changes_nothing():
    user = UserFactory(role=Role.ATTORNEY)
    client = _signed_in(user)
    old = _codes(user)

    asked_get = client.get(GENERATE_URL)
    asked_post = client.post(GENERATE_URL)

    assert _asks_to_reauthenticate(asked_get, GENERATE_URL.replace("/", "%2F"))
    assert _asks_to_reauthenticate(asked_post, GENERATE_URL.replace("/", "%2F"))
    assert _codes(user) == old


def test_making_new_codes_after_re_authentication_shows_them_once():
    user = UserFactory(role=Role.ATTORNEY)
    client = _signed_in(user)
    old = _codes(user)

    form = _reauthenticate(client, GENERATE_URL)
    made = client.post(GENERATE_URL, follow=True)

    new = _codes(user)
    assert form.redirect_chain[-1][0] == GENERATE_URL
    assert new != old
    assert made.redirect_chain[-1][0] == CODES_URL
    assert all(code in made.content.decode() for code in new)
    assert _asks_to_reauthenticate(client.get(CODES_URL), CODES_URL.replace("/", "%2F"))


def test_re_authenticating_with_the_authenticator_code_works_as_well():
    user = UserFactory(role=Role.ATTORNEY)
    client = Client()
    client.force_login(user)

    response = client.post(f"/accounts/2fa/reauthenticate/?next={CODES_URL}", {"code": totp_code()}, follow=True)

    assert response.redirect_chain[-1][0] == CODES_URL
    assert all(code in response.content.decode() for code in _codes(user))


def test_enrolling_asks_again_before_showing_the_new_codes():
    user = UserFactory(role=Role.SUPERVISOR, mfa=False)
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(r"\b([A-Z2-7]{32})\b", page).group(1)

    enrolled = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    asked = client.get(enrolled["Location"])
    shown = _reauthenticate(client, CODES_URL)

    assert enrolled["Location"] == CODES_URL
    assert _asks_to_reauthenticate(asked, CODES_URL.replace("/", "%2F"))
    assert all(code in shown.content.decode() for code in _codes(user))
