"""Every reports URL by every persona (``tests/personas.py``) by GET and POST, with the exact status.

The one report run in the world was requested by ``finance`` and is done, with both files:
auditors open any run, finance staff and supervisors only their own. Someone signed in who may
not use a page (or open a run) gets 404 whatever the method; anyone signed out goes to sign-in.
POSTs carry no data: a 422 (form errors) where a form is posted, 405 where nothing is.

Auditors also get 404 on every casework URL, even for a case that exists.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from casework.urls import urlpatterns
from reports.models import ReportKind, ReportRun
from tests.factories import finished_report_run
from tests.forms import once
from tests.personas import AUDITOR, FINANCE, PERSONAS, SUPERVISOR, namespace_url_names, outcome, staff_page

pytestmark = pytest.mark.django_db

READERS = {AUDITOR, FINANCE, SUPERVISOR}
MONEY_READERS = {AUDITOR, FINANCE}

MATRIX = {
    "funds": staff_page(READERS, 200, 405),
    "ledger": staff_page(MONEY_READERS, 200, 405),
    "donations": staff_page(MONEY_READERS, 200, 405),
    "disbursements": staff_page(READERS, 200, 405),
    "bonds": staff_page(READERS, 200, 405),
    "access-log": staff_page({AUDITOR}, 200, 405),
    "report-list": staff_page(READERS, 200, 405),
    "report-new": staff_page(READERS, 200, 422),
    # The run belongs to finance: the requester and any auditor; a supervisor (not theirs) gets 404.
    "report-detail": staff_page(MONEY_READERS, 200, 405),
    "report-progress": staff_page(MONEY_READERS, 200, 405),
    "report-download": staff_page(MONEY_READERS, 200, 405),
    "verify": staff_page(READERS, 200, 422),
}


@pytest.fixture
def world(settings, tmp_path, personas):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    run = finished_report_run(by=personas.user(FINANCE), name="matrix")
    args = {
        "report-detail": [run.pk],
        "report-progress": [run.pk],
        "report-download": [run.pk, "pdf"],
    }
    return personas, args


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_reports_url_permission_matrix(world, name):
    personas, args = world
    url = reverse(f"reports:{name}", args=args.get(name, []))

    seen = {}
    for persona in PERSONAS:
        client = personas.client(persona)
        seen[persona] = (outcome(client.get(url)), outcome(client.post(url, {})))

    assert seen == MATRIX[name]


def test_every_reports_url_is_in_the_matrix():
    assert namespace_url_names("reports") == set(MATRIX)


def test_supervisor_opens_and_downloads_their_own_run(world):
    personas, _args = world
    run = ReportRun.objects.create(
        kind=ReportKind.CASELOAD,
        parameters={"from": "2026-01-01", "to": "2026-01-31", "fund": ""},
        requested_by=personas.user(SUPERVISOR),
        status=ReportRun.Status.DONE,
        finished_at=timezone.now(),
    )
    run.csv.save("own.csv", ContentFile(b"x\r\n"), save=True)
    client = personas.client(SUPERVISOR)

    assert client.get(reverse("reports:report-detail", args=[run.pk])).status_code == 200
    assert client.get(reverse("reports:report-download", args=[run.pk, "csv"])).status_code == 200
    # Only their own runs are listed.
    listing = client.get(reverse("reports:report-list")).content.decode()
    assert f'href="/reports/{run.pk}/"' in listing
    main = listing.split("<main", 1)[1]  # the navigation links to /reports/ too
    assert main.count('href="/reports/') - main.count('href="/reports/new/') == 1


def test_unknown_file_format_and_unfinished_runs_are_not_found(world):
    personas, args = world
    auditor = personas.client(AUDITOR)
    run_id = args["report-detail"][0]
    assert auditor.get(reverse("reports:report-download", args=[run_id, "exe"])).status_code == 404
    ReportRun.objects.filter(pk=run_id).update(status=ReportRun.Status.RUNNING)
    assert auditor.get(reverse("reports:report-download", args=[run_id, "pdf"])).status_code == 404


def test_report_kinds_offered_follow_the_role(world):
    personas, _args = world
    offered = {}
    for persona in READERS:
        form = personas.client(persona).get(reverse("reports:report-new")).context["form"]
        offered[persona] = {value for value, _label in form.fields["kind"].choices}

    assert offered["auditor"] == set(ReportKind.values)
    assert offered["finance"] == set(ReportKind.values) - {ReportKind.ACCESS_LOG}
    assert offered["supervisor"] == set(ReportKind.values) - {ReportKind.ACCESS_LOG, ReportKind.DONATION_REGISTER}


def test_supervisor_cannot_request_a_kind_not_offered(world):
    personas, _args = world
    response = personas.client(SUPERVISOR).post(
        reverse("reports:report-new"),
        once({"kind": ReportKind.ACCESS_LOG, "date_from": "2026-01-01", "date_to": "2026-01-31"}),
    )
    assert response.status_code == 422
    assert ReportRun.objects.filter(kind=ReportKind.ACCESS_LOG).count() == 0


def _casework_urls(case_number: str) -> list[tuple[str, str]]:
    samples = {"number": case_number, "pk": 1, "token": "sample", "reference": "LD-2026-001", "user_id": 1}
    urls = []
    for pattern in urlpatterns:
        kwargs = {name: samples[name] for name in pattern.pattern.converters}
        urls.append((pattern.name, reverse(f"casework:{pattern.name}", kwargs=kwargs)))
    return urls


def test_auditor_gets_404_on_every_casework_url(personas):
    auditor = personas.client(AUDITOR)

    seen = {
        name: (auditor.get(url).status_code, auditor.post(url, {}).status_code)
        for name, url in _casework_urls(personas.case.number)
    }

    # The calendar feed is public by design (a secret token in its URL; GET only): an unknown
    # token is a 404 for anyone, and a POST is refused before any token is looked up.
    expected = {**dict.fromkeys(seen, (404, 404)), "calendar-feed": (404, 405)}
    assert seen == expected
    assert len(seen) >= 25
