"""The duplicate check at intake tells whether a person is on file: it is limited per user and logged.

The check must answer for every case (nobody is registered twice), including cases the worker may
not open. So it could confirm anyone's A-number and case status on request: each user has a budget
of look-ups per window in the shared cache, and each match on a case they cannot open is in the
access log by case number, never the A-number.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from accounts.models import AccessEvent
from accounts.roles import Role
from casework.models import Case
from casework.views import intake as intake_views
from tests.factories import UserFactory
from tests.forms import once

pytestmark = pytest.mark.django_db

CHECK = {"a_number": "A-012-345-678"}


@pytest.fixture
def limit(settings):
    settings.INTAKE_LOOKUPS_PER_WINDOW = 3
    settings.INTAKE_LOOKUP_WINDOW_SECONDS = 300
    return 3


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _check(client, data=CHECK):
    return client.post(reverse("casework:intake-check"), data, HTTP_HX_REQUEST="true")


def test_the_live_check_stops_after_the_users_budget(limit, intake_worker, register_case, supervisor):
    register_case(by=supervisor)
    worker, colleague = _client(intake_worker), _client(UserFactory(role=Role.INTAKE))

    answers = [_check(worker).status_code for _ in range(limit + 1)]
    refused = _check(worker)

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 'id="lookups-exhausted"' in refused.content.decode()
    assert "Too many look-ups" in refused.content.decode() and "Wait up to 5 minutes" in refused.content.decode()
    assert "same A-number" not in refused.content.decode()  # nothing about the case
    assert _check(colleague).status_code == 200  # per user, not for everyone


def test_each_a_number_asked_about_counts(limit, intake_client_for):
    worker = intake_client_for()

    first = _check(worker, {"a_number": "A-012-345-678", "other_a_numbers": "A-098-765-432, 001234567"})
    second = _check(worker)

    assert (first.status_code, second.status_code) == (200, 429)


def test_a_check_that_cannot_match_anything_costs_nothing(limit, intake_client_for):
    worker = intake_client_for()

    for _ in range(limit + 2):
        assert _check(worker, {"given_names": "José", "a_number": "A-12"}).status_code == 200
    assert _check(worker).status_code == 200


def test_the_budget_comes_back_with_the_next_window(limit, intake_client_for, monkeypatch):
    worker = intake_client_for()
    monkeypatch.setattr(intake_views, "lookup_clock", lambda: 1_000_200.0)
    for _ in range(limit):
        _check(worker)
    assert _check(worker).status_code == 429

    monkeypatch.setattr(intake_views, "lookup_clock", lambda: 1_000_200.0 + 300)

    assert _check(worker).status_code == 200


def test_the_intake_form_is_not_saved_without_the_check(limit, intake_client_for):
    worker = intake_client_for()
    for _ in range(limit):
        _check(worker)

    form = {"given_names": "Ramona", "family_names": "Tzul", "a_number": "A-055-123-987", "custodian": "ice"}
    response = worker.post(reverse("casework:intake"), once(form))

    assert response.status_code == 429
    assert not Case.objects.exists()
    page = response.content.decode()
    assert 'value="Ramona"' in page and "Nothing was saved" in page


def test_a_match_on_a_case_the_worker_cannot_open_is_logged_by_number(intake_worker, register_case, supervisor):
    hidden = register_case(by=supervisor)  # intake sees only the cases it registered
    own = register_case(by=intake_worker, a_number="055123987", given_names="Ramona", family_names="Tzul")
    worker = _client(intake_worker)

    by_number = _check(worker)
    _check(worker, {"a_number": "A-055-123-987"})  # their own case: nothing to log
    by_name = _check(worker, {"given_names": "Jose", "family_names": "Hernandez Lopez", "date_of_birth": "1990-05-17"})

    assert hidden.number in by_number.content.decode() and hidden.number in by_name.content.decode()
    logged = list(
        AccessEvent.objects.filter(user=intake_worker, detail__contains="look-up").values_list(
            "action", "object_type", "object_ref", "detail"
        )
    )
    assert sorted(logged) == [
        ("view", "case", hidden.number, "a-number look-up"),
        ("view", "case", hidden.number, "name and birth date look-up"),
    ]
    assert own.number not in [ref for _a, _t, ref, _d in logged]
    written = " ".join(f"{e.object_ref} {e.detail}" for e in AccessEvent.objects.all())
    assert "012345678" not in written and "012-345-678" not in written and "Hernández" not in written


def test_a_supervisor_who_may_open_every_case_leaves_no_look_up_events(register_case, intake_worker, supervisor):
    register_case(by=intake_worker)

    _check(_client(supervisor))

    assert not AccessEvent.objects.filter(detail__contains="look-up").exists()


def test_the_budget_is_kept_in_the_shared_cache(limit, settings, intake_worker, monkeypatch):
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.fail("TEST_REDIS_URL is not set; `make test` starts a Redis server and sets it.")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url.rsplit("/", 1)[0] + "/3",
            "KEY_PREFIX": "lookup-test",
        }
    }
    monkeypatch.setattr(intake_views, "lookup_clock", lambda: 1_000_200.0)
    caches["default"].clear()
    worker = _client(intake_worker)
    for _ in range(limit):
        assert _check(worker).status_code == 200

    # Another web process has its own connection to the same Redis, and sees the same count.
    other_process = caches.create_connection("default")
    seen = other_process.get(f"intake-lookups:{intake_worker.pk}:{1_000_200 // 300}")
    refused = _check(worker)
    caches["default"].clear()

    assert seen == limit
    assert refused.status_code == 429


@pytest.fixture
def intake_client_for(db):
    def make() -> Client:
        return _client(UserFactory(role=Role.INTAKE))

    return make


def test_htmx_shows_the_429_fragment_where_the_duplicate_warning_goes(intake_client_for):
    """htmx swaps no 4xx answer by default: the page's htmx-config makes an exception for 429."""
    page = intake_client_for().get(reverse("casework:intake")).content.decode()

    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1))
    handling = config["responseHandling"]
    first_for_429 = next(rule for rule in handling if re.fullmatch(rule["code"], "429"))
    first_for_404 = next(rule for rule in handling if re.fullmatch(rule["code"], "404"))
    assert first_for_429["swap"] is True and first_for_404["swap"] is False
    assert "{#" not in page  # a template comment left open would spill into the page
