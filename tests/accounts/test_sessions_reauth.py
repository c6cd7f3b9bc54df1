"""A re-authentication gets a new session key, as a sign-in does (ASVS 7.2.4).

allauth only records a re-authentication in the session; ``StaffSessionMiddleware`` rotates
the key after it, and the session's ``StaffSession`` row follows the new key.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import StaffSession
from accounts.roles import Role
from tests.conftest import totp_code
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def with_key(key: str) -> Client:
    """A browser holding the session cookie ``key`` (say, copied by someone else)."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/accounts/reauthenticate/", lambda: {"password": PASSWORD}),
        ("/accounts/2fa/reauthenticate/", lambda: {"code": totp_code()}),
    ],
    ids=["password", "authenticator-code"],
)
def test_re_authenticating_gives_a_new_session_key_and_keeps_the_user_signed_in(client_for, url, data):
    client = client_for(Role.ATTORNEY)
    old_key = client.session.session_key

    response = client.post(url, data())

    assert response.status_code == 302
    new_key = client.session.session_key
    assert new_key != old_key
    assert client.get("/dashboard/").status_code == 200
    assert not Session.objects.filter(session_key=old_key).exists()
    assert with_key(old_key).get("/dashboard/")["Location"].startswith("/accounts/login/")
    assert StaffSession.objects.get(user=client.user).session_key == new_key


def test_a_wrong_password_or_an_ordinary_request_keeps_the_key(client_for):
    client = client_for(Role.ATTORNEY)
    key = client.session.session_key

    client.post("/accounts/reauthenticate/", {"password": "not the password"})
    client.get("/dashboard/")
    client.get("/sessions/")

    assert client.session.session_key == key
