"""The people every permission matrix asks about, defined once (as healthchecks' ``hc/test.py``).

``make_personas()`` (or the ``personas`` fixture) creates them around one active case:

=====================  ==============================================================
``anonymous``          nobody signed in
``donor``              a donor signed in to the donor portal (no staff session)
``other_donor``        another donor, signed in to the portal
``intake``             intake staff; registered the case
``attorney_on_case``   an attorney, lead on the case
``attorney_off_case``  an attorney with cases of their own, not this one
``supervisor``         the supervising attorney who assigned the case
``finance``            finance staff
``auditor``            an auditor
``admin``              an administrator
``no_role``            signed in with an authenticator but no role yet
``inactive``           a deactivated administrator whose session cookie survived
=====================  ==============================================================

Every staff member has an authenticator (``UserFactory`` enrols one), so what a matrix sees is
the role's reach, not the MFA enrolment page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import User
from accounts.roles import Role
from casework import services as casework_services
from casework.models import AssignmentRole, Case
from funds.models import Donor
from funds.services.donor_portal import DONOR_SESSION_KEY
from tests.factories import UserFactory

ANONYMOUS = "anonymous"
DONOR = "donor"
OTHER_DONOR = "other_donor"
INTAKE = "intake"
ATTORNEY_ON_CASE = "attorney_on_case"
ATTORNEY_OFF_CASE = "attorney_off_case"
SUPERVISOR = "supervisor"
FINANCE = "finance"
AUDITOR = "auditor"
ADMIN = "admin"
NO_ROLE = "no_role"
INACTIVE = "inactive"

PERSONAS: tuple[str, ...] = (
    ANONYMOUS,
    DONOR,
    OTHER_DONOR,
    INTAKE,
    ATTORNEY_ON_CASE,
    ATTORNEY_OFF_CASE,
    SUPERVISOR,
    FINANCE,
    AUDITOR,
    ADMIN,
    NO_ROLE,
    INACTIVE,
)
STAFF_ROLES: dict[str, Role] = {
    INTAKE: Role.INTAKE,
    ATTORNEY_ON_CASE: Role.ATTORNEY,
    ATTORNEY_OFF_CASE: Role.ATTORNEY,
    SUPERVISOR: Role.SUPERVISOR,
    FINANCE: Role.FINANCE,
    AUDITOR: Role.AUDITOR,
    ADMIN: Role.ADMIN,
}
DONORS = frozenset({DONOR, OTHER_DONOR})
# Signed in as staff: they pass the sign-in check, and each page then decides by role.
SIGNED_IN = frozenset({*STAFF_ROLES, NO_ROLE})
# Sent to the staff sign-in by any staff page: a donor session is no staff session, and an
# inactive user's session no longer authenticates.
SIGNED_OUT = frozenset(PERSONAS) - SIGNED_IN
ATTORNEYS = frozenset({ATTORNEY_ON_CASE, ATTORNEY_OFF_CASE})

# The outcome of a redirect to the staff sign-in page, whatever the ``next`` parameter says.
LOGIN = "login"


@dataclass
class Personas:
    """The personas' accounts, and the case that ``attorney_on_case`` leads."""

    users: dict[str, User]
    donors: dict[str, Donor]
    case: Case

    def client(self, persona: str) -> Client:
        """A fresh test client signed in as ``persona`` (staff sign-in, donor portal, or none)."""
        if persona not in PERSONAS:
            raise KeyError(persona)
        client = Client()
        if persona in self.users:
            client.force_login(self.users[persona])
        elif persona in self.donors:
            session = client.session
            session[DONOR_SESSION_KEY] = self.donors[persona].pk
            session.save()
        return client

    def user(self, persona: str) -> User:
        return self.users[persona]


def make_personas() -> Personas:
    """Create every persona and the case that ties the attorneys, intake and supervisor to it.

    The case is registered by ``intake`` and assigned by ``supervisor`` to ``attorney_on_case``
    as lead, so it is active (out of triage). ``attorney_off_case`` leads a case of their own,
    so that "off this case" is not the same as "no cases at all".
    """
    users = {persona: UserFactory(role=role) for persona, role in STAFF_ROLES.items()}
    users[NO_ROLE] = UserFactory(role=None)
    users[INACTIVE] = UserFactory(role=Role.ADMIN, is_active=False)
    donors = {
        DONOR: Donor.objects.create(email="donor@example.org", name="Dana Donor"),
        OTHER_DONOR: Donor.objects.create(email="other.donor@example.org", name="Otto Other"),
    }
    case = _active_case(intake=users[INTAKE], lead=users[ATTORNEY_ON_CASE], by=users[SUPERVISOR])
    _active_case(intake=users[INTAKE], lead=users[ATTORNEY_OFF_CASE], by=users[SUPERVISOR])
    return Personas(users=users, donors=donors, case=case)


def _active_case(*, intake: User, lead: User, by: User) -> Case:
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Rosa", family_names="Echeverría"), by=intake
    )
    casework_services.case_assign(case=case, attorney=lead, role=AssignmentRole.LEAD, by=by)
    case.refresh_from_db()
    return case


def staff_page(allowed: set[str] | frozenset[str], get: int, post: int) -> dict[str, tuple[int | str, int | str]]:
    """Expected ``(GET, POST)`` outcome per persona for a page behind the staff sign-in.

    Those ``allowed`` get ``get``/``post``; anyone else signed in as staff gets 404 for both
    (the page does not exist for them); everyone signed out is sent to sign-in.
    """
    unknown = set(allowed) - SIGNED_IN
    if unknown:
        raise ValueError(f"not staff personas: {sorted(unknown)}")
    return {
        persona: (LOGIN, LOGIN) if persona in SIGNED_OUT else (get, post) if persona in allowed else (404, 404)
        for persona in PERSONAS
    }


def public_page(get: int, post: int) -> dict[str, tuple[int | str, int | str]]:
    """Expected ``(GET, POST)`` outcome per persona for a page that answers everyone alike."""
    return dict.fromkeys(PERSONAS, (get, post))


def outcome(response: HttpResponse) -> int | str:
    """``LOGIN`` for a redirect to the staff sign-in page, otherwise the status code."""
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    return response.status_code


def namespace_url_names(namespace: str) -> set[str]:
    """Every URL name routed under ``namespace`` (what that app's matrix must list)."""
    _prefix, resolver = get_resolver().namespace_dict[namespace]
    return set(_names(resolver.url_patterns))


def _names(patterns):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _names(entry.url_patterns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name
