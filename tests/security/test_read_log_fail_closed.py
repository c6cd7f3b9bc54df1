"""A read the access log cannot record is refused: with the log table refusing rows, no record leaves.

The log is made to fail for real: a database trigger refuses every new ``AccessEvent`` row (as a
full disk or a broken table would). Each read then answers 503 with none of the record, and works
again once the log does.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AccessEvent
from accounts.roles import Role
from casework import services
from casework.models import AssignmentRole, DocumentKind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n% Wilmer Ajqui Tzoc passport\n"


def _break_the_access_log() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_log_down() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'log down'; END $$ "
                "LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_log_down BEFORE INSERT ON accounts_accessevent "
                "FOR EACH ROW EXECUTE FUNCTION test_log_down()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_log_down BEFORE INSERT ON accounts_accessevent "
                "BEGIN SELECT RAISE(ABORT, 'log down'); END"
            )


def _mend_the_access_log() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER test_log_down ON accounts_accessevent")
        else:
            cursor.execute("DROP TRIGGER test_log_down")


@pytest.fixture
def case_and_lawyer(private_root):
    intake = UserFactory(role=Role.INTAKE)
    supervisor = UserFactory(role=Role.SUPERVISOR)
    lawyer = UserFactory(role=Role.ATTORNEY)
    case = services.case_register(
        data=services.IntakeData(given_names="Wilmer", family_names="Ajqui Tzoc", a_number="098765432"), by=intake
    )
    services.case_assign(case=case, attorney=lawyer, role=AssignmentRole.LEAD, by=supervisor)
    document = services.document_upload(
        case=case,
        upload=SimpleUploadedFile("p.pdf", PDF, content_type="application/pdf"),
        kind=DocumentKind.IDENTITY,
        title="Passport",
        by=lawyer,
    )
    client = Client()
    client.force_login(lawyer)
    return case, document, client


def test_a_case_page_and_a_document_are_refused_while_the_access_log_cannot_be_written(case_and_lawyer):
    case, document, client = case_and_lawyer
    page_url = reverse("casework:case-detail", args=[case.number])
    file_url = reverse("casework:document-download", args=[case.number, document.pk])
    logged = AccessEvent.objects.count()

    _break_the_access_log()
    page = client.get(page_url)
    download = client.get(file_url)

    assert page.status_code == 503 and download.status_code == 503
    assert b"Ajqui" not in page.content and b"098" not in page.content and b"Passport" not in page.content
    assert b"access log" in page.content
    assert b"%PDF" not in download.content and b"Wilmer" not in download.content

    _mend_the_access_log()
    assert AccessEvent.objects.count() == logged
    page = client.get(page_url)
    download = client.get(file_url)
    assert page.status_code == 200 and b"Ajqui Tzoc" in page.content
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert AccessEvent.objects.count() == logged + 2


def test_the_live_duplicate_check_is_refused_when_its_look_up_cannot_be_logged(case_and_lawyer):
    case, _document, _client = case_and_lawyer
    other_intake = Client()
    other_intake.force_login(UserFactory(role=Role.INTAKE))

    _break_the_access_log()
    # The other intake worker may not open the case: the match must be logged, and cannot be.
    response = other_intake.post(reverse("casework:intake-check"), {"a_number": "A-098-765-432"})

    assert response.status_code == 503
    assert case.number.encode() not in response.content
