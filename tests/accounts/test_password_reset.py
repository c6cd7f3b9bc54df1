"""Password reset by e-mail, with clear messages for bad or used links."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase-77"


def _request_reset(email: str, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/password/reset/", {"email": email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    return response


def test_reset_e_mails_a_link_that_sets_a_new_password(django_capture_on_commit_callbacks):
    user = UserFactory(role=Role.ATTORNEY)

    _request_reset(user.email, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert mail.outbox[0].subject == "[Amparo] Password Reset Email"
    assert mail.outbox[0].body.startswith("Hello from Amparo!")
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    client = Client()
    set_page = client.get(link)
    response = client.post(set_page["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response["Location"] == "/accounts/password/reset/key/done/"
    signed_in = Client().post("/accounts/login/", {"login": user.email, "password": NEW_PASSWORD})
    assert signed_in["Location"] == "/accounts/2fa/authenticate/"


def test_the_reset_link_is_on_the_site_url_whatever_host_the_request_named(
    settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://amparo.example.org"
    user = UserFactory(role=Role.ATTORNEY)

    with django_capture_on_commit_callbacks(execute=True):
        Client(HTTP_HOST="localhost").post("/accounts/password/reset/", {"email": user.email})

    assert "https://amparo.example.org/accounts/password/reset/key/" in mail.outbox[0].body
    assert "localhost" not in mail.outbox[0].body


def test_reset_for_an_unknown_address_reveals_nothing(django_capture_on_commit_callbacks):
    UserFactory(role=Role.ATTORNEY)

    _request_reset("nobody@example.org", django_capture_on_commit_callbacks)

    # Same answer as for a real account; the mail says no account exists.
    assert [m.to for m in mail.outbox] == [["nobody@example.org"]]
    assert "/accounts/password/reset/key/" not in mail.outbox[0].body


def test_a_bad_or_used_reset_link_says_so():
    user = UserFactory(role=Role.ATTORNEY)

    response = Client().get(f"/accounts/password/reset/key/{user.pk}-not-a-real-token/", follow=True)

    assert response.status_code == 200
    assert (
        "The password reset link was invalid, possibly because it has already been used." in response.content.decode()
    )


def test_a_too_short_new_password_is_refused_with_reasons(django_capture_on_commit_callbacks):
    user = UserFactory(role=Role.ATTORNEY)
    _request_reset(user.email, django_capture_on_commit_callbacks)
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    client = Client()
    set_url = client.get(link)["Location"]

    response = client.post(set_url, {"password1": "short", "password2": "short"})

    assert response.status_code == 200
    assert "at least 10 characters" in response.content.decode()


def test_the_unknown_account_mail_sends_to_an_administrator_not_to_a_sign_up_page(django_capture_on_commit_callbacks):
    _request_reset("nobody@example.org", django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert message.subject == "[Amparo] No account for this address"
    assert "There is no account for this address." in message.body
    assert "ask your administrator to send you an invitation" in message.body
    assert "sign up for an account" not in message.body
    assert "/accounts/signup/" not in message.body
    assert "http" not in message.body.replace("http://testserver", "")  # no link but the site's own address


def test_the_reset_link_is_made_in_the_worker_and_never_crosses_the_broker(django_capture_on_commit_callbacks):
    # tests/pii_watch.py records every task's arguments as it runs (eagerly here, as on a worker).
    from tests.pii_watch import WATCH

    user = UserFactory(role=Role.ATTORNEY)
    before = len(WATCH.seen)

    _request_reset(user.email, django_capture_on_commit_callbacks)

    link = re.search(r"(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    tasks = [text for (channel, text), _where in list(WATCH.seen.items())[before:] if channel == "task"]
    assert any("send_account_email" in text and str(user.pk) in text for text in tasks)
    assert not any(link in text or "password/reset/key" in text for text in tasks)
