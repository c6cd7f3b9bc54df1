"""The access log at scale: pages by keyset (no COUNT(*), no OFFSET), the person filter served by an
index, and the staff select drawn without a model instance per account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django import forms
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.forms import StaffChoiceField, StaffEmailChoiceField
from accounts.models import AccessEvent, User
from accounts.roles import Role
from reports import selectors as report_selectors
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _events(user: User, n: int, *, start: int = 0) -> None:
    """``n`` views by ``user``, a minute apart, the newest first in number (``2026-<start>``...)."""
    now = timezone.now()
    AccessEvent.objects.bulk_create(
        AccessEvent(
            user=user,
            at=now - timedelta(minutes=start + i),
            action=AccessEvent.Action.VIEW,
            object_type="case",
            object_ref=f"EV-{start + i:05d}",
        )
        for i in range(n)
    )


def _refs(page: str) -> list[str]:
    return re.findall(r"EV-\d{5}", page)


def test_the_admin_access_log_pages_by_keyset_without_a_count(admin_client_):
    author = UserFactory(role=Role.ATTORNEY)
    _events(author, 150)
    url = reverse("accounts:access-log")

    with CaptureQueriesContext(connection) as captured:
        first = admin_client_.get(url)
    page = first.content.decode()
    older = re.search(r'href="(\?after=[^"]+)" rel="next"', page)

    assert first.status_code == 200
    assert not [q for q in captured if "COUNT(" in q["sql"].upper() and "accounts_accessevent" in q["sql"]]
    assert not [q for q in captured if "OFFSET" in q["sql"].upper()]
    assert _refs(page)[:3] == ["EV-00000", "EV-00001", "EV-00002"]  # newest first
    assert older, "an 'Older' link"

    second = admin_client_.get(url + older.group(1).replace("&amp;", "&")).content.decode()
    assert not set(_refs(page)) & set(_refs(second))  # no row on two pages
    assert set(_refs(page)) | set(_refs(second)) == {f"EV-{i:05d}" for i in range(150)}  # none skipped
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second


def test_the_admin_access_log_costs_the_same_queries_for_few_and_many_events(admin_client_):
    author = UserFactory(role=Role.ATTORNEY)
    url = reverse("accounts:access-log")
    _events(author, 3)
    admin_client_.get(url)  # warm up
    with CaptureQueriesContext(connection) as few:
        admin_client_.get(url)
    _events(author, 300, start=3)
    with CaptureQueriesContext(connection) as many:
        admin_client_.get(url)

    assert len(few) == len(many)


def test_the_admin_access_log_is_for_administrators_only(client_for):
    for role in (Role.AUDITOR, Role.SUPERVISOR, Role.ATTORNEY, Role.FINANCE, Role.INTAKE):
        assert client_for(role).get(reverse("accounts:access-log")).status_code == 404


def test_a_cursor_that_cannot_be_read_shows_the_first_page(admin_client_):
    _events(UserFactory(role=Role.ATTORNEY), 5)

    response = admin_client_.get(reverse("accounts:access-log"), {"after": "not-a-cursor!"})

    assert response.status_code == 200
    assert _refs(response.content.decode())[:1] == ["EV-00000"]


# --- EXPLAIN: no sequential scan of the log -----------------------------------------------------


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_the_access_log_by_person_is_read_through_an_index():
    person, other = UserFactory(role=Role.ATTORNEY), UserFactory(role=Role.ATTORNEY)
    _events(person, 50)
    _events(other, 50, start=50)
    today = timezone.localdate()

    for queryset in [
        report_selectors.access_events(user=person)[:101],
        report_selectors.access_events(user=person, date_from=today - timedelta(days=2), date_to=today)[:101],
        account_selectors.access_events(user=person)[:101],
        report_selectors.access_events(user=person).order_by(),  # what a page count of one person reads
    ]:
        plan = _plan(queryset)
        assert "Seq Scan on accounts_accessevent" not in plan, plan
        assert "accounts_event_user_at" in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_the_whole_access_log_newest_first_is_read_through_an_index():
    _events(UserFactory(role=Role.ATTORNEY), 50)

    plan = _plan(account_selectors.access_events()[:101])

    assert "Seq Scan on accounts_accessevent" not in plan, plan


# --- The staff select ---------------------------------------------------------------------------


class _PersonFilter(forms.Form):
    user = StaffEmailChoiceField(queryset=User.objects.order_by("email"), required=False, empty_label="Everyone")
    attorney = StaffChoiceField(queryset=User.objects.order_by("full_name"), required=False)


def test_the_staff_selects_label_people_as_the_app_does_and_clean_to_the_account():
    named = UserFactory(role=Role.ATTORNEY, full_name="Ana Attorney", email="ana@example.org")
    nameless = UserFactory(role=Role.ATTORNEY, full_name="", email="nameless@example.org")

    form = _PersonFilter({"user": str(named.pk), "attorney": str(nameless.pk)})
    user_select, attorney_select = str(form["user"]), str(form["attorney"])

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"user": named, "attorney": nameless}
    assert f'<option value="{named.pk}" selected>ana@example.org</option>' in user_select
    assert '<option value="">Everyone</option>' in user_select
    assert f'<option value="{named.pk}">Ana Attorney</option>' in attorney_select
    assert f'<option value="{nameless.pk}" selected>nameless@example.org</option>' in attorney_select


@pytest.mark.parametrize("value", ["99999999999999999999999", "1e5", "x"])
def test_a_person_who_is_not_there_is_a_form_error(value):
    form = _PersonFilter({"user": value})

    assert not form.is_valid()
    assert "user" in form.errors


def test_the_staff_select_reads_one_query_however_many_accounts(django_assert_num_queries):
    UserFactory.create_batch(30, role=Role.ATTORNEY)
    form = _PersonFilter()

    with django_assert_num_queries(1):
        drawn = str(form["user"])

    assert drawn.count("<option") == User.objects.count() + 1
