"""Your sessions (ASVS 7.5.2): staff see where they are signed in and end the sessions they do not want.

Ending a session needs a fresh re-authentication; allauth asks for it and then carries out the
request it interrupted.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import AccessEvent, StaffSession
from accounts.roles import Role
from accounts.services import device_of
from tests.accounts.signing_in import CHROME_ON_ANDROID, sign_in, signed_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
EDGE_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87"
)


def row_of(client: Client) -> StaffSession:
    return StaffSession.objects.get(session_key=client.session.session_key)


def test_the_page_lists_each_open_session_with_its_browser_and_marks_this_one():
    user = UserFactory(role=Role.ATTORNEY)
    phone = sign_in(user, CHROME_ON_ANDROID)
    sign_in(user, FIREFOX_ON_WINDOWS)

    page = phone.get("/sessions/").content.decode()

    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>.*?</tr>", body, re.DOTALL)
    assert len(rows) == 2
    (this_one,) = [row for row in rows if "This session" in row]
    assert "Chrome on Android" in this_one
    assert any("Firefox on Windows" in row and "End this session" in row for row in rows)
    assert "Sign out everywhere else" in page


def test_only_a_coarse_browser_name_is_kept_never_the_user_agent():
    user = UserFactory(role=Role.ATTORNEY)

    row = row_of(sign_in(user, CHROME_ON_ANDROID))

    assert (row.browser, row.platform) == ("Chrome", "Android")
    stored = [str(getattr(row, field.attname)) for field in StaffSession._meta.concrete_fields]
    assert not any("Mozilla" in value or "Pixel" in value for value in stored)


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (CHROME_ON_ANDROID, ("Chrome", "Android")),
        (FIREFOX_ON_WINDOWS, ("Firefox", "Windows")),
        (SAFARI_ON_IPHONE, ("Safari", "iPhone")),
        (EDGE_ON_MAC, ("Edge", "macOS")),
        ("curl/8.5.0", ("", "")),
        ("", ("", "")),
    ],
)
def test_device_of_names_the_browser_family_and_system_only(user_agent, device):
    assert device_of(user_agent) == device


def test_a_session_that_ended_without_signing_out_is_not_listed():
    user = UserFactory(role=Role.ATTORNEY)
    here = sign_in(user, CHROME_ON_ANDROID)
    gone = sign_in(user, FIREFOX_ON_WINDOWS)
    Session.objects.filter(session_key=gone.session.session_key).delete()  # expired and cleared

    page = here.get("/sessions/").content.decode()

    assert "Firefox on Windows" not in page
    assert "Sign out everywhere else" not in page


def test_ending_another_session_asks_for_the_password_then_signs_that_one_out():
    user = UserFactory(role=Role.ATTORNEY)
    laptop = sign_in(user, FIREFOX_ON_WINDOWS)
    phone = sign_in(user, CHROME_ON_ANDROID)
    phone_row = row_of(phone)

    asked = laptop.post("/sessions/end/", {"session": phone_row.pk})

    assert asked.status_code == 302
    assert asked["Location"] == "/accounts/reauthenticate/?next=%2Fsessions%2Fend%2F"
    assert signed_in(phone)  # nothing ended before the password was given

    done = laptop.post(asked["Location"], {"password": PASSWORD}, follow=True)

    assert done.redirect_chain[-1][0] == "/sessions/"
    assert "That session is signed out." in done.content.decode()
    assert not signed_in(phone)
    assert signed_in(laptop)
    assert not StaffSession.objects.filter(pk=phone_row.pk).exists()
    assert AccessEvent.objects.filter(
        user=user, action=AccessEvent.Action.CHANGE, detail="signed out one of their other sessions"
    ).exists()


def test_sign_out_everywhere_else_keeps_only_this_session():
    user = UserFactory(role=Role.SUPERVISOR)
    here, phone, tablet = sign_in(user), sign_in(user), sign_in(user)
    here.post("/accounts/reauthenticate/", {"password": PASSWORD})

    response = here.post("/sessions/end-others/", follow=True)

    assert "2 other sessions are signed out." in response.content.decode()
    assert (signed_in(here), signed_in(phone), signed_in(tablet)) == (True, False, False)
    assert list(StaffSession.objects.filter(user=user).values_list("session_key", flat=True)) == [
        here.session.session_key
    ]


def test_sign_out_everywhere_else_needs_a_fresh_re_authentication_too():
    user = UserFactory(role=Role.ATTORNEY)
    here, phone = sign_in(user), sign_in(user)

    response = here.post("/sessions/end-others/")

    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fsessions%2Fend-others%2F"
    assert signed_in(phone)


def test_someone_elses_session_is_not_found_and_keeps_working():
    user, colleague = UserFactory(role=Role.ATTORNEY), UserFactory(role=Role.ATTORNEY)
    here = sign_in(user)
    theirs = sign_in(colleague)
    here.post("/accounts/reauthenticate/", {"password": PASSWORD})

    response = here.post("/sessions/end/", {"session": row_of(theirs).pk})

    assert response.status_code == 404
    assert signed_in(theirs)


def test_this_session_is_ended_by_signing_out_not_from_the_list():
    user = UserFactory(role=Role.ATTORNEY)
    here = sign_in(user)
    here.post("/accounts/reauthenticate/", {"password": PASSWORD})

    response = here.post("/sessions/end/", {"session": row_of(here).pk}, follow=True)

    assert "This is the session you are using now. To end it, sign out." in response.content.decode()
    assert signed_in(here)


def test_a_session_that_is_not_a_number_is_a_bad_request():
    client = sign_in(UserFactory(role=Role.ATTORNEY))

    response = client.post("/sessions/end/", {"session": "all"})

    assert response.status_code == 400
    assert "Choose a session to end." in response.content.decode()


def test_the_user_menu_links_to_your_sessions():
    client = sign_in(UserFactory(role=Role.FINANCE))

    page = client.get("/", follow=True).content.decode()

    assert 'href="/sessions/">Your sessions</a>' in page
    assert "/sessions/" not in Client().get("/accounts/login/").content.decode()
