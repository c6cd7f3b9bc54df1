"""What the browser keeps once a staff session is over (ASVS 14.3.1).

The answer that signs someone out carries ``Clear-Site-Data: "cache", "storage"``; signed-in
pages carry the idle limit on ``<body>`` and the script that clears a page left open
(its behaviour in a browser: ``tests/e2e/test_sessions_expiry_browser.py``).
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts.receivers import SIGNED_IN_AT
from accounts.roles import Role

pytestmark = pytest.mark.django_db

CLEARED = '"cache", "storage"'
SCRIPT = '<script src="/static/js/session-expiry.js" defer></script>'


def test_signing_out_clears_the_browsers_cache_and_storage(client_for):
    client = client_for(Role.ATTORNEY)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Clear-Site-Data"] == CLEARED


def test_the_12_hour_limit_clears_them_too(client_for):
    client = client_for(Role.ATTORNEY)
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 12 * 3600 - 60
    session.save()

    response = client.get("/dashboard/")

    assert response["Location"].startswith("/accounts/login/")
    assert response["Clear-Site-Data"] == CLEARED


def test_other_answers_clear_nothing(client_for):
    client = client_for(Role.ATTORNEY)

    assert "Clear-Site-Data" not in client.get("/dashboard/")
    assert "Clear-Site-Data" not in Client().get("/accounts/login/")
    assert "Clear-Site-Data" not in Client().post("/accounts/logout/")  # nobody was signed in


def test_signed_in_pages_carry_the_idle_limit_and_the_expiry_script(client_for):
    client = client_for(Role.ATTORNEY)
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 11 * 3600
    session.save()

    page = client.get("/dashboard/").content.decode()

    assert 'data-session-idle-seconds="1800"' in page
    left = int(page.split('data-session-left-seconds="', 1)[1].split('"', 1)[0])
    assert 3590 <= left <= 3600
    assert SCRIPT in page
    assert '<template id="session-ended"' in page
    assert "Your session ended" in page


def test_pages_for_anyone_not_signed_in_have_neither():
    for url in ["/accounts/login/", "/donor/", "/give/"]:
        response = Client().get(url)
        page = response.content.decode()

        assert response.status_code == 200, url
        assert "data-session-idle-seconds" not in page, url
        assert "session-expiry.js" not in page, url
        assert 'id="session-ended"' not in page, url
