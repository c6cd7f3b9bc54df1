"""Fixtures the upload tests of the kernel share: an attorney, signed in, leading one case."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.roles import Role
from casework import services as casework_services
from casework.models import AssignmentRole
from tests.factories import UserFactory


@pytest.fixture
def attorney(db):
    return UserFactory(role=Role.ATTORNEY)


@pytest.fixture
def assigned_case(attorney):
    """A case with ``attorney`` as its lead, made as intake and a supervisor make one."""
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Rosa", family_names="Quispe"),
        by=UserFactory(role=Role.INTAKE),
    )
    casework_services.case_assign(
        case=case, attorney=attorney, role=AssignmentRole.LEAD, by=UserFactory(role=Role.SUPERVISOR)
    )
    return case


@pytest.fixture
def attorney_client(attorney) -> Client:
    client = Client()
    client.force_login(attorney)
    return client
