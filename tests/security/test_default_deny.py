"""Default deny: every URL pattern, walked by GET and by POST, with a real object behind every id.

A walk that fills URLs with made-up ids passes trivially: a staff view marked
``login_not_required`` by mistake still answers 404 for case "sample" or gift 1, and 404 looks
like a refusal. So the walk first creates one of everything (a case with a hearing, a deadline,
a document and a second assignment; a paid gift with its receipt and a monthly gift; a paid bond
request; a finished report run; a staff member; a row for every model in the admin) and puts
their real numbers and ids into the URLs. Then:

- an anonymous visitor is sent to sign-in by every page that is not deliberately public, for
  GET and POST alike; a 404 is a failure, since with a real id it means the view answered
  without asking who is there;
- each public page gives its own answer for the real object (the calendar feed serves the
  attorney's hearings for their token);
- a signed-in user without a role gets 404 (405 for a method the page never takes) from every
  page but the public ones and those of their own account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pprint import pformat

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from accounts.roles import Role
from casework import services as casework_services
from casework.models import AlertKind, AssignmentRole, DemandKind, DemandSource, ImmigrationCourt, ReadAlert
from casework.services import oversight, retention
from casework.services.calendar import calendar_feed_create
from funds.models import Donation, Fund, Payout, PayoutDiscrepancy, RecurringDonation, StripeEvent
from funds.services import bookkeeping
from funds.services.disbursements import disbursement_approve, disbursement_pay, disbursement_request
from tests.factories import UserFactory, finished_report_run
from tests.personas import (
    ATTORNEY_ON_CASE,
    DONOR,
    FINANCE,
    LOGIN,
    NO_ROLE,
    SUPERVISOR,
    Personas,
    outcome,
)

DONOR_DOOR = "donor-door"
QUERY = "?"  # the key of a page's query string among its arguments

# Pages that are deliberately public, with what an anonymous visitor gets from them, with real
# ids and no form data: (GET, POST).
PUBLIC = {
    "healthz": (200, 405),
    "set_language": (302, 302),
    "account_login": (200, 200),
    "account_logout": (LOGIN, LOGIN),
    "account_reset_password": (200, 200),
    "account_reset_password_done": (200, 405),
    # A valid link moves its key into the session and redirects to the set-password form.
    "account_reset_password_from_key": (302, 302),
    "account_reset_password_from_key_done": (200, 405),
    "account_inactive": (200, 405),
    # The second steps of sign-in send a visitor with no first step back to its start.
    "account_confirm_login_code": (LOGIN, LOGIN),
    "mfa_authenticate": (LOGIN, LOGIN),
    # Donors: the public donation pages, Stripe's signed webhook, and the donor portal's sign-in.
    "funds:donate": (200, 422),
    "funds:donate-thanks": (200, 405),
    "funds:stripe-webhook": (405, 400),
    "funds:donor-start": (200, 422),
    "funds:donor-code": (302, 302),
    "funds:donor-signout": (302, 302),
    # A calendar app reads the feed with the secret token in its URL; GET only.
    "casework:calendar-feed": (200, 405),
}
# Donor pages have their own door: without a donor session they send the visitor to /donor/.
DONOR_ONLY = {"funds:donor-gifts", "funds:donor-receipt", "funds:donor-statement", "funds:donor-recurring-cancel"}
# A signed-in user's own account: password, authenticator, recovery codes, sign-out, home.
OWN_ACCOUNT = {
    "accounts:home",
    "account_change_password",
    "account_set_password",
    "account_reauthenticate",
    "mfa_index",
    "mfa_reauthenticate",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
}


@dataclass(frozen=True)
class Route:
    name: str  # "casework:case-detail", "account_login"; an unnamed route is named by itself
    route: str  # "cases/<str:number>/"

    @property
    def arguments(self) -> list[str]:
        regex_groups = re.findall(r"\(\?P<(\w+)>", self.route)
        converters = re.findall(r"<(?:\w+:)?(\w+)>", re.sub(r"\(\?P<\w+>", "(", self.route))
        return regex_groups + converters

    def url(self, values: dict[str, str]) -> str:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m[1]], self.route)
        path = path.replace("^", "").replace("$", "").replace("\\", "")
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m[1]], path)
        return f"{path}?{values[QUERY]}" if QUERY in values else path


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            yield Route(name=f"{namespace}{entry.name}" if entry.name else route, route=route)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


@dataclass
class World:
    """One real object for every kind of id a URL takes."""

    personas: Personas
    by_name: dict[str, dict[str, str]]
    by_argument: dict[str, str]

    def arguments(self, route: Route) -> dict[str, str]:
        """Real values for ``route``'s arguments; fails the test for an argument it cannot fill."""
        values = {**self.by_argument, **self.by_name.get(route.name, {}), **_admin_arguments(route)}
        missing = [argument for argument in route.arguments if argument not in values]
        if missing:
            pytest.fail(f"{route.name} takes {missing}: give the walk a real object for it")
        return values


def _admin_arguments(route: Route) -> dict[str, str]:
    """A real row's id for an admin page of one model (``admin/<app>/<model>/<object_id>/...``)."""
    match = re.match(r"admin/(\w+)/(\w+)/<path:object_id>/", route.route)
    if not match:
        return {}
    model = apps.get_model(match[1], match[2])
    row = model._default_manager.order_by("pk").first()
    assert row is not None, f"the walk made no {model._meta.label} for {route.name}"
    return {"object_id": str(row.pk)}


@pytest.fixture
def world(personas, settings, tmp_path) -> World:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    case, supervisor, attorney = personas.case, personas.user(SUPERVISOR), personas.user(ATTORNEY_ON_CASE)
    co_counsel = casework_services.case_assign(
        case=case, attorney=UserFactory(role=Role.ATTORNEY), role=AssignmentRole.CO_COUNSEL, by=supervisor
    )
    hearing = casework_services.hearing_schedule(
        case=case,
        kind="master",
        starts_at=datetime.now(UTC) + timedelta(days=3),
        court=ImmigrationCourt.objects.order_by("pk").first(),
        by=supervisor,
    )
    deadline = casework_services.deadline_add_manual(case=case, title="File evidence", due_on=date.today(), by=attorney)
    decision, _ = casework_services.decision_record(
        case=case, outcome="admin_closed", decided_on=date(2026, 3, 5), by=attorney
    )
    document = casework_services.document_upload(
        case=case,
        upload=SimpleUploadedFile("n.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
        kind="other",
        title="Notice",
        by=attorney,
    )

    bond_fund = Fund.objects.get(slug="bond")
    paid_at = datetime(2026, 3, 1, 15, tzinfo=UTC)
    gift = Donation.objects.create(
        donor=personas.donors[DONOR],
        fund=bond_fund,
        amount_cents=1_000_000,
        status=Donation.Status.PAID,
        paid_at=paid_at,
        stripe_checkout_session_id="cs_test_walk",
        stripe_charge_id="ch_test_walk",
        receipt_number="R2026-000001",
    )
    bookkeeping.book_donation(donation=gift, fee_cents=0, occurred_at=paid_at)
    # Paid out to the bank the same day: the bond below is paid from the bank only.
    bookkeeping.book_payout(
        key="payout:walk", allocation={bond_fund: 1_000_000}, occurred_at=paid_at, description="walk payout"
    )
    monthly = RecurringDonation.objects.create(
        donor=personas.donors[DONOR], fund=bond_fund, amount_cents=2500, status="active", stripe_subscription_id="sub_w"
    )
    bond_request = disbursement_request(
        case=case,
        fund=bond_fund,
        purpose="bond",
        amount_cents=500_000,
        payee="DHS/ICE",
        reason="bond",
        by=attorney,
        attachment=SimpleUploadedFile("notice.pdf", b"%PDF-1.4 notice"),
    )
    disbursement_approve(disbursement=bond_request, by=personas.user(FINANCE))
    disbursement_pay(
        disbursement=bond_request,
        paid_on=paid_at.date(),
        method="wire",
        reference="W1",
        by=UserFactory(role=Role.FINANCE),
    )

    run = finished_report_run(by=personas.user(FINANCE), name="walk")
    parked = StripeEvent.objects.create(
        event_id="evt_walk", type="invoice.paid", payload={}, attempts=5, parked_at=paid_at, error="EventNotReady"
    )
    difference = PayoutDiscrepancy.objects.create(
        payout=Payout.objects.create(stripe_payout_id="po_walk", amount_cents=1000, arrival_date=paid_at.date()),
        amount_cents=100,
    )
    closed = casework_services.case_register(
        data=casework_services.IntakeData(given_names="Ya", family_names="Cerezo-Vidal"), by=supervisor
    )
    casework_services.case_close(case=closed, reason="other", note="", by=supervisor)
    erasure = retention.erasure_request(case=closed, by=supervisor, why="client asked")

    demand = oversight.legal_demand_record(
        received_at=timezone.now(),
        received_how="mail",
        source=DemandSource.COURT,
        source_detail="Superior Court",
        kind=DemandKind.COURT_ORDER,
        asked="Records",
        respond_by=None,
        counsel="",
        cases=[case],
        by=supervisor,
    )
    alert = ReadAlert.objects.create(
        user=attorney,
        kind=AlertKind.BULK_EXPORTS,
        count=11,
        window_start=timezone.now() - timedelta(hours=24),
        window_end=timezone.now(),
    )

    staff = UserFactory(role=Role.INTAKE)
    _one_row_for_every_admin_model(staff)
    return World(
        personas=personas,
        by_argument={"number": case.number, "year": str(paid_at.year), "file_format": "pdf"},
        by_name={
            "casework:document-download": {"pk": str(document.pk)},
            "casework:hearing-edit": {"pk": str(hearing.pk)},
            "casework:decision-edit": {"pk": str(decision.pk)},
            "casework:deadline-edit": {"pk": str(deadline.pk)},
            "casework:deadline-status": {"pk": str(deadline.pk)},
            "casework:assignment-end": {"pk": str(co_counsel.pk)},
            "casework:calendar-feed": {"token": calendar_feed_create(user=attorney)},
            "casework:legal-demand-detail": {"reference": demand.reference},
            "casework:staff-reads": {"user_id": str(attorney.pk)},
            "casework:read-alert-acknowledge": {"pk": str(alert.pk)},
            "casework:erasure-confirm": {"pk": str(erasure.pk)},
            "casework:erasure-cancel": {"pk": str(erasure.pk)},
            "funds:donate-thanks": {QUERY: f"session_id={gift.stripe_checkout_session_id}"},
            "funds:donor-receipt": {"pk": str(gift.pk)},
            "funds:donor-recurring-cancel": {"pk": str(monthly.pk)},
            "funds:donation-refund": {"pk": str(gift.pk)},
            "funds:webhook-event-retry": {"pk": str(parked.pk)},
            "funds:payout-discrepancy-resolve": {"pk": str(difference.pk)},
            "funds:disbursement-detail": {"pk": str(bond_request.pk)},
            "funds:disbursement-attachment": {"pk": str(bond_request.pk)},
            "funds:bond-detail": {"pk": str(bond_request.bond.pk)},
            "reports:report-detail": {"pk": str(run.pk)},
            "reports:report-progress": {"pk": str(run.pk)},
            "reports:report-download": {"pk": str(run.pk)},
            **{
                f"accounts:{name}": {"pk": str(staff.pk)}
                for name in [
                    "staff-detail",
                    "staff-set-role",
                    "staff-deactivate",
                    "staff-reactivate",
                    "staff-resend-invitation",
                    "staff-reset-mfa",
                    "staff-sign-out-everywhere",
                ]
            },
            "account_reset_password_from_key": {
                "uidb36": user_pk_to_url_str(staff),
                "key": default_token_generator.make_token(staff),
            },
            # Shadowed by our own "not offered" route: e-mail addresses are not self-managed.
            "account_confirm_email": {"key": "never-reached"},
            "admin:app_list": {"app_label": "accounts"},
            "admin:view_on_site": {
                "content_type_id": str(ContentType.objects.get_for_model(staff).pk),
                "object_id": str(staff.pk),
            },
            "admin/(?P<url>.*)$": {"url": "accounts/nothing/"},
        },
    )


def _one_row_for_every_admin_model(user) -> None:
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    attempt = {"username": user.email, "ip_address": "192.0.2.1", "user_agent": "walk", "http_accept": "*/*"}
    AccessAttempt.objects.create(
        **attempt, path_info="/accounts/login/", get_data="", post_data="", failures_since_start=1
    )
    AccessLog.objects.create(**attempt, path_info="/accounts/login/")
    AccessFailureLog.objects.create(**attempt, path_info="/accounts/login/", locked_out=False)
    every_day = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    CrontabSchedule.objects.create()
    SolarSchedule.objects.create(event="sunrise", latitude=0, longitude=0)
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    PeriodicTask.objects.create(name="walk", task="walk", interval=every_day)
    missing = [model._meta.label for model in admin.site._registry if not model._default_manager.exists()]
    assert missing == [], "the walk needs a row of every model the admin shows"


def _answer(client: Client, method: str, route: Route, url: str) -> int | str:
    response = client.get(url) if method == "GET" else client.post(url, {})
    for _hop in range(3):
        # The admin's pages send visitors on to its index and its own sign-in page, which
        # hands over to the one sign-in for everything.
        if response.status_code != 302 or not response["Location"].startswith("/admin/"):
            break
        response = client.get(response["Location"])
    if route.name in DONOR_ONLY and response.status_code == 302 and response["Location"] == "/donor/":
        return DONOR_DOOR
    return outcome(response)


def _anonymous_expectation(route: Route) -> tuple[int | str, int | str]:
    if route.name in PUBLIC:
        return PUBLIC[route.name]
    if route.name in DONOR_ONLY:
        return (DONOR_DOOR, DONOR_DOOR)
    return (LOGIN, LOGIN)


@pytest.mark.django_db
def test_every_url_sends_anonymous_visitors_to_sign_in_unless_public(world):
    wrong = {}
    for route in all_routes():
        url = route.url(world.arguments(route))
        client = Client()
        seen = (_answer(client, "GET", route, url), _answer(client, "POST", route, url))
        if seen != _anonymous_expectation(route):
            wrong[route.name] = {"url": url, "seen": seen, "expected": _anonymous_expectation(route)}
    assert not wrong, pformat(wrong, width=120)


@pytest.mark.django_db
def test_user_without_a_role_gets_404_from_every_page_but_public_ones_and_their_own_account(world):
    wrong = {}
    for route in all_routes():
        if route.name in PUBLIC or route.name in OWN_ACCOUNT:
            continue
        url = route.url(world.arguments(route))
        client = world.personas.client(NO_ROLE)
        seen = (_answer(client, "GET", route, url), _answer(client, "POST", route, url))
        allowed = {(DONOR_DOOR, DONOR_DOOR)} if route.name in DONOR_ONLY else {(404, 404), (404, 405), (405, 404)}
        if seen not in allowed:
            wrong[route.name] = {"url": url, "seen": seen}
    assert not wrong, pformat(wrong, width=120)


@pytest.mark.django_db
def test_public_allow_lists_name_real_urls():
    names = {route.name for route in all_routes()}
    assert names >= set(PUBLIC) | DONOR_ONLY | OWN_ACCOUNT
    # Staff cannot create accounts: the sign-up page does not exist for anyone.
    response = Client().get("/accounts/signup/")
    assert outcome(response) == LOGIN


@pytest.mark.django_db
def test_public_pages_with_an_id_serve_the_real_object_and_404_a_made_up_one(world):
    calendar = Route("casework:calendar-feed", "calendar/<str:token>.ics")
    real_feed = Client().get(calendar.url(world.arguments(calendar)))
    assert real_feed.status_code == 200
    assert real_feed["Content-Type"].startswith("text/calendar")
    assert world.personas.case.number in real_feed.content.decode()
    assert Client().get(calendar.url({"token": "sample"})).status_code == 404

    donor = world.personas.client(DONOR)
    receipt = Route("funds:donor-receipt", "donor/receipts/<int:pk>.pdf")
    real_receipt = donor.get(receipt.url(world.arguments(receipt)))
    assert real_receipt.status_code == 200
    assert real_receipt["Content-Type"] == "application/pdf"
    assert donor.get(receipt.url({"pk": "999999"})).status_code == 404


@pytest.mark.django_db
def test_admin_site_is_for_administrators_only(client_for):
    anonymous = Client().get("/admin/", follow=True)
    assert anonymous.redirect_chain[-1][0].startswith("/accounts/login/")
    for role in [Role.INTAKE, Role.ATTORNEY, Role.SUPERVISOR, Role.FINANCE, Role.AUDITOR]:
        response = client_for(role).get("/admin/", follow=True)
        assert response.status_code == 404, role
    response = client_for(Role.ADMIN).get("/admin/")
    assert response.status_code == 200
    assert "Amparo administration" in response.content.decode()
