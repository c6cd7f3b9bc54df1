"""The daily reminder digest: one e-mail per attorney, case numbers only, each item at most once a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from celery.exceptions import Retry
from celery.schedules import crontab
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone, translation
from django.utils.formats import date_format

from casework import services
from casework.models import AssignmentRole, CloseReason, DeadlineStatus, ImmigrationCourt, ReminderSent
from casework.services.reminders import reminder_recipients, reminder_send_digest
from casework.tasks import scan_reminders

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
    MANUAL_TITLE,
    "passport",
)


class FailingEmailBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):
        raise OSError("SMTP server unavailable")


def expected_subject(day: date) -> str:
    with translation.override("en"):
        return f"[Amparo] Your hearings and deadlines for {date_format(day, 'DATE_FORMAT')}"


def sent_items(user, day: date) -> set[tuple[str, int]]:
    return set(ReminderSent.objects.filter(user=user, sent_on=day).values_list("item_kind", "item_id"))


@pytest.fixture
def today() -> date:
    return timezone.localdate()


@pytest.fixture
def upcoming(assigned_case, attorney, court, today):
    """On the attorney's case: a hearing tomorrow, a deadline in 5 days and one 3 days overdue."""
    hearing = services.hearing_schedule(
        case=assigned_case,
        kind="master",
        starts_at=(timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0),
        court=court,
        by=attorney,
    )
    soon = services.deadline_add_manual(
        case=assigned_case, title=MANUAL_TITLE, due_on=today + timedelta(days=5), by=attorney
    )
    overdue = services.deadline_add_manual(
        case=assigned_case, title="Submit evidence for José", due_on=today - timedelta(days=3), by=attorney
    )
    return {"hearing": hearing, "soon": soon, "overdue": overdue}


@pytest.fixture
def second_case(register_case, intake_worker, supervisor, attorney):
    """Another case led by the same attorney, for a detainee with different details."""
    case = register_case(by=intake_worker, given_names="Rosa", family_names="Méndez", a_number="098765432")
    services.case_assign(case=case, attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    case.refresh_from_db()
    return case


def test_scan_reminders_sends_one_digest_per_attorney(
    assigned_case, attorney, upcoming, today, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        scan_reminders()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [attorney.email]
    assert message.subject == expected_subject(today)
    assert sent_items(attorney, today) == {
        ("hearing", upcoming["hearing"].pk),
        ("deadline", upcoming["soon"].pk),
        ("deadline", upcoming["overdue"].pk),
    }


def test_reminder_digest_subject_names_no_case_and_no_one(assigned_case, attorney, upcoming, today):
    reminder_send_digest(user_id=attorney.pk, today=today)

    [message] = mail.outbox
    assert assigned_case.number not in message.subject
    for word in PERSONAL_WORDS:
        assert word not in message.subject


def test_reminder_digest_body_has_case_numbers_but_no_personal_data(assigned_case, attorney, upcoming, court, today):
    sent = reminder_send_digest(user_id=attorney.pk, today=today)

    assert sent is True
    [message] = mail.outbox
    body = message.body
    assert assigned_case.number in body
    assert "Master calendar" in body
    assert court.name in body
    assert "OVERDUE" in body
    assert date_format(upcoming["soon"].due_on, "D j M") in body
    assert date_format(upcoming["overdue"].due_on, "D j M") in body
    for word in (*PERSONAL_WORDS, assigned_case.detainee.given_names, assigned_case.detainee.family_names):
        assert word not in body, word


def test_reminder_digest_second_run_same_day_sends_nothing(attorney, upcoming, today):
    first = reminder_send_digest(user_id=attorney.pk, today=today)

    second = reminder_send_digest(user_id=attorney.pk, today=today)
    scan_reminders()

    assert (first, second) == (True, False)
    assert len(mail.outbox) == 1
    assert ReminderSent.objects.filter(user=attorney).count() == 3


def test_reminder_digest_next_day_repeats_open_deadlines(assigned_case, attorney, upcoming, today):
    reminder_send_digest(user_id=attorney.pk, today=today)
    tomorrow = today + timedelta(days=1)

    sent = reminder_send_digest(user_id=attorney.pk, today=tomorrow)

    assert sent is True
    assert len(mail.outbox) == 2
    message = mail.outbox[1]
    assert message.subject == expected_subject(tomorrow)
    assert assigned_case.number in message.body
    assert date_format(upcoming["soon"].due_on, "D j M") in message.body
    assert date_format(upcoming["overdue"].due_on, "D j M") in message.body
    assert {("deadline", upcoming["soon"].pk), ("deadline", upcoming["overdue"].pk)} <= sent_items(attorney, tomorrow)


def test_reminder_digest_leaves_out_done_deadline(assigned_case, second_case, attorney, upcoming, today):
    done = services.deadline_add_manual(case=second_case, title="Brief", due_on=today + timedelta(days=2), by=attorney)
    services.deadline_set_status(deadline=done, status=DeadlineStatus.DONE, by=attorney)

    reminder_send_digest(user_id=attorney.pk, today=today)

    [message] = mail.outbox
    assert assigned_case.number in message.body
    assert second_case.number not in message.body
    assert ("deadline", done.pk) not in sent_items(attorney, today)


def test_reminder_digest_leaves_out_closed_case(
    assigned_case, second_case, attorney, supervisor, court, upcoming, today
):
    closed_hearing = services.hearing_schedule(
        case=second_case, kind="bond", starts_at=timezone.now() + timedelta(hours=20), court=court, by=attorney
    )
    closed_deadline = services.deadline_add_manual(
        case=second_case, title="Bond packet", due_on=today + timedelta(days=1), by=attorney
    )
    services.case_close(case=second_case, reason=CloseReason.choices[0][0], note="", by=supervisor)

    reminder_send_digest(user_id=attorney.pk, today=today)

    [message] = mail.outbox
    assert assigned_case.number in message.body
    assert second_case.number not in message.body
    items = sent_items(attorney, today)
    assert ("hearing", closed_hearing.pk) not in items
    assert ("deadline", closed_deadline.pk) not in items


def test_reminder_digest_leaves_out_hearing_three_days_away(
    assigned_case, second_case, attorney, court, upcoming, today
):
    later = services.hearing_schedule(
        case=second_case, kind="individual", starts_at=timezone.now() + timedelta(days=3), court=court, by=attorney
    )

    reminder_send_digest(user_id=attorney.pk, today=today)

    [message] = mail.outbox
    assert second_case.number not in message.body
    assert ("hearing", later.pk) not in sent_items(attorney, today)


def test_reminder_digest_only_hearing_three_days_away_sends_nothing(assigned_case, attorney, court, today):
    services.hearing_schedule(
        case=assigned_case, kind="individual", starts_at=timezone.now() + timedelta(days=3), court=court, by=attorney
    )

    sent = reminder_send_digest(user_id=attorney.pk, today=today)

    assert sent is False
    assert mail.outbox == []
    assert not ReminderSent.objects.exists()


def test_scan_reminders_attorney_with_nothing_upcoming_gets_no_email(
    register_case,
    intake_worker,
    supervisor,
    other_attorney,
    attorney,
    upcoming,
    today,
    django_capture_on_commit_callbacks,
):
    quiet_case = register_case(by=intake_worker, given_names="Rosa", family_names="Méndez", a_number="098765432")
    services.case_assign(case=quiet_case, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor)

    with django_capture_on_commit_callbacks(execute=True):
        scan_reminders()

    assert [message.to for message in mail.outbox] == [[attorney.email]]
    assert not ReminderSent.objects.filter(user=other_attorney).exists()


def test_reminder_digest_for_attorney_with_nothing_upcoming_is_not_sent(assigned_case, attorney, today):
    sent = reminder_send_digest(user_id=attorney.pk, today=today)

    assert sent is False
    assert mail.outbox == []


def test_beat_schedule_runs_scan_reminders_daily(settings):
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == scan_reminders.name]

    assert scan_reminders.name == "casework.tasks.scan_reminders"
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1
    assert len(schedule.minute) == 1
    assert schedule.day_of_week == set(range(7))
    assert schedule.day_of_month == set(range(1, 32))
    assert schedule.month_of_year == set(range(1, 13))


def test_reminder_digest_smtp_failure_leaves_nothing_recorded_so_retry_sends(settings, attorney, upcoming, today):
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"

    with pytest.raises(OSError, match="SMTP server unavailable"):
        reminder_send_digest(user_id=attorney.pk, today=today)

    assert not ReminderSent.objects.exists()
    assert mail.outbox == []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retried = reminder_send_digest(user_id=attorney.pk, today=today)
    assert retried is True
    assert len(mail.outbox) == 1
    assert ReminderSent.objects.filter(user=attorney, sent_on=today).count() == 3


def test_scan_reminders_smtp_failure_is_retried_with_nothing_recorded(
    settings, attorney, upcoming, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"

    # Run eagerly, the digest task's autoretry surfaces as Celery's Retry.
    with pytest.raises(Retry, match="SMTP server unavailable"), django_capture_on_commit_callbacks(execute=True):
        scan_reminders()

    assert not ReminderSent.objects.exists()
    assert mail.outbox == []


def test_reminder_recipients_are_staff_with_an_active_assignment(
    assigned_case, attorney, supervisor, other_attorney, register_case, intake_worker
):
    # other_attorney's only assignment has ended; the supervisor never had one.
    former_case = register_case(by=intake_worker, given_names="Rosa", family_names="Méndez", a_number="098765432")
    assignment = services.case_assign(
        case=former_case, attorney=other_attorney, role=AssignmentRole.LEAD, by=supervisor
    )
    services.assignment_end(assignment=assignment, by=supervisor)

    recipients = reminder_recipients()

    assert recipients == [attorney.pk]


# --- Hearing times: in the hearing's zone, named --------------------------------------------
# Worked example: Monday 11 January 2027, 09:00 in New York (the fund's zone); a hearing at the
# San Francisco Immigration Court on Tuesday 12 January at 06:00 PST (09:00 EST).


@pytest.fixture
def monday_morning(monkeypatch) -> date:
    monkeypatch.setattr(timezone, "now", lambda: datetime(2027, 1, 11, 14, 0, tzinfo=UTC))
    return date(2027, 1, 11)


@pytest.fixture
def san_francisco(db):
    return ImmigrationCourt.objects.get(name="San Francisco Immigration Court")


def test_reminder_digest_gives_hearing_time_in_court_zone_named(monday_morning, assigned_case, attorney, san_francisco):
    services.hearing_schedule(
        case=assigned_case,
        kind="master",
        starts_at=datetime(2027, 1, 12, 14, 0, tzinfo=UTC),
        court=san_francisco,
        by=attorney,
    )

    reminder_send_digest(user_id=attorney.pk, today=monday_morning)

    [message] = mail.outbox
    line = (
        f"- Tue 12 Jan, 06:00 PST (San Francisco) · {assigned_case.number} · Master calendar"
        " · San Francisco Immigration Court\n"
    )
    assert line in message.body
    assert "09:00" not in message.body


def test_reminder_digest_hearing_with_override_gives_both_times(monday_morning, assigned_case, attorney, san_francisco):
    services.hearing_schedule(
        case=assigned_case,
        kind="master",
        starts_at=datetime(2027, 1, 12, 14, 0, tzinfo=UTC),
        court=san_francisco,
        timezone_override="America/New_York",
        by=attorney,
    )

    reminder_send_digest(user_id=attorney.pk, today=monday_morning)

    [message] = mail.outbox
    assert (
        f"- Tue 12 Jan, 09:00 EST (New York) · 06:00 PST at the court (San Francisco) · {assigned_case.number} · "
        in message.body
    )
