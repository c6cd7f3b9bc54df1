"""A long e-mail address wraps inside the staff card, at a desk and on a phone (Chromium)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from demo.accounts import demo_accounts_save
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_EMAIL = "maria.guadalupe.hernandez-villanueva.intake.coordinator@legal-defence-network.example.org"


@pytest.mark.parametrize("width", [1280, 375])
def test_a_long_e_mail_address_stays_inside_the_staff_card(persona_context, live_server, width):
    demo_accounts_save()
    staff = UserFactory(email=LONG_EMAIL)
    page = persona_context("admin@demo.amparo.test", width=width).new_page()
    page.goto(live_server.url + reverse("accounts:staff-detail", kwargs={"pk": staff.pk}))

    card = page.locator("section.card", has=page.get_by_text(LONG_EMAIL)).first
    assert card.evaluate("card => card.scrollWidth <= card.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
