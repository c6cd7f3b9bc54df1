"""After new recovery codes, the person is asked whether to sign out their other sessions (ASVS 7.4.3).

New codes are often made because the old ones may have been seen; whoever saw them may be
signed in somewhere. The question comes once, right after the codes are made, then the codes.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts.models import AccessEvent
from accounts.roles import Role
from accounts.views import FACTOR_CHANGED
from tests.accounts.signing_in import CHROME_ON_ANDROID, sign_in, signed_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

GENERATE_URL = "/accounts/2fa/recovery-codes/generate/"
CODES_URL = "/accounts/2fa/recovery-codes/"
QUESTION_URL = "/sessions/after-change/"


def make_new_codes(client: Client):
    client.post(f"/accounts/reauthenticate/?next={GENERATE_URL}", {"password": PASSWORD})
    return client.post(GENERATE_URL, {})


def test_new_codes_lead_to_the_question_and_ending_the_others_keeps_this_session():
    user = UserFactory(role=Role.ATTORNEY)
    laptop, phone = sign_in(user), sign_in(user, CHROME_ON_ANDROID)

    made = make_new_codes(laptop)

    assert made["Location"] == QUESTION_URL
    question = laptop.get(QUESTION_URL).content.decode()
    assert "Sign out of your other sessions?" in question
    assert "Chrome on Android" in question

    answered = laptop.post(QUESTION_URL, {"choice": "end"}, follow=True)

    assert answered.redirect_chain[0][0] == CODES_URL
    page = answered.content.decode()
    assert "1 other session is signed out." in page
    assert "Unused codes" in page  # the re-authentication still shows the new codes
    assert (signed_in(laptop), signed_in(phone)) == (True, False)
    assert AccessEvent.objects.filter(
        user=user, detail="recovery codes renewed; signed out of 1 other session(s)"
    ).exists()


def test_keeping_the_other_sessions_is_a_choice_too():
    user = UserFactory(role=Role.ATTORNEY)
    laptop, phone = sign_in(user), sign_in(user)
    make_new_codes(laptop)

    answered = laptop.post(QUESTION_URL, {"choice": "keep"})

    assert answered["Location"] == CODES_URL
    assert signed_in(phone)


def test_without_other_sessions_the_codes_come_straight_away():
    laptop = sign_in(UserFactory(role=Role.ATTORNEY))

    made = make_new_codes(laptop)

    assert made["Location"] == CODES_URL


def test_the_question_is_asked_only_once_and_only_right_after_new_codes():
    user = UserFactory(role=Role.ATTORNEY)
    laptop, phone = sign_in(user), sign_in(user)
    assert laptop.get(QUESTION_URL).status_code == 404
    assert laptop.post(QUESTION_URL, {"choice": "end"}).status_code == 404

    make_new_codes(laptop)
    laptop.post(QUESTION_URL, {"choice": "keep"})

    assert laptop.post(QUESTION_URL, {"choice": "end"}).status_code == 404
    assert signed_in(phone)


def test_the_question_expires_after_ten_minutes():
    user = UserFactory(role=Role.ATTORNEY)
    laptop, phone = sign_in(user), sign_in(user)
    make_new_codes(laptop)
    session = laptop.session
    session[FACTOR_CHANGED] = {**session[FACTOR_CHANGED], "at": time.time() - 10 * 60 - 1}
    session.save()

    assert laptop.post(QUESTION_URL, {"choice": "end"}).status_code == 404
    assert signed_in(phone)


def test_an_answer_that_is_neither_is_a_bad_request_and_ends_nothing():
    user = UserFactory(role=Role.ATTORNEY)
    laptop, phone = sign_in(user), sign_in(user)
    make_new_codes(laptop)

    response = laptop.post(QUESTION_URL, {"choice": "everything"})

    assert response.status_code == 400
    assert "Choose whether to sign out of your other sessions." in response.content.decode()
    assert signed_in(phone)
