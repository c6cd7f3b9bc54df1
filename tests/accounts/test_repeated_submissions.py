"""Accounts forms that create something are done once, however often they are sent (``kernel.once``)."""

from __future__ import annotations

import re
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from accounts.models import User
from accounts.roles import Role
from tests.factories import UserFactory
from tests.forms import once

pytestmark = pytest.mark.django_db

ALREADY_SENT = "This form had already been sent, so it was not done again."
INVITE = {"full_name": "Rosa Parks-Ortega", "email": "Rosa@Example.org", "role": "attorney"}
KEY = r'<input type="hidden" name="once" value="([0-9a-f]+-[\w-]{32})"'


def test_the_invite_page_carries_a_one_time_key(admin_client_):
    page = admin_client_.get("/staff/invite/").content.decode()

    assert re.search(KEY, page)


def test_an_invitation_sent_twice_is_one_account_and_one_email(admin_client_, django_capture_on_commit_callbacks):
    form = {**INVITE, "once": re.search(KEY, admin_client_.get("/staff/invite/").content.decode())[1]}

    with django_capture_on_commit_callbacks(execute=True):
        first = admin_client_.post("/staff/invite/", form)
    with django_capture_on_commit_callbacks(execute=True):
        second = admin_client_.post("/staff/invite/", form, follow=True)

    user = User.objects.get(email="rosa@example.org")
    assert first["Location"] == f"/staff/{user.pk}/"
    assert second.redirect_chain == [(f"/staff/{user.pk}/", 302)]
    page = second.content.decode()
    assert ALREADY_SENT in page
    assert "already exists" not in page
    assert User.objects.filter(email__iexact="rosa@example.org").count() == 1
    assert [message.to for message in mail.outbox] == [["rosa@example.org"]]


def test_a_new_invitation_form_for_a_taken_address_is_still_refused(admin_client_):
    UserFactory(email="rosa@example.org")

    response = admin_client_.post("/staff/invite/", once(INVITE))

    assert response.status_code == 422
    assert "A staff account with this e-mail address already exists." in response.content.decode()
    assert User.objects.filter(email__iexact="rosa@example.org").count() == 1


def test_an_invitation_without_its_key_is_refused(admin_client_):
    response = admin_client_.post("/staff/invite/", INVITE)

    assert response.status_code == 422
    assert "This form was not sent whole." in response.content.decode()
    assert not User.objects.filter(email="rosa@example.org").exists()


@pytest.mark.django_db(transaction=True)
def test_an_invitation_sent_twice_at_once_is_one_account():
    assert connection.vendor == "postgresql"
    admin = UserFactory(role=Role.ADMIN)
    form = once(INVITE)
    start = threading.Barrier(2)
    answers: list[int] = []

    def send() -> None:
        browser = Client()
        browser.force_login(admin)
        try:
            start.wait()
            answers.append(browser.post("/staff/invite/", form).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert answers == [302, 302]
    assert User.objects.filter(email__iexact="rosa@example.org").count() == 1


def test_send_the_invitation_again_twice_is_one_email(admin_client_, django_capture_on_commit_callbacks):
    invited = UserFactory(email="new@example.org", password=None)
    page = admin_client_.get(f"/staff/{invited.pk}/").content.decode()
    form = {"once": re.search(KEY, page)[1]}
    url = f"/staff/{invited.pk}/resend-invitation/"

    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(url, form)
    with django_capture_on_commit_callbacks(execute=True):
        second = admin_client_.post(url, form, follow=True)

    assert ALREADY_SENT in second.content.decode()
    assert [message.to for message in mail.outbox] == [["new@example.org"]]
