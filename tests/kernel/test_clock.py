"""The fund's calendar: the start of a booking day and local dates, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from kernel.clock import booking_day_start, fund_time_zone, local_date


@pytest.fixture(autouse=True)
def _new_york(settings):
    settings.TIME_ZONE = "America/New_York"


def test_booking_day_start_is_local_midnight_as_an_aware_datetime():
    start = booking_day_start(date(2026, 7, 4))

    assert start == datetime(2026, 7, 4, 4, 0, tzinfo=UTC)  # EDT is UTC-4
    assert timezone.is_aware(start)
    assert start.tzinfo == fund_time_zone()


def test_booking_day_start_on_the_spring_forward_day_gives_a_23_hour_day():
    # Clocks jump from 02:00 to 03:00 in New York on 8 March 2026.
    start = booking_day_start(date(2026, 3, 8))
    next_start = booking_day_start(date(2026, 3, 9))

    assert start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # still EST
    assert next_start == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # EDT
    assert next_start.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)


def test_booking_day_start_on_the_fall_back_day_gives_a_25_hour_day():
    start = booking_day_start(date(2026, 11, 1))
    next_start = booking_day_start(date(2026, 11, 2))

    assert next_start.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)


def test_booking_day_start_where_midnight_is_skipped_is_the_first_instant_of_the_day(settings):
    # Santiago de Chile moves its clocks from 00:00 to 01:00 on 7 September 2025: there is no
    # midnight that day, and the day starts at 01:00 local time (04:00 UTC).
    settings.TIME_ZONE = "America/Santiago"

    start = booking_day_start(date(2025, 9, 7))

    assert start.astimezone(UTC) == datetime(2025, 9, 7, 4, 0, tzinfo=UTC)
    assert local_date(start) == date(2025, 9, 7)
    assert local_date(start - timedelta(microseconds=1)) == date(2025, 9, 6)


def test_booking_day_start_follows_the_fund_zone_not_the_active_one():
    with timezone.override("Asia/Tokyo"):
        assert booking_day_start(date(2026, 1, 15)) == datetime(2026, 1, 15, 5, 0, tzinfo=UTC)


def test_local_date_is_the_date_in_the_fund_zone():
    # 02:30 UTC on New Year's Day is still New Year's Eve in New York.
    assert local_date(datetime(2026, 1, 1, 2, 30, tzinfo=UTC)) == date(2025, 12, 31)
    assert local_date(datetime(2026, 1, 1, 5, 0, tzinfo=UTC)) == date(2026, 1, 1)


def test_a_day_runs_from_its_start_to_the_next_days_start():
    day = date(2026, 3, 8)
    start, end = booking_day_start(day), booking_day_start(day + timedelta(days=1))

    assert local_date(start) == day
    assert local_date(end - timedelta(microseconds=1)) == day
    assert local_date(end) == day + timedelta(days=1)
