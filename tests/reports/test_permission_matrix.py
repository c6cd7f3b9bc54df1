"""Every reports URL by every role and by GET and POST, with the exact expected status.

The one report run in the world was requested by ``finance`` and is done, with both files:
auditors open any run, finance staff and supervisors only their own. Someone who may not use
a page (or open a run) gets 404 whatever the method; anonymous visitors go to sign-in. POSTs
carry no data: a 400 (form errors) where a form is posted, 405 where nothing is.

Auditors also get 404 on every casework URL, even for a case that exists.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import services as casework_services
from reports.models import ReportKind, ReportRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "intake", "attorney", "supervisor", "finance", "auditor", "admin"]
STAFF = set(PERSONAS) - {"anonymous"}
READERS = {"auditor", "finance", "supervisor"}
MONEY_READERS = {"auditor", "finance"}
LOGIN = "login"


def page(allowed: set[str], get: int, post: int) -> dict:
    """Expected (GET, POST) per persona: allowed roles get ``get``/``post``, other staff 404, anonymous sign-in."""
    return {p: ((get, post) if p in allowed else (404, 404)) if p in STAFF else (LOGIN, LOGIN) for p in PERSONAS}


MATRIX = {
    "funds": page(READERS, 200, 405),
    "ledger": page(MONEY_READERS, 200, 405),
    "donations": page(MONEY_READERS, 200, 405),
    "disbursements": page(READERS, 200, 405),
    "bonds": page(READERS, 200, 405),
    "access-log": page({"auditor"}, 200, 405),
    "report-list": page(READERS, 200, 405),
    "report-new": page(READERS, 200, 400),
    # The run belongs to finance: the requester and any auditor; a supervisor (not theirs) gets 404.
    "report-detail": page({"auditor", "finance"}, 200, 405),
    "report-progress": page({"auditor", "finance"}, 200, 405),
    "report-download": page({"auditor", "finance"}, 200, 405),
    "verify": page(READERS, 200, 400),
}


@pytest.fixture
def world(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    people = {persona: UserFactory(role=Role(persona)) for persona in STAFF}
    run = ReportRun.objects.create(
        kind=ReportKind.FUND_STATEMENT,
        parameters={"from": "2026-01-01", "to": "2026-01-31", "fund": ""},
        requested_by=people["finance"],
        status=ReportRun.Status.DONE,
        progress=100,
        finished_at=timezone.now(),
    )
    run.pdf.save("matrix.pdf", ContentFile(b"%PDF-1.7 matrix"), save=False)
    run.csv.save("matrix.csv", ContentFile(b"a,b\r\n"), save=False)
    run.save()
    args = {
        "report-detail": [run.pk],
        "report-progress": [run.pk],
        "report-download": [run.pk, "pdf"],
    }
    return people, args


def client_as(persona: str, people) -> Client:
    client = Client()
    if persona in people:
        client.force_login(people[persona])
    return client


def outcome(response) -> int | str:
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_reports_url_permission_matrix(world, name):
    people, args = world
    url = reverse(f"reports:{name}", args=args.get(name, []))

    seen = {}
    for persona in PERSONAS:
        client = client_as(persona, people)
        seen[persona] = (outcome(client.get(url)), outcome(client.post(url, {})))

    assert seen == MATRIX[name]


def test_every_reports_url_is_in_the_matrix():
    from reports.urls import urlpatterns

    assert {pattern.name for pattern in urlpatterns} == set(MATRIX)


def test_supervisor_opens_and_downloads_their_own_run(world):
    people, _args = world
    run = ReportRun.objects.create(
        kind=ReportKind.CASELOAD,
        parameters={"from": "2026-01-01", "to": "2026-01-31", "fund": ""},
        requested_by=people["supervisor"],
        status=ReportRun.Status.DONE,
        finished_at=timezone.now(),
    )
    run.csv.save("own.csv", ContentFile(b"x\r\n"), save=True)
    client = client_as("supervisor", people)

    assert client.get(reverse("reports:report-detail", args=[run.pk])).status_code == 200
    assert client.get(reverse("reports:report-download", args=[run.pk, "csv"])).status_code == 200
    # Only their own runs are listed.
    listing = client.get(reverse("reports:report-list")).content.decode()
    assert f'href="/reports/{run.pk}/"' in listing
    main = listing.split("<main", 1)[1]  # the navigation links to /reports/ too
    assert main.count('href="/reports/') - main.count('href="/reports/new/') == 1


def test_unknown_file_format_and_unfinished_runs_are_not_found(world):
    people, args = world
    auditor = client_as("auditor", people)
    run_id = args["report-detail"][0]
    assert auditor.get(reverse("reports:report-download", args=[run_id, "exe"])).status_code == 404
    ReportRun.objects.filter(pk=run_id).update(status=ReportRun.Status.RUNNING)
    assert auditor.get(reverse("reports:report-download", args=[run_id, "pdf"])).status_code == 404


def test_report_kinds_offered_follow_the_role(world):
    people, _args = world
    offered = {}
    for persona in READERS:
        form = client_as(persona, people).get(reverse("reports:report-new")).context["form"]
        offered[persona] = {value for value, _label in form.fields["kind"].choices}

    assert offered["auditor"] == set(ReportKind.values)
    assert offered["finance"] == set(ReportKind.values) - {ReportKind.ACCESS_LOG}
    assert offered["supervisor"] == set(ReportKind.values) - {ReportKind.ACCESS_LOG, ReportKind.DONATION_REGISTER}


def test_supervisor_cannot_request_a_kind_not_offered(world):
    people, _args = world
    response = client_as("supervisor", people).post(
        reverse("reports:report-new"),
        {"kind": ReportKind.ACCESS_LOG, "date_from": "2026-01-01", "date_to": "2026-01-31"},
    )
    assert response.status_code == 400
    assert ReportRun.objects.filter(kind=ReportKind.ACCESS_LOG).count() == 0


def _casework_urls(case_number: str) -> list[tuple[str, str]]:
    from casework.urls import urlpatterns

    samples = {"number": case_number, "pk": 1, "token": "sample"}
    urls = []
    for pattern in urlpatterns:
        kwargs = {name: samples[name] for name in pattern.pattern.converters}
        urls.append((pattern.name, reverse(f"casework:{pattern.name}", kwargs=kwargs)))
    return urls


def test_auditor_gets_404_on_every_casework_url():
    intake = UserFactory(role=Role.INTAKE)
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Rosa", family_names="Ejemplo"), by=intake
    )
    auditor = client_as("auditor", {"auditor": UserFactory(role=Role.AUDITOR)})

    seen = {
        name: (auditor.get(url).status_code, auditor.post(url, {}).status_code)
        for name, url in _casework_urls(case.number)
    }

    # The calendar feed is public by design (a secret token in its URL; GET only): an unknown
    # token is a 404 for anyone, and a POST is refused before any token is looked up.
    expected = {**dict.fromkeys(seen, (404, 404)), "calendar-feed": (404, 405)}
    assert seen == expected
    assert len(seen) >= 25
