"""Ending sessions from outside (ASVS 7.4.2, 7.4.5): an administrator's "Sign out of every session",
deactivation, and a password change, each finding every session however its key has changed."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import AccessEvent, StaffSession
from accounts.roles import Role
from tests.accounts.signing_in import sign_in, signed_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a quite different passphrase 42"
FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def change_password(client: Client):
    return client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def test_an_administrator_signs_a_person_out_of_every_session(client_for):
    admin = client_for(Role.ADMIN)
    person = UserFactory(role=Role.ATTORNEY)
    laptop, phone = sign_in(person), sign_in(person)

    response = admin.post(f"/staff/{person.pk}/sign-out/", follow=True)

    assert f"{person.full_name} is signed out of every session." in response.content.decode()
    assert (signed_in(laptop), signed_in(phone)) == (False, False)
    assert not StaffSession.objects.filter(user=person).exists()
    event = AccessEvent.objects.get(user=admin.user, object_type="staff", object_ref=person.email)
    assert event.detail == "signed out of every session; 2 session(s) ended"
    person.refresh_from_db()
    assert person.is_active
    assert signed_in(sign_in(person))  # not a deactivation: they may sign in again


def test_the_staff_page_shows_open_sessions_and_offers_to_end_them(client_for):
    admin = client_for(Role.ADMIN)
    person = UserFactory(role=Role.INTAKE)
    sign_in(person, user_agent=FIREFOX_ON_LINUX)

    page = admin.get(f"/staff/{person.pk}/").content.decode()

    assert "Firefox on Linux" in page
    assert f'action="/staff/{person.pk}/sign-out/"' in page


def test_an_administrator_ends_their_own_other_sessions_on_their_own_page_instead(client_for):
    admin = client_for(Role.ADMIN)

    response = admin.post(f"/staff/{admin.user.pk}/sign-out/", follow=True)

    assert "To end your own other sessions, use the page Your sessions." in response.content.decode()
    assert admin.get("/staff/").status_code == 200


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one():
    person = UserFactory(role=Role.ATTORNEY)
    laptop, phone = sign_in(person), sign_in(person)

    response = change_password(laptop)

    assert response.status_code == 302
    assert "Your other session was signed out." in laptop.get(response["Location"]).content.decode()
    assert signed_in(laptop)
    assert not signed_in(phone)
    # The row followed this session's new key; the other session's row and stored session went.
    assert list(StaffSession.objects.filter(user=person).values_list("session_key", flat=True)) == [
        laptop.session.session_key
    ]
    assert Session.objects.filter(session_key__in=[laptop.session.session_key]).count() == 1
    assert AccessEvent.objects.filter(
        user=person, action=AccessEvent.Action.CHANGE, detail="password changed; signed out of 1 other session(s)"
    ).exists()


def test_after_a_password_change_the_administrator_still_finds_the_session(client_for):
    # The audit's probe: the key changes with the password; the row used to keep the old one.
    admin = client_for(Role.ADMIN)
    person = UserFactory(role=Role.ATTORNEY)
    laptop = sign_in(person)
    change_password(laptop)

    admin.post(f"/staff/{person.pk}/sign-out/")

    assert not signed_in(laptop)
    assert not Session.objects.filter(session_key=laptop.session.session_key).exists()


def test_deactivation_deletes_the_session_itself_even_after_its_key_changed(client_for):
    admin = client_for(Role.ADMIN)
    leaver = UserFactory(role=Role.ATTORNEY)
    laptop = sign_in(leaver)
    laptop.post("/accounts/reauthenticate/", {"password": PASSWORD})  # a new session key
    key = laptop.session.session_key

    admin.post(f"/staff/{leaver.pk}/deactivate/")

    assert not Session.objects.filter(session_key=key).exists()
    assert not StaffSession.objects.filter(user=leaver).exists()


def test_sessions_that_a_password_reset_ended_are_not_shown_and_are_forgotten_at_the_next_sign_in(client_for):
    admin = client_for(Role.ADMIN)
    person = UserFactory(role=Role.ATTORNEY)
    phone = sign_in(person)
    person.set_password(NEW_PASSWORD)  # as the reset link does; Django's session hash ends the session
    person.save()

    assert "No open sessions." in admin.get(f"/staff/{person.pk}/").content.decode()
    assert not signed_in(phone)

    laptop = sign_in(person, password=NEW_PASSWORD)

    assert list(StaffSession.objects.filter(user=person).values_list("session_key", flat=True)) == [
        laptop.session.session_key
    ]


def test_an_administrator_signs_everyone_out_at_once_but_stays_signed_in():
    admin_user = UserFactory(role=Role.ADMIN)
    admin = sign_in(admin_user)
    attorney, intake = sign_in(UserFactory(role=Role.ATTORNEY)), sign_in(UserFactory(role=Role.INTAKE))
    donor_session = SessionStore()
    donor_session["amparo_donor_id"] = 1
    donor_session.create()

    asked = admin.post("/staff/sign-out-everyone/")
    assert asked.status_code == 302 and "/reauthenticate/" in asked["Location"]
    assert signed_in(attorney) and Session.objects.filter(session_key=donor_session.session_key).exists()

    admin.post("/accounts/reauthenticate/?next=/staff/", {"password": PASSWORD})
    response = admin.post("/staff/sign-out-everyone/", follow=True)

    assert "sessions are signed out." in response.content.decode()
    assert not signed_in(attorney) and not signed_in(intake)
    assert not Session.objects.filter(session_key=donor_session.session_key).exists()
    assert admin.get("/staff/").status_code == 200  # still signed in
    assert list(StaffSession.objects.values_list("user_id", flat=True)) == [admin_user.pk]
    event = AccessEvent.objects.filter(user=admin_user, object_ref="everyone").get()
    assert event.detail.startswith("signed everyone out; ")
