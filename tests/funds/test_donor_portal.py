"""The donor portal: code sign-in, gifts, receipts, statements, cancelling a monthly gift."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client

from funds.identity import donor_email_index
from funds.models import Donation, Donor, Fund, RecurringDonation
from funds.services import donor_portal
from funds.services.receipts import donation_send_receipt
from tests.forms import once

pytestmark = pytest.mark.django_db

CODE_SENT = "If there are gifts for this address, a code is on its way."


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


@pytest.fixture
def general():
    return Fund.objects.get(slug="general")


def paid(donor, fund, *, cents, when=datetime(2026, 3, 14, 15, tzinfo=UTC), **fields) -> Donation:
    return Donation.objects.create(
        donor=donor, fund=fund, amount_cents=cents, status=Donation.Status.PAID, paid_at=when, **fields
    )


@pytest.fixture
def donor(general):
    donor = Donor.objects.create(email="maria@example.org", name="María Donante Núñez")
    donation_send_receipt(donation=paid(donor, general, cents=12500))
    mail.outbox.clear()
    return donor


@pytest.fixture
def stranger(general):
    stranger = Donor.objects.create(email="other@example.org", name="Otto Other")
    donation_send_receipt(donation=paid(stranger, Fund.objects.get(slug="bond"), cents=98700))
    mail.outbox.clear()
    return stranger


def request_code(client: Client, email: str, capture) -> str | None:
    """Ask for a code; returns the code from the e-mail, if one was sent."""
    sent_before = len(mail.outbox)
    with capture(execute=True):
        response = client.post("/donor/", {"email": email}, follow=True)
    assert response.status_code == 200
    assert CODE_SENT in response.content.decode()
    if len(mail.outbox) == sent_before:
        return None
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


@pytest.fixture
def signed_in(donor, django_capture_on_commit_callbacks) -> Client:
    client = Client()
    code = request_code(client, "maria@example.org", django_capture_on_commit_callbacks)
    response = client.post("/donor/code/", {"code": code})
    assert response.status_code == 302
    assert response["Location"] == "/donor/gifts/"
    return client


# --- Asking for a code ------------------------------------------------------------------------


def test_code_request_emails_six_digits_without_personal_data_in_subject(donor, django_capture_on_commit_callbacks):
    code = request_code(Client(), "  Maria@Example.org ", django_capture_on_commit_callbacks)

    assert re.fullmatch(r"\d{6}", code)
    [message] = mail.outbox
    assert message.to == ["maria@example.org"]
    assert message.subject == "[Amparo] Your sign-in code"
    assert "10 minutes" in message.body


def test_code_request_for_unknown_address_answers_the_same_and_sends_nothing(db, django_capture_on_commit_callbacks):
    code = request_code(Client(), "nobody@example.org", django_capture_on_commit_callbacks)

    assert code is None
    assert mail.outbox == []


def test_code_requests_are_throttled_per_address_and_ip(donor, django_capture_on_commit_callbacks):
    client = Client()
    for _ in range(donor_portal.REQUESTS_PER_ADDRESS_AND_IP):
        request_code(client, "maria@example.org", django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/donor/", {"email": "maria@example.org"})

    assert response.status_code == 429
    assert "Too many codes were requested for this address" in response.content.decode()
    assert len(mail.outbox) == donor_portal.REQUESTS_PER_ADDRESS_AND_IP
    # Someone elsewhere is not held back by it.
    other_place = Client(REMOTE_ADDR="203.0.113.9")
    assert request_code(other_place, "maria@example.org", django_capture_on_commit_callbacks)


# --- Entering the code ------------------------------------------------------------------------


def test_wrong_code_is_refused(donor, django_capture_on_commit_callbacks):
    client = Client()
    code = request_code(client, "maria@example.org", django_capture_on_commit_callbacks)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    response = client.post("/donor/code/", {"code": wrong})

    assert response.status_code == 422
    page = response.content.decode()
    assert "That code is not right." in page
    assert "4 attempts left." in page
    assert client.get("/donor/gifts/")["Location"] == "/donor/"


def test_sixth_attempt_is_refused_even_with_the_right_code(donor, django_capture_on_commit_callbacks):
    client = Client()
    code = request_code(client, "maria@example.org", django_capture_on_commit_callbacks)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(donor_portal.MAX_ATTEMPTS):
        client.post("/donor/code/", {"code": wrong})

    response = client.post("/donor/code/", {"code": code}, follow=True)

    assert "Too many wrong codes. Ask for a new one." in response.content.decode()
    assert client.get("/donor/gifts/")["Location"] == "/donor/"


def test_expired_code_is_refused(donor, django_capture_on_commit_callbacks, monkeypatch):
    client = Client()
    code = request_code(client, "maria@example.org", django_capture_on_commit_callbacks)
    later = donor_portal.code_clock() + donor_portal.CODE_VALID_SECONDS + 1
    monkeypatch.setattr(donor_portal, "code_clock", lambda: later)

    response = client.post("/donor/code/", {"code": code}, follow=True)

    assert "That code has expired. Ask for a new one." in response.content.decode()
    assert client.get("/donor/gifts/")["Location"] == "/donor/"


def test_code_from_one_address_does_not_open_another(donor, stranger, django_capture_on_commit_callbacks):
    client = Client()
    code = request_code(client, "maria@example.org", django_capture_on_commit_callbacks)
    # Asking again for another address replaces the pending sign-in.
    request_code(client, "other@example.org", django_capture_on_commit_callbacks)

    response = client.post("/donor/code/", {"code": code})

    assert "That code is not right." in response.content.decode()


# --- Signed in --------------------------------------------------------------------------------


def test_gifts_page_lists_only_the_donors_own_gifts(signed_in, donor, stranger):
    response = signed_in.get("/donor/gifts/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "maria@example.org" in page
    assert "$125.00" in page
    assert "General fund" in page
    own = donor.donations.get()
    assert f'href="/donor/receipts/{own.pk}.pdf"' in page
    assert own.receipt_number in page
    assert 'href="/donor/statements/2026.pdf"' in page
    assert "$987.00" not in page
    assert "Bond fund" not in page
    assert "no-store" in response["Cache-Control"]


def test_gifts_page_query_count_does_not_grow_with_gifts(signed_in, donor, general, django_assert_max_num_queries):
    with django_assert_max_num_queries(12) as one:
        signed_in.get("/donor/gifts/")
    for cents in (1000, 2000):
        paid(donor, general, cents=cents)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = signed_in.get("/donor/gifts/")
    assert "$20.00" in response.content.decode()


def test_donor_downloads_own_receipt(signed_in, donor):
    own = donor.donations.get()

    response = signed_in.get(f"/donor/receipts/{own.pk}.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    with own.receipt_pdf.open("rb") as stored:
        assert response.content == stored.read()


def test_another_donors_receipt_is_not_found(signed_in, stranger):
    theirs = stranger.donations.get()

    assert signed_in.get(f"/donor/receipts/{theirs.pk}.pdf").status_code == 404
    assert signed_in.get("/donor/receipts/999999.pdf").status_code == 404


def test_refunded_gift_has_no_receipt_to_download(signed_in, donor):
    own = donor.donations.get()
    Donation.objects.filter(pk=own.pk).update(status=Donation.Status.REFUNDED, refunded_cents=12500)

    assert signed_in.get(f"/donor/receipts/{own.pk}.pdf").status_code == 404
    page = signed_in.get("/donor/gifts/").content.decode()
    assert "Refunded" in page
    assert f"/donor/receipts/{own.pk}.pdf" not in page


def test_a_gift_numbered_without_a_stored_file_offers_its_receipt_drawn_when_asked(signed_in, donor, general):
    # As the demo's seeded gifts are: a receipt number and "sent", no stored PDF.
    old = paid(
        donor, general, cents=4200, receipt_number="R2026-900001", receipt_sent_at=datetime(2026, 3, 14, 16, tzinfo=UTC)
    )
    waiting = paid(donor, general, cents=4300)

    page = signed_in.get("/donor/gifts/").content.decode()
    download = signed_in.get(f"/donor/receipts/{old.pk}.pdf")

    assert f'href="/donor/receipts/{old.pk}.pdf"' in page and "Receipt R2026-900001" in page
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert f"/donor/receipts/{waiting.pk}.pdf" not in page
    assert "Being prepared" in page  # paid a moment ago: the worker has not numbered it yet


def test_donor_downloads_annual_statement(signed_in):
    response = signed_in.get("/donor/statements/2026.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert signed_in.get("/donor/statements/1999.pdf").status_code == 404


def test_a_donor_gets_ten_statements_an_hour_then_a_page_saying_when_to_come_back(signed_in, settings):
    settings.DONOR_STATEMENTS_PER_HOUR = 10
    answers = [signed_in.get("/donor/statements/2026.pdf") for _ in range(11)]

    assert [a.status_code for a in answers[:10]] == [200] * 10
    refused = answers[10]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert b"%PDF" not in refused.content
    assert "try again in" in refused.content.decode()


@pytest.mark.parametrize(
    "url", ["/donor/gifts/", "/donor/receipts/1.pdf", "/donor/statements/2026.pdf", "/donor/recurring/1/cancel/"]
)
def test_donor_pages_need_a_donor_session(db, url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"] == "/donor/"


def test_code_page_without_a_pending_sign_in_goes_back_to_start(db):
    assert Client().get("/donor/code/")["Location"] == "/donor/"


def test_donor_session_is_no_staff_sign_in(signed_in):
    response = signed_in.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in signed_in.session
    assert (
        signed_in.session[donor_portal.DONOR_SESSION_KEY]
        == Donor.objects.get(email_index=donor_email_index("maria@example.org")).pk
    )


def test_sign_out_ends_the_donor_session(signed_in):
    response = signed_in.post("/donor/signout/")

    assert response["Location"] == "/donor/"
    assert signed_in.get("/donor/gifts/")["Location"] == "/donor/"


# --- Cancelling a monthly gift ----------------------------------------------------------------


@pytest.fixture
def subscription(fake_stripe) -> str:
    """An active subscription on the fake Stripe server (demo/stripe_sandbox/fake.py)."""
    return fake_stripe._new("sub", "subscription", status="active", canceled_at=None, ended_at=None)["id"]


@pytest.fixture
def monthly(donor, general, subscription):
    return RecurringDonation.objects.create(
        donor=donor, fund=general, amount_cents=2500, stripe_subscription_id=subscription, status="active"
    )


def cancellations(fake_stripe, subscription: str) -> list:
    return fake_stripe.calls("DELETE", f"/v1/subscriptions/{subscription}")


def test_cancel_page_asks_first(signed_in, monthly, fake_stripe, subscription):
    response = signed_in.get(f"/donor/recurring/{monthly.pk}/cancel/")

    assert response.status_code == 200
    assert "$25.00" in response.content.decode()
    assert cancellations(fake_stripe, subscription) == []
    monthly.refresh_from_db()
    assert monthly.status == RecurringDonation.Status.ACTIVE


def test_cancel_page_carries_its_one_time_key(signed_in, monthly, fake_stripe, subscription):
    page = signed_in.get(f"/donor/recurring/{monthly.pk}/cancel/").content.decode()

    assert re.search(r'<input type="hidden" name="once" value="[0-9a-f]+-[\w-]{32}"', page)


def test_cancel_without_the_key_is_refused_and_nothing_cancelled(signed_in, monthly, fake_stripe, subscription):
    response = signed_in.post(f"/donor/recurring/{monthly.pk}/cancel/")

    assert response.status_code == 422
    assert "This form was not sent whole." in response.content.decode()
    assert cancellations(fake_stripe, subscription) == []
    monthly.refresh_from_db()
    assert monthly.status == RecurringDonation.Status.ACTIVE


def test_cancel_monthly_gift_cancels_at_stripe_then_here(signed_in, monthly, fake_stripe, subscription):
    form = once()
    response = signed_in.post(f"/donor/recurring/{monthly.pk}/cancel/", form, follow=True)

    monthly.refresh_from_db()
    [call] = cancellations(fake_stripe, subscription)
    assert call.idempotency_key == f"cancel-subscription:{monthly.pk}"
    assert fake_stripe.objects[subscription]["status"] == "canceled"
    assert monthly.status == RecurringDonation.Status.CANCELLED
    assert monthly.cancelled_at is not None
    assert "Your monthly gift is cancelled." in response.content.decode()
    # A second submit (double click, back button) does not call Stripe again.
    again = signed_in.post(f"/donor/recurring/{monthly.pk}/cancel/", form, follow=True)
    assert len(cancellations(fake_stripe, subscription)) == 1
    assert "already been sent, so it was not done again" in again.content.decode()
    # A fresh copy of the page (the gift is cancelled now) does not either.
    signed_in.post(f"/donor/recurring/{monthly.pk}/cancel/", once())
    assert len(cancellations(fake_stripe, subscription)) == 1
    # The gift stays on the donor's page, marked cancelled, with nothing left to cancel.
    page = signed_in.get("/donor/gifts/").content.decode()
    assert "Monthly gifts" in page and "Cancelled" in page and "$25.00" in page
    assert f"/donor/recurring/{monthly.pk}/cancel/" not in page


def test_cancel_keeps_the_gift_when_stripe_refuses(signed_in, donor, general, fake_stripe):
    # Stripe does not know this subscription: it answers 404 and nothing changes here.
    monthly = RecurringDonation.objects.create(
        donor=donor, fund=general, amount_cents=2500, stripe_subscription_id="sub_unknown", status="active"
    )

    response = signed_in.post(f"/donor/recurring/{monthly.pk}/cancel/", once(), follow=True)

    monthly.refresh_from_db()
    assert len(cancellations(fake_stripe, "sub_unknown")) == 1
    assert monthly.status == RecurringDonation.Status.ACTIVE
    assert "We could not cancel it just now." in response.content.decode()


def test_another_donors_monthly_gift_cannot_be_cancelled(signed_in, stranger, general, fake_stripe, subscription):
    theirs = RecurringDonation.objects.create(
        donor=stranger, fund=general, amount_cents=5000, stripe_subscription_id=subscription, status="active"
    )

    assert signed_in.get(f"/donor/recurring/{theirs.pk}/cancel/").status_code == 404
    assert signed_in.post(f"/donor/recurring/{theirs.pk}/cancel/", once()).status_code == 404

    theirs.refresh_from_db()
    assert theirs.status == RecurringDonation.Status.ACTIVE
    assert fake_stripe.requests == []


def test_the_code_is_worked_out_in_the_worker_and_never_crosses_the_broker(donor, django_capture_on_commit_callbacks):
    # tests/pii_watch.py records every task's arguments as it runs (eagerly here, as on a worker).
    from tests.pii_watch import WATCH

    before = len(WATCH.seen)

    code = request_code(Client(), "maria@example.org", django_capture_on_commit_callbacks)

    tasks = [text for (channel, text), _where in list(WATCH.seen.items())[before:] if channel == "task"]
    assert any("send_donor_code" in text for text in tasks)
    assert code and not any(code in text for text in tasks)
    assert not any("maria@example.org" in text for text in tasks)
