"""The Stripe client (funds.stripe_gateway): a redirect is never followed (ASVS 15.3.2), a server that
does not answer is given up on after STRIPE_TIMEOUT_SECONDS, and every connection, TLS or timeout
failure is a GatewayError logged on ``amparo.security`` with the error class and the API path only
(ASVS 16.3.4). A webhook refused for its signature is logged there too, with the sender's address
and never the body or the header (ASVS 16.3.3)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from demo.stripe_sandbox.delivery import sign
from funds import stripe_gateway
from funds.models import StripeEvent
from funds.stripe_gateway import GatewayError
from tests.funds.conftest import WEBHOOK_SECRET

REFUND_KEY = "refund:test-client-1"


class Misbehaving:
    """A server on 127.0.0.1 in a thread: ``/v1/charges/ch_moved`` answers 302 and
    ``/v1/refunds`` 307 (a redirect that keeps the method and the body), both to ``target``;
    ``/v1/charges/ch_hang`` answers nothing until the test ends. Every path asked for is recorded."""

    def __init__(self, target: str = "") -> None:
        self.paths: list[str] = []
        self.target = target
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                server.paths.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if self.path.startswith("/v1/charges/ch_hang"):
                    server.release.wait(30)
                    return
                status = {"/v1/charges/ch_moved": 302, "/v1/refunds": 307}.get(self.path.split("?")[0], 404)
                body = b'{"id": "ch_elsewhere", "object": "charge"}'
                self.send_response(status)
                if status in (302, 307):
                    self.send_header("Location", server.target or "/v1/charges/ch_target")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, format, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def misbehaving(settings):
    elsewhere = Misbehaving()
    server = Misbehaving(target=f"{elsewhere.url}/v1/charges/ch_target")
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_SECRET_KEY = "sk_test_amparo_client_key"
    settings.STRIPE_TIMEOUT_SECONDS = 1
    server.elsewhere = elsewhere
    yield server
    server.stop()
    elsewhere.stop()


@pytest.fixture
def security_lines(caplog):
    caplog.set_level(logging.WARNING, logger="amparo.security")

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "amparo.security"]

    return lines


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_302_is_not_followed(misbehaving, security_lines):
    with pytest.raises(GatewayError) as raised:
        stripe_gateway.retrieve_charge("ch_moved")

    assert [p.split("?")[0] for p in misbehaving.paths] == ["/v1/charges/ch_moved"]  # asked once, not retried
    assert misbehaving.elsewhere.paths == []  # the target is never requested
    assert type(raised.value) is GatewayError
    assert (raised.value.code, raised.value.http_status) == (None, None)
    assert security_lines() == ["stripe unreachable error=TooManyRedirects path=/v1/charges/ch_moved"]


def test_a_307_does_not_resend_a_refund_elsewhere(misbehaving, security_lines):
    with pytest.raises(GatewayError):
        stripe_gateway.create_refund(amount_cents=500, charge_id="ch_1", idempotency_key=REFUND_KEY)

    assert misbehaving.paths == ["/v1/refunds"]
    assert misbehaving.elsewhere.paths == []
    assert security_lines() == ["stripe unreachable error=TooManyRedirects path=/v1/refunds"]


def test_a_redirect_ends_as_the_same_error_as_a_refused_connection(misbehaving, settings, security_lines):
    with pytest.raises(GatewayError) as redirected:
        stripe_gateway.retrieve_charge("ch_moved")
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(GatewayError) as refused:
        stripe_gateway.retrieve_charge("ch_moved")

    assert type(redirected.value) is type(refused.value) is GatewayError
    assert (redirected.value.code, redirected.value.http_status) == (refused.value.code, refused.value.http_status)
    assert str(redirected.value) == "Stripe could not be reached (TooManyRedirects)."
    assert str(refused.value) == "Stripe could not be reached (ConnectionError)."
    assert security_lines() == [
        "stripe unreachable error=TooManyRedirects path=/v1/charges/ch_moved",
        "stripe unreachable error=ConnectionError path=/v1/charges/ch_moved",
    ]


def test_a_server_that_does_not_answer_is_given_up_on_after_the_timeout(misbehaving, security_lines):
    started = time.monotonic()
    with pytest.raises(GatewayError):
        stripe_gateway.retrieve_charge("ch_hang")
    elapsed = time.monotonic() - started

    # Three tries (the library retries a timeout twice) of 1 s each, plus its back-off of at most
    # a second or two, against 80 s a try with the library's default.
    assert [p.split("?")[0] for p in misbehaving.paths] == ["/v1/charges/ch_hang"] * 3
    assert 3 <= elapsed < 10
    assert security_lines() == ["stripe unreachable error=ReadTimeout path=/v1/charges/ch_hang"]


def test_a_tls_failure_is_logged_without_the_parameters(misbehaving, settings, security_lines):
    # https:// to a server that speaks plain http: the TLS handshake fails.
    settings.STRIPE_API_BASE = misbehaving.url.replace("http://", "https://")

    with pytest.raises(GatewayError):
        stripe_gateway.retrieve_charge("ch_moved", expand=["balance_transaction", "customer"])

    assert security_lines() == ["stripe unreachable error=SSLError path=/v1/charges/ch_moved"]


def test_the_logged_line_holds_no_query_and_no_body(misbehaving, settings, caplog, security_lines):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"

    with pytest.raises(GatewayError):
        stripe_gateway.checkout_session_of(payment_intent_id="pi_client_test_42")
    with pytest.raises(GatewayError):
        stripe_gateway.create_refund(
            amount_cents=1234, charge_id="ch_client_test_42", idempotency_key=REFUND_KEY, metadata={"refund": "9"}
        )

    assert security_lines() == [
        "stripe unreachable error=ConnectionError path=/v1/checkout/sessions",
        "stripe unreachable error=ConnectionError path=/v1/refunds",
    ]
    record = [r for r in caplog.records if r.name == "amparo.security"][-1]
    assert (record.security_event, record.stripe_error, record.stripe_path) == (
        "stripe unreachable",
        "ConnectionError",
        "/v1/refunds",
    )
    for text in ("pi_client_test_42", "ch_client_test_42", "1234", REFUND_KEY):
        assert not any(text in r.getMessage() for r in caplog.records if r.name == "amparo.security")


def test_the_error_quotes_no_address_and_no_query(misbehaving, settings):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"

    with pytest.raises(GatewayError) as raised:
        stripe_gateway.checkout_session_of(payment_intent_id="pi_client_test_42")

    assert str(raised.value) == "Stripe could not be reached (ConnectionError)."


# --- Webhooks refused for their signature -------------------------------------------------------

REFUSED = "stripe webhook refused user=- ip={ip} reason=no webhook signing secret matches this signature"


def _post_webhook(payload: str, header: str, **extra):
    return Client().post(
        "/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header, **extra
    )


def _payout_event(fake_stripe) -> str:
    return json.dumps(fake_stripe.event("payout.paid", fake_stripe.create_payout(4321)))


@pytest.mark.django_db
def test_a_forged_webhook_is_a_security_warning_without_body_or_header(fake_stripe, caplog, security_lines):
    payload = _payout_event(fake_stripe)
    header = sign(payload, "whsec_someone_else")

    response = _post_webhook(payload, header)

    assert response.status_code == 400
    assert security_lines() == [REFUSED.format(ip="127.0.0.1")]
    record = next(r for r in caplog.records if r.name == "amparo.security")
    assert record.levelno == logging.WARNING
    assert (record.security_event, record.client_ip) == ("stripe webhook refused", "127.0.0.1")
    event_id = json.loads(payload)["id"]
    for text in (event_id, "4321", header.split("v1=")[1], header):
        assert not any(text in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_a_replayed_webhook_with_a_stale_timestamp_is_a_security_warning(fake_stripe, security_lines):
    payload = _payout_event(fake_stripe)

    response = _post_webhook(payload, sign(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 301))

    assert response.status_code == 400
    assert security_lines() == [REFUSED.format(ip="127.0.0.1")]


@pytest.mark.django_db
def test_a_signed_body_that_is_not_an_event_is_logged_with_its_reason(fake_stripe, security_lines):
    payload = json.dumps({"hello": "world"})

    response = _post_webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert response.status_code == 400
    assert security_lines() == [
        "stripe webhook refused user=- ip=127.0.0.1 reason=the webhook body is not a Stripe event"
    ]


@pytest.mark.django_db
def test_the_refused_webhooks_address_is_read_behind_the_proxy(fake_stripe, settings, security_lines):
    settings.PROXY_COUNT = 1
    payload = _payout_event(fake_stripe)

    _post_webhook(
        payload, sign(payload, "whsec_someone_else"), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )

    assert security_lines() == [REFUSED.format(ip="203.0.113.9")]


@pytest.mark.django_db
def test_a_good_webhook_writes_no_security_line(fake_stripe, security_lines):
    payload = _payout_event(fake_stripe)

    response = _post_webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert response.status_code == 200
    assert StripeEvent.objects.count() == 1
    assert security_lines() == []
