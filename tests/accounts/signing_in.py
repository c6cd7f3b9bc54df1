"""Signing staff in the real way in tests (password, then the authenticator code), as each browser."""

from __future__ import annotations

from django.core.cache import cache
from django.test import Client

from tests.conftest import totp_code
from tests.factories import PASSWORD

CHROME_ON_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def sign_in(user, user_agent: str = "", *, password: str = PASSWORD) -> Client:
    """A client signed in as ``user`` with the password and the authenticator code."""
    client = Client(HTTP_USER_AGENT=user_agent)
    client.post("/accounts/login/", {"login": user.email, "password": password})
    assert client.post("/accounts/2fa/authenticate/", {"code": totp_code()}).status_code == 302
    cache.clear()  # a code is good once; the next sign-in in this test uses the same one
    return client


def signed_in(client: Client) -> bool:
    """Whether the client's session still opens a signed-in page."""
    return client.get("/dashboard/").status_code == 200
