"""After an administrator resets an authenticator, the password alone does not enrol a new one (ASVS 6.4.4).

The reset e-mails a link; enrolment is refused until that link was opened in the session that
enrols, so enrolling again takes the password and control of the e-mail address, as the
invitation did the first time.
"""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from celery.signals import task_prerun
from django.core import mail
from django.test import Client

from accounts.mfa import mfa_enrolment_needs_link
from accounts.models import AccessEvent
from accounts.roles import Role
from accounts.tasks import send_mfa_enrolment_email
from tests.conftest import totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"
LINK = re.compile(r"http://testserver(/accounts/2fa/totp/activate/\?enrol=\S+)")


@pytest.fixture
def admin() -> Client:
    client = Client()
    client.force_login(UserFactory(role=Role.ADMIN))
    return client


@pytest.fixture
def reset(admin, django_capture_on_commit_callbacks):
    """``reset(user)`` resets ``user``'s authenticator as an administrator; returns the e-mailed link's path."""

    def do(user) -> str:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            admin.post(f"/staff/{user.pk}/reset-authenticator/")
        (message,) = mail.outbox
        return LINK.search(message.body).group(1)

    return do


def _password_only(user) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    return client


def _enrol(client: Client) -> int:
    """Try to enrol on the page as a person with the app would; returns the status of the code's POST."""
    page = client.get(ACTIVATE).content.decode()
    found = re.search(r"\b([A-Z2-7]{32})\b", page)
    code = totp_code(found.group(1)) if found else "123456"
    return client.post(ACTIVATE, {"code": code}).status_code


def _has_authenticator(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_a_reset_e_mails_an_enrolment_link_and_only_the_id_crosses_the_broker(
    admin, django_capture_on_commit_callbacks
):
    staff = UserFactory(role=Role.FINANCE, full_name="Ilse Varga")  # a staff name no detainee in the suite has
    tasks = []

    def seen(sender=None, task=None, kwargs=None, **extra):
        tasks.append((task.name, kwargs))

    task_prerun.connect(seen, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            admin.post(f"/staff/{staff.pk}/reset-authenticator/")
    finally:
        task_prerun.disconnect(seen)

    assert tasks == [("accounts.tasks.send_mfa_enrolment_email", {"user_id": staff.pk})]
    (message,) = mail.outbox
    assert message.to == [staff.email]
    assert message.subject == "[Amparo] Set up your new authenticator"
    assert LINK.search(message.body)
    assert "An administrator has reset your authenticator" in message.body
    staff.refresh_from_db()
    assert staff.mfa_reset_at is not None
    assert AccessEvent.objects.filter(object_ref=staff.email, detail__contains="enrolment link e-mailed").exists()


def test_after_a_reset_the_password_alone_does_not_enrol_an_authenticator(reset):
    staff = UserFactory(role=Role.FINANCE)
    reset(staff)
    client = _password_only(staff)

    page = client.get(ACTIVATE)

    assert page.status_code == 403
    assert "Open the link we e-mailed you" in page.content.decode()
    assert _enrol(client) == 403
    assert not _has_authenticator(staff)
    # Everything else still leads to the enrolment page, which still refuses.
    assert client.get("/")["Location"] == ACTIVATE


def test_the_link_opened_in_the_signed_in_session_lets_them_enrol(reset):
    staff = UserFactory(role=Role.FINANCE)
    link = reset(staff)
    client = _password_only(staff)

    opened = client.get(link)

    assert opened.status_code == 302
    assert opened["Location"] == ACTIVATE  # the token leaves the address bar
    assert _enrol(client) == 302
    assert _has_authenticator(staff)
    staff.refresh_from_db()
    assert not mfa_enrolment_needs_link(staff)


def test_a_link_opened_before_signing_in_leads_to_enrolment_after_the_password(reset):
    staff = UserFactory(role=Role.FINANCE)
    link = reset(staff)
    client = Client()

    to_login = client.get(link)
    assert to_login["Location"].startswith("/accounts/login/?next=")
    response = client.post(to_login["Location"], {"login": staff.email, "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == ACTIVATE
    assert response.status_code == 200
    assert _enrol(client) == 302
    assert _has_authenticator(staff)


def test_a_link_opened_in_another_session_does_not_count(reset):
    staff = UserFactory(role=Role.FINANCE)
    link = reset(staff)
    elsewhere = _password_only(staff)
    elsewhere.get(link)

    attacker = _password_only(staff)

    assert attacker.get(ACTIVATE).status_code == 403
    assert _enrol(attacker) == 403
    assert not _has_authenticator(staff)


def test_a_second_reset_voids_the_first_link(reset):
    staff = UserFactory(role=Role.FINANCE)
    first = reset(staff)
    second = reset(staff)
    client = _password_only(staff)

    refused = client.get(first)

    assert refused.status_code == 400
    assert "This link does not work any more" in refused.content.decode()
    assert client.get(ACTIVATE).status_code == 403
    assert client.get(second)["Location"] == ACTIVATE
    assert _enrol(client) == 302


def test_another_accounts_link_is_refused(reset):
    staff, other = UserFactory(role=Role.FINANCE), UserFactory(role=Role.INTAKE)
    reset(staff)
    others_link = reset(other)
    client = _password_only(staff)

    assert client.get(others_link).status_code == 400
    assert _enrol(client) == 403
    assert not _has_authenticator(staff)


def test_an_expired_link_is_refused(reset, settings):
    staff = UserFactory(role=Role.FINANCE)
    link = reset(staff)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is older than that
    client = _password_only(staff)

    assert client.get(link).status_code == 400
    assert client.get(ACTIVATE).status_code == 403


def test_once_enrolled_no_new_link_is_sent_and_the_flag_no_longer_applies(reset):
    staff = UserFactory(role=Role.FINANCE)
    link = reset(staff)
    client = _password_only(staff)
    client.get(link)
    _enrol(client)
    mail.outbox.clear()

    send_mfa_enrolment_email(user_id=staff.pk)  # a retried task after enrolment

    assert mail.outbox == []


def test_a_person_never_reset_enrols_at_first_sign_in_without_a_link():
    invitee = UserFactory(role=Role.INTAKE, mfa=False)
    client = _password_only(invitee)

    assert client.get(ACTIVATE).status_code == 200
    assert _enrol(client) == 302
    assert _has_authenticator(invitee)
