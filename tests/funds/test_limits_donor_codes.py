"""Donor sign-in codes are limited per donor (e-mail address) as well as per client address.

Worked example with the limits in ``funds.services.donor_portal``: from places the donor has
never signed in from, 10 codes an hour may be asked for one address, and 15 wrong codes a day
tried; each code allows 5 tries. So 20 attackers' addresses get 10 codes in all in an hour, and
15 guesses a day (1 in 66,000 of finding a 6-digit code), while María, from the computer she
signed in from before, still gets her code and signs in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client

from funds.models import Donation, Donor, Fund
from funds.services import donor_portal

pytestmark = pytest.mark.django_db

HOME = "192.0.2.30"
ATTACKERS = [f"203.0.113.{n}" for n in range(1, 21)]


@pytest.fixture
def donor(db) -> Donor:
    donor = Donor.objects.create(email="maria@example.org", name="María Donante Núñez")
    Donation.objects.create(
        donor=donor,
        fund=Fund.objects.get(slug="general"),
        amount_cents=12500,
        status=Donation.Status.PAID,
        paid_at=datetime(2026, 3, 14, 15, tzinfo=UTC),
    )
    return donor


def _ask(ip: str, capture, email: str = "maria@example.org") -> tuple[Client, int, str | None]:
    """A client at ``ip`` asks for a code: the client, the status, the code if one was e-mailed."""
    client = Client(REMOTE_ADDR=ip)
    sent_before = len(mail.outbox)
    with capture(execute=True):
        response = client.post("/donor/", {"email": email})
    code = None
    if len(mail.outbox) > sent_before:
        code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    return client, response.status_code, code


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _signs_in(client: Client, code: str) -> bool:
    response = client.post("/donor/code/", {"code": code})
    return response.status_code == 302 and response["Location"] == "/donor/gifts/"


def test_many_places_get_ten_codes_an_hour_for_one_donor(donor, django_capture_on_commit_callbacks):
    statuses = [_ask(ip, django_capture_on_commit_callbacks)[1] for ip in ATTACKERS[:15]]

    assert statuses == [302] * donor_portal.REQUESTS_PER_DONOR + [429] * 5
    assert len(mail.outbox) == 10


def test_the_pause_page_says_how_long_to_wait(donor, django_capture_on_commit_callbacks):
    for ip in ATTACKERS[:10]:
        _ask(ip, django_capture_on_commit_callbacks)

    client = Client(REMOTE_ADDR=ATTACKERS[10])
    response = client.post("/donor/", {"email": "maria@example.org"})

    assert response.status_code == 429
    assert "Please wait 60 minutes and try again." in response.content.decode()


def test_the_limit_is_per_address_whether_or_not_it_gave(donor, django_capture_on_commit_callbacks):
    """Someone who never gave is limited alike: the answers tell nobody who gives."""
    statuses = [_ask(ip, django_capture_on_commit_callbacks, "nobody@example.org")[1] for ip in ATTACKERS[:11]]

    assert statuses == [302] * 10 + [429]


def test_the_donor_at_her_own_computer_still_gets_a_code_and_signs_in(donor, django_capture_on_commit_callbacks):
    client, _status, code = _ask(HOME, django_capture_on_commit_callbacks)
    assert _signs_in(client, code)  # she signed in from home once: home is a known place
    for ip in ATTACKERS[:15]:
        _ask(ip, django_capture_on_commit_callbacks)

    client, status, code = _ask(HOME, django_capture_on_commit_callbacks)

    assert status == 302
    assert _signs_in(client, code)


def test_wrong_codes_for_one_donor_from_many_places_pause_new_places_for_the_day(
    donor, django_capture_on_commit_callbacks
):
    tried = 0
    for ip in ATTACKERS[:3]:
        client, _status, code = _ask(ip, django_capture_on_commit_callbacks)
        for _ in range(donor_portal.MAX_ATTEMPTS):
            client.post("/donor/code/", {"code": _wrong(code)})
            tried += 1
    assert tried == donor_portal.WRONG_CODES_PER_DONOR

    client, status, code = _ask(ATTACKERS[3], django_capture_on_commit_callbacks)
    refused = client.post("/donor/code/", {"code": code}, follow=True)  # even the right code

    assert status == 302
    assert "Too many wrong codes were tried for this address today." in refused.content.decode()
    assert donor_portal.donor_from_session(client.session) is None


def test_after_a_day_a_new_place_may_sign_in_again(donor, django_capture_on_commit_callbacks, monkeypatch):
    for ip in ATTACKERS[:3]:
        client, _status, code = _ask(ip, django_capture_on_commit_callbacks)
        for _ in range(donor_portal.MAX_ATTEMPTS):
            client.post("/donor/code/", {"code": _wrong(code)})
    tomorrow = donor_portal.code_clock() + donor_portal.WRONG_CODES_WINDOW_SECONDS
    monkeypatch.setattr(donor_portal, "code_clock", lambda: tomorrow)

    client, _status, code = _ask(ATTACKERS[4], django_capture_on_commit_callbacks)

    assert _signs_in(client, code)


def test_wrong_codes_from_the_donor_s_own_computer_do_not_pause_her(donor, django_capture_on_commit_callbacks):
    client, _status, code = _ask(HOME, django_capture_on_commit_callbacks)
    assert _signs_in(client, code)
    for _ in range(4):  # she mistypes, a lot, over several codes: 16 wrong ones in all
        client, _status, code = _ask(HOME, django_capture_on_commit_callbacks)
        for _ in range(4):
            client.post("/donor/code/", {"code": _wrong(code)})
        assert _signs_in(client, code)

    assert donor_portal.WRONG_CODES_PER_DONOR < 16
