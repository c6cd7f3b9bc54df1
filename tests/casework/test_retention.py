"""Keep less: closed cases are erased after the retention period, or now with a second supervisor's yes.

An erasure takes the person and the case's notes and documents; the case number, dates and the
ledger stay; a case on legal hold is never erased; the log says what happened and names no one.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.roles import Role
from casework import selectors, services
from casework.models import (
    AssignmentRole,
    Case,
    CaseEvent,
    CloseReason,
    DemandKind,
    DemandSource,
    DemandStatus,
    Detainee,
    DetaineeNameKey,
    DocumentKind,
    ErasureRequest,
    FamilyContact,
    LegalDemand,
    Note,
)
from casework.services import retention
from casework.tasks import retention_erase
from tests.factories import UserFactory
from tests.forms import once

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def second_supervisor(db):
    return UserFactory(role=Role.SUPERVISOR, full_name="Sol Segunda")


def _closed_case(register_case, intake_worker, supervisor, attorney, *, days_ago: int, **person) -> Case:
    case = register_case(by=intake_worker, **person)
    services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    services.note_add(case=case, body="Client's cousin Marta can bring the passport.", privileged=True, by=attorney)
    services.document_upload(
        case=case,
        upload=SimpleUploadedFile("passport.pdf", PDF, content_type="application/pdf"),
        kind=DocumentKind.IDENTITY,
        title="Passport",
        by=attorney,
    )
    services.case_close(case=case, reason=CloseReason.RELIEF_GRANTED, note="Won asylum; Marta thanked us.", by=attorney)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=days_ago))
    case.refresh_from_db()
    return case


@pytest.fixture
def old_case(register_case, intake_worker, supervisor, attorney, private_root):
    return _closed_case(
        register_case, intake_worker, supervisor, attorney, days_ago=django_settings.RETENTION_CLOSED_CASE_DAYS + 1
    )


def test_retention_erases_a_case_closed_longer_than_the_period(
    old_case, register_case, intake_worker, supervisor, attorney, private_root, django_capture_on_commit_callbacks
):
    recent = _closed_case(
        register_case, intake_worker, supervisor, attorney, days_ago=30, a_number="023456789", given_names="Luz"
    )
    assert [d.number for d in retention.retention_due()] == [old_case.number]
    assert len([p for p in private_root.rglob("*") if p.is_file()]) == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert retention_erase() == 1  # the beat task

    old_case.refresh_from_db()
    person = Detainee.objects.get(pk=old_case.detainee_id)
    assert old_case.erased_at is not None and person.erased_at is not None
    assert (person.given_names, person.family_names, person.a_number, person.date_of_birth) == ("", "", "", None)
    assert person.a_number_index is None and not DetaineeNameKey.objects.filter(detainee=person).exists()
    assert not FamilyContact.objects.filter(detainee=person).exists()
    assert not Note.objects.filter(case=old_case).exists() and not old_case.documents.exists()
    assert old_case.close_note == "" and old_case.number and old_case.status == "closed"
    assert len([p for p in private_root.rglob("*") if p.is_file()]) == 1  # the recent case's file only
    assert not selectors.search_case_ids("012345678").exists()  # the A-number no longer finds anyone
    assert ErasureRequest.objects.get(case=old_case).reason == "retention"
    assert CaseEvent.objects.filter(case=old_case, kind="erased").exists()
    # The recent case is untouched, and running again erases nothing more.
    recent.refresh_from_db()
    assert recent.erased_at is None and recent.detainee.given_names == "Luz"
    assert retention_erase() == 0
    # The nightly run is scheduled.
    assert any(
        entry["task"] == "casework.tasks.retention_erase" for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    )


def test_the_dry_run_lists_case_numbers_and_dates_and_changes_nothing(old_case):
    out = StringIO()

    call_command("retention", "--dry-run", stdout=out)

    assert old_case.number in out.getvalue()
    assert "José" not in out.getvalue() and "Hernández" not in out.getvalue()
    old_case.refresh_from_db()
    assert old_case.erased_at is None and old_case.detainee.given_names == "José"


def test_a_case_on_legal_hold_is_never_erased(old_case, supervisor, second_supervisor):
    demand = LegalDemand.objects.create(
        reference="LD-2026-001",
        received_at=timezone.now(),
        received_how="served in person",
        source=DemandSource.ICE,
        source_detail="ERO field office",
        kind=DemandKind.ADMIN_SUBPOENA,
        asked="All records about the client.",
        recorded_by=supervisor,
    )
    demand.cases.add(old_case)

    assert retention.retention_due() == []
    assert retention.retention_erase_due() == 0
    with pytest.raises(ValidationError, match="legal hold"):
        retention.erasure_request(case=old_case, by=supervisor, why="client asked")

    demand.status = DemandStatus.CLOSED
    demand.save()
    assert [d.number for d in retention.retention_due()] == [old_case.number]


def test_erasure_now_takes_a_second_supervisor(
    register_case, intake_worker, supervisor, second_supervisor, attorney, private_root
):
    case = _closed_case(register_case, intake_worker, supervisor, attorney, days_ago=3)
    first, second = Client(), Client()
    first.force_login(supervisor)
    second.force_login(second_supervisor)

    page = first.get(reverse("casework:erasure-request", args=[case.number]))
    assert page.status_code == 200 and b"cannot be recovered" in page.content
    refused = first.post(reverse("casework:erasure-request", args=[case.number]), once({"why": "client asked"}))
    assert refused.status_code == 422  # the confirmation box was not ticked
    asked = first.post(
        reverse("casework:erasure-request", args=[case.number]),
        once({"why": "The client asked us to.", "confirm": "on"}),
    )
    assert asked.status_code == 302
    request = ErasureRequest.objects.get(case=case)
    assert request.pending

    own = first.post(reverse("casework:erasure-confirm", args=[request.pk]))
    assert own.status_code == 422 and b"second supervisor" in own.content
    case.refresh_from_db()
    assert case.erased_at is None

    listing = second.get(reverse("casework:erasure-list"))
    assert case.number.encode() in listing.content and b"Confirm and erase" in listing.content
    done = second.post(reverse("casework:erasure-confirm", args=[request.pk]))
    assert done.status_code == 302
    case.refresh_from_db()
    request.refresh_from_db()
    assert case.erased_at is not None and request.confirmed_by == second_supervisor
    assert case.detainee.given_names == ""
    details = list(AccessEvent.objects.filter(object_ref=case.number).values_list("detail", flat=True))
    assert any("erasure requested" in d for d in details) and any("erasure confirmed" in d for d in details)
    assert not any("José" in d or "Hernández" in d or "Marta" in d for d in details)
    assert b"was erased on" in second.get(reverse("casework:case-detail", args=[case.number])).content
    with pytest.raises(ValidationError, match="cannot be reopened"):
        services.case_reopen(case=case, by=second_supervisor)
    # Once erased, there is nothing left to confirm or to ask for.
    assert second.post(reverse("casework:erasure-confirm", args=[request.pk])).status_code == 404
    with pytest.raises(ValidationError, match="already been erased"):
        retention.erasure_request(case=case, by=supervisor, why="again")


def test_only_a_closed_case_can_be_erased_and_a_request_can_be_withdrawn(
    register_case, intake_worker, supervisor, second_supervisor, attorney, private_root
):
    open_case = register_case(by=intake_worker)
    with pytest.raises(ValidationError, match="Only a closed case"):
        retention.erasure_request(case=open_case, by=supervisor, why="x")
    case = _closed_case(register_case, intake_worker, supervisor, attorney, days_ago=3, a_number="034567890")
    request = retention.erasure_request(case=case, by=supervisor, why="client asked")
    with pytest.raises(ValidationError, match="already waiting"):
        retention.erasure_request(case=case, by=second_supervisor, why="client asked")

    client = Client()
    client.force_login(second_supervisor)
    assert client.post(reverse("casework:erasure-cancel", args=[request.pk])).status_code == 302
    request.refresh_from_db()
    assert request.cancelled_at is not None
    # Reopened after the request: the confirmation is refused.
    again = retention.erasure_request(case=case, by=supervisor, why="client asked")
    services.case_reopen(case=case, by=supervisor)
    with pytest.raises(ValidationError, match="Only a closed case"):
        retention.erasure_confirm(request=again, by=second_supervisor)


def test_a_person_with_another_live_case_keeps_their_details(
    old_case, intake_worker, supervisor, second_supervisor, private_root
):
    services.case_open_new_matter(
        detainee=old_case.detainee,
        data=services.IntakeData(given_names="José", family_names="Hernández-López"),
        by=intake_worker,
    )

    assert retention.retention_erase_due() == 1

    old_case.refresh_from_db()
    person = Detainee.objects.get(pk=old_case.detainee_id)
    assert old_case.erased_at is not None and not Note.objects.filter(case=old_case).exists()
    assert person.erased_at is None and person.given_names == "José"
    assert selectors.search_case_ids("012345678").exists()  # the live case is still found


@pytest.mark.parametrize("role", [Role.ATTORNEY, Role.INTAKE, Role.FINANCE, Role.AUDITOR, Role.ADMIN])
def test_only_supervisors_reach_the_erasure_pages(old_case, role):
    client = Client()
    client.force_login(UserFactory(role=role))

    assert client.get(reverse("casework:erasure-list")).status_code == 404
    assert client.get(reverse("casework:erasure-request", args=[old_case.number])).status_code == 404
