"""The session pages by every persona (``tests/personas.py``), GET and POST, with the exact status.

"Your sessions" is every staff member's with a role; ending sessions is POST only, and without
a fresh re-authentication it sends the person to re-authenticate (302) before anything ends.
The question after new recovery codes exists only right after them (404 otherwise). Only
administrators sign someone else out of every session; anyone else signed in gets 404, anyone
signed out is sent to sign-in. POSTs carry no data.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import StaffSession, User
from accounts.roles import Role
from tests.factories import UserFactory
from tests.personas import ADMIN, PERSONAS, STAFF_ROLES, outcome, staff_page

pytestmark = pytest.mark.django_db

WITH_A_ROLE = frozenset(STAFF_ROLES)

SESSIONS_MATRIX = {
    "sessions": staff_page(WITH_A_ROLE, 200, 405),
    "session-end": staff_page(WITH_A_ROLE, 405, 400),
    "sessions-end-others": staff_page(WITH_A_ROLE, 405, 302),
    "sessions-after-change": staff_page(frozenset(), 404, 404),
    "staff-sign-out-everywhere": staff_page({ADMIN}, 405, 302),
}


@pytest.fixture
def target(personas) -> User:
    target = UserFactory(role=Role.ATTORNEY, full_name="Tomás Target")
    StaffSession.objects.create(user=target, session_key="t" * 32)
    return target


def _url(name: str, target: User) -> str:
    return reverse(f"accounts:{name}", kwargs={"pk": target.pk} if name.startswith("staff-") else {})


@pytest.mark.parametrize("name", sorted(SESSIONS_MATRIX))
def test_session_url_permission_matrix(personas, target, name):
    url = _url(name, target)

    seen = {}
    for persona in PERSONAS:
        client = personas.client(persona)
        seen[persona] = (outcome(client.get(url)), outcome(client.post(url, {})))

    assert seen == SESSIONS_MATRIX[name]


def test_only_an_administrator_signs_someone_else_out(personas, target):
    url = _url("staff-sign-out-everywhere", target)

    for persona in PERSONAS:
        if persona != ADMIN:
            personas.client(persona).post(url, {})

    assert StaffSession.objects.filter(user=target).exists()
