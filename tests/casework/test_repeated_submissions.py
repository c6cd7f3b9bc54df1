"""The same form sent twice (a retry, a double click, two tabs) does its work once and shows the
first result (issue 11, item 2); and every casework form renders the hidden fields that make it so."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from casework import services
from casework.models import Case, Deadline, Document, Hearing, LegalDemand, Note
from tests.casework.pages import opened_form
from tests.casework.test_documents import minimal_pdf
from tests.casework.test_legal_demands import _form as legal_demand_form
from tests.forms import once

ALREADY = "This form had already been sent, so it was not done again. Here is the result."

PERSON_WITHOUT_A_NUMBER = {
    "given_names": "Rosa",
    "family_names": "Tzoc Ixcoy",
    "a_number": "",
    "date_of_birth": "1994-02-03",
    "custodian": "ice",
}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _hearing(court) -> dict:
    return {"kind": "master", "court": court.pk, "date": "2027-01-12", "time": "08:30", "medium": "in_person"}


def _twice(client: Client, url: str, data: dict, **extra):
    first = client.post(url, data, **extra)
    second = client.post(url, data, **extra)
    return first, second


def _assert_repeat_shows_the_first(first, second) -> None:
    assert first.status_code == 302, first.status_code
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert ALREADY in [str(message) for message in get_messages(second.wsgi_request)]


@pytest.mark.django_db
def test_a_hearing_sent_twice_is_added_once(lawyer, assigned_case, court):
    first, second = _twice(lawyer, reverse("casework:hearing-new", args=[assigned_case.number]), once(_hearing(court)))

    _assert_repeat_shows_the_first(first, second)
    assert Hearing.objects.filter(case=assigned_case).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prefix", "data"),
    [
        ("manual", {"kind": "manual", "manual-title": "Gather evidence", "manual-due_on": "2027-01-10"}),
        ("rule", {"kind": "rule", "rule-rule": "motion_to_reopen", "rule-source_date": "2026-11-02"}),
    ],
)
def test_a_deadline_sent_twice_is_added_once(lawyer, assigned_case, prefix, data):
    url = reverse("casework:deadline-new", args=[assigned_case.number])

    first, second = _twice(lawyer, url, once(data, prefix=prefix))

    _assert_repeat_shows_the_first(first, second)
    assert Deadline.objects.filter(case=assigned_case).count() == 1


@pytest.mark.django_db
def test_a_note_sent_twice_is_added_once(lawyer, assigned_case):
    url = reverse("casework:note-add", args=[assigned_case.number])

    first, second = _twice(lawyer, url, once({"body": "Sister called about the bond."}))

    _assert_repeat_shows_the_first(first, second)
    assert Note.objects.filter(case=assigned_case).count() == 1


@pytest.mark.django_db
def test_a_document_sent_twice_is_stored_once(lawyer, assigned_case, private_root):
    url = reverse("casework:document-upload", args=[assigned_case.number])
    key = once()

    first = lawyer.post(url, {**key, "file": SimpleUploadedFile("a.pdf", minimal_pdf()), "kind": "evidence"})
    second = lawyer.post(url, {**key, "file": SimpleUploadedFile("a.pdf", minimal_pdf()), "kind": "evidence"})

    _assert_repeat_shows_the_first(first, second)
    assert Document.objects.filter(case=assigned_case).count() == 1


@pytest.mark.django_db
def test_an_intake_without_an_a_number_sent_twice_registers_one_case(intake_worker):
    first, second = _twice(_client(intake_worker), reverse("casework:intake"), once(PERSON_WITHOUT_A_NUMBER))

    _assert_repeat_shows_the_first(first, second)
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_other_case_forms_sent_twice_do_it_once(lawyer, assigned_case, attorney):
    number = assigned_case.number
    sent = [
        (reverse("casework:relief-save", args=[number]), once({"kind": "asylum", "status": "preparing"})),
        (
            reverse("casework:appearance-record", args=[number]),
            once({"forum": "court", "attorney": attorney.pk, "filed_on": "2026-11-02"}),
        ),
        (
            reverse("casework:decision-new", args=[number]),
            once(
                {
                    "forum": "bia",
                    "outcome": "bia_removal_final",
                    "decided_on": "2026-11-02",
                    "service": "electronic",
                    "served_on": "2026-11-02",
                }
            ),
        ),
        (reverse("casework:case-close", args=[number]), once({"reason": "other"})),
    ]
    for url, data in sent:
        first, second = _twice(lawyer, url, data)
        assert first.status_code == 302, (url, first.content.decode()[-3000:])
        _assert_repeat_shows_the_first(first, second)

    assert assigned_case.relief.count() == 1
    assert assigned_case.appearances.count() == 1
    assert assigned_case.decisions.count() == 1


@pytest.mark.django_db
def test_a_legal_demand_sent_twice_is_recorded_once(supervisor):
    first, second = _twice(_client(supervisor), reverse("casework:legal-demand-new"), legal_demand_form())

    _assert_repeat_shows_the_first(first, second)
    assert LegalDemand.objects.count() == 1


@pytest.mark.django_db
def test_another_users_copy_of_a_key_is_refused(lawyer, assigned_case, supervisor):
    data = once({"body": "One note."})
    url = reverse("casework:note-add", args=[assigned_case.number])
    lawyer.post(url, data)

    copied = _client(supervisor).post(url, data)

    assert copied.status_code == 422
    assert "This form cannot be sent again." in copied.content.decode()
    assert Note.objects.filter(case=assigned_case).count() == 1


# --- Two at the same moment, on PostgreSQL --------------------------------------------------


def _at_once(user, url: str, data: dict) -> list:
    """POST ``data`` to ``url`` from two browsers of ``user`` at the same moment; their responses."""
    barrier = threading.Barrier(2)
    responses: list = [None, None]

    def send(slot: int) -> None:
        client = _client(user)
        try:
            barrier.wait(timeout=10)
            responses[slot] = client.post(url, data)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_intakes_without_an_a_number_register_one_case(intake_worker):
    responses = _at_once(intake_worker, reverse("casework:intake"), once(PERSON_WITHOUT_A_NUMBER))

    assert Case.objects.count() == 1
    case_url = reverse("casework:case-detail", args=[Case.objects.get().number])
    assert [response.status_code for response in responses] == [302, 302]
    assert {response["Location"] for response in responses} == {case_url}


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_hearing_posts_add_one_hearing(attorney, assigned_case, court):
    url = reverse("casework:hearing-new", args=[assigned_case.number])

    responses = _at_once(attorney, url, once(_hearing(court)))

    assert Hearing.objects.filter(case=assigned_case).count() == 1
    assert [response.status_code for response in responses] == [302, 302]
    assert len({response["Location"] for response in responses}) == 1


# --- Every form renders its hidden fields -----------------------------------------------------


@pytest.mark.django_db
def test_the_case_page_forms_carry_their_keys_and_stamps(lawyer, assigned_case, attorney):
    services.deadline_add_manual(case=assigned_case, title="File", due_on=date(2027, 1, 4), by=attorney)
    services.relief_save(case=assigned_case, kind="asylum", status="filed", filed_on=None, decided_on=None, by=attorney)

    page = lawyer.get(reverse("casework:case-detail", args=[assigned_case.number])).content.decode()
    relief = assigned_case.relief.get()

    # On the page: the note form (a key) and each deadline's buttons (a stamp).
    assert page.count('type="hidden" name="once"') == 1
    assert page.count('type="hidden" name="version"') == 1
    # Opened from the page (supervision is only offered for a released person, but opens alike):
    # custody, appearance, document, relief (add) a key each; custody, supervision, UAC and each
    # relief's change a stamp.
    for form, query, hidden in [
        ("custody_form", {}, {"once", "version"}),
        ("supervision_form", {}, {"version"}),
        ("uac_form", {}, {"version"}),
        ("appearance_form", {}, {"once"}),
        ("document_form", {}, {"once"}),
        ("relief_form", {}, {"once"}),
        ("relief_form", {"relief": relief.pk}, {"version", "relief"}),
    ]:
        drawn = opened_form(lawyer, assigned_case, form, query, HTTP_HX_REQUEST="true").content.decode()
        assert set(re.findall(r'type="hidden" name="(\w+)"', drawn)) - {"csrfmiddlewaretoken"} == hidden, form


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "hidden"),
    [
        ("hearing-new", ["once"]),
        ("deadline-new", ["rule-once", "manual-once"]),
        ("decision-new", ["once"]),
        ("case-close", ["once"]),
    ],
)
def test_create_pages_carry_a_one_time_key(lawyer, assigned_case, name, hidden):
    page = lawyer.get(reverse(f"casework:{name}", args=[assigned_case.number])).content.decode()

    for field in hidden:
        assert f'type="hidden" name="{field}"' in page


@pytest.mark.django_db
def test_edit_pages_carry_their_stamps(lawyer, assigned_case, court, attorney, supervisor):
    hearing = services.hearing_schedule(
        case=assigned_case,
        kind="master",
        starts_at=datetime(2026, 11, 2, 9, tzinfo=ZoneInfo("America/Phoenix")),
        court=court,
        by=attorney,
    )
    deadline = services.deadline_add_manual(case=assigned_case, title="File", due_on=date(2027, 1, 4), by=attorney)
    number = assigned_case.number

    hearing_page = lawyer.get(reverse("casework:hearing-edit", args=[number, hearing.pk])).content.decode()
    deadline_page = lawyer.get(reverse("casework:deadline-edit", args=[number, deadline.pk])).content.decode()
    assign_page = _client(supervisor).get(reverse("casework:case-assign", args=[number])).content.decode()
    bulk_page = _client(supervisor).get(reverse("casework:bulk-reassign")).content.decode()

    assert 'type="hidden" name="version"' in hearing_page
    assert 'type="hidden" name="outcome-version"' in hearing_page
    assert 'type="hidden" name="version"' in deadline_page
    assert 'type="hidden" name="version"' in assign_page and 'type="hidden" name="once"' in assign_page
    assert 'type="hidden" name="once"' in bulk_page
