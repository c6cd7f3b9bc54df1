"""Nothing the whole test run logged, linked, redirected to, e-mailed or sent to Celery names a person.

``tests/pii_watch.py`` captures those channels from the first test on and learns every detainee's,
family contact's and obligor's name, A-number and phone as they are saved; the last test here runs
after every other test (the plugin orders it so) and reads what was captured.
"""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from casework import services
from tests.factories import UserFactory
from tests.pii_watch import WATCH, Watch


def test_the_watch_finds_a_name_or_a_number_in_any_spelling():
    watch = Watch()
    watch.remember_name("Anselmo Tzul Batz")
    watch.remember_name("Luz")  # too short to be told from ordinary words: not watched
    watch.remember_digits("045678901")
    watch.remember_digits("+1 (555) 010-0123")
    watch.add("log", "intake of ANSELMO TZUL BATZ failed")
    watch.add("url", "/cases/?q=A-045-678-901")
    watch.add("task", "send {'to': '+1 555 010 0123'}")
    watch.add("email", "Hearing for case 2026-000045678901x")  # digits inside a longer number: not a match
    watch.add("log", "Luz is a word too")

    found = {(channel, value) for channel, value, _where, _excerpt in watch.findings()}

    assert found == {("log", "anselmo tzul batz"), ("url", "045678901"), ("task", "15550100123")}


@pytest.mark.django_db
def test_nothing_captured_during_the_suite_names_a_person():
    # This test's own traffic, so that each channel holds something even when it runs alone.
    intake = UserFactory(role=Role.INTAKE)
    case = services.case_register(
        data=services.IntakeData(given_names="Anselmo", family_names="Tzul Batz", a_number="045678901"), by=intake
    )
    client = Client()
    client.force_login(intake)
    assert client.get(reverse("casework:case-detail", args=[case.number])).status_code == 200
    logging.getLogger("amparo.watch").warning("case %s looked at", case.number)
    mail.send_mail(f"Reminder for case {case.number}", "A hearing is coming.", "a@example.org", ["b@example.org"])

    channels = {channel for channel, _text, _where in WATCH.captured}
    assert {"log", "url", "email"} <= channels
    assert "Tzul Batz" in WATCH.names and "045678901" in WATCH.digits

    leaks = WATCH.findings()

    assert leaks == [], "\n".join(f"{c} in {where}: {value!r} … {excerpt!r}" for c, value, where, excerpt in leaks[:40])
