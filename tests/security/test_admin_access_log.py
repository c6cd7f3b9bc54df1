"""Every change made through the Django admin is in the access log: who, which model, which object, which
fields, never the values; and if the access log cannot be written, the change does not happen."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.db import DatabaseError

from accounts import admin_log
from accounts.models import AccessEvent
from accounts.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client_for):
    """An administrator who is also a Django superuser (every model permission)."""
    return client_for(Role.ADMIN, is_superuser=True)


def admin_events(user) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(user=user, object_type__startswith="admin:").order_by("pk"))


def _attempt(email: str) -> AccessAttempt:
    return AccessAttempt.objects.create(
        username=email,
        ip_address="192.0.2.7",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )


def test_admin_post_on_a_staff_account_is_in_the_access_log(superuser_client):
    staff = UserFactory(role=Role.ATTORNEY, email="rosa.attorney@example.org")

    response = superuser_client.post(f"/admin/accounts/user/{staff.pk}/change/", {})

    assert response.status_code == 302
    [event] = admin_events(superuser_client.user)
    assert (event.action, event.object_type, event.object_ref) == ("change", "admin:accounts.user", str(staff.pk))
    # Every field of a staff account is read-only in the admin: the post is logged, nothing changed.
    assert event.detail == "admin: changed: no fields"
    assert event.ip_address == "127.0.0.1"


def test_admin_change_to_a_users_email_address_names_the_fields_not_the_values(superuser_client):
    staff = UserFactory(role=Role.ATTORNEY, email="rosa.attorney@example.org")
    address = EmailAddress.objects.create(user=staff, email=staff.email, verified=False, primary=True)

    response = superuser_client.post(
        f"/admin/account/emailaddress/{address.pk}/change/",
        {"user": staff.pk, "email": "someone.else@example.net", "verified": "on", "primary": "on"},
    )

    assert response.status_code == 302
    address.refresh_from_db()
    assert (address.email, address.verified) == ("someone.else@example.net", True)
    [event] = admin_events(superuser_client.user)
    assert event.object_type == "admin:account.emailaddress"
    assert event.object_ref == str(address.pk)
    # The fields' labels, never the old or the new address.
    assert event.detail == "admin: changed: Email address, Verified"


def test_unlocking_a_sign_in_through_the_admin_is_in_the_access_log(client_for):
    # Administrators may delete a lock-out (axes); that is the one change their role allows there.
    admin = client_for(Role.ADMIN)
    attempt = _attempt("locked.out@example.org")

    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    [event] = admin_events(admin.user)
    assert (event.object_type, event.object_ref, event.detail) == (
        "admin:axes.accessattempt",
        str(attempt.pk),
        "admin: deleted",
    )


def test_deleting_several_through_the_list_writes_one_row_each(client_for):
    admin = client_for(Role.ADMIN)
    attempts = [_attempt(f"user{n}@example.org") for n in range(3)]

    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes"},
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    events = admin_events(admin.user)
    assert sorted(event.object_ref for event in events) == sorted(str(a.pk) for a in attempts)
    assert {event.detail for event in events} == {"admin: deleted"}


def test_an_admin_action_that_writes_no_admin_history_is_still_in_the_access_log(superuser_client):
    # allauth's "mark as verified" saves the addresses itself, without Django's admin history.
    staff = UserFactory(role=Role.ATTORNEY)
    address = EmailAddress.objects.create(user=staff, email=staff.email, verified=False, primary=True)

    response = superuser_client.post(
        "/admin/account/emailaddress/", {"action": "make_verified", "_selected_action": [address.pk]}
    )

    assert response.status_code == 302
    address.refresh_from_db()
    assert address.verified
    [event] = admin_events(superuser_client.user)
    assert (event.object_type, event.object_ref, event.detail) == (
        "admin:account.emailaddress",
        str(address.pk),
        "admin action: make_verified",
    )


def test_an_admin_change_whose_access_log_row_cannot_be_written_is_undone(superuser_client, monkeypatch):
    staff = UserFactory(role=Role.ATTORNEY)
    address = EmailAddress.objects.create(user=staff, email=staff.email, verified=False, primary=True)

    def refuse(**kwargs):
        raise DatabaseError("the access log is unavailable")

    monkeypatch.setattr(admin_log, "access_event_record", refuse)
    superuser_client.raise_request_exception = True

    with pytest.raises(DatabaseError):
        superuser_client.post(
            f"/admin/account/emailaddress/{address.pk}/change/",
            {"user": staff.pk, "email": staff.email, "verified": "on", "primary": "on"},
        )

    address.refresh_from_db()
    assert not address.verified
    assert not admin_events(superuser_client.user)


def test_reading_in_the_admin_writes_nothing(superuser_client):
    staff = UserFactory(role=Role.ATTORNEY)

    assert superuser_client.get(f"/admin/accounts/user/{staff.pk}/change/").status_code == 200
    assert superuser_client.get("/admin/accounts/user/").status_code == 200
    assert admin_events(superuser_client.user) == []
