"""Every casework URL by every persona (``tests/personas.py``) by GET and POST, with the exact status.

The case is active, registered by ``intake`` and led by ``attorney_on_case``. Someone signed
in who may not see it gets 404 for every method; anyone signed out (anonymous, donors, the
inactive user) is sent to sign-in. POSTs carry no data, so for those allowed they are a 422
(form errors; the calendar's bare key form, malformed rather than wrong, a 400) or, for one-click actions, the action's own answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import services
from casework.models import AlertKind, AssignmentRole, CaseStatus, DemandKind, DemandSource, ReadAlert
from casework.services import oversight, retention
from casework.services.calendar import calendar_feed_create
from casework.urls import urlpatterns
from tests.factories import UserFactory
from tests.personas import (
    ADMIN,
    ATTORNEY_ON_CASE,
    ATTORNEYS,
    INTAKE,
    PERSONAS,
    SUPERVISOR,
    namespace_url_names,
    outcome,
    public_page,
    staff_page,
)

pytestmark = pytest.mark.django_db

CASE_PEOPLE = {ATTORNEY_ON_CASE, SUPERVISOR}

MATRIX = {
    "intake": staff_page({INTAKE, SUPERVISOR}, 200, 422),
    "intake-check": staff_page({INTAKE, SUPERVISOR}, 405, 200),
    "dashboard": staff_page(ATTORNEYS | {SUPERVISOR}, 200, 405),
    # Search words are POSTed and answered with a 303 to the results (never in the URL).
    "case-list": staff_page({INTAKE, *ATTORNEYS, SUPERVISOR}, 200, 303),
    "triage": staff_page({SUPERVISOR}, 200, 405),
    "workload": staff_page({SUPERVISOR}, 200, 405),
    "bulk-reassign": staff_page({SUPERVISOR}, 200, 422),
    "search": staff_page({SUPERVISOR}, 200, 422),
    "calendar": staff_page(ATTORNEYS | {SUPERVISOR}, 200, 400),  # a POST without its one-time key
    # The feed's secret token is its credential (here ``attorney_on_case``'s): calendar apps
    # read it without signing in, and it is GET only.
    "calendar-feed": public_page(200, 405),
    "case-detail": staff_page(CASE_PEOPLE, 200, 405),
    "case-edit": staff_page(CASE_PEOPLE, 200, 422),
    "custody-change": staff_page(CASE_PEOPLE, 200, 422),  # GET: the form, opened from the case page
    # Every field of the supervision form is optional: an empty form changes nothing and goes back.
    "custody-supervision": staff_page(CASE_PEOPLE, 200, 422),  # a form sent without its stamp
    "uac-determination": staff_page(CASE_PEOPLE, 200, 422),
    "appearance-record": staff_page(CASE_PEOPLE, 200, 422),
    "note-add": staff_page(CASE_PEOPLE, 200, 422),
    "document-upload": staff_page(CASE_PEOPLE, 200, 422),
    "document-download": staff_page(CASE_PEOPLE, 200, 405),
    "relief-save": staff_page(CASE_PEOPLE, 200, 422),
    "case-close": staff_page(CASE_PEOPLE, 200, 422),
    "case-reopen": staff_page(CASE_PEOPLE, 405, 422),
    "hearing-new": staff_page(CASE_PEOPLE, 200, 422),
    "hearing-edit": staff_page(CASE_PEOPLE, 200, 422),
    "decision-new": staff_page(CASE_PEOPLE, 200, 422),
    "decision-edit": staff_page(CASE_PEOPLE, 200, 422),
    "deadline-new": staff_page(CASE_PEOPLE, 200, 422),
    "deadline-edit": staff_page(CASE_PEOPLE, 200, 422),
    "deadline-status": staff_page(CASE_PEOPLE, 405, 422),
    "case-assign": staff_page({SUPERVISOR}, 200, 422),
    "assignment-end": staff_page({SUPERVISOR}, 405, 302),
    # Erasure: supervisors only. The matrix's case is active, so a request for it is refused (422);
    # the pending request below is the supervisor's own, so confirming it is refused too.
    "erasure-request": staff_page({SUPERVISOR}, 200, 422),
    "erasure-list": staff_page({SUPERVISOR}, 200, 405),
    "erasure-confirm": staff_page({SUPERVISOR}, 405, 422),
    "erasure-cancel": staff_page({SUPERVISOR}, 405, 302),
    # Oversight: the legal-demand log and read histories for administrators and supervisors, the
    # read alerts for administrators (tests/casework/test_legal_demands.py, test_read_*.py).
    "legal-demand-list": staff_page({ADMIN, SUPERVISOR}, 200, 405),
    "legal-demand-new": staff_page({ADMIN, SUPERVISOR}, 200, 422),
    "legal-demand-detail": staff_page({ADMIN, SUPERVISOR}, 200, 422),
    "case-reads": staff_page({ADMIN, SUPERVISOR}, 200, 405),
    "staff-reads": staff_page({ADMIN, SUPERVISOR}, 200, 405),
    "read-alert-list": staff_page({ADMIN}, 200, 405),
    "read-alert-acknowledge": staff_page({ADMIN}, 200, 422),
}


@pytest.fixture
def world(personas, court):
    case = personas.case
    supervisor = personas.user(SUPERVISOR)
    # A second attorney to end, so the lead stays and the case stays visible to them.
    co_counsel = UserFactory(role=Role.ATTORNEY)
    assignment = services.case_assign(case=case, attorney=co_counsel, role=AssignmentRole.CO_COUNSEL, by=supervisor)
    hearing = services.hearing_schedule(
        case=case, kind="master", starts_at=datetime.now(UTC) + timedelta(days=3), court=court, by=supervisor
    )
    deadline = services.deadline_add_manual(case=case, title="File evidence", due_on=date.today(), by=supervisor)
    decision, _ = services.decision_record(
        case=case, outcome="admin_closed", decided_on=date(2026, 3, 5), by=supervisor
    )
    pdf = SimpleUploadedFile(
        "n.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )
    document = services.document_upload(case=case, upload=pdf, kind="other", title="Notice", by=supervisor)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE
    closed = services.case_register(
        data=services.IntakeData(given_names="Ya", family_names="Cerezo-Vidal"), by=supervisor
    )
    services.case_close(case=closed, reason="other", note="", by=supervisor)
    erasure = retention.erasure_request(case=closed, by=supervisor, why="client asked")
    kwargs = {
        "calendar-feed": {"token": calendar_feed_create(user=personas.user(ATTORNEY_ON_CASE))},
        "hearing-edit": {"pk": hearing.pk},
        "decision-edit": {"pk": decision.pk},
        "deadline-edit": {"pk": deadline.pk},
        "deadline-status": {"pk": deadline.pk},
        "document-download": {"pk": document.pk},
        "assignment-end": {"pk": assignment.pk},
        "erasure-confirm": {"pk": erasure.pk},
        "erasure-cancel": {"pk": erasure.pk},
        **_oversight_kwargs(personas),
    }
    return personas, kwargs


def _oversight_kwargs(personas) -> dict[str, dict]:
    """A real legal demand, staff member and read alert for the oversight pages' URLs."""
    demand = oversight.legal_demand_record(
        received_at=timezone.now(),
        received_how="mail",
        source=DemandSource.COURT,
        source_detail="Superior Court",
        kind=DemandKind.COURT_ORDER,
        asked="Records",
        respond_by=None,
        counsel="",
        cases=[personas.case],
        by=personas.user(SUPERVISOR),
    )
    end = timezone.now()
    alert = ReadAlert.objects.create(
        user=personas.user(ATTORNEY_ON_CASE),
        kind=AlertKind.BULK_EXPORTS,
        count=11,
        window_start=end - timedelta(hours=24),
        window_end=end,
    )
    return {
        "legal-demand-detail": {"reference": demand.reference},
        "staff-reads": {"user_id": personas.user(ATTORNEY_ON_CASE).pk},
        "read-alert-acknowledge": {"pk": alert.pk},
    }


def _url(name: str, case, kwargs) -> str:
    values = {"number": case.number, **kwargs.get(name, {})}
    pattern = next(pattern for pattern in urlpatterns if pattern.name == name)
    return reverse(f"casework:{name}", kwargs={key: values[key] for key in pattern.pattern.converters})


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_casework_url_permission_matrix(world, name):
    personas, kwargs = world
    url = _url(name, personas.case, kwargs)

    seen = {}
    for persona in PERSONAS:
        client = personas.client(persona)
        seen[persona] = (outcome(client.get(url)), outcome(client.post(url, {})))

    assert seen == MATRIX[name]


def test_every_casework_url_is_in_the_matrix():
    assert namespace_url_names("casework") == set(MATRIX)


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
