"""Every casework URL by every persona by GET and POST, with the exact expected status.

The case is active, registered by ``intake_owner`` and led by ``attorney_assigned``.
Someone who may not see it gets 404 for every method; anonymous visitors are sent to
sign-in. POSTs carry no data, so for those allowed they are a 400 (form errors) or, for
one-click actions, the action's own answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from casework import services
from casework.models import AssignmentRole, CaseStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PERSONAS = [
    "anonymous",
    "intake_owner",
    "intake_other",
    "attorney_assigned",
    "attorney_unassigned",
    "supervisor",
    "finance",
    "auditor",
]
CASE_PEOPLE = {"attorney_assigned", "supervisor"}
ATTORNEYS = {"attorney_assigned", "attorney_unassigned"}
INTAKE = {"intake_owner", "intake_other"}

# name → (who may use it, GET status for them, POST status for them)
MATRIX = {
    "intake": (INTAKE | {"supervisor"}, 200, 400),
    "intake-check": (INTAKE | {"supervisor"}, 405, 200),
    "dashboard": (ATTORNEYS | {"supervisor"}, 200, 405),
    "case-list": (INTAKE | ATTORNEYS | {"supervisor"}, 200, 405),
    "triage": ({"supervisor"}, 200, 405),
    "workload": ({"supervisor"}, 200, 405),
    "bulk-reassign": ({"supervisor"}, 200, 400),
    "search": ({"supervisor"}, 200, 405),
    "calendar": (ATTORNEYS | {"supervisor"}, 200, 302),
    "case-detail": (CASE_PEOPLE, 200, 405),
    "case-edit": (CASE_PEOPLE, 200, 400),
    "custody-change": (CASE_PEOPLE, 405, 400),
    "note-add": (CASE_PEOPLE, 405, 400),
    "document-upload": (CASE_PEOPLE, 405, 400),
    "document-download": (CASE_PEOPLE, 200, 405),
    "relief-save": (CASE_PEOPLE, 405, 400),
    "case-close": (CASE_PEOPLE, 200, 400),
    "case-reopen": (CASE_PEOPLE, 405, 400),
    "hearing-new": (CASE_PEOPLE, 200, 400),
    "hearing-edit": (CASE_PEOPLE, 200, 400),
    "deadline-new": (CASE_PEOPLE, 200, 400),
    "deadline-edit": (CASE_PEOPLE, 200, 400),
    "deadline-status": (CASE_PEOPLE, 405, 400),
    "case-assign": ({"supervisor"}, 200, 400),
    "assignment-end": ({"supervisor"}, 405, 302),
}


@pytest.fixture
def world(register_case, court):
    people = {
        "intake_owner": UserFactory(role=Role.INTAKE),
        "intake_other": UserFactory(role=Role.INTAKE),
        "attorney_assigned": UserFactory(role=Role.ATTORNEY),
        "attorney_unassigned": UserFactory(role=Role.ATTORNEY),
        "supervisor": UserFactory(role=Role.SUPERVISOR),
        "finance": UserFactory(role=Role.FINANCE),
        "auditor": UserFactory(role=Role.AUDITOR),
    }
    case = register_case(by=people["intake_owner"])
    services.case_assign(
        case=case, attorney=people["attorney_assigned"], role=AssignmentRole.LEAD, by=people["supervisor"]
    )
    # A second attorney to end, so the lead stays and the case stays visible to them.
    co_counsel = UserFactory(role=Role.ATTORNEY)
    assignment = services.case_assign(
        case=case, attorney=co_counsel, role=AssignmentRole.CO_COUNSEL, by=people["supervisor"]
    )
    hearing = services.hearing_schedule(
        case=case, kind="master", starts_at=datetime.now(UTC) + timedelta(days=3), court=court, by=people["supervisor"]
    )
    deadline = services.deadline_add_manual(
        case=case, title="File evidence", due_on=date.today(), by=people["supervisor"]
    )
    pdf = SimpleUploadedFile(
        "n.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )
    document = services.document_upload(case=case, upload=pdf, kind="other", title="Notice", by=people["supervisor"])
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE
    ids = {
        "hearing-edit": hearing.pk,
        "deadline-edit": deadline.pk,
        "deadline-status": deadline.pk,
        "document-download": document.pk,
        "assignment-end": assignment.pk,
    }
    return case, people, ids


def _url(name: str, case, ids) -> str:
    if name in {
        "intake",
        "intake-check",
        "dashboard",
        "case-list",
        "triage",
        "workload",
        "bulk-reassign",
        "search",
        "calendar",
    }:
        return reverse(f"casework:{name}")
    args = [case.number] + ([ids[name]] if name in ids else [])
    return reverse(f"casework:{name}", args=args)


def _client(persona: str, people) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(people[persona])
    return client


def expected(name: str, persona: str, method: str) -> int:
    if persona == "anonymous":
        return 302
    allowed, get_status, post_status = MATRIX[name]
    if persona not in allowed:
        return 404
    return get_status if method == "GET" else post_status


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_casework_url_permission_matrix(world, name):
    case, people, ids = world
    url = _url(name, case, ids)
    outcomes = {}
    for persona in PERSONAS:
        for method in ("GET", "POST"):
            client = _client(persona, people)
            response = client.get(url) if method == "GET" else client.post(url, {})
            outcomes[(persona, method)] = response.status_code
            if persona == "anonymous":
                assert response["Location"].startswith("/accounts/login/"), (name, method)
    assert outcomes == {(p, m): expected(name, p, m) for p in PERSONAS for m in ("GET", "POST")}


def test_every_casework_url_is_in_the_matrix():
    from casework.urls import urlpatterns

    names = {p.name for p in urlpatterns} - {"calendar-feed"}  # the feed's token is its credential
    assert names == set(MATRIX)


def test_intake_worker_sees_own_case_only_while_in_triage(register_case, intake_worker, supervisor, attorney):
    case = register_case(by=intake_worker)
    other_intake = UserFactory(role=Role.INTAKE)
    owner, other = Client(), Client()
    owner.force_login(intake_worker)
    other.force_login(other_intake)
    url = reverse("casework:case-detail", args=[case.number])

    assert owner.get(url).status_code == 200
    assert other.get(url).status_code == 404
    assert case.number in owner.get(reverse("casework:case-list")).content.decode()
    assert case.number not in other.get(reverse("casework:case-list")).content.decode()
    # Intake may read but not change.
    assert owner.get(reverse("casework:case-edit", args=[case.number])).status_code == 404

    services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)

    assert owner.get(url).status_code == 404
    assert case.number not in owner.get(reverse("casework:case-list")).content.decode()


def test_unknown_case_number_is_404_like_a_forbidden_one(client_for):
    client = client_for(Role.SUPERVISOR)

    assert client.get(reverse("casework:case-detail", args=["2099-99999"])).status_code == 404


def test_global_model_permission_is_no_back_door(assigned_case):
    from django.contrib.auth.models import Permission

    outsider = UserFactory(role=Role.ATTORNEY)
    outsider.user_permissions.add(*Permission.objects.filter(codename__in=["view_case", "change_case"]))
    client = Client()
    client.force_login(outsider)

    assert client.get(reverse("casework:case-detail", args=[assigned_case.number])).status_code == 404
    assert assigned_case.number not in client.get(reverse("casework:case-list")).content.decode()
