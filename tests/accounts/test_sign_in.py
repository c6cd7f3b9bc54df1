"""Signing in: password, then the authenticator code; enrolment is compulsory."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from accounts.models import AccessEvent, StaffSession
from accounts.roles import Role
from tests.conftest import totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _password_step(client: Client, email: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


def test_sign_in_with_password_and_code_lands_on_role_home():
    user = UserFactory(role=Role.ATTORNEY)
    client = Client()

    response = _password_step(client, user.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    # Not signed in yet: the code is still missing.
    assert client.get("/")["Location"].startswith("/accounts/login/")

    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()}, follow=True)

    assert response.redirect_chain[-1][0] == "/dashboard/"
    page = response.content.decode()
    assert "My day" in page
    assert StaffSession.objects.filter(user=user).count() == 1
    assert AccessEvent.objects.filter(user=user, action=AccessEvent.Action.SIGN_IN).count() == 1


def test_sign_in_wrong_password_says_so():
    user = UserFactory(role=Role.ATTORNEY)

    response = _password_step(Client(), user.email, "not the password")

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()


def test_sign_in_wrong_code_says_so_and_does_not_sign_in():
    user = UserFactory(role=Role.ATTORNEY)
    client = Client()
    _password_step(client, user.email)
    wrong = "000000" if totp_code() != "000000" else "111111"

    response = client.post("/accounts/2fa/authenticate/", {"code": wrong})

    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_sign_in_with_a_recovery_code_works_once():
    user = UserFactory(role=Role.FINANCE)
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    code = RecoveryCodes(
        Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()[0]
    first = Client()
    _password_step(first, user.email)
    assert first.post("/accounts/2fa/authenticate/", {"code": code})["Location"] == "/"

    second = Client()
    _password_step(second, user.email)
    response = second.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()


def test_staff_without_authenticator_reaches_nothing_but_enrolment():
    user = UserFactory(role=Role.SUPERVISOR, mfa=False)
    client = Client()
    response = _password_step(client, user.email)
    # No authenticator yet: signed in by password alone, but fenced in.
    assert response["Location"] == "/"
    for url in ["/", "/triage/", "/cases/", "/staff/", "/accounts/2fa/", "/accounts/password/change/", "/admin/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/accounts/2fa/totp/activate/", url
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200


def test_enrolling_an_authenticator_shows_recovery_codes_and_opens_the_app():
    user = UserFactory(role=Role.SUPERVISOR, mfa=False)
    client = Client()
    _password_step(client, user.email)
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(r"\b([A-Z2-7]{32})\b", page).group(1)

    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)}, follow=True)

    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    # The codes are shown only after confirming the password (tests/accounts/test_recovery_codes.py).
    codes_page = client.post(
        "/accounts/reauthenticate/?next=/accounts/2fa/recovery-codes/", {"password": PASSWORD}, follow=True
    ).content.decode()
    assert len(re.findall(r"\b[a-z0-9]{8}\b", codes_page)) >= 10
    assert response.status_code == 200
    home = client.get("/", follow=True)
    assert home.status_code == 200
    assert home.request["PATH_INFO"] == "/triage/"


def test_staff_cannot_remove_their_own_authenticator():
    user = UserFactory(role=Role.ATTORNEY)
    client = Client()
    _password_step(client, user.email)
    client.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    client.post("/accounts/2fa/totp/deactivate/", {})

    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_sign_out_ends_the_session():
    user = UserFactory(role=Role.ATTORNEY)
    client = Client()
    client.force_login(user)

    client.post("/accounts/logout/")

    assert client.get("/")["Location"].startswith("/accounts/login/")
    assert not StaffSession.objects.filter(user=user).exists()
    assert AccessEvent.objects.filter(user=user, action=AccessEvent.Action.SIGN_OUT).exists()


@pytest.mark.parametrize(
    ("role", "landing", "heading", "nav"),
    [
        (Role.INTAKE, "/intake/", "New intake", ["/intake/", "/cases/"]),
        (Role.ATTORNEY, "/dashboard/", "My day", ["/dashboard/", "/cases/", "/calendar/"]),
        (
            Role.SUPERVISOR,
            "/triage/",
            "Triage",
            [
                "/triage/",
                "/intake/",
                "/cases/",
                "/workload/",
                "/search/",
                "/oversight/demands/",
                "/erasures/",
                "/reports/",
            ],
        ),
        (
            Role.FINANCE,
            "/finance/",
            "Funds",
            [
                "/finance/",
                "/finance/disbursements/",
                "/finance/bonds/",
                "/finance/donations/",
                "/finance/disputes/",
                "/finance/payouts/",
                "/finance/stripe-events/parked/",
                "/reports/",
                "/verify/",
            ],
        ),
        (
            Role.AUDITOR,
            "/audit/funds/",
            "Funds and balances",
            [
                "/audit/funds/",
                "/audit/ledger/",
                "/audit/donations/",
                "/audit/disbursements/",
                "/audit/bonds/",
                "/audit/access-log/",
                "/reports/",
                "/verify/",
            ],
        ),
        (
            Role.ADMIN,
            "/",
            "Staff accounts",
            ["/", "/staff/", "/access-log/", "/admin/", "/oversight/demands/", "/oversight/alerts/"],
        ),
    ],
)
def test_each_role_lands_on_its_home_with_its_navigation(client_for, role, landing, heading, nav):
    response = client_for(role).get("/", follow=True)

    page = response.content.decode()
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == landing
    assert heading in page
    nav_html = page[page.index('class="site-nav"') : page.index("</nav>")]
    links = re.findall(r'href="([^"]+)"', nav_html)
    assert links == [*nav, "/accounts/2fa/"]
