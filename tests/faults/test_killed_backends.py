"""PostgreSQL backends killed at random while intake workers register people through a live server.

A killer connection terminates every other backend of the test database (``pg_terminate_backend``)
every few tens of milliseconds while intakes are posted over HTTP. Every answer must be either the
case (302) or the honest "could not confirm" page (503) carrying the typed form — never a 500, never
a false "bad request". Sending each unconfirmed form again (same one-time key) once the killing stops
must leave exactly one complete case per form: none lost, none doubled, none half-written.
"""

from __future__ import annotations

import html
import random
import re
import threading
import time
from datetime import date, timedelta

import httpx
import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from casework.models import Case, CustodyPeriod, DetentionFacility, Note
from kernel.models import SubmissionKey
from tests.factories import UserFactory
from tests.forms import once

pytestmark = pytest.mark.django_db(transaction=True)

INTAKES = 30


def _connect() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"], autocommit=True
    )


class Killer(threading.Thread):
    """Terminates the test database's other client backends until stopped; counts the kills."""

    def __init__(self, *, spare: int) -> None:
        super().__init__(daemon=True)
        self.spare = spare  # the test's own connection, used for the checks afterwards
        self.stop = threading.Event()
        self.kills = 0

    def run(self) -> None:
        with _connect() as killer:
            name = connection.settings_dict["NAME"]
            while not self.stop.is_set():
                killed = killer.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s"
                    " AND pid <> pg_backend_pid() AND pid <> %s AND backend_type = 'client backend'",
                    [name, self.spare],
                ).fetchone()
                self.kills += killed[0] if killed else 0
                time.sleep(random.uniform(0.02, 0.12))


def _form(index: int, facility: DetentionFacility) -> dict[str, str]:
    return once(
        {
            "given_names": f"Persona{index:03d}",
            "family_names": f"Ejemplo{index:03d}",
            "date_of_birth": (date(1980, 1, 1) + timedelta(days=37 * index)).isoformat(),  # nobody's duplicate
            "country_of_birth": "Guatemala",
            "languages": "Spanish, K'iche'",
            "detained_on": "2026-11-30",
            "custodian": "ice",
            "facility": str(facility.pk),
            "notes": f"Hotline call {index}.",
        }
    )


@pytest.fixture
def browser(live_server, settings) -> httpx.Client:
    if connection.vendor != "postgresql":
        pytest.skip("kills PostgreSQL backends (CI runs on PostgreSQL)")
    settings.INTAKE_LOOKUPS_PER_WINDOW = 10 * INTAKES  # each intake (and each resend) checks for duplicates
    signed_in = Client()
    signed_in.force_login(UserFactory(role=Role.INTAKE))
    client = httpx.Client(base_url=live_server.url, follow_redirects=False, timeout=30)
    client.cookies.set(settings.SESSION_COOKIE_NAME, signed_in.cookies[settings.SESSION_COOKIE_NAME].value)
    page = client.get(reverse("casework:intake"))
    assert page.status_code == 200
    client.headers["X-CSRFToken"] = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    client.headers["Referer"] = live_server.url + reverse("casework:intake")
    return client


def test_intakes_under_killed_backends_end_with_one_complete_case_each(browser):
    facility = DetentionFacility.objects.order_by("code").first()
    connection.ensure_connection()
    killer = Killer(spare=connection.connection.info.backend_pid)
    forms = [_form(index, facility) for index in range(INTAKES)]
    unconfirmed: list[dict[str, str]] = []
    outcomes: dict[int, int] = {}

    killer.start()
    try:
        for form in forms:
            response = browser.post(reverse("casework:intake"), data=form)
            outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
            assert response.status_code in {302, 503}, response.text[:500]
            if response.status_code == 503:
                assert "We could not confirm that this was saved" in response.text
                kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', response.text))
                kept = {html.unescape(k): html.unescape(v) for k, v in kept.items() if k != "csrfmiddlewaretoken"}
                assert kept == form  # everything typed came back, with the same one-time key
                unconfirmed.append(kept)
    finally:
        killer.stop.set()
        killer.join()

    # The drill really happened: backends were killed and some requests did meet a dead connection.
    drill = f"killed {killer.kills} backends; answers {outcomes}"
    assert killer.kills > 0, drill
    assert outcomes.get(503, 0) > 0, drill
    for kept in unconfirmed:
        again = browser.post(reverse("casework:intake"), data=kept)
        assert again.status_code == 302, again.text[:500]

    cases = list(Case.objects.select_related("detainee"))
    assert sorted(case.detainee.given_names for case in cases) == [f"Persona{i:03d}" for i in range(INTAKES)]
    assert SubmissionKey.objects.filter(form="casework.intake").count() == INTAKES
    # Complete: every case has the custody period and the note the same form made.
    assert CustodyPeriod.objects.filter(case__in=cases).count() == INTAKES
    assert Note.objects.filter(case__in=cases).count() == INTAKES
