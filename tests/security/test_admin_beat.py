"""Periodic tasks are defined in code: the admin shows them and changes none of them, for anyone; beat puts
the database's copy back in line with the code when it starts."""

from __future__ import annotations

import pytest
from celery.signals import beat_init
from django.conf import settings
from django.contrib.auth.models import Group
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.models import AccessEvent
from accounts.roles import Role
from amparo.celery import beat_schedule_from_code

pytestmark = pytest.mark.django_db

REMINDERS = "casework-daily-reminders"
FORGED = "accounts.tasks.send_account_email"  # e-mails anyone: the kind of task a forger would pick


@pytest.fixture
def reminders() -> PeriodicTask:
    beat_schedule_from_code()
    return PeriodicTask.objects.get(name=REMINDERS)


@pytest.fixture(params=["administrator", "superuser"])
def admin(request, client_for):
    # Administrators hold "change periodic task" (migration accounts 0002); a superuser holds everything.
    return client_for(Role.ADMIN, is_superuser=request.param == "superuser")


def test_the_admin_shows_the_code_defined_tasks(admin, reminders):
    listing = admin.get("/admin/django_celery_beat/periodictask/")
    detail = admin.get(f"/admin/django_celery_beat/periodictask/{reminders.pk}/change/")

    assert listing.status_code == 200
    assert REMINDERS in listing.content.decode()
    assert detail.status_code == 200
    assert "casework.tasks.scan_reminders" in detail.content.decode()
    assert 'name="task"' not in detail.content.decode()  # shown, not editable
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= set(settings.CELERY_BEAT_SCHEDULE)


def test_a_beat_task_cannot_be_repointed_or_switched_off_through_the_admin(admin, reminders):
    change = admin.post(
        f"/admin/django_celery_beat/periodictask/{reminders.pk}/change/",
        {"name": REMINDERS, "regtask": FORGED, "task": FORGED, "enabled": "", "crontab": reminders.crontab_id},
    )

    assert change.status_code == 403
    reminders.refresh_from_db()
    assert (reminders.task, reminders.enabled) == ("casework.tasks.scan_reminders", True)


@pytest.mark.parametrize("action", ["disable_tasks", "toggle_tasks", "run_tasks", "delete_selected"])
def test_no_list_action_touches_the_beat_tasks(admin, reminders, action):
    listing = admin.get("/admin/django_celery_beat/periodictask/").content.decode()

    response = admin.post(
        "/admin/django_celery_beat/periodictask/",
        {"action": action, "_selected_action": [reminders.pk], "post": "yes"},
    )

    assert 'name="action"' not in listing  # no action is offered at all
    assert response.status_code in (200, 302)
    reminders.refresh_from_db()
    assert reminders.enabled
    assert PeriodicTask.objects.filter(name=REMINDERS).exists()
    assert not AccessEvent.objects.filter(object_type__startswith="admin:django_celery_beat").exists()


def test_beat_tasks_and_schedules_cannot_be_added_or_deleted(admin, reminders):
    assert admin.get("/admin/django_celery_beat/periodictask/add/").status_code == 403
    assert (
        admin.post("/admin/django_celery_beat/periodictask/add/", {"name": "evil", "task": FORGED}).status_code == 403
    )
    assert (
        admin.post(f"/admin/django_celery_beat/periodictask/{reminders.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert admin.post("/admin/django_celery_beat/crontabschedule/add/", {"minute": "*"}).status_code == 403
    crontab = CrontabSchedule.objects.get(pk=reminders.crontab_id)
    assert (
        admin.post(f"/admin/django_celery_beat/crontabschedule/{crontab.pk}/change/", {"minute": "*"}).status_code
        == 403
    )
    assert PeriodicTask.objects.filter(name="evil").count() == 0
    assert PeriodicTask.objects.filter(pk=reminders.pk).exists()


def test_role_groups_are_read_only_in_the_admin(client_for):
    superuser = client_for(Role.ADMIN, is_superuser=True)
    admin_group = Group.objects.get(name="admin")

    response = superuser.post(f"/admin/auth/group/{admin_group.pk}/change/", {"name": "renamed"})

    assert response.status_code == 403
    admin_group.refresh_from_db()
    assert admin_group.name == "admin"


def test_beat_start_puts_tampered_rows_back_as_the_code_defines_them(reminders):
    # What a database shell or an old backup could leave behind: reminders re-pointed and switched
    # off, set to run once, and a task the code never scheduled.
    PeriodicTask.objects.filter(pk=reminders.pk).update(
        task=FORGED, kwargs='{"to": "x@example.net"}', enabled=False, one_off=True
    )
    PeriodicTask.objects.create(name="evil", task=FORGED, crontab=reminders.crontab, enabled=True)

    beat_init.send(sender=None)

    reminders.refresh_from_db()
    assert (reminders.task, reminders.kwargs, reminders.enabled, reminders.one_off) == (
        "casework.tasks.scan_reminders",
        "{}",
        True,
        False,
    )
    assert PeriodicTask.objects.get(name="evil").enabled is False
    assert beat_schedule_from_code() == []  # already in line: nothing more to disable
