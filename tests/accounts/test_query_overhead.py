"""What every signed-in page costs before its own work: two queries (issue 12).

The session row, and the user with its role and whether an authenticator is enrolled
(``accounts.backends``). The session row is written only when its data changed or, to renew its
expiry, at most once a minute (``kernel.sessions``). Nothing is cached across requests: a
deactivation, a removed role, a removed authenticator or an ended session take effect on the very
next request, which the tests below prove by changing the database directly, without the services
that also end the sessions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from accounts.backends import StaffAuthenticationBackend
from accounts.mfa import mfa_enrolled
from accounts.models import StaffSession, User
from accounts.roles import Role, user_role
from accounts.services import staff_session_end
from tests.accounts.signing_in import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

# The bench's baseline page (bench/probe_wsgi.py): a tiny template behind every middleware.
TINY = engines["django"].from_string(
    '{% load i18n %}<!doctype html><html lang="{{ LANGUAGE_CODE }}"><title>Amparo</title>'
    "<p>{% translate 'Signed in' %}: {{ request.user.get_short_name|default:'-' }}</p></html>"
)


def tiny(request: HttpRequest) -> HttpResponse:
    return HttpResponse(TINY.render({}, request))


def remember(request: HttpRequest) -> HttpResponse:
    request.session["test_remembered"] = request.GET["value"]
    return HttpResponse("ok")


urlpatterns = [
    path("__test/tiny/", tiny),
    path("__test/remember/", remember),
    path("", include("amparo.urls")),
]


def _warm(client: Client) -> Client:
    """The client after its first page (which records when the session was first seen)."""
    assert client.get("/__test/tiny/").status_code == 200
    return client


@pytest.mark.parametrize("role", [Role.ATTORNEY, Role.SUPERVISOR, Role.ADMIN])
def test_a_signed_in_tiny_page_costs_at_most_two_queries(role, django_assert_max_num_queries):
    client = _warm(sign_in(UserFactory(role=role)))

    for _ in range(3):
        with django_assert_max_num_queries(2):
            response = client.get("/__test/tiny/")
        assert response.status_code == 200
        assert "Signed in" in response.content.decode()


def test_a_forced_test_sign_in_costs_the_same_two_queries(client_for, django_assert_max_num_queries):
    client = _warm(client_for(Role.INTAKE))

    with django_assert_max_num_queries(2):
        assert client.get("/__test/tiny/").status_code == 200


def test_the_session_row_is_renewed_at_most_once_a_minute():
    client = _warm(sign_in(UserFactory(role=Role.ATTORNEY)))
    key = client.session.session_key
    recently = timezone.now() + timedelta(minutes=30) - timedelta(seconds=20)
    Session.objects.filter(pk=key).update(expire_date=recently)

    assert client.get("/__test/tiny/").status_code == 200
    assert Session.objects.get(pk=key).expire_date == recently  # renewed 20 s ago: left alone

    a_while_ago = timezone.now() + timedelta(minutes=30) - timedelta(seconds=90)
    Session.objects.filter(pk=key).update(expire_date=a_while_ago)
    assert client.get("/__test/tiny/").status_code == 200
    assert Session.objects.get(pk=key).expire_date > timezone.now() + timedelta(minutes=29, seconds=50)


def test_a_session_whose_data_changed_is_saved_at_once():
    client = _warm(sign_in(UserFactory(role=Role.ATTORNEY)))

    key = client.session.session_key

    assert client.get("/__test/remember/", {"value": "first"}).status_code == 200
    assert Session.objects.get(pk=key).get_decoded()["test_remembered"] == "first"
    assert client.get("/__test/remember/", {"value": "second"}).status_code == 200
    assert Session.objects.get(pk=key).get_decoded()["test_remembered"] == "second"


def test_a_deactivated_user_is_signed_out_on_the_very_next_request():
    user = UserFactory(role=Role.ATTORNEY)
    client = _warm(sign_in(user))

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert client.get("/__test/tiny/")["Location"].startswith("/accounts/login/")


def test_a_removed_role_takes_effect_on_the_very_next_request():
    user = UserFactory(role=Role.ATTORNEY)
    client = _warm(sign_in(user))
    assert client.get("/dashboard/").status_code == 200

    user.groups.remove(Group.objects.get(name=Role.ATTORNEY.value))

    assert client.get("/dashboard/").status_code == 404


def test_a_changed_role_takes_effect_on_the_very_next_request():
    user = UserFactory(role=Role.FINANCE)
    client = _warm(sign_in(user))
    assert client.get("/dashboard/").status_code == 404

    user.groups.set([Group.objects.get_or_create(name=Role.ATTORNEY.value)[0]])

    assert client.get("/dashboard/").status_code == 200


def test_a_removed_authenticator_sends_the_user_to_enrolment_on_the_very_next_request():
    user = UserFactory(role=Role.ATTORNEY)
    client = _warm(sign_in(user))

    assert client.get("/dashboard/").status_code == 200

    Authenticator.objects.filter(user=user).delete()

    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_an_ended_staff_session_is_signed_out_on_the_very_next_request():
    user = UserFactory(role=Role.ATTORNEY)
    laptop = _warm(sign_in(user))
    phone = _warm(sign_in(user))
    laptop_row = StaffSession.objects.get(session_key=laptop.session.session_key)

    staff_session_end(
        user=user, session_id=laptop_row.pk, current_session_key=phone.session.session_key, ip_address=None
    )

    assert laptop.get("/__test/tiny/")["Location"].startswith("/accounts/login/")
    assert phone.get("/__test/tiny/").status_code == 200


def test_a_session_naming_a_user_who_is_gone_signs_nobody_in():
    user = UserFactory(role=Role.ATTORNEY)
    client = _warm(sign_in(user))
    session = client.session
    session["_auth_user_id"] = "999999999"
    session.save()

    assert client.get("/__test/tiny/")["Location"].startswith("/accounts/login/")
    assert StaffAuthenticationBackend().get_user("not-a-number") is None


def test_the_user_is_read_with_its_role_and_authenticator_in_one_statement(django_assert_num_queries):
    user = UserFactory(role=Role.SUPERVISOR)
    backend = StaffAuthenticationBackend()
    backend.get_user(user.pk)  # the statement's SQL is built once per process, then only run

    with django_assert_num_queries(1):
        found = backend.get_user(user.pk)
        assert found is not None and found.pk == user.pk
        assert user_role(found) == Role.SUPERVISOR and mfa_enrolled(found)
    without = UserFactory(role=None, mfa=False)
    with django_assert_num_queries(1):
        found = backend.get_user(without.pk)
        assert user_role(found) is None and not mfa_enrolled(found)
