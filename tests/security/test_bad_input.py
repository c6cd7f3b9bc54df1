"""Bad input is a 400 with a message, never a 500: extreme and malformed dates on the audit pages and report
requests, junk in their other filters; names with bidi controls or look-alike letters are stored as they were
shown and found as the person they imitate."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from casework import services as casework_services
from casework.models import Detainee
from casework.selectors import possible_duplicates
from reports.models import ReportRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = "Choose a day between Jan. 1, 2000 and Dec. 31, 2100."
PERIOD_PAGES = ["reports:ledger", "reports:donations", "reports:disbursements", "reports:access-log"]


@pytest.fixture
def auditor(client_for) -> Client:
    return client_for(Role.AUDITOR)


@pytest.mark.parametrize("page", PERIOD_PAGES)
@pytest.mark.parametrize(
    "dates",
    [
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "1999-12-31"},
        {"date_to": "2101-01-01"},
    ],
    ids=["both-ends", "last-day", "first-day", "day-before-2000", "after-2100"],
)
def test_audit_pages_answer_extreme_dates_with_a_form_error(auditor, page, dates):
    response = auditor.get(reverse(page), dates)

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert all(errors[field] == [OUT_OF_RANGE] for field in dates)
    assert OUT_OF_RANGE in response.content.decode()


@pytest.mark.parametrize("page", PERIOD_PAGES)
@pytest.mark.parametrize(
    "value", ["2026-02-30", "2026-13-01", "99999-01-01", "-0001-01-01", "tomorrow", "2026-01-01\x00", "9" * 5000]
)
def test_audit_pages_answer_malformed_dates_with_a_form_error(auditor, page, value):
    response = auditor.get(reverse(page), {"date_from": value})

    assert response.status_code == 422
    assert response.context["form"].errors["date_from"] == ["Enter a valid date."]


def test_audit_pages_accept_the_whole_range_and_an_empty_filter(auditor):
    for page in PERIOD_PAGES:
        assert auditor.get(reverse(page), {"date_from": "2000-01-01", "date_to": "2100-12-31"}).status_code == 200
        assert auditor.get(reverse(page)).status_code == 200
        assert auditor.get(reverse(page), {"date_from": "", "date_to": ""}).status_code == 200


@pytest.mark.parametrize(
    ("page", "junk"),
    [
        ("reports:ledger", {"fund": "general\x00"}),
        ("reports:ledger", {"fund": "x" * 5000}),
        ("reports:ledger", {"account_kind": "bank' OR 1=1"}),
        ("reports:donations", {"status": "\x00"}),
        ("reports:access-log", {"user": "99999999999999999999999"}),
        ("reports:access-log", {"user": "1e5"}),
        ("reports:access-log", {"action": "x" * 5000}),
        ("reports:bonds", {"fund": "\x00"}),
    ],
)
def test_audit_filters_answer_junk_with_a_form_error(auditor, page, junk):
    response = auditor.get(reverse(page), junk)

    assert response.status_code == 422
    assert response.context["form"].errors


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        ("0001-01-01", "0001-01-02", OUT_OF_RANGE),
        ("2026-01-01", "9999-12-31", OUT_OF_RANGE),
        ("2026-01-01", "2026-02-30", "Enter a valid date."),
    ],
)
def test_report_request_with_extreme_dates_is_a_form_error_and_no_run(client_for, date_from, date_to, message):
    auditor = client_for(Role.AUDITOR)

    response = auditor.post(
        reverse("reports:report-new"), {"kind": "fund_statement", "date_from": date_from, "date_to": date_to}
    )

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ReportRun.objects.exists()


# --- Names --------------------------------------------------------------------------------


def _register(given: str, family: str, *, by) -> Detainee:
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names=given, family_names=family, date_of_birth=date(1990, 5, 17)),
        by=by,
    )
    return Detainee.objects.get(pk=case.detainee_id)


@pytest.mark.parametrize(
    ("given", "family"),
    [
        ("\u202ee\u0301soJ", "\u202ezehcnaS"),  # each typed backwards behind a right-to-left override
        ("\u202ezehcnaS ésoJ\u202c", ""),  # the whole name reversed, in one field
        ("J\u043es\u0435", "\u0405\u0430nchez"),  # Cyrillic o, e, dze, a
        ("\u0408\u041e\u0405\u0415", "\u0405\u0410NCHEZ"),  # Cyrillic capitals J, O, S, E, S, A
        ("J\u03bfs\u03b5", "S\u03b1nchez"),  # Greek omicron, epsilon, alpha
    ],
    ids=["reversed-each", "reversed-whole", "cyrillic", "cyrillic-capitals", "greek"],
)
def test_a_disguised_name_is_found_as_the_person_it_imitates(given, family):
    intake = UserFactory(role=Role.INTAKE)
    first = _register("José", "Sánchez", by=intake)

    found = possible_duplicates(intake, a_number=None, names=[given, family], date_of_birth=date(1990, 5, 17))

    assert [duplicate.case.detainee_id for duplicate in found] == [first.pk]
    assert found[0].reason == "name_and_birth_date"


def test_a_reversed_name_is_stored_as_it_was_shown_without_the_control():
    intake = UserFactory(role=Role.INTAKE)

    detainee = _register(" \u202ee\u0301soJ\u202c ", "\u2066Sánchez\u2069\u200f", by=intake)

    assert (detainee.given_names, detainee.family_names) == ("José", "Sánchez")


def test_editing_a_name_strips_bidi_controls_and_reindexes_it(client_for):
    intake = UserFactory(role=Role.INTAKE)
    supervisor = UserFactory(role=Role.SUPERVISOR)
    first = _register("José", "Sánchez", by=intake)
    other = _register("Pedro", "Otro", by=intake)
    case = other.cases.get()

    casework_services.case_update_details(
        case=case, by=supervisor, given_names="\u202ee\u0301soJ", family_names="\u202ezehcnaS"
    )

    other.refresh_from_db()
    assert (other.given_names, other.family_names) == ("José", "Sanchez")
    found = possible_duplicates(intake, a_number=None, names=["José Sánchez"], date_of_birth=date(1990, 5, 17))
    assert {duplicate.case.detainee_id for duplicate in found} == {first.pk, other.pk}


def test_a_name_genuinely_written_in_cyrillic_still_finds_itself_in_any_case():
    intake = UserFactory(role=Role.INTAKE)
    first = _register("Мария", "Иванова", by=intake)

    found = possible_duplicates(intake, a_number=None, names=["МАРИЯ ИВАНОВА"], date_of_birth=date(1990, 5, 17))
    latin = possible_duplicates(intake, a_number=None, names=["Maria Ivanova"], date_of_birth=date(1990, 5, 17))

    assert [duplicate.case.detainee_id for duplicate in found] == [first.pk]
    assert latin == []  # a transliteration is not a look-alike: "и" and "я" look like no Latin letter
