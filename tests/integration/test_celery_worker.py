"""Work really travels through Redis to Celery workers, and each job is judged by what it produced.

An invitation e-mail, a report on the ``reports`` queue (thread pool), a Stripe event posted to
the webhook, the receipt that follows a payment, and the daily reminder digest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from celery.signals import task_received
from django.core import mail
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework import services as casework_services
from casework.models import ImmigrationCourt
from casework.tasks import scan_reminders
from demo.stripe_sandbox.delivery import sign
from demo.stripe_sandbox.fake import stripe_fee
from funds.models import Account, AccountKind, Donation, Fund, StripeEvent
from funds.selectors import ledger_mismatches, unbalanced_transactions
from reports.models import ReportKind, ReportRun
from tests.factories import UserFactory
from tests.forms import once
from tests.integration.conftest import WEBHOOK_SECRET
from tests.personas import ATTORNEY_ON_CASE, FINANCE, SUPERVISOR

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TIMEOUT = 60


def wait_until(condition: Callable[[], object], *, what: str, timeout: float = TIMEOUT):
    """Poll ``condition`` until it is truthy (and return it); fail saying ``what`` never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"after {timeout} s: {what}")


@pytest.fixture
def hosts_that_ran() -> dict[str, set[str]]:
    """Which workers (by node name) received each task, by task name."""
    seen: dict[str, set[str]] = {}

    def record(sender=None, request=None, **kwargs) -> None:
        seen.setdefault(request.name, set()).add(sender.hostname)

    task_received.connect(record, weak=False)
    yield seen
    task_received.disconnect(record)


def test_invitation_email_is_sent_by_a_real_worker_on_redis(worker):
    admin = UserFactory(role=Role.ADMIN)
    client = Client()
    client.force_login(admin)

    response = client.post(
        "/staff/invite/", once({"full_name": "Lupe Worker", "email": "lupe@example.org", "role": "intake"})
    )

    assert response.status_code == 302
    assert User.objects.filter(email="lupe@example.org").exists()
    wait_until(lambda: mail.outbox, what="no invitation e-mail")
    assert [m.to for m in mail.outbox] == [["lupe@example.org"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_a_report_is_produced_by_the_thread_pool_worker_on_the_reports_queue(
    personas, worker, reports_worker, private_storage, hosts_that_ran
):
    today = timezone.localdate()
    client = personas.client(FINANCE)

    response = client.post(
        "/reports/new/",
        once(
            {"kind": ReportKind.FUND_STATEMENT, "date_from": (today - timedelta(days=30)).isoformat(), "date_to": today}
        ),
    )

    assert response.status_code == 302
    run = ReportRun.objects.get(requested_by=personas.user(FINANCE))
    wait_until(
        lambda: ReportRun.objects.filter(
            pk=run.pk, status__in=[ReportRun.Status.DONE, ReportRun.Status.FAILED]
        ).exists(),
        what="the report run never finished",
    )
    run.refresh_from_db()
    assert (run.status, run.error, run.progress) == (ReportRun.Status.DONE, "", 100)
    for stored in (run.pdf, run.csv):
        assert default_storage.exists(stored.name)
        assert (private_storage / stored.name).stat().st_size > 0
    assert default_storage.open(run.pdf.name).read(5) == b"%PDF-"
    assert hosts_that_ran["reports.tasks.generate_report"] == {"reports@amparo-test"}
    assert type(reports_worker.pool).__module__ == "celery.concurrency.thread"


def _start_gift(client: Client, *, fund: Fund, cents: int) -> str:
    """Fill in the public donation form as a donor does: the Checkout Session's id (no row is
    written until Stripe confirms the session)."""
    page = client.get("/give/").content.decode()
    nonce = page.split('name="nonce" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/give/",
        {
            "amount_choice": str(cents),
            "custom_amount": "",
            "frequency": "once",
            "fund": str(fund.pk),
            "name": "Rosa Parks",
            "email": "rosa@example.org",
            "nonce": nonce,
        },
    )
    assert response.status_code == 303
    return response.url.rsplit("/", 1)[1]


def _post_signed_event(fake_stripe, event_type: str, obj: dict):
    payload = json.dumps(fake_stripe.event(event_type, obj))
    return Client().post(
        "/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
    )


def test_a_stripe_event_is_processed_by_the_worker_and_books_the_gift(worker, fake_stripe, settings):
    settings.FUNDS_SEND_RECEIPTS = False
    general = Fund.objects.get(slug="general")
    session = fake_stripe.complete_session(_start_gift(Client(), fund=general, cents=5000))

    response = _post_signed_event(fake_stripe, "checkout.session.completed", session)

    assert response.status_code == 200
    wait_until(
        lambda: StripeEvent.objects.filter(processed_at__isnull=False).exists(), what="the event was never processed"
    )
    donation = Donation.objects.get(stripe_checkout_session_id=session["id"])
    fee = stripe_fee(5000)
    assert (donation.status, donation.stripe_fee_cents) == (Donation.Status.PAID, fee)
    balances = {a.kind: a.balance for a in Account.objects.filter(fund=general) if a.balance}
    assert balances == {
        AccountKind.STRIPE_CLEARING: 5000 - fee,
        AccountKind.DONATIONS: -5000,
        AccountKind.PROCESSING_FEES: fee,
    }
    assert unbalanced_transactions() == []
    assert ledger_mismatches() == []


def test_a_paid_gift_s_receipt_arrives_with_its_pdf(worker, fake_stripe, settings, private_storage):
    settings.FUNDS_SEND_RECEIPTS = True
    session = fake_stripe.complete_session(_start_gift(Client(), fund=Fund.objects.get(slug="general"), cents=5000))

    assert _post_signed_event(fake_stripe, "checkout.session.completed", session).status_code == 200

    # The worker records the receipt as sent once the e-mail has gone, in the same transaction.
    wait_until(
        lambda: Donation.objects.filter(
            stripe_checkout_session_id=session["id"], receipt_sent_at__isnull=False
        ).exists(),
        what="the receipt was not recorded as sent",
    )
    donation = Donation.objects.get(stripe_checkout_session_id=session["id"])
    [message] = mail.outbox
    assert message.to == ["rosa@example.org"]
    assert message.subject == f"[Amparo] Your donation receipt {donation.receipt_number}"
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"receipt-{donation.receipt_number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF-")
    assert default_storage.open(donation.receipt_pdf.name).read() == content
    assert donation.receipt_sent_at is not None


def test_the_reminder_scan_sends_each_attorney_their_digest(personas, worker):
    case = personas.case
    casework_services.hearing_schedule(
        case=case,
        kind="master",
        starts_at=(timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0),
        court=ImmigrationCourt.objects.get(name="Eloy Immigration Court"),
        by=personas.user(SUPERVISOR),
    )
    scan_reminders.delay()

    attorney = personas.user(ATTORNEY_ON_CASE)
    wait_until(lambda: any(attorney.email in m.to for m in mail.outbox), what="no digest for the attorney on the case")
    # The other attorney's case has nothing coming up: no digest for them (given time to arrive).
    time.sleep(1)
    [digest] = mail.outbox
    assert digest.to == [attorney.email]
    assert digest.subject.startswith("[Amparo] Your hearings and deadlines for ")
    assert case.number in digest.body
    assert "Eloy" in digest.body
    assert "Echeverría" not in digest.subject + digest.body  # case numbers only, never the detainee's name
