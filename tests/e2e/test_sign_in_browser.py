"""A demo user signs in with password and authenticator code in Debian's Chromium."""

from __future__ import annotations

import pytest

from demo.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_accounts_save
from tests.conftest import totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_accounts():
    """The demo accounts exactly as ``seed_demo`` makes them (its demo cases are tested elsewhere)."""
    demo_accounts_save()


def test_demo_attorney_signs_in_with_totp_and_sees_their_home(live_server, page, demo_accounts):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url

    page.fill("input[name=login]", "attorney@demo.amparo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.fill("input[name=code]", totp_code(DEMO_TOTP_SECRET))
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")

    assert page.locator("h1").inner_text() == "My day"
    assert page.get_by_role("heading", name="Hearings in the next 14 days").is_visible()
    nav_links = [text.strip() for text in page.locator(".site-nav a").all_text_contents()]
    assert nav_links == ["My day", "Cases", "Calendar", "Security"]
    # The stylesheet and scripts loaded under the CSP, and nothing was blocked.
    fonts_loaded = page.evaluate(
        "document.fonts.ready.then(() => [...document.fonts].some(f => f.family.includes('Inter') && f.status === 'loaded'))"
    )
    assert fonts_loaded
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).display") != "inline"
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.console_errors == []


def test_demo_admin_sees_staff_navigation_and_signs_out(live_server, page, demo_accounts):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "admin@demo.amparo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.fill("input[name=code]", totp_code(DEMO_TOTP_SECRET))
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    nav_links = [text.strip() for text in page.locator(".site-nav a").all_text_contents()]
    assert nav_links == ["Home", "Staff", "Access log", "Admin site", "Legal demands", "Read alerts", "Security"]
    page.goto(f"{live_server.url}/staff/")
    assert page.get_by_role("cell", name="attorney2@demo.amparo.test").is_visible()

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url("**/accounts/login/**")
    page.goto(f"{live_server.url}/staff/")
    assert "/accounts/login/" in page.url
