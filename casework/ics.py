"""An attorney's hearings and deadlines as an iCalendar feed.

Only case numbers, hearing types and courts: no names, no A-numbers, nothing a calendar
provider or a shared calendar could leak about the person.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from casework.deadlines import Rule
from casework.models import Deadline, DeadlineStatus, Hearing, HearingKind
from casework.selectors import my_case_ids
from casework.templatetags.hearing_time import hearing_time


def attorney_calendar(user) -> bytes:
    now = timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//Amparo//Hearings and deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Amparo")
    host = settings.SITE_URL.split("://", 1)[-1] or "amparo"
    hearings = (
        Hearing.objects.filter(case__in=my_case_ids(user), starts_at__gte=now - timedelta(days=30))
        .select_related("case", "court")
        .order_by("starts_at")
    )
    for hearing in hearings:
        event = Event()
        event.add("uid", f"hearing-{hearing.pk}@{host}")
        event.add("dtstamp", now)
        # In the hearing's own zone (TZID), so a calendar app moves it correctly across DST changes.
        start = hearing.local_start
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(hours=1))
        event.add("summary", f"{hearing.case.number} · {HearingKind(hearing.kind).label}")
        event.add("location", hearing.place_name)
        # A calendar app shows its own zone; the notice's time, zone named, is in the description.
        event.add("description", _("Time on the hearing notice: %(time)s") % {"time": hearing_time(hearing)})
        calendar.add_component(event)
    deadlines = (
        Deadline.objects.filter(case__in=my_case_ids(user), status=DeadlineStatus.OPEN)
        .select_related("case")
        .order_by("due_on")
    )
    for deadline in deadlines:
        event = Event()
        event.add("uid", f"deadline-{deadline.pk}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", deadline.due_on)
        event.add("dtend", deadline.due_on + timedelta(days=1))
        # A hand-written title may name the person: only the rule's label goes out.
        what = deadline.get_rule_display() if deadline.rule != Rule.MANUAL else _("Deadline")
        event.add("summary", f"{deadline.case.number} · {what}")
        calendar.add_component(event)
    # One VTIMEZONE per zone used (RFC 5545 3.6.5: every TZID must have one), from zoneinfo.
    calendar.add_missing_timezones()
    return calendar.to_ical()
