"""A fake Stripe on 127.0.0.1: the edge of the world for the funds tests, and the demo's sandbox.

A real HTTP server (``ThreadingHTTPServer`` in a thread) speaking Stripe's form-encoded requests
and JSON responses for the endpoints ``funds.stripe_gateway`` calls, so the real ``stripe``
library is exercised over HTTP. Objects have Stripe's documented shapes (``object``, id prefixes,
``livemode``, ``created``, amounts in cents, expandable ``balance_transaction`` with ``fee``).
Every request is recorded (method, path, decoded params, ``Idempotency-Key``), and a repeated
idempotency key replays the first response (the same session for the same donation form; a
different body with the same key is refused with an ``idempotency_error``, as Stripe does).
Checkout Sessions can be listed by ``payment_intent`` or ``subscription``.

Test helpers play Stripe's side of the story: ``complete_session`` (the donor paid),
``succeed_async``, ``pay_invoice`` (a monthly charge), ``refund`` (from the dashboard),
``open_dispute``/``close_dispute``, ``create_payout``; ``event`` wraps an object in an event and
``demo.stripe_sandbox.delivery.sign`` signs a body the way Stripe does (HMAC-SHA256 of
``"{t}.{body}"``), written by hand.

Faults at the edge, for the resilience tests: ``hold`` keeps matching requests waiting (Stripe being
slow) until its block ends, so a test can look at the database while we wait for Stripe;
``lose_answers`` carries out matching requests and then drops the connection without answering (the
request reached Stripe, its answer was lost), as often as asked; ``refuse`` answers matching requests
with an error instead of carrying them out.

As the demo's **sandbox** (``manage.py stripe_sandbox``, ``demo/stripe_sandbox/``) it also plays the
donor's and Stripe's part by itself: a hosted Checkout page (``pages``: ``demo.stripe_sandbox.pages``) where a
test card is typed in (``TEST_CARDS``), webhooks sent as things happen (``webhooks``, a
``demo.stripe_sandbox.delivery.WebhookSender``), sessions left unpaid expired after ``expire_after``
seconds, and its objects kept in a file (``state_path``) across restarts. Without those set (the
tests), nothing is sent by itself: a test plays Stripe's side with the helpers above.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable

    from demo.stripe_sandbox.delivery import WebhookSender

    # A page of the sandbox's own (``demo.stripe_sandbox.pages.answer``): status, headers, body; or
    # None when the path is Stripe's API.
    PageAnswer = Callable[["FakeStripe", str, str, dict[str, str]], "tuple[int, dict[str, str], bytes] | None"]

API_VERSION = "2026-10-28.endive"


# Stripe's test cards (https://docs.stripe.com/testing): what the hosted page does with each. Any
# other number, real or made up, is refused as Stripe's test mode refuses it.
CARD_OK = "4242424242424242"
TEST_CARDS: dict[str, str | None] = {
    CARD_OK: None,  # succeeds
    "5555555555554444": None,  # Mastercard, succeeds
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
}


def stripe_fee(amount: int) -> int:
    """Stripe's US card pricing: 2.9 % (rounded) + 30 cents."""
    return (amount * 29 + 500) // 1000 + 30


def _decode_form(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's bracket encoding (``line_items[0][price_data][unit_amount]=…``) back to nested values."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(value):
        if isinstance(value, dict):
            value = {k: listify(v) for k, v in value.items()}
            if value and all(k.isdigit() for k in value):
                return [value[k] for k in sorted(value, key=int)]
        return value

    return listify(root)


@dataclass
class Recorded:
    method: str
    path: str
    params: dict
    idempotency_key: str | None


@dataclass
class Route:
    """Requests of one ``method`` whose path matches ``path`` (a regular expression)."""

    method: str
    path: str

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and re.fullmatch(self.path, path) is not None


@dataclass
class Hold(Route):
    """Requests matching ``method`` and ``path`` (a regular expression) wait until ``release`` is set;
    ``arrived`` is set when the first one reaches the server."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class LostAnswers(Route):
    """The next ``times`` requests matching ``method`` and ``path`` are carried out, then not answered."""

    times: int


@dataclass
class Refusal(Route):
    """The next ``times`` requests matching ``method`` and ``path`` get ``status`` and ``error``, undone."""

    times: int
    status: int
    error: dict


@dataclass
class FakeStripe:
    objects: dict[str, dict] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    session_params: dict[str, dict] = field(default_factory=dict)
    _idempotent: dict[str, tuple[str, dict, int, dict]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _holds: list[Hold] = field(default_factory=list)
    _losses: list[LostAnswers] = field(default_factory=list)
    _refusals: list[Refusal] = field(default_factory=list)
    url: str = ""
    # The sandbox's parts (see the module's docstring); None in the tests.
    webhooks: WebhookSender | None = None
    pages: PageAnswer | None = None
    expire_after: int | None = None
    state_path: Path | None = None
    events: list[dict] = field(default_factory=list)

    # --- server -------------------------------------------------------------------------

    def start(self, *, port: int = 0) -> FakeStripe:
        fake = self
        self._load()

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                page = fake.pages and fake.pages(fake, self.command, split.path, dict(parse_qsl(split.query or body)))
                if page:
                    status, headers, content = page
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                    return
                params = _decode_form(parse_qsl(split.query or body, keep_blank_values=True))
                fake._wait_if_held(self.command, split.path)
                status, payload = fake.handle(
                    self.command,
                    split.path,
                    params,
                    idempotency_key=self.headers.get("Idempotency-Key"),
                    authorization=self.headers.get("Authorization", ""),
                )
                if fake._lose_answer(self.command, split.path):
                    self.close_connection = True  # done at "Stripe", but the caller hears nothing
                    return
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(8))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- faults -------------------------------------------------------------------------

    @contextmanager
    def hold(self, method: str, path: str) -> Iterator[Hold]:
        """``with fake.hold("POST", r"/v1/refunds") as held:`` matching requests wait at the server
        until the block ends (or ``held.release`` is set); ``held.arrived`` tells that one came."""
        held = Hold(method, path)
        with self._lock:
            self._holds.append(held)
        try:
            yield held
        finally:
            held.release.set()
            with self._lock:
                self._holds.remove(held)

    def lose_answers(self, method: str, path: str, *, times: int = 1) -> None:
        """Carry out the next ``times`` matching requests, then drop the connection without answering."""
        with self._lock:
            self._losses.append(LostAnswers(method, path, times))

    def refuse(
        self,
        method: str,
        path: str,
        *,
        status: int = 400,
        message: str = "This charge cannot be refunded.",
        code: str = "charge_not_refundable",
        kind: str = "invalid_request_error",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with Stripe's error, doing nothing."""
        with self._lock:
            self._refusals.append(Refusal(method, path, times, status, _error(kind, message, code=code)))

    def _refusal(self, method: str, path: str) -> tuple[int, dict] | None:
        with self._lock:
            for refusal in self._refusals:
                if refusal.times > 0 and refusal.matches(method, path):
                    refusal.times -= 1
                    return refusal.status, copy.deepcopy(refusal.error)
        return None

    def _wait_if_held(self, method: str, path: str) -> None:
        with self._lock:
            holds = [h for h in self._holds if h.matches(method, path)]
        for held in holds:
            held.arrived.set()
            held.release.wait(timeout=30)

    def _lose_answer(self, method: str, path: str) -> bool:
        with self._lock:
            for loss in self._losses:
                if loss.times > 0 and loss.matches(method, path):
                    loss.times -= 1
                    return True
        return False

    # --- request handling ---------------------------------------------------------------

    def handle(
        self, method: str, path: str, params: dict, *, idempotency_key: str | None, authorization: str
    ) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(Recorded(method, path, params, idempotency_key))
            if not authorization.startswith("Bearer sk_test_"):
                return 401, _error("invalid_request_error", "Invalid API Key provided.")
            refused = self._refusal(method, path)
            if refused is not None:
                return refused
            if method == "POST" and idempotency_key:
                seen = self._idempotent.get(idempotency_key)
                if seen is not None:
                    seen_path, seen_params, status, body = seen
                    if (seen_path, seen_params) != (path, params):
                        return 400, _error(
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same parameters.",
                        )
                    return status, copy.deepcopy(body)
            status, body = self._route(method, path, params)
            if method == "POST" and idempotency_key:
                self._idempotent[idempotency_key] = (path, params, status, copy.deepcopy(body))
            if method != "GET":
                self._save()
            return status, body

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        expand = params.get("expand") or []
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._create_session(params)
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(params)
        match = re.fullmatch(r"/v1/subscriptions/(sub_\w+)", path)
        if method == "DELETE" and match:
            if match[1] not in self.objects:
                return 404, _error("invalid_request_error", "No such subscription", code="resource_missing")
            was_open = self.objects[match[1]]["status"] != "canceled"
            subscription = self.cancel_subscription(match[1])
            if was_open:
                self._emit("customer.subscription.deleted", subscription)
            return 200, subscription
        match = re.fullmatch(r"/v1/checkout/sessions/(cs_\w+)/expire", path)
        if method == "POST" and match:
            session = self.objects.get(match[1])
            if session is None:
                return 404, _error(
                    "invalid_request_error", f"No such checkout.session: '{match[1]}'", code="resource_missing"
                )
            if session["status"] != "open":
                return 400, _error(
                    "invalid_request_error", "Only Checkout Sessions with a status of open can be expired."
                )
            return 200, self.expire_session(match[1])
        if method == "GET" and path == "/v1/checkout/sessions":
            return 200, self._list_sessions(params)
        match = re.fullmatch(
            r"/v1/(?:checkout/sessions|payment_intents|charges|invoices|payouts|subscriptions)/(\w+)", path
        )
        if method == "GET" and match:
            obj = self.objects.get(match[1])
            if obj is None:
                return 404, _error("invalid_request_error", f"No such object: '{match[1]}'", code="resource_missing")
            return 200, self._expanded(obj, expand)
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _list_sessions(self, params: dict) -> dict:
        """``GET /v1/checkout/sessions``, filtered by ``payment_intent`` or ``subscription`` as Stripe does."""
        sessions = [o for o in self.objects.values() if o.get("object") == "checkout.session"]
        for key in ("payment_intent", "subscription"):
            if params.get(key):
                sessions = [o for o in sessions if o.get(key) == params[key]]
        sessions.sort(key=lambda o: o["created"], reverse=True)
        data = [copy.deepcopy(o) for o in sessions[: int(params.get("limit") or 10)]]
        return {"object": "list", "data": data, "has_more": len(sessions) > len(data), "url": "/v1/checkout/sessions"}

    def _expanded(self, obj: dict, paths: list[str]) -> dict:
        result = copy.deepcopy(obj)
        for path in paths:
            self._expand(result, path.split("."))
        return result

    def _expand(self, node: Any, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        key, rest = parts[0], parts[1:]
        if key == "data" and isinstance(node.get("data"), list):
            for item in node["data"]:
                self._expand(item, rest)
            return
        value = node.get(key)
        if isinstance(value, str) and value in self.objects:
            value = node[key] = copy.deepcopy(self.objects[value])
        self._expand(value, rest)

    # --- objects ------------------------------------------------------------------------

    def _new(self, prefix: str, obj_type: str, **fields) -> dict:
        obj = {
            "id": f"{prefix}_test_{secrets.token_hex(12)}",
            "object": obj_type,
            "created": int(time.time()),
            "livemode": False,
            **fields,
        }
        self.objects[obj["id"]] = obj
        return obj

    def _create_session(self, params: dict) -> dict:
        item = params["line_items"][0]
        amount = int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
        session = self._new(
            "cs",
            "checkout.session",
            amount_subtotal=amount,
            amount_total=amount,
            cancel_url=params.get("cancel_url"),
            success_url=params.get("success_url"),
            client_reference_id=params.get("client_reference_id"),
            currency=item["price_data"]["currency"],
            customer=None,
            customer_email=params.get("customer_email"),
            # Stripe's default is 24 hours; the sandbox may expire sooner, so that a demo shows it.
            expires_at=int(time.time()) + (self.expire_after or 86400),
            invoice=None,
            locale=params.get("locale"),
            metadata=params.get("metadata") or {},
            mode=params.get("mode", "payment"),
            payment_intent=None,
            payment_status="unpaid",
            status="open",
            submit_type=params.get("submit_type"),
            subscription=None,
            ui_mode="hosted",
        )
        session["url"] = f"{self.url}/c/pay/{session['id']}"
        self.session_params[session["id"]] = params
        return session

    def _payment(self, amount: int, *, metadata: dict, paid: bool = True) -> tuple[dict, dict]:
        """A PaymentIntent and its charge (with a balance transaction once the money is in)."""
        intent = self._new(
            "pi",
            "payment_intent",
            amount=amount,
            amount_received=amount if paid else 0,
            currency="usd",
            latest_charge=None,
            metadata=dict(metadata),
            status="succeeded" if paid else "processing",
        )
        charge = self._new(
            "ch",
            "charge",
            amount=amount,
            amount_captured=amount,
            amount_refunded=0,
            balance_transaction=None,
            captured=True,
            currency="usd",
            disputed=False,
            metadata={},
            paid=paid,
            payment_intent=intent["id"],
            refunded=False,
            refunds={"object": "list", "data": [], "has_more": False, "total_count": 0, "url": ""},
            status="succeeded" if paid else "pending",
        )
        charge["refunds"]["url"] = f"/v1/charges/{charge['id']}/refunds"
        intent["latest_charge"] = charge["id"]
        if paid:
            self._settle(charge)
        return intent, charge

    def _settle(self, charge: dict) -> None:
        fee = stripe_fee(charge["amount"])
        txn = self._new(
            "txn",
            "balance_transaction",
            amount=charge["amount"],
            fee=fee,
            net=charge["amount"] - fee,
            currency="usd",
            source=charge["id"],
            status="pending",
            type="charge",
        )
        charge["balance_transaction"] = txn["id"]

    def complete_session(self, session_id: str, *, paid: bool = True) -> dict:
        """The donor finished Checkout: paid by card, or (``paid=False``) a delayed method still processing."""
        with self._lock:
            session = self.objects[session_id]
            params = self.session_params[session_id]
            session["status"] = "complete"
            if session["mode"] == "subscription":
                customer = self._new("cus", "customer", email=session["customer_email"])
                subscription = self._new(
                    "sub",
                    "subscription",
                    customer=customer["id"],
                    status="active",
                    metadata=dict((params.get("subscription_data") or {}).get("metadata") or {}),
                    canceled_at=None,
                    ended_at=None,
                    amount=session["amount_total"],
                )
                invoice = self.pay_invoice(subscription["id"], billing_reason="subscription_create")
                session.update(
                    customer=customer["id"],
                    subscription=subscription["id"],
                    invoice=invoice["id"],
                    payment_status="paid",
                )
            else:
                metadata = (params.get("payment_intent_data") or {}).get("metadata") or {}
                intent, _charge = self._payment(session["amount_total"], metadata=metadata, paid=paid)
                session.update(payment_intent=intent["id"], payment_status="paid" if paid else "unpaid")
            return copy.deepcopy(session)

    def succeed_async(self, session_id: str) -> dict:
        """A delayed payment method (bank debit) cleared."""
        with self._lock:
            session = self.objects[session_id]
            intent = self.objects[session["payment_intent"]]
            charge = self.objects[intent["latest_charge"]]
            intent.update(status="succeeded", amount_received=intent["amount"])
            charge.update(status="succeeded", paid=True)
            self._settle(charge)
            session["payment_status"] = "paid"
            return copy.deepcopy(session)

    def charge_of_session(self, session_id: str) -> dict:
        session = self.objects[session_id]
        return copy.deepcopy(self.objects[self.objects[session["payment_intent"]]["latest_charge"]])

    def pay_invoice(self, subscription_id: str, *, billing_reason: str = "subscription_cycle") -> dict:
        """Stripe charged a subscription: a paid invoice with its payment."""
        with self._lock:
            subscription = self.objects[subscription_id]
            intent, _charge = self._payment(subscription["amount"], metadata={})
            return self._invoice(subscription, status="paid", billing_reason=billing_reason, intent=intent)

    def fail_invoice(self, subscription_id: str) -> dict:
        with self._lock:
            subscription = self.objects[subscription_id]
            subscription["status"] = "past_due"
            return self._invoice(subscription, status="open", billing_reason="subscription_cycle", intent=None)

    def _invoice(self, subscription: dict, *, status: str, billing_reason: str, intent: dict | None) -> dict:
        amount = subscription["amount"]
        payments = []
        if intent is not None:
            payments.append(
                {
                    "id": f"inpay_test_{secrets.token_hex(8)}",
                    "object": "invoice_payment",
                    "amount_paid": amount,
                    "amount_requested": amount,
                    "currency": "usd",
                    "is_default": True,
                    "livemode": False,
                    "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
                    "status": "paid",
                }
            )
        now = int(time.time())
        return copy.deepcopy(
            self._new(
                "in",
                "invoice",
                amount_due=amount,
                amount_paid=amount if intent else 0,
                amount_remaining=0 if intent else amount,
                billing_reason=billing_reason,
                currency="usd",
                customer=subscription["customer"],
                parent={
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": {
                        "subscription": subscription["id"],
                        "metadata": dict(subscription["metadata"]),
                    },
                },
                payments={"object": "list", "data": payments, "has_more": False, "url": "/v1/invoice_payments"},
                period_start=now,
                period_end=now + 30 * 86400,
                status=status,
            )
        )

    def cancel_subscription(self, subscription_id: str) -> dict:
        with self._lock:
            subscription = self.objects[subscription_id]
            now = int(time.time())
            subscription.update(status="canceled", canceled_at=now, ended_at=now)
            return copy.deepcopy(subscription)

    def _create_refund(self, params: dict) -> tuple[int, dict]:
        charge_id = params.get("charge")
        if not charge_id and params.get("payment_intent") in self.objects:
            charge_id = self.objects[params["payment_intent"]]["latest_charge"]
        if charge_id not in self.objects:
            return 404, _error("invalid_request_error", "No such charge", code="resource_missing")
        charge = self.objects[charge_id]
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = int(params.get("amount", remaining))
        if amount > remaining:
            return 400, _error(
                "invalid_request_error",
                f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on charge (${remaining / 100:.2f})",
                code="amount_too_large",
            )
        refund = self.refund(charge_id, amount, metadata=params.get("metadata") or {})
        self._emit("charge.refunded", self.objects[charge_id])
        return 200, refund

    def refund(self, charge_id: str, amount: int, *, metadata: dict | None = None) -> dict:
        """Refund (also what a refund made in the Stripe dashboard looks like)."""
        with self._lock:
            charge = self.objects[charge_id]
            refund = self._new(
                "re",
                "refund",
                amount=amount,
                charge=charge_id,
                currency="usd",
                metadata=dict(metadata or {}),
                payment_intent=charge["payment_intent"],
                reason=None,
                status="succeeded",
            )
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
            charge["refunds"]["total_count"] += 1
            return copy.deepcopy(refund)

    def open_dispute(self, charge_id: str, *, fee: int = 1500, status: str = "needs_response") -> dict:
        with self._lock:
            charge = self.objects[charge_id]
            charge["disputed"] = True
            withdrawal = self._new(
                "txn",
                "balance_transaction",
                amount=-charge["amount"],
                fee=fee,
                net=-charge["amount"] - fee,
                currency="usd",
                status="available",
                type="adjustment",
            )
            return copy.deepcopy(
                self._new(
                    "dp",
                    "dispute",
                    amount=charge["amount"],
                    balance_transactions=[copy.deepcopy(withdrawal)],
                    charge=charge_id,
                    currency="usd",
                    is_charge_refundable=False,
                    metadata={},
                    payment_intent=charge["payment_intent"],
                    reason="fraudulent",
                    status=status,
                )
            )

    def close_dispute(self, dispute_id: str, *, won: bool) -> dict:
        with self._lock:
            dispute = self.objects[dispute_id]
            dispute["status"] = "won" if won else "lost"
            if won:
                reinstatement = self._new(
                    "txn",
                    "balance_transaction",
                    amount=dispute["amount"],
                    fee=0,
                    net=dispute["amount"],
                    currency="usd",
                    status="available",
                    type="adjustment",
                )
                dispute["balance_transactions"].append(copy.deepcopy(reinstatement))
            return copy.deepcopy(dispute)

    def create_payout(self, amount: int) -> dict:
        with self._lock:
            now = int(time.time())
            return copy.deepcopy(
                self._new(
                    "po",
                    "payout",
                    amount=amount,
                    arrival_date=now,
                    currency="usd",
                    destination="ba_test_bank",
                    method="standard",
                    status="paid",
                    type="bank_account",
                )
            )

    # --- the sandbox: Stripe acting by itself ---------------------------------------------

    def pay(self, session_id: str, card_number: str) -> str | None:
        """The donor typed ``card_number`` on the hosted page of an open session. None when it is
        paid (the events follow: ``checkout.session.completed``, and ``invoice.paid`` for a monthly
        gift); else Stripe's decline code, and the session stays open for another try."""
        number = re.sub(r"\D", "", card_number)
        if number not in TEST_CARDS:
            return "live_card_in_test_mode"
        decline = TEST_CARDS[number]
        if decline is not None:
            return decline
        with self._lock:
            if self.objects[session_id]["status"] != "open":
                return "session_not_open"
            session = self.complete_session(session_id)
            self._emit("checkout.session.completed", session)
            if session["mode"] == "subscription":
                self._emit("invoice.paid", self.objects[session["invoice"]])
            self._save()
        return None

    def expire_session(self, session_id: str) -> dict:
        """An open session that will not be paid any more: ``checkout.session.expired``."""
        with self._lock:
            session = self.objects[session_id]
            session.update(status="expired", url=None)
            self._emit("checkout.session.expired", session)
            self._save()
            return copy.deepcopy(session)

    def expire_due(self, *, now: float | None = None) -> int:
        """Expire the open sessions whose ``expires_at`` has passed; how many."""
        now = time.time() if now is None else now
        with self._lock:
            due = [
                o["id"]
                for o in self.objects.values()
                if o.get("object") == "checkout.session" and o["status"] == "open" and o["expires_at"] <= now
            ]
            for session_id in due:
                self.expire_session(session_id)
        return len(due)

    def charge_next_month(self, subscription_id: str) -> dict:
        """A monthly gift's next payment, taken now rather than in a month: ``invoice.paid``."""
        with self._lock:
            invoice = self.pay_invoice(subscription_id)
            self._emit("invoice.paid", invoice)
            self._save()
            return invoice

    def refund_in_dashboard(self, charge_id: str) -> dict:
        """A full refund made in Stripe's dashboard, not asked for by Amparo: ``charge.refunded``."""
        with self._lock:
            charge = self.objects[charge_id]
            refund = self.refund(charge_id, charge["amount"] - charge["amount_refunded"])
            self._emit("charge.refunded", self.objects[charge_id])
            self._save()
            return refund

    def dispute(self, charge_id: str) -> dict:
        """The donor's bank disputes a charge: ``charge.dispute.created``."""
        with self._lock:
            dispute = self.open_dispute(charge_id)
            self._emit("charge.dispute.created", dispute)
            self._save()
            return dispute

    def payout_balance(self) -> dict | None:
        """Pay what the charges brought in, less fees and refunds, out to the bank: ``payout.paid``
        (None when there is nothing to pay out)."""
        with self._lock:
            net = 0
            for obj in self.objects.values():
                if obj.get("object") == "balance_transaction" and obj.get("status") == "pending":
                    net += obj["net"]
                    obj["status"] = "paid_out"
                if obj.get("object") == "refund" and not obj.get("paid_out"):
                    net -= obj["amount"]
                    obj["paid_out"] = True
            if net <= 0:
                return None
            payout = self.create_payout(net)
            self._emit("payout.paid", payout)
            self._save()
            return payout

    def _emit(self, event_type: str, obj: dict) -> dict:
        event = self.event(event_type, obj)
        with self._lock:
            self.events.append(event)
        if self.webhooks is not None:
            self.webhooks.send(event)
        return event

    def _load(self) -> None:
        """The objects kept by an earlier run (``state_path``), if any."""
        if self.state_path is None or not self.state_path.exists():
            return
        data = json.loads(self.state_path.read_text())
        with self._lock:
            self.objects.update(data.get("objects", {}))
            self.session_params.update(data.get("session_params", {}))

    def _save(self) -> None:
        if self.state_path is None:
            return
        with self._lock:
            data = json.dumps({"objects": self.objects, "session_params": self.session_params})
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_name(self.state_path.name + ".tmp")
        temporary.write_text(data)
        temporary.replace(self.state_path)

    def seed_payment(self, charge_id: str, amount: int, *, created: int) -> dict:
        """A card payment made before the sandbox ran (a seeded gift), under the charge id Amparo
        stored for it; its PaymentIntent and balance transaction come with it, already paid out."""
        with self._lock:
            intent, charge = self._payment(amount, metadata={})
            del self.objects[charge["id"]]
            charge["id"] = charge_id
            intent["latest_charge"] = charge_id
            charge["refunds"]["url"] = f"/v1/charges/{charge_id}/refunds"
            self.objects[charge_id] = charge
            txn = self.objects[charge["balance_transaction"]]
            txn.update(source=charge_id, status="paid_out")
            for obj in (intent, charge, txn):
                obj["created"] = created
            return charge

    def seed_subscription(self, subscription_id: str, amount: int, *, email: str, created: int) -> dict:
        """A monthly gift started before the sandbox ran, under the subscription id Amparo stored."""
        with self._lock:
            customer = self._new("cus", "customer", email=email)
            subscription = {
                "id": subscription_id,
                "object": "subscription",
                "created": created,
                "livemode": False,
                "customer": customer["id"],
                "status": "active",
                "metadata": {},
                "canceled_at": None,
                "ended_at": None,
                "amount": amount,
            }
            self.objects[subscription_id] = subscription
            return subscription

    def add_objects(self, objects: list[dict]) -> None:
        """Objects made elsewhere (the demo's seeded gifts), unless this run has them already."""
        with self._lock:
            for obj in objects:
                self.objects.setdefault(obj["id"], copy.deepcopy(obj))

    # --- reading what we were asked -----------------------------------------------------

    def calls(self, method: str, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def event(self, event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
        """A webhook event as Stripe sends it (a snapshot of ``obj``)."""
        return {
            "id": event_id or f"evt_test_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }


def _error(kind: str, message: str, *, code: str | None = None) -> dict:
    error = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"error": error}
