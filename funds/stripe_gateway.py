"""The one door to Stripe: the only module in Amparo that imports ``stripe``.

Everything here returns plain ``dict``s (Stripe's JSON) or plain values, and raises only our own
exceptions (``GatewayError``, ``WebhookSignatureError``), so the rest of the code base neither
imports nor knows the library. Write calls take an idempotency key from the caller, derived from
the donation form's one-time key (``checkout:<nonce>``) or one of our own rows (``refund:<id>``),
so a retried request never opens a second payment page, charges or refunds twice.

The HTTP client waits ``STRIPE_TIMEOUT_SECONDS`` (not the library's 80 s) and never follows a
redirect: a 30x from what should be Stripe ends as the same ``GatewayError`` as a refused connection.
A connection, TLS or timeout failure is logged on ``amparo.security`` (ASVS 16.3.4).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
import stripe
from django.conf import settings
from django.utils.translation import gettext as _

# A Stripe API object as JSON: an event, or what a call below returns. Its fields are Stripe's
# to define (https://docs.stripe.com/api), so values are read with care, not typed here.
StripeObject = dict[str, Any]

security_log = logging.getLogger("amparo.security")


class GatewayError(Exception):
    """Stripe refused a request or could not be reached."""

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status

    @property
    def refused(self) -> bool:
        """Whether Stripe answered and said no for good: the same request again gets the same answer
        (a 4xx, e.g. ``amount_too_large``, ``charge_already_refunded``, ``resource_missing``).

        Not refused: Stripe could not be reached or timed out (it may have done it), a 5xx, 401/403
        (our key: fixed by us, not by waiting), 409 (a request with the same idempotency key is still
        being carried out) and 429 (too many requests)."""
        status = self.http_status
        return status is not None and 400 <= status < 500 and status not in {401, 403, 409, 429}


class IdempotencyConflict(GatewayError):
    """The idempotency key was used before with other parameters: Stripe refused the request."""

    @property
    def refused(self) -> bool:
        # The first request made under this key may have been carried out: no proof that nothing happened.
        return False


class WebhookSignatureError(Exception):
    """A webhook body whose signature or timestamp matches none of our signing secrets."""


_clients: dict[tuple[str, str, int], stripe.StripeClient] = {}
_clients_lock = threading.Lock()


def _http_client(timeout_seconds: int) -> stripe.HTTPClient:
    # Stripe's API never redirects. requests would follow up to 30 redirects, re-sending the call
    # to wherever a 30x points (ASVS 15.3.2); with max_redirects = 0 the first one raises
    # TooManyRedirects before anything else is requested, which the library turns into an
    # APIConnectionError that is not retried. The session is the client's, shared by its threads
    # (requests' connection pool is thread-safe; Stripe sets no cookies).
    session = requests.Session()
    session.max_redirects = 0
    return stripe.RequestsClient(timeout=timeout_seconds, session=session)


def _client() -> stripe.StripeClient:
    # Built lazily and per (key, address, timeout), so settings read at call time (tests point
    # the address at a fake server) and no network object is created at import.
    config = (settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT_SECONDS)
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = stripe.StripeClient(
                settings.STRIPE_SECRET_KEY,
                base_addresses={"api": settings.STRIPE_API_BASE},
                max_network_retries=2,
                http_client=_http_client(settings.STRIPE_TIMEOUT_SECONDS),
            )
            _clients[config] = client
        return client


def _plain(obj: Any) -> StripeObject:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _unreachable(exc: stripe.APIConnectionError) -> GatewayError:
    """Log a failure to reach Stripe on ``amparo.security`` and return the error to raise."""
    # The requests exception under the library's carries the class (ConnectTimeout, SSLError,
    # TooManyRedirects…) and the request: its path is logged, never its query or body (parameters).
    # The error says only the class: the library's text quotes the URL, query included, and it
    # would reach finance's pages and the stored event errors.
    cause = exc.__cause__
    request = getattr(cause, "request", None)
    path = urlsplit(getattr(request, "url", None) or "").path or "-"
    error = type(cause or exc).__name__
    security_log.warning(
        "stripe unreachable error=%s path=%s",
        error,
        path,
        extra={"security_event": "stripe unreachable", "stripe_error": error, "stripe_path": path},
    )
    return GatewayError(_("Stripe could not be reached (%(error)s).") % {"error": error})


def _call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> StripeObject:
    try:
        return _plain(method(*args, **kwargs))
    except stripe.APIConnectionError as exc:
        raise _unreachable(exc) from exc
    except stripe.IdempotencyError as exc:
        raise IdempotencyConflict(
            exc.user_message or str(exc) or exc.__class__.__name__, code=exc.code, http_status=exc.http_status
        ) from exc
    except stripe.StripeError as exc:
        raise GatewayError(
            exc.user_message or str(exc) or exc.__class__.__name__,
            code=exc.code,
            http_status=exc.http_status,
        ) from exc


def _retrieve_params(expand: Iterable[str] | None) -> dict[str, list[str]]:
    return {"expand": list(expand)} if expand else {}


def _options(idempotency_key: str | None) -> dict[str, str]:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


# --- Checkout -------------------------------------------------------------------------------


def create_checkout_session(
    *,
    monthly: bool,
    amount_cents: int,
    currency: str,
    product_name: str,
    customer_email: str,
    client_reference_id: str,
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    locale: str,
    idempotency_key: str,
    payment_metadata: dict[str, str] | None = None,
) -> StripeObject:
    """A hosted Checkout Session for one gift (``payment`` mode) or a monthly gift (``subscription``).

    ``metadata`` goes on the session; ``payment_metadata`` (by default the same) on the
    PaymentIntent (one-off) or the Subscription (monthly), so that later events can be traced back
    to the session. ``submit_type=donate`` is sent only in payment mode.
    """
    payment_metadata = metadata if payment_metadata is None else payment_metadata
    price_data: dict[str, Any] = {
        "currency": currency,
        "unit_amount": amount_cents,
        "product_data": {"name": product_name},
    }
    params: dict[str, Any] = {
        "mode": "subscription" if monthly else "payment",
        "line_items": [{"quantity": 1, "price_data": price_data}],
        "customer_email": customer_email,
        "client_reference_id": client_reference_id,
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": locale,
    }
    if monthly:
        price_data["recurring"] = {"interval": "month"}
        params["subscription_data"] = {"metadata": payment_metadata}
    else:
        params["submit_type"] = "donate"
        params["payment_intent_data"] = {"metadata": payment_metadata}
    return _call(_client().v1.checkout.sessions.create, params=params, options=_options(idempotency_key))


def retrieve_checkout_session(session_id: str, *, expand: Iterable[str] | None = None) -> StripeObject:
    return _call(_client().v1.checkout.sessions.retrieve, session_id, params=_retrieve_params(expand))


def checkout_session_of(
    *, payment_intent_id: str | None = None, subscription_id: str | None = None
) -> StripeObject | None:
    """The Checkout Session that created a PaymentIntent (a one-off gift) or a Subscription (a
    monthly gift), or ``None``: Stripe's list of sessions, filtered by the one object."""
    params: dict[str, Any] = {"limit": 1}
    if payment_intent_id:
        params["payment_intent"] = payment_intent_id
    elif subscription_id:
        params["subscription"] = subscription_id
    else:
        return None
    sessions = _call(_client().v1.checkout.sessions.list, params=params).get("data") or []
    return _plain(sessions[0]) if sessions else None


# --- Payments -------------------------------------------------------------------------------


def retrieve_payment_intent(payment_intent_id: str, *, expand: Iterable[str] | None = None) -> StripeObject:
    return _call(_client().v1.payment_intents.retrieve, payment_intent_id, params=_retrieve_params(expand))


def retrieve_charge(charge_id: str, *, expand: Iterable[str] | None = ("balance_transaction",)) -> StripeObject:
    """A charge, by default with its balance transaction expanded (for ``charge_fee_cents``)."""
    return _call(_client().v1.charges.retrieve, charge_id, params=_retrieve_params(expand))


def charge_fee_cents(charge: StripeObject) -> int:
    """Stripe's processing fee on a charge whose ``balance_transaction`` was expanded (0 if not yet known)."""
    txn = charge.get("balance_transaction")
    if isinstance(txn, dict):
        return int(txn.get("fee") or 0)
    return 0


def retrieve_invoice(invoice_id: str, *, expand: Iterable[str] | None = ("payments",)) -> StripeObject:
    return _call(_client().v1.invoices.retrieve, invoice_id, params=_retrieve_params(expand))


def create_refund(
    *,
    amount_cents: int,
    idempotency_key: str,
    charge_id: str | None = None,
    payment_intent_id: str | None = None,
    metadata: dict[str, str] | None = None,
) -> StripeObject:
    """Refund ``amount_cents`` of a charge (or of a PaymentIntent's charge)."""
    if not charge_id and not payment_intent_id:
        raise ValueError("a refund needs a charge or a payment intent")
    params: dict[str, Any] = {"amount": amount_cents}
    if charge_id:
        params["charge"] = charge_id
    else:
        params["payment_intent"] = payment_intent_id
    if metadata:
        params["metadata"] = metadata
    return _call(_client().v1.refunds.create, params=params, options=_options(idempotency_key))


def cancel_subscription(subscription_id: str, *, idempotency_key: str) -> StripeObject:
    """Cancel a subscription now (Stripe then sends ``customer.subscription.deleted``)."""
    return _call(_client().v1.subscriptions.cancel, subscription_id, options=_options(idempotency_key))


# --- Webhooks -------------------------------------------------------------------------------


def construct_event(payload: bytes, sig_header: str) -> StripeObject:
    """Verify a webhook body against every signing secret we hold (rotation) and parse it.

    The timestamp must be within ``STRIPE_WEBHOOK_TOLERANCE_SECONDS`` (a replayed old body is
    refused). Raises ``WebhookSignatureError`` when no secret matches or the body is not an event.
    """
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    for secret in settings.STRIPE_WEBHOOK_SECRETS:
        if not secret:
            continue
        try:
            stripe.WebhookSignature.verify_header(payload, sig_header, secret, tolerance)
        except stripe.SignatureVerificationError:
            continue
        except UnicodeDecodeError as exc:  # the library decodes the body as UTF-8 before checking
            raise WebhookSignatureError("the webhook body is not UTF-8") from exc
        break
    else:
        raise WebhookSignatureError("no webhook signing secret matches this signature")
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise WebhookSignatureError("the webhook body is not JSON") from exc
    if not isinstance(event, dict) or event.get("object") != "event" or not event.get("id") or not event.get("type"):
        raise WebhookSignatureError("the webhook body is not a Stripe event")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise WebhookSignatureError("the webhook event has no object")
    return event
