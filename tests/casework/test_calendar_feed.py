"""The secret ICS calendar feed: case numbers, hearing types and courts only, and only while the address is live."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.roles import Role
from casework import services
from casework.deadlines import Rule
from casework.models import Assignment, AssignmentRole, DeadlineStatus, ImmigrationCourt
from casework.services.calendar import calendar_feed_create, calendar_feed_revoke
from tests.forms import once

PHOENIX = ZoneInfo("America/Phoenix")
MANUAL_TITLE = "Call María López about José's passport"
PERSONAL_WORDS = (
    "José",
    "Jose",
    "Hernández",
    "Hernandez",
    "López",
    "Lopez",
    "María",
    "012345678",
    "A-012-345-678",
    "012-345-678",
    "A012345678",
    MANUAL_TITLE,
    "passport",
)


def tomorrow_at_nine() -> datetime:
    return datetime.combine(timezone.localdate() + timedelta(days=1), time(9, 0), tzinfo=PHOENIX)


def feed_url(token: str) -> str:
    return reverse("casework:calendar-feed", kwargs={"token": token})


def read_feed(url: str):
    """GET the feed as a calendar app would: no session, no cookies."""
    return Client().get(url)


def unfolded(response) -> str:
    """The ICS text with RFC 5545 line folding undone, so long lines can be searched."""
    return response.content.decode().replace("\r\n ", "")


def events_by_uid(response) -> dict[str, object]:
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def attorney_client(attorney) -> Client:
    client = Client()
    client.force_login(attorney)
    return client


@pytest.fixture
def hearing(assigned_case, court, attorney):
    return services.hearing_schedule(
        case=assigned_case, kind="master", starts_at=tomorrow_at_nine(), court=court, by=attorney
    )


@pytest.fixture
def token(attorney) -> str:
    return calendar_feed_create(user=attorney)


def test_calendar_page_shows_new_address_only_once(attorney_client, attorney):
    created = attorney_client.post(reverse("casework:calendar"), once({"action": "create"}))
    first = attorney_client.get(reverse("casework:calendar"))
    second = attorney_client.get(reverse("casework:calendar"))

    assert created.status_code == 302
    assert created["Location"] == reverse("casework:calendar")
    match = re.search(r'id="feed-url">(http://testserver/calendar/[^<]+\.ics)<', first.content.decode())
    assert match is not None
    assert first.status_code == 200
    assert second.status_code == 200
    token = match.group(1).removeprefix("http://testserver/calendar/").removesuffix(".ics")
    assert 'id="feed-url"' not in second.content.decode()
    assert token not in second.content.decode()
    assert attorney.calendar_feeds.filter(revoked_at__isnull=True).count() == 1


def test_create_sent_twice_keeps_the_address_it_showed(attorney_client, attorney):
    """A doubled "create" (a double click, a retry) must not replace the address just shown with another."""
    data = once({"action": "create"})
    attorney_client.post(reverse("casework:calendar"), data)
    shown = re.search(r'id="feed-url">([^<]+)<', attorney_client.get(reverse("casework:calendar")).content.decode())

    again = attorney_client.post(reverse("casework:calendar"), data)

    assert again.status_code == 302 and again["Location"] == reverse("casework:calendar")
    assert attorney.calendar_feeds.count() == 1
    assert read_feed(shown.group(1)).status_code == 200
    assert 'id="feed-url"' not in attorney_client.get(reverse("casework:calendar")).content.decode()


def test_create_without_its_key_is_refused_and_changes_nothing(attorney_client, attorney, token):
    response = attorney_client.post(reverse("casework:calendar"), {"action": "create"})

    assert response.status_code == 400
    assert "This form was not sent whole. Reload the page and send it again." in response.content.decode()
    assert attorney.calendar_feeds.get().revoked_at is None


def test_calendar_page_address_works_as_feed(attorney_client):
    attorney_client.post(reverse("casework:calendar"), once({"action": "create"}))
    page = attorney_client.get(reverse("casework:calendar")).content.decode()
    url = re.search(r'id="feed-url">([^<]+)<', page).group(1)

    response = read_feed(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")


def test_calendar_page_for_non_attorney_is_404(client_for):
    client = client_for(Role.FINANCE)

    response = client.post(reverse("casework:calendar"), once({"action": "create"}))

    assert response.status_code == 404
    assert not client.user.calendar_feeds.exists()


def test_calendar_feed_lists_hearing_with_case_number_type_and_court(assigned_case, hearing, court, token):
    response = read_feed(feed_url(token))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = unfolded(response)
    assert text.startswith("BEGIN:VCALENDAR")
    event = events_by_uid(response)[f"hearing-{hearing.pk}@testserver"]
    assert str(event["SUMMARY"]) == f"{assigned_case.number} · Master calendar"
    assert str(event["LOCATION"]) == "Eloy Immigration Court" == court.name
    assert event.decoded("DTSTART") == tomorrow_at_nine()


def test_calendar_feed_hearing_start_carries_court_time_zone(hearing, token):
    response = read_feed(feed_url(token))

    text = unfolded(response)
    assert f"DTSTART;TZID=America/Phoenix:{tomorrow_at_nine():%Y%m%dT%H%M%S}" in text
    start = events_by_uid(response)[f"hearing-{hearing.pk}@testserver"].decoded("DTSTART")
    assert str(start.tzinfo) == "America/Phoenix"


def test_calendar_feed_lists_open_deadlines_without_manual_titles(assigned_case, attorney, hearing, token):
    today = timezone.localdate()
    ruled = services.deadline_add_from_rule(case=assigned_case, rule=Rule.BIA_APPEAL, source_date=today, by=attorney)
    manual = services.deadline_add_manual(
        case=assigned_case, title=MANUAL_TITLE, due_on=today + timedelta(days=5), by=attorney
    )

    response = read_feed(feed_url(token))

    events = events_by_uid(response)
    ruled_event = events[f"deadline-{ruled.pk}@testserver"]
    manual_event = events[f"deadline-{manual.pk}@testserver"]
    assert str(ruled_event["SUMMARY"]) == f"{assigned_case.number} · Appeal to the BIA"
    assert ruled_event.decoded("DTSTART") == ruled.due_on
    assert str(manual_event["SUMMARY"]) == f"{assigned_case.number} · Deadline"
    assert manual_event.decoded("DTSTART") == today + timedelta(days=5)
    assert MANUAL_TITLE not in unfolded(response)


def test_calendar_feed_leaves_out_done_deadlines(assigned_case, attorney, token):
    today = timezone.localdate()
    done = services.deadline_add_manual(case=assigned_case, title="Filed", due_on=today, by=attorney)
    services.deadline_set_status(deadline=done, status=DeadlineStatus.DONE, by=attorney)

    response = read_feed(feed_url(token))

    assert f"deadline-{done.pk}@testserver" not in events_by_uid(response)


def test_calendar_feed_names_no_one(assigned_case, attorney, hearing, token):
    services.deadline_add_manual(
        case=assigned_case, title=MANUAL_TITLE, due_on=timezone.localdate() + timedelta(days=3), by=attorney
    )

    response = read_feed(feed_url(token))

    text = unfolded(response)
    assert assigned_case.number in text
    for word in (*PERSONAL_WORDS, assigned_case.detainee.given_names, assigned_case.detainee.family_names):
        assert word not in text, word


def test_calendar_feed_leaves_out_hearings_of_cases_not_assigned(
    register_case, intake_worker, supervisor, other_attorney, court, hearing, token
):
    other_case = register_case(by=intake_worker, given_names="Rosa", family_names="Méndez", a_number="098765432")
    services.case_assign(case=other_case, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor)
    other_hearing = services.hearing_schedule(
        case=other_case, kind="bond", starts_at=tomorrow_at_nine(), court=court, by=other_attorney
    )

    response = read_feed(feed_url(token))

    uids = set(events_by_uid(response))
    assert f"hearing-{hearing.pk}@testserver" in uids
    assert f"hearing-{other_hearing.pk}@testserver" not in uids
    assert other_case.number not in unfolded(response)


def test_calendar_feed_old_address_is_404_after_replacement(attorney_client, attorney, hearing):
    old = calendar_feed_create(user=attorney)

    attorney_client.post(reverse("casework:calendar"), once({"action": "create"}))
    page = attorney_client.get(reverse("casework:calendar")).content.decode()
    new_url = re.search(r'id="feed-url">([^<]+)<', page).group(1)

    assert read_feed(feed_url(old)).status_code == 404
    assert read_feed(new_url).status_code == 200


def test_calendar_feed_is_404_after_revoking(attorney_client, attorney, token):
    assert read_feed(feed_url(token)).status_code == 200

    response = attorney_client.post(reverse("casework:calendar"), {"action": "revoke"})

    assert response.status_code == 302
    assert read_feed(feed_url(token)).status_code == 404
    assert not attorney.calendar_feeds.filter(revoked_at__isnull=True).exists()


def test_calendar_feed_revoke_service_stops_the_address(attorney, token):
    revoked = calendar_feed_revoke(user=attorney)

    assert revoked == 1
    assert read_feed(feed_url(token)).status_code == 404


def test_calendar_feed_of_deactivated_attorney_is_404(attorney, token):
    attorney.is_active = False
    attorney.save(update_fields=["is_active"])

    response = read_feed(feed_url(token))

    assert response.status_code == 404


def test_calendar_feed_random_token_is_404(token):
    response = read_feed(feed_url("not-a-real-token-0123456789abcdefghijklmnop"))

    assert response.status_code == 404


def test_calendar_feed_drops_hearing_when_assignment_ends(assigned_case, attorney, supervisor, hearing, token):
    assignment = Assignment.objects.get(case=assigned_case, attorney=attorney, ended_at__isnull=True)
    before = read_feed(feed_url(token))

    services.assignment_end(assignment=assignment, by=supervisor)
    after = read_feed(feed_url(token))

    assert f"hearing-{hearing.pk}@testserver" in events_by_uid(before)
    assert after.status_code == 200
    assert f"hearing-{hearing.pk}@testserver" not in events_by_uid(after)
    assert assigned_case.number not in unfolded(after)


def test_calendar_feed_records_last_use(attorney, token):
    read_feed(feed_url(token))

    assert attorney.calendar_feeds.get(revoked_at__isnull=True).last_used_at is not None


# --- Time zones: TZID and VTIMEZONE --------------------------------------------------------
# Worked example: San Francisco Immigration Court, Tue 12 Jan 2027 06:00 PST = 14:00 UTC.

SF_START = datetime(2027, 1, 12, 14, 0, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch):
    """Friday 8 January 2027, noon in New York: the hearings below are days ahead."""
    monkeypatch.setattr(timezone, "now", lambda: datetime(2027, 1, 8, 17, 0, tzinfo=UTC))


@pytest.fixture
def san_francisco(db):
    return ImmigrationCourt.objects.get(name="San Francisco Immigration Court")


def vtimezones(response) -> dict[str, object]:
    calendar = Calendar.from_ical(response.content)
    return {str(tz["TZID"]): tz for tz in calendar.walk("VTIMEZONE")}


def test_calendar_feed_has_one_vtimezone_per_zone_used(
    frozen, assigned_case, attorney, court, san_francisco, hearing, token
):
    for day in (12, 13):
        services.hearing_schedule(
            case=assigned_case,
            kind="individual",
            starts_at=SF_START.replace(day=day),
            court=san_francisco,
            by=attorney,
        )

    response = read_feed(feed_url(token))

    assert sorted(vtimezones(response)) == ["America/Los_Angeles", "America/Phoenix"]
    assert unfolded(response).count("BEGIN:VTIMEZONE") == 2
    # RFC 5545 3.6.5: the VTIMEZONE comes before the events that refer to it.
    assert unfolded(response).index("BEGIN:VTIMEZONE") < unfolded(response).index("BEGIN:VEVENT")


def test_calendar_feed_vtimezone_gives_the_hearings_instant(frozen, assigned_case, attorney, san_francisco, token):
    hearing = services.hearing_schedule(
        case=assigned_case, kind="master", starts_at=SF_START, court=san_francisco, by=attorney
    )

    response = read_feed(feed_url(token))

    text = unfolded(response)
    assert "DTSTART;TZID=America/Los_Angeles:20270112T060000" in text
    assert "DTEND;TZID=America/Los_Angeles:20270112T070000" in text
    event = events_by_uid(response)[f"hearing-{hearing.pk}@testserver"]
    assert event.decoded("DTSTART") == SF_START
    # A client that knows no zone names reads the offset from the VTIMEZONE block itself.
    own_zone = vtimezones(response)["America/Los_Angeles"].to_tz()
    wall_clock = datetime(2027, 1, 12, 6, 0)
    assert wall_clock.replace(tzinfo=own_zone) == SF_START
    assert wall_clock.replace(tzinfo=own_zone).tzname() == "PST"


def test_calendar_feed_hearing_with_override_uses_the_notice_zone(
    frozen, assigned_case, attorney, san_francisco, token
):
    hearing = services.hearing_schedule(
        case=assigned_case,
        kind="master",
        starts_at=SF_START,
        court=san_francisco,
        timezone_override="America/New_York",
        by=attorney,
    )

    response = read_feed(feed_url(token))

    text = unfolded(response)
    assert "DTSTART;TZID=America/New_York:20270112T090000" in text
    assert sorted(vtimezones(response)) == ["America/New_York"]
    event = events_by_uid(response)[f"hearing-{hearing.pk}@testserver"]
    assert event.decoded("DTSTART") == SF_START
    assert str(event.decoded("DTSTART").tzinfo) == "America/New_York"
    assert str(event["DESCRIPTION"]).endswith("09:00 EST (New York) · 06:00 PST at the court (San Francisco)")


def test_calendar_feed_description_gives_the_notice_time_with_zone(hearing, token):
    response = read_feed(feed_url(token))

    event = events_by_uid(response)[f"hearing-{hearing.pk}@testserver"]
    assert str(event["DESCRIPTION"]).startswith("Time on the hearing notice: ")
    assert str(event["DESCRIPTION"]).endswith(", 09:00 MST (Eloy)")
