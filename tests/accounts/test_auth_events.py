"""Authentication events go to the ``amparo.security`` log (ASVS 16.3.1): who (the account's id),
from where (the client's address), what and with which factor; never the e-mail typed or a code."""

from __future__ import annotations

import io
import logging
import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.mfa import security_event
from accounts.roles import Role
from kernel.enqueue import registered_task
from kernel.logs import RedactingFormatter
from tests.conftest import totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

IP = "192.0.2.44"
NEW_PASSWORD = "a fresh passphrase for spring 31"


@pytest.fixture
def security(caplog):
    # Celery's first task look-up in a process configures logging afresh (amparo/celery.py), which
    # would drop the capturing handler mid-test: let it happen before the test starts.
    registered_task("accounts.tasks.send_account_email")
    caplog.set_level(logging.INFO, logger="amparo.security")

    def lines() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "amparo.security"]

    return lines


def _at_code_step(user) -> Client:
    client = Client(REMOTE_ADDR=IP)
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    return client


def _wrong_totp() -> str:
    right = {totp_code(offset=n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222") if c not in right)


def _no_secrets(caplog, user, *secrets: str) -> None:
    for text in (user.email, *secrets):
        assert text not in caplog.text


def test_a_wrong_totp_code_is_logged_with_the_account_and_address_but_not_the_code(security, caplog):
    user = UserFactory(role=Role.ATTORNEY)
    client = _at_code_step(user)
    wrong = _wrong_totp()

    client.post("/accounts/2fa/authenticate/", {"code": wrong})

    (line,) = security()
    assert line.levelno == logging.WARNING
    assert line.getMessage() == f"authenticator code wrong user={user.pk} ip={IP} kind=totp reauthentication=False"
    assert (line.user_id, line.client_ip) == (user.pk, IP)
    _no_secrets(caplog, user, wrong)


def test_a_wrong_recovery_code_is_logged_as_one(security, caplog):
    user = UserFactory(role=Role.ATTORNEY)
    client = _at_code_step(user)

    client.post("/accounts/2fa/authenticate/", {"code": "12345670"})

    (line,) = security()
    assert "authenticator code wrong" in line.getMessage()
    assert "kind=recovery_code" in line.getMessage()
    _no_secrets(caplog, user, "12345670")


def test_codes_refused_during_a_pause_are_logged(settings, security):
    settings.MFA_CODE_FAILURE_LIMIT = 2
    user = UserFactory(role=Role.ATTORNEY)
    client = _at_code_step(user)
    for _ in range(2):
        client.post("/accounts/2fa/authenticate/", {"code": _wrong_totp()})

    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert response.status_code == 429
    # (the 429 itself is logged after it, by kernel.request_context)
    assert (
        f"authenticator code refused: paused after too many wrong codes user={user.pk} ip={IP} reauthentication=False"
    ) in [record.getMessage() for record in security()]


@pytest.mark.parametrize("factor", ["totp", "recovery_codes"])
def test_a_completed_sign_in_is_logged_with_its_factors(security, caplog, factor):
    user = UserFactory(role=Role.ATTORNEY)
    client = _at_code_step(user)
    if factor == "totp":
        code = totp_code()
    else:
        code = RecoveryCodes(Authenticator.objects.get(user=user, type=factor)).get_unused_codes()[0]

    client.post("/accounts/2fa/authenticate/", {"code": code})

    messages = [r.getMessage() for r in security()]
    assert messages == [f"sign-in completed user={user.pk} ip={IP} factors=password+{factor}"]
    _no_secrets(caplog, user, code)


def test_a_password_reset_is_logged_when_asked_for_and_when_done(security, caplog, django_capture_on_commit_callbacks):
    user = UserFactory(role=Role.ATTORNEY)
    with django_capture_on_commit_callbacks(execute=True):
        Client(REMOTE_ADDR=IP).post("/accounts/password/reset/", {"email": user.email})
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    client = Client(REMOTE_ADDR=IP)
    set_url = client.get(link)["Location"]

    client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert [r.getMessage() for r in security()] == [
        f"password reset requested user={user.pk} ip={IP}",
        f"password reset done user={user.pk} ip={IP}",
    ]
    _no_secrets(caplog, user, NEW_PASSWORD, link)


def test_a_reset_asked_for_an_unknown_address_is_logged_without_the_address(security, caplog):
    Client(REMOTE_ADDR=IP).post("/accounts/password/reset/", {"email": "nobody-here@example.org"})

    assert [r.getMessage() for r in security()] == [
        f"password reset requested for an address with no account user=- ip={IP}"
    ]
    assert "nobody-here" not in caplog.text


def test_a_password_change_is_logged(security, caplog):
    user = UserFactory(role=Role.ATTORNEY)
    client = Client(REMOTE_ADDR=IP)
    client.force_login(user)

    client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert f"password changed user={user.pk} ip={IP}" in [r.getMessage() for r in security()]
    _no_secrets(caplog, user, NEW_PASSWORD, PASSWORD)


def test_an_administrators_reset_of_an_authenticator_is_logged(security):
    admin = UserFactory(role=Role.ADMIN)
    staff = UserFactory(role=Role.FINANCE)
    client = Client(REMOTE_ADDR=IP)
    client.force_login(admin)

    client.post(f"/staff/{staff.pk}/reset-authenticator/")

    assert f"authenticator reset by an administrator user={staff.pk} ip={IP} by={admin.pk}" in [
        r.getMessage() for r in security()
    ]


def test_enrolling_an_authenticator_is_logged(security, django_capture_on_commit_callbacks):
    user = UserFactory(role=Role.ATTORNEY, mfa=False)
    client = Client(REMOTE_ADDR=IP)
    client.force_login(user)
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(r"\b([A-Z2-7]{32})\b", page).group(1)

    with django_capture_on_commit_callbacks(execute=True):  # allauth signals it after commit
        client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})

    messages = [r.getMessage() for r in security()]
    assert f"authenticator added user={user.pk} ip={IP} kind=totp" in messages
    assert f"authenticator added user={user.pk} ip={IP} kind=recovery_codes" in messages


def test_the_security_log_reaches_the_console_handler():
    logger = logging.getLogger("amparo.security")
    assert logger.isEnabledFor(logging.INFO)
    assert logger.propagate
    assert "amparo.security" not in settings.LOGGING.get("loggers", {})  # the root logger's handlers apply
    (console,) = [
        h
        for h in logging.getLogger().handlers
        if type(h) is logging.StreamHandler and isinstance(h.formatter, RedactingFormatter)
    ]
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        security_event("test event", user_id=7, ip_address="198.51.100.3", kind="totp")
    finally:
        console.setStream(previous)

    line = stream.getvalue()
    assert "amparo.security" in line
    assert "test event user=7 ip=198.51.100.3 kind=totp" in line
