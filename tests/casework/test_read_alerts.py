"""Read alerts: the hourly look at the access log raises an alert to administrators when an account reads
many cases it is not assigned to, or exports in bulk; administrators acknowledge each with a note."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.roles import Role
from casework import services
from casework.models import AlertKind, AssignmentRole, ReadAlert
from casework.services import oversight
from casework.tasks import read_alerts_scan as read_alerts_scan_task
from tests.factories import UserFactory
from tests.personas import ADMIN, PERSONAS, outcome, staff_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now().replace(second=0, microsecond=0)


@pytest.fixture
def admin(db):
    return UserFactory(role=Role.ADMIN, full_name="Ada Admin")


def _reads(user, count, *, at, start=1, action="view", object_type="case") -> None:
    """``count`` reads by ``user`` of distinct (made-up) case numbers, all at ``at``."""
    AccessEvent.objects.bulk_create(
        AccessEvent(user=user, action=action, object_type=object_type, object_ref=f"2026-{n:05d}", at=at)
        for n in range(start, start + count)
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_default_limits():
    assert (
        django_settings.READ_ALERT_UNASSIGNED_CASES,
        django_settings.READ_ALERT_SUPERVISOR_CASES,
        django_settings.READ_ALERT_EXPORTS,
    ) == (25, 150, 10)


def test_reading_25_unassigned_cases_in_a_day_raises_nothing_and_26_raise_one_alert(attorney, now):
    _reads(attorney, 25, at=now - timedelta(hours=3))

    assert oversight.read_alerts_scan(now=now) == []

    _reads(attorney, 1, start=26, at=now - timedelta(hours=2))
    (alert,) = oversight.read_alerts_scan(now=now)

    assert (alert.user, alert.kind, alert.count) == (attorney, AlertKind.UNASSIGNED_READS, 26)
    assert (alert.window_start, alert.window_end) == (now - timedelta(hours=24), now)


def test_running_the_scan_again_raises_nothing_new(attorney, now):
    _reads(attorney, 30, at=now - timedelta(hours=3))
    oversight.read_alerts_scan(now=now)

    again = oversight.read_alerts_scan(now=now)
    an_hour_later = oversight.read_alerts_scan(now=now + timedelta(hours=1))

    assert (again, an_hour_later) == ([], [])
    assert ReadAlert.objects.count() == 1


def test_reading_on_after_an_alert_raises_a_new_one_for_the_new_reads_only(attorney, now):
    _reads(attorney, 30, at=now - timedelta(hours=3))
    (first,) = oversight.read_alerts_scan(now=now)
    _reads(attorney, 25, start=100, at=now + timedelta(minutes=30))

    assert oversight.read_alerts_scan(now=now + timedelta(hours=1)) == []

    _reads(attorney, 1, start=200, at=now + timedelta(minutes=40))
    (second,) = oversight.read_alerts_scan(now=now + timedelta(hours=1))

    assert (second.window_start, second.window_end, second.count) == (first.window_end, now + timedelta(hours=1), 26)


def test_the_same_case_read_many_times_counts_once(attorney, now):
    AccessEvent.objects.bulk_create(
        AccessEvent(
            user=attorney, action="view", object_type="case", object_ref="2026-00001", at=now - timedelta(hours=1)
        )
        for _ in range(100)
    )

    assert oversight.read_alerts_scan(now=now) == []


def test_reads_older_than_a_day_do_not_count(attorney, now):
    _reads(attorney, 20, at=now - timedelta(hours=25))
    _reads(attorney, 20, start=100, at=now - timedelta(hours=1))

    assert oversight.read_alerts_scan(now=now) == []


def test_cases_the_account_was_assigned_to_or_registered_do_not_count(
    register_case, intake_worker, supervisor, attorney, now
):
    registered = [
        register_case(by=intake_worker, a_number=f"1000000{n:02d}", given_names=f"Nombre{n}", family_names="Pruneda")
        for n in range(3)
    ]
    services.case_assign(case=registered[0], attorney=attorney, role=AssignmentRole.LEAD, by=supervisor)
    ended = services.case_assign(case=registered[1], attorney=attorney, role=AssignmentRole.CO_COUNSEL, by=supervisor)
    services.assignment_end(assignment=ended, by=supervisor)
    at = now - timedelta(hours=1)
    for case in registered[:2]:
        AccessEvent.objects.create(user=attorney, action="view", object_type="case", object_ref=case.number, at=at)
    _reads(attorney, 25, start=500, at=at)
    # Intake registered all three: its look-ups of them are its own work.
    for case in registered:
        AccessEvent.objects.create(user=intake_worker, action="view", object_type="case", object_ref=case.number, at=at)
    _reads(intake_worker, 25, start=600, at=at)

    assert oversight.read_alerts_scan(now=now) == []

    AccessEvent.objects.create(user=attorney, action="view", object_type="case", object_ref=registered[2].number, at=at)
    (alert,) = oversight.read_alerts_scan(now=now)
    assert (alert.user, alert.count) == (attorney, 26)


def test_only_views_of_cases_count_as_case_reads(attorney, now):
    _reads(attorney, 30, object_type="case_reads", at=now - timedelta(hours=1))
    _reads(attorney, 30, start=100, action="change", at=now - timedelta(hours=1))

    assert oversight.read_alerts_scan(now=now) == []


def test_supervisors_count_against_their_own_higher_limit(supervisor, now):
    _reads(supervisor, 150, at=now - timedelta(hours=1))

    assert oversight.read_alerts_scan(now=now) == []

    _reads(supervisor, 1, start=151, at=now - timedelta(hours=1))
    (alert,) = oversight.read_alerts_scan(now=now)
    assert (alert.user, alert.count) == (supervisor, 151)


def test_ten_exports_or_downloads_raise_nothing_and_eleven_raise_one_alert(client_for, now):
    finance = UserFactory(role=Role.FINANCE)
    _reads(finance, 6, action="export", object_type="report", at=now - timedelta(hours=1))
    _reads(finance, 4, start=10, action="download", object_type="report", at=now - timedelta(hours=1))

    assert oversight.read_alerts_scan(now=now) == []

    _reads(finance, 1, start=20, action="download", object_type="document", at=now - timedelta(minutes=10))
    (alert,) = oversight.read_alerts_scan(now=now)
    assert (alert.user, alert.kind, alert.count) == (finance, AlertKind.BULK_EXPORTS, 11)


def test_each_new_alert_is_mailed_to_the_active_administrators_without_case_data(
    register_case, intake_worker, admin, attorney, now, django_capture_on_commit_callbacks
):
    UserFactory(role=Role.ADMIN, is_active=False, email="gone@example.org")
    UserFactory(role=Role.SUPERVISOR, email="sup@example.org")
    second_admin = UserFactory(role=Role.ADMIN)
    case = register_case(by=intake_worker)
    AccessEvent.objects.create(
        user=attorney, action="view", object_type="case", object_ref=case.number, at=now - timedelta(hours=1)
    )
    _reads(attorney, 25, start=700, at=now - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        oversight.read_alerts_scan(now=now)

    (message,) = mail.outbox
    assert sorted(message.to) == sorted([admin.email, second_admin.email])
    assert message.subject == f"[Amparo] Read alert: {attorney.email} read 26 cases not assigned to them"
    assert attorney.full_name in message.body
    assert "26" in message.body and "more than 25 in 24 hours" in message.body
    text = message.subject + message.body
    for personal in ("José", "Hernández", "012345678", "María", "555 0100", case.number, "2026-00700"):
        assert personal not in text
    assert reverse("casework:staff-reads", args=[attorney.pk]) in message.body


def test_no_mail_for_a_scan_that_raises_nothing(admin, attorney, now, django_capture_on_commit_callbacks):
    _reads(attorney, 30, at=now - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        oversight.read_alerts_scan(now=now)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        oversight.read_alerts_scan(now=now)

    assert mail.outbox == []


def test_the_beat_runs_the_scan_every_hour(attorney):
    _reads(attorney, 26, at=timezone.now() - timedelta(hours=1))

    assert read_alerts_scan_task.delay().get() == 1
    assert django_settings.CELERY_BEAT_SCHEDULE["read-alerts"]["task"] == "casework.tasks.read_alerts_scan"
    schedule = django_settings.CELERY_BEAT_SCHEDULE["read-alerts"]["schedule"]
    assert (schedule.minute, schedule.hour) == ({5}, set(range(24)))


# --- The administrators' page ---------------------------------------------------------------------


def _alert(user, *, kind=AlertKind.UNASSIGNED_READS, hours_ago=1) -> ReadAlert:
    end = timezone.now() - timedelta(hours=hours_ago)
    return ReadAlert.objects.create(
        user=user, kind=kind, count=30, window_start=end - timedelta(hours=24), window_end=end
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("read-alert-list", staff_page({ADMIN}, 200, 405)), ("read-alert-acknowledge", staff_page({ADMIN}, 200, 422))],
)
def test_read_alerts_are_for_administrators_only(personas, attorney, name, expected):
    alert = _alert(attorney)
    url = reverse(f"casework:{name}", kwargs={"pk": alert.pk} if name == "read-alert-acknowledge" else {})

    seen = {}
    for persona in PERSONAS:
        client = personas.client(persona)
        seen[persona] = (outcome(client.get(url)), outcome(client.post(url, {})))

    assert seen == expected


def test_the_alerts_page_lists_open_alerts_first(admin, attorney, other_attorney):
    acknowledged = _alert(other_attorney, hours_ago=0)
    oversight.read_alert_acknowledge(alert=acknowledged, note="Covering for Ana.", by=admin)
    waiting = _alert(attorney, hours_ago=5)

    page = _client(admin).get(reverse("casework:read-alert-list")).content.decode()

    assert page.index(attorney.email) < page.index(other_attorney.email)
    assert "Covering for Ana." in page
    assert reverse("casework:read-alert-acknowledge", args=[waiting.pk]) in page
    assert reverse("casework:read-alert-acknowledge", args=[acknowledged.pk]) not in page


def test_acknowledging_an_alert_records_who_and_the_note_and_logs_it(admin, attorney):
    alert = _alert(attorney)

    response = _client(admin).post(
        reverse("casework:read-alert-acknowledge", args=[alert.pk]), {"note": "Asked by the supervisor."}
    )

    alert.refresh_from_db()
    assert response.status_code == 302
    assert (alert.acknowledged_by, alert.note) == (admin, "Asked by the supervisor.")
    assert alert.acknowledged_at is not None
    event = AccessEvent.objects.get(object_type="read_alert")
    assert (event.user, event.action, event.object_ref) == (admin, "change", str(alert.pk))
    assert "supervisor" not in event.detail


@pytest.mark.parametrize(("note", "message"), [("", "This field is required."), ("x" * 301, "at most 300 characters")])
def test_an_acknowledgement_needs_a_short_note(admin, attorney, note, message):
    alert = _alert(attorney)

    response = _client(admin).post(reverse("casework:read-alert-acknowledge", args=[alert.pk]), {"note": note})

    assert response.status_code == 422
    assert message in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_an_alert_about_ones_own_account_needs_another_administrator(admin):
    alert = _alert(admin, kind=AlertKind.BULK_EXPORTS)

    response = _client(admin).post(reverse("casework:read-alert-acknowledge", args=[alert.pk]), {"note": "Was me."})

    assert response.status_code == 422
    assert "must be acknowledged by another administrator" in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_an_alert_is_acknowledged_once(admin, attorney):
    alert = _alert(attorney)
    oversight.read_alert_acknowledge(alert=alert, note="Fine.", by=admin)

    response = _client(UserFactory(role=Role.ADMIN)).post(
        reverse("casework:read-alert-acknowledge", args=[alert.pk]), {"note": "Again."}
    )

    assert response.status_code == 422
    assert "already been acknowledged" in response.content.decode()
    alert.refresh_from_db()
    assert alert.note == "Fine."


def test_the_menu_offers_read_alerts_to_administrators_only(client_for):
    url = reverse("casework:read-alert-list")
    for role in Role:
        page = client_for(role).get("/", follow=True).content.decode()
        assert (f'href="{url}"' in page) is (role == Role.ADMIN), role
