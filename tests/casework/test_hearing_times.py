"""Every hearing time is shown once, in the hearing's own zone, with the zone named.

Worked example used throughout: a master calendar hearing at the San Francisco Immigration Court
(America/Los_Angeles) on Tuesday 12 January 2027 at 06:00 PST = 14:00 UTC = 09:00 EST in the fund's
zone (America/New_York). Before, "My day" showed it as 06:00 in one list and 9 a.m. in the other.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from casework import services
from casework.models import Hearing, ImmigrationCourt
from casework.selectors import case_list, my_open_case_ids, with_next_hearing
from casework.templatetags.hearing_time import hearing_time, zone_city

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 8, 17, 0, tzinfo=UTC)  # Friday 8 January 2027, noon in New York
STARTS_AT = datetime(2027, 1, 12, 14, 0, tzinfo=UTC)  # Tue 12 Jan: 06:00 PST, 09:00 EST
COURT_TIME = "Tue 12 Jan, 06:00 PST (San Francisco)"
BY_VIDEO_FROM_NEW_YORK = "Tue 12 Jan, 09:00 EST (New York) · 06:00 PST at the court (San Francisco)"


@pytest.fixture
def frozen(monkeypatch):
    """The clock the selectors and services read, set to ``NOW``."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def san_francisco(db) -> ImmigrationCourt:
    return ImmigrationCourt.objects.get(name="San Francisco Immigration Court")


@pytest.fixture
def attorney_client(attorney) -> Client:
    client = Client()
    client.force_login(attorney)
    return client


def schedule(case, court, by, *, starts_at=STARTS_AT, override: str = "") -> Hearing:
    return services.hearing_schedule(
        case=case, kind="master", starts_at=starts_at, court=court, timezone_override=override, by=by
    )


def section(page: str, start_id: str, end_id: str) -> str:
    return page[page.index(f'id="{start_id}"') : page.index(f'id="{end_id}"')]


# --- The label ------------------------------------------------------------------------------


def test_fund_zone_is_new_york_for_these_examples(settings):
    assert settings.TIME_ZONE == "America/New_York"


def test_hearing_time_is_in_court_zone_with_abbreviation_and_court_city(frozen, assigned_case, san_francisco, attorney):
    hearing = schedule(assigned_case, san_francisco, attorney)

    assert hearing_time(hearing) == COURT_TIME


def test_hearing_time_in_summer_names_daylight_time(frozen, assigned_case, san_francisco, attorney):
    hearing = schedule(assigned_case, san_francisco, attorney, starts_at=datetime(2027, 7, 13, 16, 30, tzinfo=UTC))

    assert hearing_time(hearing) == "Tue 13 Jul, 09:30 PDT (San Francisco)"


def test_hearing_time_next_year_shows_the_year(monkeypatch, assigned_case, san_francisco, attorney):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 18, 17, 0, tzinfo=UTC))
    hearing = schedule(assigned_case, san_francisco, attorney)

    assert hearing_time(hearing) == "Tue 12 Jan 2027, 06:00 PST (San Francisco)"


def test_hearing_time_with_override_shows_notice_time_then_court_time(frozen, assigned_case, san_francisco, attorney):
    hearing = schedule(assigned_case, san_francisco, attorney, override="America/New_York")

    assert hearing_time(hearing) == BY_VIDEO_FROM_NEW_YORK


def test_hearing_time_with_override_on_another_day_at_the_court_shows_that_day(frozen, assigned_case, attorney):
    # Saipan (UTC+10) holds a hearing by video for a notice in Honolulu time (UTC-10):
    # 13:00 HST on Monday is 09:00 ChST on Tuesday at the court.
    saipan = ImmigrationCourt.objects.get(name="Saipan Immigration Court")
    hearing = schedule(
        assigned_case, saipan, attorney, starts_at=datetime(2027, 1, 11, 23, 0, tzinfo=UTC), override="Pacific/Honolulu"
    )

    assert hearing_time(hearing) == "Mon 11 Jan, 13:00 HST (Honolulu) · Tue 12 Jan, 09:00 ChST at the court (Saipan)"


def test_hearing_time_override_same_as_court_zone_shows_one_time(frozen, assigned_case, san_francisco, attorney):
    hearing = schedule(assigned_case, san_francisco, attorney, override="America/Los_Angeles")

    assert hearing_time(hearing) == COURT_TIME


def test_hearing_time_in_spanish_names_the_court(frozen, assigned_case, san_francisco, attorney):
    hearing = schedule(assigned_case, san_francisco, attorney, override="America/New_York")

    with translation.override("es"):
        text = hearing_time(hearing)

    assert text == "mar 12 Ene, 09:00 EST (New York) · 06:00 PST en el tribunal (San Francisco)"


def test_in_zone_filter_shows_any_moment_in_a_named_zone(frozen):
    template = Template('{% load hearing_time %}{{ moment|in_zone:"America/New_York" }}|{{ none|in_zone:"UTC" }}')

    text = template.render(Context({"moment": STARTS_AT, "none": None}))

    assert text == "Tue 12 Jan, 09:00 EST (New York)|"


def test_zone_city_is_the_last_part_of_the_zone_name():
    assert [zone_city(z) for z in ("America/New_York", "America/Indiana/Indianapolis", "Pacific/Saipan")] == [
        "New York",
        "Indianapolis",
        "Saipan",
    ]


def test_hearing_time_tag_escapes_in_html(frozen, assigned_case, san_francisco, attorney):
    hearing = schedule(assigned_case, san_francisco, attorney)
    ImmigrationCourt.objects.filter(pk=san_francisco.pk).update(city="San Francisco <CA>")
    hearing = Hearing.objects.select_related("court").get(pk=hearing.pk)

    html = Template("{% load hearing_time %}{% hearing_time h %}").render(Context({"h": hearing}))

    assert html == "Tue 12 Jan, 06:00 PST (San Francisco &lt;CA&gt;)"


# --- The next hearing of a case (lists) -----------------------------------------------------


def test_with_next_hearing_annotates_the_next_hearings_zone_and_court(frozen, assigned_case, san_francisco, attorney):
    schedule(assigned_case, san_francisco, attorney, starts_at=datetime(2027, 2, 1, 17, 0, tzinfo=UTC))
    schedule(assigned_case, san_francisco, attorney, override="America/New_York")  # sooner

    case = with_next_hearing(type(assigned_case).objects.filter(pk=assigned_case.pk)).get()

    assert (
        case.next_hearing_at,
        case.next_hearing_zone,
        case.next_hearing_court_zone,
        case.next_hearing_court_city,
    ) == (
        STARTS_AT,
        "America/New_York",
        "America/Los_Angeles",
        "San Francisco",
    )


def test_with_next_hearing_zone_is_the_courts_without_override(frozen, assigned_case, san_francisco, attorney):
    schedule(assigned_case, san_francisco, attorney)

    case = case_list(attorney, visible_ids=my_open_case_ids(attorney)).get()

    assert (case.next_hearing_zone, case.next_hearing_court_zone) == ("America/Los_Angeles", "America/Los_Angeles")


def test_with_next_hearing_without_hearing_is_none(frozen, assigned_case, attorney):
    case = case_list(attorney, visible_ids=my_open_case_ids(attorney)).get()

    assert (case.next_hearing_at, case.next_hearing_zone) == (None, None)


# --- Pages ----------------------------------------------------------------------------------


def test_my_day_shows_the_hearing_at_the_same_time_and_zone_in_both_lists(
    frozen, assigned_case, san_francisco, attorney, attorney_client
):
    schedule(assigned_case, san_francisco, attorney)

    page = attorney_client.get(reverse("casework:dashboard")).content.decode()

    hearings = section(page, "hearings", "deadlines")
    my_cases = section(page, "my-cases", "activity")
    assert hearings.count("06:00") == 1
    assert COURT_TIME in hearings
    assert my_cases.count("06:00") == 1
    assert COURT_TIME in my_cases
    for shown in (hearings, my_cases):  # never in the fund's zone, unlabelled, as before
        assert "09:00" not in shown
        assert "9 a.m." not in shown


def test_my_day_with_override_shows_both_times_in_both_lists(
    frozen, assigned_case, san_francisco, attorney, attorney_client
):
    schedule(assigned_case, san_francisco, attorney, override="America/New_York")

    page = attorney_client.get(reverse("casework:dashboard")).content.decode()

    assert BY_VIDEO_FROM_NEW_YORK in section(page, "hearings", "deadlines")
    assert BY_VIDEO_FROM_NEW_YORK in section(page, "my-cases", "activity")


def test_case_list_shows_next_hearing_in_its_zone(frozen, assigned_case, san_francisco, attorney, attorney_client):
    schedule(assigned_case, san_francisco, attorney)

    page = attorney_client.get(reverse("casework:case-list")).content.decode()

    assert COURT_TIME in page
    assert "01/12/2027" not in page


def test_triage_shows_next_hearing_in_its_zone(frozen, register_case, intake_worker, supervisor, san_francisco):
    waiting = register_case(by=intake_worker, a_number="", given_names="Rosa", family_names="Demo")
    schedule(waiting, san_francisco, supervisor, override="America/New_York")
    client = Client()
    client.force_login(supervisor)

    page = client.get(reverse("casework:triage")).content.decode()

    assert BY_VIDEO_FROM_NEW_YORK in page


def test_dashboard_in_spanish_names_the_zone(frozen, assigned_case, san_francisco, attorney, attorney_client):
    schedule(assigned_case, san_francisco, attorney)
    attorney_client.post("/i18n/setlang/", {"language": "es", "next": "/"})

    page = attorney_client.get(reverse("casework:dashboard")).content.decode()

    assert page.count("mar 12 Ene, 06:00 PST (San Francisco)") == 2
