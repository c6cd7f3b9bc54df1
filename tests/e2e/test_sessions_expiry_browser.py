"""A case page left open is cleared once the session is over (ASVS 14.3.1), in Debian's Chromium.

``static/js/session-expiry.js`` replaces the page with "Your session ended" when the idle limit
has passed (shortened here to a few seconds) or when the person signs out in another tab.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from accounts.roles import Role
from casework import services as casework_services
from casework.models import AssignmentRole
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IDLE_SECONDS = 4


@pytest.fixture
def attorney_and_case(db):
    intake, supervisor, attorney = (UserFactory(role=role) for role in (Role.INTAKE, Role.SUPERVISOR, Role.ATTORNEY))
    case = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Rosa", family_names="Echeverría"), by=intake
    )
    casework_services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    return attorney, case


@pytest.fixture
def signed_in_context(browser, live_server):
    """``signed_in_context(user)``: a browser context holding a session of ``user``."""
    contexts = []

    def make(user):
        client = Client()
        client.force_login(user)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _open_case(context, live_server, case):
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    page.goto(f"{live_server.url}/cases/{case.number}/")
    expect(page.locator("main")).to_contain_text(case.number)
    return page


def test_a_case_page_left_open_is_cleared_when_the_idle_limit_passes(
    settings, live_server, attorney_and_case, signed_in_context
):
    settings.SESSION_COOKIE_AGE = IDLE_SECONDS
    attorney, case = attorney_and_case
    page = _open_case(signed_in_context(attorney), live_server, case)
    assert page.locator("body").get_attribute("data-session-idle-seconds") == str(IDLE_SECONDS)

    expect(page.get_by_role("heading", name="Your session ended")).to_be_visible(timeout=(IDLE_SECONDS + 5) * 1000)

    body = page.locator("body").inner_text()
    assert case.number not in body
    assert "Echeverría" not in body
    link = page.get_by_role("link", name="Sign in again")
    assert link.get_attribute("href").startswith("/accounts/login/?next=")
    assert page.title().startswith("Your session ended")
    assert page.console_errors == []


def test_signing_out_in_one_tab_clears_the_others(live_server, attorney_and_case, signed_in_context):
    attorney, case = attorney_and_case
    context = signed_in_context(attorney)
    case_tab = _open_case(context, live_server, case)
    other_tab = context.new_page()
    other_tab.goto(f"{live_server.url}/dashboard/")

    other_tab.get_by_role("button", name="Sign out").click()
    other_tab.wait_for_url("**/accounts/login/")

    expect(case_tab.get_by_role("heading", name="Your session ended")).to_be_visible()
    assert case.number not in case_tab.locator("body").inner_text()
    assert case_tab.console_errors == []


def test_a_page_stays_while_the_session_lasts(live_server, attorney_and_case, signed_in_context):
    attorney, case = attorney_and_case
    page = _open_case(signed_in_context(attorney), live_server, case)

    page.wait_for_timeout(2500)

    expect(page.locator("main")).to_contain_text(case.number)
    expect(page.get_by_role("heading", name="Your session ended")).to_have_count(0)
