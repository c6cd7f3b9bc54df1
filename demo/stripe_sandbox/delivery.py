"""Webhook delivery as Stripe does it: each event signed, POSTed to one endpoint, retried until answered.

Stripe retries an undelivered event for up to three days with exponential backoff; the sandbox
retries on a shorter scale (``BACKOFF_SECONDS``, then every ``BACKOFF_SECONDS[-1]``) for as long as
it runs, so a demo whose web process starts after the sandbox, or restarts, still gets every event.
Events go out one at a time in the order they happened (Stripe does not promise an order; the app
copes with any, see ``tests/funds/test_webhooks.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BACKOFF_SECONDS = (1, 2, 5, 10, 30)


def sign(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``payload``: ``t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">``."""
    if isinstance(payload, bytes):
        payload = payload.decode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Delivery:
    """What became of one event: its answer (``status``, 0 while none came) and how often it was sent."""

    event_id: str
    event_type: str
    attempts: int = 0
    status: int = 0
    delivered_at: float | None = None
    last_error: str = ""


@dataclass
class WebhookSender:
    """Sends events to ``url`` signed with ``secret``, from a thread of its own (``start``)."""

    url: str
    secret: str
    timeout: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    deliveries: list[Delivery] = field(default_factory=list)
    _queue: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> WebhookSender:
        self._thread = threading.Thread(target=self._run, name="stripe-sandbox-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)

    def send(self, event: dict[str, Any]) -> None:
        """Queue ``event`` (a Stripe event object) for delivery."""
        with self._lock:
            self.deliveries.append(Delivery(event_id=event["id"], event_type=event["type"]))
        self._queue.put(event)

    def idle(self) -> bool:
        """Whether every queued event has been answered with a 2xx."""
        with self._lock:
            return self._queue.unfinished_tasks == 0

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.02)
        return self.idle()

    def recent(self, limit: int = 20) -> list[Delivery]:
        with self._lock:
            return list(reversed(self.deliveries[-limit:]))

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                self._queue.task_done()
                return
            self._deliver(event)
            self._queue.task_done()

    def _deliver(self, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        record = next(d for d in self.deliveries if d.event_id == event["id"])
        attempt = 0
        while True:
            attempt += 1
            status, error = self._post(body)
            with self._lock:
                record.attempts, record.status, record.last_error = attempt, status, error
                if 200 <= status < 300:
                    record.delivered_at = time.time()
                    return
            self.sleep(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])

    def _post(self, body: bytes) -> tuple[int, str]:
        # Signed at each attempt, as Stripe does: the timestamp is the attempt's, so a retry an hour
        # later is not refused as a replay by the app's five-minute tolerance.
        request = urllib.request.Request(  # noqa: S310 (the app's own webhook address, from settings)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(body, self.secret),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) amparo-sandbox",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return answer.status, ""
        except urllib.error.HTTPError as exc:
            return exc.code, f"HTTP {exc.code}"
        except (OSError, urllib.error.URLError) as exc:
            return 0, type(exc).__name__
