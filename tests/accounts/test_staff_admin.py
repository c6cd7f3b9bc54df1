"""Administrators invite staff, set roles, deactivate leavers."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import AccessEvent, StaffSession, User
from accounts.roles import Role, user_role
from tests.factories import PASSWORD, UserFactory
from tests.forms import once, version

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-passphrase-2026"


def _invite(admin_client: Client, **data):
    form = {"full_name": "Rosa Parks-Ortega", "email": "Rosa@Example.org", "role": "attorney", **data}
    return admin_client.post("/staff/invite/", once(form))


def test_invitation_creates_account_and_emails_a_link_after_commit(client_for, django_capture_on_commit_callbacks):
    admin = client_for(Role.ADMIN)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _invite(admin)

    user = User.objects.get(email="rosa@example.org")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/{user.pk}/"
    assert user_role(user) == Role.ATTORNEY
    assert not user.has_usable_password()
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rosa@example.org"]
    assert message.subject == "[Amparo] You are invited to Amparo"
    assert "/accounts/password/reset/key/" in message.body
    assert AccessEvent.objects.filter(user=admin.user, object_ref="rosa@example.org").exists()


def test_invited_person_sets_a_password_then_must_enrol_an_authenticator(
    client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client_for(Role.ADMIN))
    link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)
    invitee = Client()

    form_page = invitee.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    response = invitee.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response["Location"] == "/accounts/password/reset/key/done/"
    done = invitee.get(response["Location"]).content.decode()
    assert "Your password is saved. Sign in with your e-mail address and this password." in done
    assert 'href="/accounts/login/">Sign in</a>' in done  # the way on

    response = invitee.post("/accounts/login/", {"login": "rosa@example.org", "password": NEW_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/2fa/totp/activate/"

    # The link works once.
    again = Client().get(link, follow=True)
    assert "The password reset link was invalid" in again.content.decode()


def test_invite_rejects_a_duplicate_address_with_a_message(client_for):
    admin = client_for(Role.ADMIN)
    UserFactory(email="taken@example.org")

    response = _invite(admin, email="TAKEN@example.org")

    assert response.status_code == 422
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1


def test_invite_rejects_an_unknown_role(client_for):
    response = _invite(client_for(Role.ADMIN), role="overlord")

    assert response.status_code == 422
    assert not User.objects.filter(email="rosa@example.org").exists()


def test_admin_changes_a_role(client_for):
    admin = client_for(Role.ADMIN)
    staff = UserFactory(role=Role.INTAKE)

    response = admin.post(
        f"/staff/{staff.pk}/role/",
        version(admin, f"/staff/{staff.pk}/", {"role": "supervisor"}, form="role_form"),
        follow=True,
    )

    staff.refresh_from_db()
    assert user_role(staff) == Role.SUPERVISOR
    assert staff.groups.count() == 1
    assert "now has the role Supervising attorney" in response.content.decode()


def test_admin_role_grants_django_admin_and_losing_it_removes_it(client_for):
    admin = client_for(Role.ADMIN)
    staff = UserFactory(role=Role.INTAKE)
    admin.post(f"/staff/{staff.pk}/role/", version(admin, f"/staff/{staff.pk}/", {"role": "admin"}, form="role_form"))
    staff.refresh_from_db()
    assert staff.is_staff

    admin.post(f"/staff/{staff.pk}/role/", version(admin, f"/staff/{staff.pk}/", {"role": "finance"}, form="role_form"))
    staff.refresh_from_db()
    assert not staff.is_staff


def test_admin_cannot_remove_own_admin_role(client_for):
    admin = client_for(Role.ADMIN)

    response = admin.post(
        f"/staff/{admin.user.pk}/role/",
        version(admin, f"/staff/{admin.user.pk}/", {"role": "attorney"}, form="role_form"),
        follow=True,
    )

    assert user_role(User.objects.get(pk=admin.user.pk)) == Role.ADMIN
    assert "You cannot take away your own administrator role." in response.content.decode()


def test_deactivation_ends_every_open_session_at_once(client_for):
    admin = client_for(Role.ADMIN)
    leaver = UserFactory(role=Role.ATTORNEY)
    laptop, phone = Client(), Client()
    for client in (laptop, phone):
        client.post("/accounts/login/", {"login": leaver.email, "password": PASSWORD})
        from tests.conftest import totp_code

        client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
        assert client.get("/dashboard/").status_code == 200
        from django.core.cache import cache

        cache.clear()  # the same code may not be used twice; a new one arrives each 30 s
    assert StaffSession.objects.filter(user=leaver).count() == 2

    response = admin.post(f"/staff/{leaver.pk}/deactivate/", follow=True)

    assert "is deactivated and signed out everywhere" in response.content.decode()
    for client in (laptop, phone):
        assert client.get("/")["Location"].startswith("/accounts/login/")
    assert not StaffSession.objects.filter(user=leaver).exists()
    login = Client().post("/accounts/login/", {"login": leaver.email, "password": PASSWORD})
    assert login.status_code in (200, 302)
    assert "/accounts/2fa/authenticate/" not in login.get("Location", "")


def test_admin_cannot_deactivate_themselves(client_for):
    admin = client_for(Role.ADMIN)

    response = admin.post(f"/staff/{admin.user.pk}/deactivate/", follow=True)

    assert User.objects.get(pk=admin.user.pk).is_active
    assert "You cannot deactivate your own account." in response.content.decode()


def test_reactivated_staff_can_sign_in_again(client_for):
    admin = client_for(Role.ADMIN)
    staff = UserFactory(role=Role.FINANCE)
    admin.post(f"/staff/{staff.pk}/deactivate/")

    admin.post(f"/staff/{staff.pk}/reactivate/")

    login = Client().post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert login["Location"] == "/accounts/2fa/authenticate/"


def test_resetting_an_authenticator_sends_them_back_to_enrolment(client_for):
    admin = client_for(Role.ADMIN)
    staff = UserFactory(role=Role.FINANCE)

    admin.post(f"/staff/{staff.pk}/reset-authenticator/")

    login = Client()
    response = login.post("/accounts/login/", {"login": staff.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/2fa/totp/activate/"


def test_staff_list_filters_by_role_and_status(client_for):
    admin = client_for(Role.ADMIN)
    attorney = UserFactory(role=Role.ATTORNEY, full_name="Zoila Attorney")
    UserFactory(role=Role.FINANCE, full_name="Yusuf Finance")
    gone = UserFactory(role=Role.ATTORNEY, full_name="Xavier Gone", is_active=False)

    page = admin.get("/staff/", {"role": "attorney"}).content.decode()
    assert attorney.full_name in page
    assert "Yusuf Finance" not in page
    assert gone.full_name not in page
    assert gone.full_name in admin.get("/staff/", {"status": "inactive"}).content.decode()


@pytest.mark.parametrize("role", [Role.INTAKE, Role.ATTORNEY, Role.SUPERVISOR, Role.FINANCE, Role.AUDITOR])
def test_staff_pages_are_404_for_other_roles(client_for, role):
    client = client_for(role)
    other = UserFactory(role=Role.INTAKE)
    for url in ["/staff/", "/staff/invite/", f"/staff/{other.pk}/", "/access-log/"]:
        assert client.get(url).status_code == 404, url
    for url in [
        f"/staff/{other.pk}/deactivate/",
        f"/staff/{other.pk}/role/",
        f"/staff/{other.pk}/reset-authenticator/",
    ]:
        assert client.post(url, {"role": "admin"}).status_code == 404, url
    other.refresh_from_db()
    assert other.is_active
    assert user_role(other) == Role.INTAKE


def test_unknown_staff_member_is_404(client_for):
    assert client_for(Role.ADMIN).get("/staff/999999/").status_code == 404


def test_staff_list_query_count_does_not_grow_with_staff(client_for, django_assert_max_num_queries):
    admin = client_for(Role.ADMIN)
    UserFactory(role=Role.ATTORNEY)
    with django_assert_max_num_queries(12) as one:
        admin.get("/staff/")
    UserFactory.create_batch(3, role=Role.INTAKE)
    with django_assert_max_num_queries(len(one.captured_queries)):
        admin.get("/staff/")
