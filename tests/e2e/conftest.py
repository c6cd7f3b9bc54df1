from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself (fixtures) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        pytest.fail("Debian's chromium is not installed (`make test` run as root installs it).")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    yield page
    context.close()


@pytest.fixture
def demo_network(settings, tmp_path):
    """The demo's accounts, 24 of its cases and its money (donors, gifts, payment requests, bonds)."""
    from demo.accounts import demo_accounts_save
    from demo.cases import seed_casework
    from demo.money import seed_funds

    settings.VAR_DIR = tmp_path  # where the money seed leaves the Stripe sandbox its file
    demo_accounts_save()
    seed_casework(count=24)
    seed_funds()


@pytest.fixture
def persona_context(browser, live_server):
    """``persona_context(persona, width=…, locale=…)``: a browser context signed in as ``persona``
    (a staff e-mail address, "donor" for the demo's monthly donor, or "public" for nobody)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from demo.money import MONTHLY_DONOR
    from funds.models import Donor
    from funds.services.donor_portal import DONOR_SESSION_KEY

    contexts = []

    def make(persona: str, *, width: int, locale: str = "en-US", bypass_csp: bool = False):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": 900}, bypass_csp=bypass_csp)
        context.set_default_timeout(15_000)
        contexts.append(context)
        if persona == "public":
            return context
        client = Client()
        if persona == "donor":
            session = client.session
            session[DONOR_SESSION_KEY] = Donor.objects.for_email(MONTHLY_DONOR)[0].pk
            session.save()
        else:
            client.force_login(get_user_model().objects.get(email=persona))
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        return context

    yield make
    for context in contexts:
        context.close()
