"""Browser and transport rules: cookie names and storage, CSP on pages, downloads and static files,
the off-site redirect to Stripe Checkout, content types, and which paths skip the HTTPS redirect."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from casework import services as casework_services
from casework.services.calendar import calendar_feed_create
from demo.stripe_sandbox.delivery import sign
from demo.stripe_sandbox.fake import FakeStripe
from funds.models import Donation, Fund
from funds.services.checkout import checkout_url_allowed
from tests.casework.test_documents import minimal_pdf
from tests.forms import once
from tests.personas import ATTORNEY_ON_CASE
from tests.security.test_settings import PRODUCTION, _manage

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_test_browser_rules_0123456789abcdef"
PRINT_SETTINGS = (
    "from django.conf import settings as s; import json; d = s.CONTENT_SECURITY_POLICY['DIRECTIVES']; "
    "print(json.dumps([s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.LANGUAGE_COOKIE_NAME, s.MESSAGE_STORAGE, "
    "d['base-uri'], d['form-action'], s.SECURE_REDIRECT_EXEMPT]))"
)


def directives(policy: str) -> dict[str, str]:
    """A policy's directives by name (a directive without sources, such as sandbox, maps to "")."""
    found = {}
    for part in policy.split(";"):
        name, _sep, sources = part.strip().partition(" ")
        if name:
            found[name] = sources
    return found


def production_values(**env: str) -> list:
    result = _manage("shell", "-c", PRINT_SETTINGS, env={**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Cookies (ASVS 3.3.1, 3.3.3) ---------------------------------------------------------------


def test_over_https_the_cookies_carry_the_host_prefix_and_messages_stay_out_of_cookies():
    session, csrf, language, storage, base_uri, form_action, _exempt = production_values()

    assert (session, csrf, language) == ("__Host-sessionid", "__Host-csrftoken", "__Host-django_language")
    assert storage == "django.contrib.messages.storage.session.SessionStorage"
    assert base_uri == ["'none'"]
    # Production sends donors to Stripe's own host over https only: no local fake in the policy.
    assert form_action == ["'self'", "https://checkout.stripe.com"]


def test_over_plain_http_the_cookies_keep_their_plain_names():
    session, csrf, language, *_rest = production_values(HTTPS="0")

    assert (session, csrf, language) == ("sessionid", "csrftoken", "django_language")


def test_host_prefixed_cookies_are_sent_as_browsers_require(settings):
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()

    response = client.get("/accounts/login/", secure=True)

    cookie = response.cookies["__Host-csrftoken"]
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
    # The page still carries the token for scripts (static/js/amparo.js reads the meta tag).
    assert 'name="csrf-token"' in response.content.decode()


def test_a_flash_message_is_kept_in_the_session_not_in_a_cookie(personas):
    client = personas.client(ATTORNEY_ON_CASE)

    response = client.post(reverse("casework:calendar"), once({"action": "create"}))

    assert response.status_code == 302
    assert "messages" not in response.cookies
    assert "calendar address" in client.get(response.url).content.decode()


# --- Content-Security-Policy (ASVS 3.4.3, 3.4.6) -----------------------------------------------


def test_pages_allow_no_base_and_forms_only_to_us_and_stripe_checkout():
    policy = directives(Client().get("/give/")["Content-Security-Policy"])

    assert policy["base-uri"] == "'none'"
    sources = policy["form-action"].split()
    assert sources[0] == "'self'"
    assert "https://checkout.stripe.com" in sources
    assert policy["frame-ancestors"] == "'none'"


def test_a_document_download_cannot_be_framed(personas, private_root):
    attorney = personas.user(ATTORNEY_ON_CASE)
    document = casework_services.document_upload(
        case=personas.case,
        upload=SimpleUploadedFile("notice.pdf", minimal_pdf()),
        kind="notice",
        title="Notice of hearing",
        by=attorney,
    )

    response = personas.client(ATTORNEY_ON_CASE).get(
        reverse("casework:document-download", args=[personas.case.number, document.pk])
    )

    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "sandbox" in policy


def test_static_files_have_a_policy_of_their_own_and_nosniff():
    response = Client().get(f"{django_settings.STATIC_URL}css/amparo.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"


# --- The redirect to Stripe Checkout (ASVS 3.7.2) ----------------------------------------------


@pytest.fixture
def stripe_fake(settings):
    fake = FakeStripe().start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = "sk_test_amparo_fake_key"
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.FUNDS_SEND_RECEIPTS = False
    yield fake
    fake.stop()


@pytest.fixture
def donate(client, stripe_fake):
    fund = Fund.objects.update_or_create(
        slug="general", defaults={"name": "General fund", "active": True, "accepts_donations": True}
    )[0]

    def post():
        nonce = re.search(r'name="nonce" value="([^"]+)"', client.get("/give/").content.decode())[1]
        data = {
            "amount_choice": "5000",
            "custom_amount": "",
            "frequency": "once",
            "fund": str(fund.pk),
            "name": "Lupe Ortiz",
            "email": "lupe@example.org",
            "nonce": nonce,
        }
        return client.post("/give/", data)

    return post


def test_the_donor_is_sent_to_a_checkout_page_on_an_allowed_host(donate, stripe_fake):
    stripe_fake.url = "https://checkout.stripe.com"  # where the fake says its payment pages are

    response = donate()

    assert response.status_code == 303
    assert response.url.startswith("https://checkout.stripe.com/c/pay/cs_")


def test_a_checkout_page_on_another_host_is_refused_and_logged(donate, stripe_fake, caplog):
    stripe_fake.url = "https://evil.example"

    with caplog.at_level(logging.WARNING, logger="funds.services.checkout"):
        response = donate()

    assert response.status_code == 503
    assert "We could not reach our payment processor" in response.content.decode()
    assert "evil.example" not in response.content.decode()
    assert [r.levelno for r in caplog.records if "STRIPE_CHECKOUT_HOSTS" in r.getMessage()] == [logging.WARNING]
    assert "https://evil.example" in caplog.text
    assert not Donation.objects.exists()


def test_a_local_http_checkout_page_needs_its_host_listed(donate, settings):
    settings.STRIPE_CHECKOUT_HOSTS = ["checkout.stripe.com"]  # the fake serves http://127.0.0.1:<port>

    assert donate().status_code == 503


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://checkout.stripe.com/c/pay/cs_test_a1", True),
        ("https://CHECKOUT.stripe.com/c/pay/cs_test_a1", True),
        ("https://checkout.stripe.com:443/c/pay/cs_test_a1", True),
        ("http://127.0.0.1:8111/c/pay/cs_test_a1", True),  # listed in the test settings
        ("http://checkout.stripe.com/c/pay/cs_test_a1", False),
        ("https://checkout.stripe.com:8443/c/pay/cs_test_a1", False),
        ("https://evil.example/", False),
        ("https://checkout.stripe.com.evil.example/", False),
        ("https://checkout.stripe.com@evil.example/", False),
        ("https://evil.example\\@checkout.stripe.com/", False),
        ("https://evil.example/#@checkout.stripe.com", False),
        ("//checkout.stripe.com/c/pay/cs_test_a1", False),
        ("javascript:alert(1)//checkout.stripe.com", False),
        ("https://checkout.stripe.com\t/c/pay", False),
        ("http://localhost:8111/c/pay/cs_test_a1", False),  # not listed, DEBUG off
        ("https://[::1/", False),
        ("", False),
    ],
)
def test_checkout_url_allowed(url, allowed):
    assert checkout_url_allowed(url) is allowed


def test_local_http_checkout_pages_are_allowed_unlisted_only_with_debug(settings):
    settings.STRIPE_CHECKOUT_HOSTS = ["checkout.stripe.com"]
    settings.DEBUG = True

    assert checkout_url_allowed("http://localhost:8111/c/pay/cs_test_a1")
    assert not checkout_url_allowed("http://evil.example/c/pay/cs_test_a1")


# --- Content types (ASVS 4.1.1) ----------------------------------------------------------------


def test_the_webhook_answers_plain_text_in_utf8(stripe_fake):
    payload = json.dumps(stripe_fake.event("customer.created", {"id": "cus_test_1", "object": "customer"}))
    client = Client()

    refused = client.post("/stripe/webhook/", data=payload, content_type="application/json")
    accepted = client.post(
        "/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
    )

    assert (refused.status_code, accepted.status_code) == (400, 200)
    assert refused["Content-Type"] == accepted["Content-Type"] == "text/plain; charset=utf-8"


# --- HTTP to HTTPS (ASVS 4.1.2) ----------------------------------------------------------------


@pytest.fixture
def https_on(settings):
    settings.HTTPS = True
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.parametrize(
    ("path", "exempt"),
    [
        ("stripe/webhook/", True),
        ("healthz", True),
        ("calendar/abc_DEF-123.ics", True),
        ("accounts/login/", False),
        ("give/", False),
        ("calendar/", False),
        ("healthz/more", False),
        ("stripe/webhook/other", False),
        ("x/calendar/abc.ics", False),
    ],
)
def test_only_machine_endpoints_skip_the_https_redirect(path, exempt):
    assert any(re.search(pattern, path) for pattern in django_settings.SECURE_REDIRECT_EXEMPT) is exempt


def test_over_plain_http_browsers_are_redirected_and_machines_answered(https_on):
    client = Client()

    assert client.get("/accounts/login/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.post("/stripe/webhook/", data="{}", content_type="application/json").status_code == 400


def test_the_calendar_feed_over_plain_http_is_refused_and_says_to_renew_the_address(personas, https_on):
    token = calendar_feed_create(user=personas.user(ATTORNEY_ON_CASE))
    url = reverse("casework:calendar-feed", kwargs={"token": token})

    plain = Client().get(url)
    secure = Client().get(url, secure=True)

    assert plain.status_code == 403
    assert plain["Content-Type"] == "text/plain; charset=utf-8"
    body = plain.content.decode()
    assert "https://" in body
    assert "new calendar address" in body
    assert secure.status_code == 200
    assert secure["Content-Type"] == "text/calendar; charset=utf-8"


def test_the_calendar_feed_over_plain_http_works_when_the_site_has_no_https(personas, settings):
    settings.HTTPS = False
    token = calendar_feed_create(user=personas.user(ATTORNEY_ON_CASE))

    assert Client().get(reverse("casework:calendar-feed", kwargs={"token": token})).status_code == 200
