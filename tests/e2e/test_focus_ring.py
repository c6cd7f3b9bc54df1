"""Keyboard focus is always visible, also on a date field's calendar button (WCAG 2.4.7)."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FOCUS = """() => {
  const field = document.activeElement;
  return {id: field.id, focus: field.matches(":focus"), outline: getComputedStyle(field).outlineStyle};
}"""


def test_a_date_fields_calendar_button_keeps_the_focus_ring(persona_context, live_server):
    intake = UserFactory(role=Role.INTAKE)
    page = persona_context(intake.email, width=1280).new_page()
    page.goto(live_server.url + "/intake/")
    field = page.locator("input[type=date]").first
    field_id = field.get_attribute("id")
    field.focus()

    # Tab through the field's parts (month, day, year) to its calendar button, which has focus
    # inside the field: the field is then neither :focus nor :focus-visible.
    seen = []
    for _ in range(6):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS)
        if state["id"] != field_id:
            break
        seen.append(state)
    on_button = [state for state in seen if not state["focus"]]
    assert on_button, f"the calendar button never took focus: {seen}"
    assert all(state["outline"] == "solid" for state in seen), seen
