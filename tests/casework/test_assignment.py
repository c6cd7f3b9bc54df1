"""Assignment is the source of truth for attorneys' access."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from guardian.shortcuts import get_perms

from accounts.models import AccessEvent
from accounts.roles import Role
from accounts.services import staff_deactivate
from accounts.signals import staff_deactivated
from casework import services
from casework.models import Assignment, AssignmentRole, Case, CaseStatus
from tests.factories import UserFactory
from tests.forms import once, version

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_assigning_grants_view_and_change_on_that_case_only(register_case, intake_worker, supervisor, attorney):
    case = register_case(by=intake_worker)
    other = register_case(by=intake_worker, a_number="", given_names="Ana", family_names="Ruiz")

    services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)

    assert sorted(get_perms(attorney, case)) == ["change_case", "view_case"]
    assert get_perms(attorney, other) == []
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE
    assert case.first_assigned_at is not None


def test_ending_an_assignment_revokes_access_at_the_next_request(assigned_case, supervisor, attorney):
    client = _client(attorney)
    url = reverse("casework:case-detail", args=[assigned_case.number])
    assert client.get(url).status_code == 200
    assignment = Assignment.objects.get(case=assigned_case, attorney=attorney)

    _client(supervisor).post(reverse("casework:assignment-end", args=[assigned_case.number, assignment.pk]))

    assert client.get(url).status_code == 404
    assert client.post(reverse("casework:note-add", args=[assigned_case.number]), {"body": "x"}).status_code == 404
    assigned_case.refresh_from_db()
    assert assigned_case.status == CaseStatus.TRIAGE  # no lead left: back to the queue
    assert assigned_case.needs_reassignment
    # The access log names who was taken off (a name, not only an account number).
    ended = AccessEvent.objects.filter(action=AccessEvent.Action.CHANGE, object_ref=assigned_case.number).latest("pk")
    assert ended.detail == f"ended assignment of {attorney.full_name} (user {attorney.pk})"
    assigned = AccessEvent.objects.filter(detail__startswith="assigned", object_ref=assigned_case.number).latest("pk")
    assert assigned.detail == f"assigned {attorney.full_name} (user {attorney.pk}) as lead"


def test_a_new_lead_replaces_the_old_one(assigned_case, supervisor, attorney, other_attorney):
    services.case_assign(case=assigned_case, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor)

    leads = Assignment.objects.filter(case=assigned_case, role=AssignmentRole.LEAD, ended_at__isnull=True)
    assert [a.attorney for a in leads] == [other_attorney]
    assert get_perms(attorney, assigned_case) == []


def test_co_counsel_keeps_access_when_the_lead_changes(assigned_case, supervisor, attorney, other_attorney):
    third = UserFactory(role=Role.ATTORNEY)
    services.case_assign(case=assigned_case, attorney=other_attorney, role=AssignmentRole.CO_COUNSEL, by=supervisor)

    services.case_assign(case=assigned_case, attorney=third, role=AssignmentRole.LEAD, by=supervisor)

    assert "view_case" in get_perms(other_attorney, assigned_case)
    assert get_perms(attorney, assigned_case) == []


def test_the_database_refuses_two_active_leads(assigned_case, supervisor, other_attorney):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            case=assigned_case, attorney=other_attorney, role=AssignmentRole.LEAD, assigned_by=supervisor
        )


def test_cases_can_only_go_to_active_attorneys(assigned_case, supervisor):
    finance = UserFactory(role=Role.FINANCE)
    gone = UserFactory(role=Role.ATTORNEY, is_active=False)

    for person in (finance, gone):
        with pytest.raises(ValidationError):
            services.case_assign(case=assigned_case, attorney=person, role=AssignmentRole.CO_COUNSEL, by=supervisor)


def test_assign_page_assigns_and_returns_to_triage_when_asked(register_case, intake_worker, supervisor, attorney):
    case = register_case(by=intake_worker)

    client, url = _client(supervisor), reverse("casework:case-assign", args=[case.number])
    response = client.post(url, version(client, url, once({"attorney": attorney.pk, "role": "lead", "next": "triage"})))

    assert response["Location"] == reverse("casework:triage")
    assert Assignment.objects.get(case=case).attorney == attorney


def test_bulk_reassign_moves_every_active_case_evenly_in_one_step(register_case, intake_worker, supervisor, attorney):
    leaver_cases = [
        register_case(by=intake_worker, a_number="", given_names=f"Person{i}", family_names="Demo") for i in range(5)
    ]
    for case in leaver_cases:
        services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    closed = leaver_cases[-1]
    services.case_close(case=closed, reason="other", note="", by=supervisor)
    first, second = UserFactory(role=Role.ATTORNEY), UserFactory(role=Role.ATTORNEY)

    response = _client(supervisor).post(
        reverse("casework:bulk-reassign"), once({"from_attorney": attorney.pk, "to_attorneys": [first.pk, second.pk]})
    )

    assert response.status_code == 302
    active = Assignment.objects.filter(ended_at__isnull=True, case__status=CaseStatus.ACTIVE)
    assert not active.filter(attorney=attorney).exists()
    assert sorted([active.filter(attorney=first).count(), active.filter(attorney=second).count()]) == [2, 2]
    assert all(get_perms(attorney, c) == [] for c in leaver_cases[:4])
    assert all(Case.objects.get(pk=c.pk).status == CaseStatus.ACTIVE for c in leaver_cases[:4])
    # The closed case keeps its history.
    assert Assignment.objects.filter(case=closed, attorney=attorney, ended_at__isnull=True).exists()


def test_bulk_reassign_is_all_or_nothing(register_case, intake_worker, supervisor, attorney, monkeypatch):
    cases = [register_case(by=intake_worker, a_number="", given_names=f"P{i}", family_names="Demo") for i in range(3)]
    for case in cases:
        services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    target = UserFactory(role=Role.ATTORNEY)
    real_assign = services.assignment.case_assign
    calls = {"n": 0}

    def failing_on_third(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ValidationError("simulated failure half-way")
        return real_assign(**kwargs)

    monkeypatch.setattr(services.assignment, "case_assign", failing_on_third)

    with pytest.raises(ValidationError):
        services.cases_bulk_reassign(from_attorney=attorney, to_attorneys=[target], by=supervisor)

    assert Assignment.objects.filter(attorney=attorney, ended_at__isnull=True).count() == 3
    assert not Assignment.objects.filter(attorney=target).exists()


def test_bulk_reassign_refuses_moving_cases_to_the_same_attorney(supervisor, attorney):
    response = _client(supervisor).post(
        reverse("casework:bulk-reassign"), once({"from_attorney": attorney.pk, "to_attorneys": [attorney.pk]})
    )

    assert response.status_code == 422


def test_deactivating_a_lead_attorney_flags_their_cases_for_reassignment(assigned_case, attorney, client_for):
    admin = client_for(Role.ADMIN)

    admin.post(reverse("accounts:staff-deactivate", args=[attorney.pk]))

    assigned_case.refresh_from_db()
    assert assigned_case.needs_reassignment
    boss = _client(UserFactory(role=Role.SUPERVISOR))
    workload = boss.get(reverse("casework:workload")).content.decode()
    assert attorney.full_name in workload
    assert "left — move their cases" in workload
    assert assigned_case.number in boss.get(reverse("casework:triage")).content.decode()
    deactivation = AccessEvent.objects.get(object_type="staff", detail__startswith="deactivated")
    assert deactivation.detail == "deactivated; 0 session(s) ended; 1 case(s) flagged for reassignment"


def test_a_failing_reaction_to_a_deactivation_rolls_it_back(assigned_case, attorney, client_for):
    """casework's receiver runs inside the deactivation's transaction: all or nothing."""
    admin = client_for(Role.ADMIN)

    def broken_receiver(**kwargs):
        raise RuntimeError("casework could not flag the cases")

    staff_deactivated.connect(broken_receiver, dispatch_uid="test-broken")
    try:
        with pytest.raises(RuntimeError):
            staff_deactivate(user=attorney, by=admin.user)
    finally:
        staff_deactivated.disconnect(dispatch_uid="test-broken")

    attorney.refresh_from_db()
    assigned_case.refresh_from_db()
    assert attorney.is_active
    assert not assigned_case.needs_reassignment


def test_case_changes_record_the_client_ip_in_the_access_log(assigned_case, attorney):
    client = _client(attorney)

    client.post(
        reverse("casework:case-close", args=[assigned_case.number]),
        once({"reason": "duplicate", "note": ""}),
        REMOTE_ADDR="203.0.113.9",
    )

    change = AccessEvent.objects.filter(action=AccessEvent.Action.CHANGE, object_ref=assigned_case.number).latest("pk")
    assert (change.user, change.detail, change.ip_address) == (attorney, "closed (duplicate)", "203.0.113.9")


def test_the_assign_page_shows_each_attorneys_workload_in_the_readers_language(
    register_case, intake_worker, supervisor, attorney
):
    from casework.services.workload import caseload_recount

    for i in range(2):
        held = register_case(by=intake_worker, a_number="", given_names=f"Held{i}", family_names="Demo")
        services.case_assign(case=held, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    UserFactory(role=Role.ATTORNEY, full_name="Nora Newcomer")
    caseload_recount(attorney_ids=[attorney.pk])  # the newcomer was never counted
    case = register_case(by=intake_worker)
    url = reverse("casework:case-assign", args=[case.number])
    client = _client(supervisor)

    page = client.get(url).content.decode()
    assert f">{attorney.full_name} — 2 active cases, 0 hearings in 14 days</option>" in page
    assert ">Nora Newcomer</option>" in page

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert f">{attorney.full_name} — 2 casos activos, 0 audiencias en 14 días</option>" in page
