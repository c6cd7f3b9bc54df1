"""Casework fixtures: cases are made through the services, as the app makes them."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from accounts.roles import Role
from casework import services
from casework.models import AssignmentRole, DetentionFacility, ImmigrationCourt
from tests.factories import UserFactory


@pytest.fixture
def intake_worker(db):
    return UserFactory(role=Role.INTAKE, full_name="Ines Intake")


@pytest.fixture
def supervisor(db):
    return UserFactory(role=Role.SUPERVISOR, full_name="Sara Supervisor")


@pytest.fixture
def attorney(db):
    return UserFactory(role=Role.ATTORNEY, full_name="Ana Attorney")


@pytest.fixture
def other_attorney(db):
    return UserFactory(role=Role.ATTORNEY, full_name="Beto Abogado")


@pytest.fixture
def court(db):
    return ImmigrationCourt.objects.get(name="Eloy Immigration Court")


@pytest.fixture
def facility(db):
    return DetentionFacility.objects.order_by("code").first()


@pytest.fixture
def register_case(db, facility):
    """``register_case(by=user, **overrides)`` registers a detainee the way intake does."""

    def register(*, by, **overrides):
        data = {
            "given_names": "José",
            "family_names": "Hernández-López",
            "a_number": "012345678",
            "date_of_birth": date(1990, 5, 17),
            "country_of_birth": "Honduras",
            "languages": "Spanish",
            "facility": facility,
            "contacts": [
                {
                    "name": "María López",
                    "relationship": "sister",
                    "phone": "+1 555 0100",
                    "preferred_language": "Spanish",
                }
            ],
        }
        data.update(overrides)
        return services.case_register(data=services.IntakeData(**data), by=by)

    return register


@pytest.fixture
def assigned_case(register_case, intake_worker, supervisor, attorney):
    """A case registered by ``intake_worker`` with ``attorney`` as lead (so: active)."""
    case = register_case(by=intake_worker)
    services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    case.refresh_from_db()
    return case


@pytest.fixture
def lawyer(attorney) -> Client:
    client = Client()
    client.force_login(attorney)
    return client
