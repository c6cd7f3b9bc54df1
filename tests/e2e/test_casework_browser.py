"""A case goes from intake (on a phone) to triage, to an attorney's hearing and calendar feed, in Chromium.

Everything after the accounts exist happens through the pages, as the users would do it:
intake staff register a detainee and are warned about a second registration of the same
person, the supervisor assigns a lead attorney, and the attorney adds a hearing and
subscribes to a calendar feed that names no one.
"""

from __future__ import annotations

import re
import time
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from casework.models import Case, DetentionFacility, ImmigrationCourt
from demo.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_accounts_save
from tests.conftest import totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CASE_NUMBER = re.compile(r"\d{4}-\d{5}")
INTAKE = "intake@demo.amparo.test"
SUPERVISOR = "supervisor@demo.amparo.test"
ATTORNEY = "attorney@demo.amparo.test"
COURT_NAME = "Eloy Immigration Court"


@pytest.fixture
def demo_accounts(db):
    """The demo accounts only (no demo cases, so the case numbers here are unambiguous)."""
    # (tests/conftest.py restores the migrations' reference data a flush may have removed.)
    demo_accounts_save()


@pytest.fixture
def new_page(browser):
    """``new_page(width, height)``: a fresh browser context (own cookies) that records console errors."""
    contexts = []

    def make(width: int, height: int):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.layout_problems = []
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, live_server, email: str, lands_on: str) -> None:
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    # allauth accepts only the current 30-second code: don't type one that expires in flight.
    seconds_left = 30 - time.time() % 30
    if seconds_left < 3:
        time.sleep(seconds_left + 0.2)
    page.fill("input[name=code]", totp_code(DEMO_TOTP_SECRET))
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}{lands_on}")


def follow_nav(page, name: str) -> None:
    """Click a main navigation link, opening the collapsed menu first on a narrow screen."""
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    page.locator(".site-nav").get_by_role("link", name=name, exact=True).click()


OVERFLOWING_ELEMENTS = """() => [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .slice(0, 5).map(el => `<${el.localName}${el.className ? ` class="${el.className}"` : ""}> ${el.textContent.trim().slice(0, 40)}`)"""


def check_no_horizontal_scroll(page, where: str) -> None:
    """Record (not raise) a page wider than the screen, so the rest of the story still runs."""
    if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        page.layout_problems.append(
            f"{where}: scrollWidth {width[0]} > {width[1]}: {page.evaluate(OVERFLOWING_ELEMENTS)}"
        )


def htmx_settled(page) -> None:
    """Wait until no htmx request is in flight (htmx marks the requesting element)."""
    expect(page.locator(".htmx-request")).to_have_count(0)


def field(page, label: str):
    """The form field labelled ``label`` (Django's label ends with a colon)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def intake_registers_and_is_warned_of_a_duplicate(live_server, page) -> str:
    facility = DetentionFacility.objects.filter(in_use=True).order_by("name").first()
    sign_in(page, live_server, INTAKE, "/intake/")
    expect(page.locator("h1")).to_have_text("New intake")
    check_no_horizontal_scroll(page, "empty intake form")

    field(page, "Given names").fill("José")
    field(page, "Family names").fill("Hernández-López")
    field(page, "A-number").fill("A 12345678")
    field(page, "Date of birth").fill("1990-05-17")
    field(page, "Country of birth").fill("Honduras")
    field(page, "Languages").fill("Spanish")
    field(page, "Imminent removal").check()
    # The facility is found by typing part of its name (the search box over the select).
    search = field(page, "Facility")
    search.fill(facility.name[:5])
    expect(
        page.locator(f"datalist#{search.get_attribute('list')} option[value^='{facility.name}']").first
    ).to_be_attached()
    search.fill(
        f"{facility.name} · {facility.city}, {facility.state}" + (f" · {facility.code}" if facility.code else "")
    )
    expect(page.locator("select[name=facility]")).to_have_value(str(facility.pk))
    field(page, "Family contact: name").fill("María López")
    field(page, "Relationship").fill("sister")
    field(page, "Phone").fill("+1 555 0100")
    field(page, "Preferred language").fill("Spanish")
    htmx_settled(page)
    expect(page.locator("#duplicates")).not_to_contain_text("Possible duplicate")
    page.get_by_role("button", name="Save and send to triage").click()

    message = page.locator(".messages").get_by_text(re.compile(r"Case \d{4}-\d{5} registered and sent to triage"))
    expect(message).to_be_visible()
    number = CASE_NUMBER.search(message.inner_text()).group()
    assert page.url == f"{live_server.url}/cases/{number}/"
    expect(page.locator("h1")).to_contain_text(number)
    expect(page.locator("#person")).to_contain_text("José Hernández-López")
    expect(page.locator("#person")).to_contain_text("A-012-345-678")
    check_no_horizontal_scroll(page, "case page after intake")

    # The same person again, typed the way a relative spells it on the phone, A-number unknown.
    follow_nav(page, "New intake")
    page.wait_for_url(f"{live_server.url}/intake/")
    field(page, "Given names").fill("jose")
    field(page, "Family names").fill("hernandez lopez")
    field(page, "Date of birth").fill("1990-05-17")
    field(page, "Date of birth").press("Tab")  # leaving the field is when a person's input "changes"
    duplicates = page.locator("#duplicates")
    expect(duplicates).to_contain_text("Possible duplicate")  # live, before saving
    expect(duplicates).to_contain_text(number)
    expect(duplicates).to_contain_text("same date of birth and a similar name")
    check_no_horizontal_scroll(page, "live duplicate warning")

    htmx_settled(page)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/intake/")) as posted:
        page.get_by_role("button", name="Save and send to triage").click()
    assert posted.value.status == 200
    expect(page.locator("#duplicates")).to_contain_text("If it is someone else, save anyway.")
    expect(page.locator("#duplicates")).to_contain_text(number)
    expect(page.get_by_role("button", name="This is a different person: save")).to_be_visible()
    expect(field(page, "Given names")).to_have_value("jose")  # nothing typed is lost
    assert Case.objects.count() == 1
    check_no_horizontal_scroll(page, "duplicate warning after submit")
    return number


def supervisor_assigns_the_lead_attorney(live_server, page, number: str) -> None:
    attorney_name = User.objects.get(email=ATTORNEY).full_name
    sign_in(page, live_server, SUPERVISOR, "/triage/")
    expect(page.locator("h1")).to_have_text("Triage")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number, exact=True))
    expect(row).to_contain_text("José Hernández-López")
    row.get_by_role("link", name="Assign", exact=True).click()

    page.wait_for_url(f"{live_server.url}/cases/{number}/assign/")
    expect(page.locator("h1")).to_contain_text(number)
    attorney = field(page, "Attorney")
    attorney.select_option(value=str(User.objects.get(email=ATTORNEY).pk))
    expect(attorney.locator("option:checked")).to_have_text(re.compile(rf"^{re.escape(attorney_name)}( — |$)"))
    field(page, "Role").select_option(label="Lead attorney")
    page.get_by_role("button", name="Assign", exact=True).click()

    page.wait_for_url(f"{live_server.url}/cases/{number}/")
    expect(page.locator("#case")).to_contain_text(f"{attorney_name} · Lead attorney")


def attorney_adds_a_hearing_and_subscribes(live_server, page, number: str) -> None:
    court = ImmigrationCourt.objects.get(name=COURT_NAME)
    hearing_day = timezone.localdate() + timedelta(days=5)
    sign_in(page, live_server, ATTORNEY, "/dashboard/")
    expect(page.locator("h1")).to_have_text("My day")
    my_cases = page.locator("#my-cases")
    expect(my_cases.get_by_role("heading")).to_have_text(re.compile(r"^My open cases? \(1\)$"))  # "case (1)" in English
    my_cases.get_by_role("link", name=number, exact=True).click()

    page.wait_for_url(f"{live_server.url}/cases/{number}/")
    page.get_by_role("link", name="Add hearing").click()
    page.wait_for_url(f"{live_server.url}/cases/{number}/hearings/new/")
    field(page, "Type").select_option(label="Master calendar")
    field(page, "Immigration court").select_option(label=f"{court.state} · {court.name}")
    field(page, "Date").fill(hearing_day.isoformat())
    field(page, "Time (as the notice gives it)").fill("09:30")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"{live_server.url}/cases/{number}/#hearings")
    expect(page.locator(".messages")).to_contain_text("Hearing added.")
    hearing_row = page.locator("#hearings tbody tr")
    expect(hearing_row).to_have_count(1)
    expect(hearing_row).to_contain_text(f"{hearing_day.day} {hearing_day:%b}")
    zone = timezone.localtime(timezone.now(), court.zone).tzname()
    expect(hearing_row).to_contain_text(f"09:30 {zone} ({court.city})")  # the time of the notice, its zone named
    expect(hearing_row).to_contain_text("Master calendar")
    expect(hearing_row).to_contain_text(COURT_NAME)
    check_no_horizontal_scroll(page, "case page with a hearing")

    # The case page draws a form when its disclosure is opened (htmx), keyed as of then.
    add_relief = page.locator("#relief details", has=page.get_by_text("Add relief", exact=True))
    add_relief.locator("summary").click()
    htmx_settled(page)
    field(add_relief, "Relief").select_option(label="Asylum")
    field(add_relief, "Status").select_option(label="Preparing")
    add_relief.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/cases/{number}/#relief")
    expect(page.locator(".messages")).to_contain_text("Relief saved.")
    expect(page.locator("#relief li")).to_contain_text("Asylum · Preparing")

    follow_nav(page, "Calendar")
    page.wait_for_url(f"{live_server.url}/calendar/")
    page.get_by_role("button", name="Create my calendar address").click()
    feed_url = page.locator("#feed-url").inner_text().strip()
    check_no_horizontal_scroll(page, "calendar page showing the address")
    assert feed_url.startswith(f"{live_server.url}/calendar/") and feed_url.endswith(".ics")

    # As a calendar app reads it: no session, the secret address is the credential.
    with urllib.request.urlopen(feed_url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/calendar")
        feed = response.read().decode().replace("\r\n ", "")  # unfold long lines
    assert number in feed
    assert "Master calendar" in feed
    assert COURT_NAME in feed
    for secret in ("José", "Jose", "Hernández", "Hernandez", "López", "Lopez", "012345678", "A-012-345-678"):
        assert secret.lower() not in feed.lower(), secret


def test_intake_to_triage_to_an_attorneys_hearing_and_calendar(live_server, new_page, demo_accounts):
    intake_page = new_page(375, 812)
    number = intake_registers_and_is_warned_of_a_duplicate(live_server, intake_page)
    assert intake_page.console_errors == []

    supervisor_page = new_page(1280, 900)
    supervisor_assigns_the_lead_attorney(live_server, supervisor_page, number)
    assert supervisor_page.console_errors == []

    attorney_page = new_page(390, 844)
    attorney_adds_a_hearing_and_subscribes(live_server, attorney_page, number)
    assert attorney_page.console_errors == []
    # Checked last so that a layout fault does not hide a fault further along the story.
    assert intake_page.layout_problems == []
    assert attorney_page.layout_problems == []
