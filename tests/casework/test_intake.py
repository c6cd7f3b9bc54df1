"""Intake: the hotline form, A-numbers in every spelling, and the duplicate warning."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from accounts.models import AccessEvent
from accounts.roles import Role
from casework import forms as casework_forms
from casework.models import (
    Case,
    CaseStatus,
    CustodyPeriod,
    Detainee,
    DetaineeANumberKey,
    DetaineeNameKey,
    FamilyContact,
    Note,
)
from kernel.forms import MoneyField
from tests.forms import once

pytestmark = pytest.mark.django_db

FORM = {
    "given_names": "José",
    "family_names": "Hernández-López",
    "a_number": "A-012-345-678",
    "date_of_birth": "1990-05-17",
    "country_of_birth": "Honduras",
    "languages": "Spanish",
    "needs_interpreter": "on",
    "detained_on": "2026-11-20",
    "detained_where": "Check-in at the field office",
    "custodian": "ice",
    "contact_name": "María López",
    "contact_relationship": "sister",
    "contact_phone": "(202) 555-0147",
    "contact_language": "Spanish",
    "flag_minor_children": "on",
    "notes": "Called from the hotline.",
}


@pytest.fixture
def intake_client(intake_worker) -> Client:
    client = Client()
    client.force_login(intake_worker)
    return client


def test_intake_registers_a_case_and_sends_it_to_triage(intake_client, intake_worker, facility):
    response = intake_client.post(reverse("casework:intake"), once({**FORM, "facility": facility.pk}))

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("casework:case-detail", args=[case.number])
    assert re.fullmatch(r"\d{4}-\d{5}", case.number)
    assert case.status == CaseStatus.TRIAGE
    assert case.registered_by == intake_worker
    assert case.flag_minor_children and not case.flag_medical
    assert case.facility == facility
    detainee = case.detainee
    assert detainee.a_number == "012345678"
    assert detainee.a_number_display == "A-012-345-678"
    assert detainee.needs_interpreter
    assert FamilyContact.objects.get(detainee=detainee).phone == "(202) 555-0147"
    assert CustodyPeriod.objects.get(case=case).started_on == date(2026, 11, 20)
    assert Note.objects.get(case=case).body == "Called from the hotline."
    assert DetaineeNameKey.objects.filter(detainee=detainee).count() == 3
    # The URL carries the case number, never the A-number.
    assert "012345678" not in response["Location"]
    page = intake_client.get(response["Location"]).content.decode()
    assert "A-012-345-678" in page
    assert AccessEvent.objects.filter(action="view", object_ref=case.number, user=intake_worker).exists()


def test_case_numbers_count_up_within_the_year(intake_client):
    intake_client.post(reverse("casework:intake"), once({**FORM}))
    intake_client.post(
        reverse("casework:intake"), once({**FORM, "a_number": "", "given_names": "Ana", "family_names": "Ruiz"})
    )

    numbers = sorted(Case.objects.values_list("number", flat=True))
    first, second = (int(n.split("-")[1]) for n in numbers)
    assert second == first + 1


@pytest.mark.parametrize("spelling", ["A-012-345-678", "A012345678", "a 12345678", "012 345 678", "12345678"])
def test_intake_accepts_every_a_number_spelling(intake_client, spelling):
    intake_client.post(reverse("casework:intake"), once({**FORM, "a_number": spelling}))

    assert Detainee.objects.get().a_number == "012345678"


@pytest.mark.parametrize("bad", ["A-12-345", "B012345678", "0123456789", "000000000", "12-ABC-678"])
def test_intake_rejects_a_malformed_a_number_with_a_message(intake_client, bad):
    response = intake_client.post(reverse("casework:intake"), once({**FORM, "a_number": bad}))

    assert response.status_code == 422
    assert "A-012-345-678" in response.content.decode() or "A-000-000-000" in response.content.decode()
    assert not Case.objects.exists()


def test_intake_without_a_number_is_allowed(intake_client):
    intake_client.post(reverse("casework:intake"), once({**FORM, "a_number": ""}))

    detainee = Detainee.objects.get()
    assert detainee.a_number == ""
    assert detainee.a_number_index is None


def test_intake_requires_names_and_refuses_a_birth_date_in_the_future(intake_client):
    response = intake_client.post(
        reverse("casework:intake"), once({**FORM, "given_names": "", "date_of_birth": "2999-01-01"})
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "This field is required." in page
    assert "The date of birth cannot be in the future." in page
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "second",
    [
        {"a_number": "12345678", "given_names": "Pedro", "family_names": "Otro", "date_of_birth": ""},
        {"a_number": "", "given_names": "jose", "family_names": "hernandez lopez"},
        {"a_number": "", "given_names": "Jose", "family_names": "Hernandez Lopez"},
        {"a_number": "", "given_names": "Hernandez Lopez,", "family_names": "Jose"},
        {"a_number": "", "given_names": "JOSÉ", "family_names": "HERNÁNDES LÓPEZ"},
    ],
)
def test_second_entry_of_the_same_person_shows_a_duplicate_warning(intake_client, second):
    intake_client.post(reverse("casework:intake"), once(FORM))
    first = Case.objects.get()

    response = intake_client.post(reverse("casework:intake"), once({**FORM, **second}))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Possible duplicate" in page
    assert first.number in page
    assert Case.objects.count() == 1  # nothing saved until the worker confirms


def test_same_name_but_other_birth_date_is_not_a_duplicate(intake_client):
    intake_client.post(reverse("casework:intake"), once(FORM))

    response = intake_client.post(
        reverse("casework:intake"), once({**FORM, "a_number": "", "date_of_birth": "1991-05-17"})
    )

    assert response.status_code == 302
    assert Case.objects.count() == 2


def test_worker_can_confirm_a_different_person_and_save(intake_client):
    intake_client.post(reverse("casework:intake"), once(FORM))
    second = {**FORM, "a_number": "", "given_names": "Jose", "family_names": "Hernandez Lopez"}

    response = intake_client.post(reverse("casework:intake"), once({**second, "confirm": "different-person"}))

    assert response.status_code == 302
    assert Case.objects.count() == 2


def test_same_a_number_cannot_be_saved_twice_even_when_confirmed(intake_client):
    intake_client.post(reverse("casework:intake"), once(FORM))

    response = intake_client.post(reverse("casework:intake"), once({**FORM, "confirm": "different-person"}))

    assert response.status_code == 422
    assert "A person with this A-number is already registered." in response.content.decode()
    assert Case.objects.count() == 1


def test_duplicate_of_a_case_the_worker_cannot_see_shows_only_its_number(register_case, intake_client, supervisor):
    hidden = register_case(by=supervisor)

    response = intake_client.post(reverse("casework:intake"), once(FORM))

    page = response.content.decode()
    assert hidden.number in page
    assert "Hernández-López" not in page.split("Possible duplicate")[1].split("</section>")[0]
    assert reverse("casework:case-detail", args=[hidden.number]) not in page


def test_live_duplicate_check_answers_as_the_form_is_filled(intake_client, register_case, intake_worker):
    existing = register_case(by=intake_worker)

    hit = intake_client.post(reverse("casework:intake-check"), {"a_number": "A 012-345-678"}, HTTP_HX_REQUEST="true")
    miss = intake_client.post(reverse("casework:intake-check"), {"a_number": "A 999-345-678"}, HTTP_HX_REQUEST="true")
    partial = intake_client.post(reverse("casework:intake-check"), {"a_number": "A-12"}, HTTP_HX_REQUEST="true")

    assert existing.number in hit.content.decode()
    assert "same A-number" in hit.content.decode()
    assert miss.content.decode().strip() == ""
    assert partial.status_code == 200


def test_intake_form_fits_a_phone(intake_client):
    page = intake_client.get(reverse("casework:intake")).content.decode()

    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert 'inputmode="numeric"' in page  # the A-number field brings up the number pad
    assert 'type="tel"' in page


def test_finance_and_auditors_cannot_reach_intake(client_for):
    for role in (Role.FINANCE, Role.AUDITOR, Role.ADMIN, Role.ATTORNEY):
        assert client_for(role).post(reverse("casework:intake"), once(FORM)).status_code == 404
    assert not Case.objects.exists()


# --- A second A-number, and a new matter for a person already registered ------------------------


def test_more_other_a_numbers_than_the_record_holds_is_a_form_error_and_nothing_is_saved(intake_client):
    eleven = ",".join(f"{n:09d}" for n in range(100000001, 100000012))

    response = intake_client.post(reverse("casework:intake"), once({**FORM, "other_a_numbers": eleven}))

    assert response.status_code == 422
    assert "At most 10 other A-numbers can be recorded." in response.content.decode()
    assert not Case.objects.exists()


def test_a_second_a_number_is_normalised_and_finds_the_person(intake_client, supervisor):
    response = intake_client.post(
        reverse("casework:intake"), once({**FORM, "other_a_numbers": "A 98-765-432; 1234567"})
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert case.detainee.other_a_numbers == "098765432,001234567"
    assert case.detainee.other_a_numbers_display == "A-098-765-432, A-001-234-567"
    assert DetaineeANumberKey.objects.filter(detainee=case.detainee).count() == 2
    boss = Client()
    boss.force_login(supervisor)
    for typed in ("A-012-345-678", "098765432", "A-001-234-567"):
        results = boss.post(reverse("casework:search"), {"q": typed})["Location"]
        assert case.number in boss.get(results).content.decode(), typed
    assert (
        "A-098-765-432, A-001-234-567" in boss.get(reverse("casework:case-detail", args=[case.number])).content.decode()
    )


def test_another_persons_a_number_cannot_be_a_second_a_number(intake_client):
    intake_client.post(reverse("casework:intake"), once(FORM))
    other = {**FORM, "a_number": "", "given_names": "Pedro", "family_names": "Otro", "other_a_numbers": "A-012-345-678"}

    response = intake_client.post(reverse("casework:intake"), once({**other, "confirm": "different-person"}))

    assert response.status_code == 422
    assert "already another registered person's A-number" in html.unescape(response.content.decode())
    assert Case.objects.count() == 1


def test_a_known_a_number_offers_a_new_matter_for_the_same_person(intake_client):
    intake_client.post(reverse("casework:intake"), once(FORM))
    first = Case.objects.get()
    # Arrested again months later: the hotline types the A-number from the old file.
    again = {**FORM, "a_number": "A 012 345 678", "detained_on": "2026-11-25", "notes": "Re-detained at check-in."}

    offered = intake_client.post(reverse("casework:intake"), once(again))

    assert offered.status_code == 200
    assert "Open a new matter for this person" in offered.content.decode()
    response = intake_client.post(reverse("casework:intake"), once({**again, "new_matter_of": first.number}))

    assert response.status_code == 302
    second = Case.objects.exclude(pk=first.pk).get()
    assert second.detainee_id == first.detainee_id  # the same person, not a second record
    assert Detainee.objects.count() == 1
    assert second.status == CaseStatus.TRIAGE and second.detained_on == date(2026, 11, 25)
    assert Note.objects.get(case=second).body == "Re-detained at check-in."
    assert FamilyContact.objects.filter(detainee=first.detainee).count() == 1  # the same sister, not twice
    assert first.number in second.events.get(kind="registered").summary


def test_a_new_matter_is_only_for_the_person_of_that_a_number(intake_client, register_case, intake_worker):
    intake_client.post(reverse("casework:intake"), once(FORM))
    stranger = register_case(by=intake_worker, a_number="222222222", given_names="Otra", family_names="Parra-Sosa")

    response = intake_client.post(reverse("casework:intake"), once({**FORM, "new_matter_of": stranger.number}))

    assert response.status_code == 422
    assert Case.objects.count() == 2


def test_a_new_matter_of_a_case_the_worker_cannot_see_is_not_offered(register_case, intake_client, supervisor):
    hidden = register_case(by=supervisor)

    offered = intake_client.post(reverse("casework:intake"), once(FORM))
    forced = intake_client.post(reverse("casework:intake"), once({**FORM, "new_matter_of": hidden.number}))

    assert "Open a new matter for this person" not in offered.content.decode()
    assert "ask a supervisor to open a new matter for this person" in offered.content.decode()
    assert forced.status_code == 404
    assert Case.objects.count() == 1


# --- Limits on what can be typed ---------------------------------------------------------------


def test_intake_notes_are_limited_to_twenty_thousand_characters(intake_client):
    too_long = intake_client.post(reverse("casework:intake"), once({**FORM, "notes": "x" * 20_001}))
    just_right = intake_client.post(reverse("casework:intake"), once({**FORM, "notes": "x" * 20_000}))

    assert too_long.status_code == 422
    assert "at most 20000 characters (it has 20001)" in too_long.content.decode()
    assert just_right.status_code == 302
    assert [len(n.body) for n in Note.objects.all()] == [20_000]


@pytest.mark.parametrize(
    ("field", "limit"),
    [("given_names", 120), ("family_names", 120), ("other_names", 300), ("contact_name", 160), ("contact_phone", 40)],
)
def test_too_long_input_is_a_form_error_not_a_500(intake_client, field, limit):
    response = intake_client.post(reverse("casework:intake"), once({**FORM, field: "x" * (limit + 1)}))

    assert response.status_code == 422
    assert f"at most {limit} characters" in response.content.decode()
    assert not Case.objects.exists()


def test_every_free_text_field_of_casework_has_a_maximum_length():
    unlimited = [
        f"{form.__name__}.{name}"
        for form in vars(casework_forms).values()
        if isinstance(form, type) and issubclass(form, forms.Form) and form.__module__ == casework_forms.__name__
        for name, field in form.base_fields.items()
        # An amount is cleaned to bounded integer cents (kernel.forms.MoneyField), whatever its length.
        if isinstance(field, forms.CharField) and not isinstance(field, MoneyField) and field.max_length is None
    ]

    assert unlimited == []
