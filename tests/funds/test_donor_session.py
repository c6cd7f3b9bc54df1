"""A donor-portal session's lifetime and its sign-out (ASVS 7.3.2, 7.4.4, 14.3.1).

A donor session ends ``DONOR_SESSION_ABSOLUTE_SECONDS`` (2 hours) after the sign-in with the
e-mailed code, however active; every signed-in donor page has the sign-out button; signing out
clears what the browser kept.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client

from funds.donor_session import DONOR_SIGNED_IN_AT
from funds.models import Donation, Donor, Fund, RecurringDonation
from funds.services import donor_portal

pytestmark = pytest.mark.django_db

EMAIL = "lucia.ibarra@example.org"
SIGN_OUT_FORM = '<form method="post" action="/donor/signout/"'
CLEARED = '"cache", "storage"'


@pytest.fixture
def donor(db) -> Donor:
    donor = Donor.objects.create(email=EMAIL, name="Lucía Ibarra")
    # A code is sent only to an address that has given.
    Donation.objects.create(
        donor=donor,
        fund=Fund.objects.get(slug="general"),
        amount_cents=5000,
        status=Donation.Status.PAID,
        paid_at=datetime(2026, 3, 14, 15, tzinfo=UTC),
    )
    return donor


@pytest.fixture
def signed_in(donor, django_capture_on_commit_callbacks) -> Client:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/donor/", {"email": EMAIL})
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    assert client.post("/donor/code/", {"code": code})["Location"] == "/donor/gifts/"
    return client


def signed_in_since(client: Client, seconds_ago: float) -> None:
    session = client.session
    session[DONOR_SIGNED_IN_AT] = time.time() - seconds_ago
    session.save()


def test_the_sign_in_records_when_it_happened(signed_in):
    assert abs(signed_in.session[DONOR_SIGNED_IN_AT] - time.time()) < 10


def test_a_donor_session_ends_two_hours_after_sign_in_however_active(signed_in):
    signed_in_since(signed_in, 2 * 3600 + 60)

    response = signed_in.get("/donor/gifts/")

    assert response["Location"] == "/donor/"
    assert response["Clear-Site-Data"] == CLEARED
    assert donor_portal.DONOR_SESSION_KEY not in signed_in.session
    page = signed_in.get("/donor/").content.decode()
    assert "Your donor session has ended. Please sign in again." in page
    assert signed_in.get("/donor/gifts/")["Location"] == "/donor/"


def test_within_the_two_hours_the_donor_stays_signed_in(signed_in):
    signed_in_since(signed_in, 2 * 3600 - 60)

    assert signed_in.get("/donor/gifts/").status_code == 200


def test_the_start_page_ends_an_expired_session_rather_than_sending_the_donor_on(signed_in):
    signed_in_since(signed_in, 2 * 3600 + 60)

    response = signed_in.get("/donor/")

    assert response["Location"] == "/donor/"
    assert donor_portal.DONOR_SESSION_KEY not in signed_in.session


def test_the_limit_is_the_setting(signed_in, settings):
    settings.DONOR_SESSION_ABSOLUTE_SECONDS = 10 * 60
    signed_in_since(signed_in, 10 * 60 + 1)

    assert signed_in.get("/donor/gifts/")["Location"] == "/donor/"


def test_a_session_without_a_recorded_start_gets_the_limit_from_now(donor):
    client = Client()
    session = client.session
    session[donor_portal.DONOR_SESSION_KEY] = donor.pk  # opened before the limit existed
    session.save()

    assert client.get("/donor/gifts/").status_code == 200
    assert abs(client.session[DONOR_SIGNED_IN_AT] - time.time()) < 10


def test_every_signed_in_donor_page_has_the_sign_out_button(signed_in, donor):
    monthly = RecurringDonation.objects.create(
        donor=donor,
        fund=Fund.objects.get(slug="general"),
        amount_cents=2500,
        stripe_subscription_id="sub_monthly",
        status="active",
    )

    for url in ["/donor/gifts/", f"/donor/recurring/{monthly.pk}/cancel/"]:
        response = signed_in.get(url)

        assert response.status_code == 200, url
        assert SIGN_OUT_FORM in response.content.decode(), url


def test_signing_out_ends_the_session_and_clears_the_browsers_cache_and_storage(signed_in):
    response = signed_in.post("/donor/signout/")

    assert response["Location"] == "/donor/"
    assert response["Clear-Site-Data"] == CLEARED
    assert DONOR_SIGNED_IN_AT not in signed_in.session
    assert signed_in.get("/donor/gifts/")["Location"] == "/donor/"
