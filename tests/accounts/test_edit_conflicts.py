"""Two administrators changing a staff member's role at once: the second is told, not overwritten."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.roles import Role, user_role
from tests.factories import UserFactory
from tests.forms import version

pytestmark = pytest.mark.django_db


def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(role=Role.ADMIN))
    return client


def test_the_staff_page_carries_the_role_forms_version(admin_client_):
    staff = UserFactory(role=Role.INTAKE)

    page = admin_client_.get(f"/staff/{staff.pk}/").content.decode()

    assert '<input type="hidden" name="version"' in page


def test_a_role_changed_meanwhile_is_not_overwritten(db):
    staff = UserFactory(role=Role.INTAKE)
    page, url = f"/staff/{staff.pk}/", f"/staff/{staff.pk}/role/"
    first, second = admin_client(), admin_client()
    seen_by_first = version(first, page, {"role": "supervisor"}, form="role_form")
    seen_by_second = version(second, page, {"role": "finance"}, form="role_form")

    assert first.post(url, seen_by_first).status_code == 302
    conflict = second.post(url, seen_by_second)

    assert conflict.status_code == 409
    html = conflict.content.decode()
    assert "Someone else changed this record after you opened the form" in html
    assert "Role is now “Supervising attorney”" in html
    assert '<option value="finance" selected>' in html  # what the second administrator chose, kept
    assert user_role(User.objects.get(pk=staff.pk)) == Role.SUPERVISOR

    fresh = conflict.context["role_form"].data["version"]
    again = second.post(url, {"role": "finance", "version": fresh})

    assert again.status_code == 302
    assert user_role(User.objects.get(pk=staff.pk)) == Role.FINANCE


def test_a_change_to_what_the_role_form_does_not_show_is_no_conflict(db):
    staff = UserFactory(role=Role.INTAKE)
    page, url = f"/staff/{staff.pk}/", f"/staff/{staff.pk}/role/"
    admin = admin_client()
    stamped = version(admin, page, {"role": "supervisor"}, form="role_form")
    User.objects.filter(pk=staff.pk).update(full_name="Someone Renamed")  # not shown by the form

    assert admin.post(url, stamped).status_code == 302
    assert user_role(User.objects.get(pk=staff.pk)) == Role.SUPERVISOR


def test_a_forged_version_is_a_conflict_not_a_save(admin_client_):
    staff = UserFactory(role=Role.INTAKE)

    response = admin_client_.post(f"/staff/{staff.pk}/role/", {"role": "finance", "version": "forged"})

    assert response.status_code == 409
    assert user_role(User.objects.get(pk=staff.pk)) == Role.INTAKE
