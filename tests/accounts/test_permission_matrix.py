"""Every accounts URL by every persona (``tests/personas.py``) by GET and POST, with the exact status.

The staff pages act on ``target``, an attorney who is none of the personas. Only administrators
use them; anyone else signed in gets 404, anyone signed out (anonymous, donors, the inactive
user) is sent to sign-in. POSTs carry no data: the invitation form answers 422, and each
one-click action sends the administrator back to the staff member's page (302), having done it
or said why not.

The home page is every signed-in user's: roles with a start page elsewhere are redirected
there (302), an administrator and a user without a role get their page here (200).
"""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role, user_role
from tests.factories import UserFactory
from tests.personas import (
    ADMIN,
    ATTORNEYS,
    AUDITOR,
    FINANCE,
    INTAKE,
    NO_ROLE,
    PERSONAS,
    SIGNED_IN,
    STAFF_ROLES,
    SUPERVISOR,
    namespace_url_names,
    outcome,
    staff_page,
)

pytestmark = pytest.mark.django_db

STARTS_ELSEWHERE = {INTAKE, *ATTORNEYS, SUPERVISOR, FINANCE, AUDITOR}


MATRIX = {
    "home": {
        **staff_page(SIGNED_IN, 200, 405),
        **dict.fromkeys(STARTS_ELSEWHERE, (302, 405)),
    },
    # The role is checked before the method: to anyone but an administrator the page does not exist.
    "staff-list": staff_page({ADMIN}, 200, 405),
    "staff-invite": staff_page({ADMIN}, 200, 422),
    "staff-detail": staff_page({ADMIN}, 200, 405),
    "staff-set-role": staff_page({ADMIN}, 405, 302),
    "staff-deactivate": staff_page({ADMIN}, 405, 302),
    "staff-reactivate": staff_page({ADMIN}, 405, 302),
    "staff-resend-invitation": staff_page({ADMIN}, 405, 302),
    "staff-reset-mfa": staff_page({ADMIN}, 405, 302),
    "staff-sign-out-everywhere": staff_page({ADMIN}, 405, 302),
    "staff-sign-out-everyone": staff_page({ADMIN}, 405, 302),
    "access-log": staff_page({ADMIN}, 200, 405),
    # Everyone with a role manages their own sessions; the page after a password change is reached
    # only from that change (it needs the marker the change leaves in the session).
    "sessions": staff_page(frozenset(STAFF_ROLES), 200, 405),
    "session-end": staff_page(frozenset(STAFF_ROLES), 405, 400),
    "sessions-end-others": staff_page(frozenset(STAFF_ROLES), 405, 302),
    "sessions-after-change": staff_page(frozenset(), 404, 404),
}


@pytest.fixture
def target(personas) -> User:
    return UserFactory(role=Role.ATTORNEY, full_name="Tomás Target")


def _url(name: str, target: User) -> str:
    takes_pk = name.startswith("staff-") and name not in {"staff-list", "staff-invite", "staff-sign-out-everyone"}
    return reverse(f"accounts:{name}", kwargs={"pk": target.pk} if takes_pk else {})


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_accounts_url_permission_matrix(personas, target, name):
    url = _url(name, target)

    seen = {}
    for persona in PERSONAS:
        client = personas.client(persona)
        seen[persona] = (outcome(client.get(url)), outcome(client.post(url, {})))

    assert seen == MATRIX[name]


def test_every_accounts_url_is_in_the_matrix():
    assert namespace_url_names("accounts") == set(MATRIX)


@pytest.mark.parametrize("name", sorted(name for name, row in MATRIX.items() if row[ADMIN] == (405, 302)))
def test_staff_actions_by_anyone_but_an_administrator_change_nothing(personas, target, name):
    url = _url(name, target)
    password, mfa = target.password, Authenticator.objects.filter(user=target).count()

    for persona in PERSONAS:
        if persona != ADMIN:
            personas.client(persona).post(url, {"role": "admin"})

    target.refresh_from_db()
    assert (target.is_active, user_role(target), target.password) == (True, Role.ATTORNEY, password)
    assert Authenticator.objects.filter(user=target).count() == mfa


def test_staff_actions_send_the_administrator_back_to_the_staff_page(personas, target):
    admin = personas.client(ADMIN)

    response = admin.post(_url("staff-deactivate", target), {})

    assert response["Location"] == reverse("accounts:staff-detail", kwargs={"pk": target.pk})
    target.refresh_from_db()
    assert target.is_active is False


def test_a_user_without_a_role_is_told_so_at_home(personas):
    response = personas.client(NO_ROLE).get(reverse("accounts:home"))

    assert "No role yet" in response.content.decode()
