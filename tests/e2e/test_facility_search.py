"""The facility field is a search (by name, city or ICE code) over ~490 facilities, not a long select.

Typing "Krome" used to pick "KS · Butler County Jail" (a select's type-ahead matches the start of
a label, which began with the state). amparo.js puts a text field with a datalist over the select;
the select stays in the form (hidden) and is what is sent.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from casework.models import DetentionFacility
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _intake_page(persona_context, live_server, locale: str = "en-US"):
    intake = UserFactory(role=Role.INTAKE)
    page = persona_context(intake.email, width=375, locale=locale).new_page()
    page.goto(live_server.url + "/intake/")
    return page


def test_typing_part_of_a_name_city_or_code_offers_the_facility_and_choosing_it_selects_it(
    persona_context, live_server
):
    krome = DetentionFacility.objects.get(code="KRO")
    page = _intake_page(persona_context, live_server)
    search = page.get_by_label("Facility")
    select = page.locator("select[name=facility]")
    assert search.evaluate("field => field.tagName") == "INPUT"
    assert select.is_hidden()
    options = page.locator(f"datalist#{search.get_attribute('list')} option")
    label = "Krome North Service Processing Center · Miami, FL · KRO"
    assert label in options.evaluate_all("options => options.map(o => o.value)")
    assert options.count() == DetentionFacility.objects.filter(in_use=True).count()

    search.fill(label)
    expect(select).to_have_value(str(krome.pk))
    assert search.evaluate("field => field.validity.valid")

    search.fill("Nowhere at all")
    assert search.evaluate("field => field.validationMessage") == (
        "Choose a facility from the list, or clear the field for “Unknown”."
    )
    search.fill("")
    expect(select).to_have_value("")
    assert search.evaluate("field => field.validity.valid")


def test_the_search_speaks_the_readers_language(persona_context, live_server):
    page = _intake_page(persona_context, live_server, locale="es-ES")
    search = page.locator("input[list]")
    assert search.get_attribute("placeholder") == "Escriba parte de un nombre, una ciudad o el código de ICE"
