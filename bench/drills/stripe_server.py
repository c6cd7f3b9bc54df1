"""The fake Stripe (demo/stripe_sandbox/fake.py) as a process of its own, for the mixed-load drill.

    .venv/bin/python bench/drills/stripe_server.py

Prints one JSON line on stdout, ``{"api": "http://127.0.0.1:<port>", "control": "http://127.0.0.1:<port>"}``,
then serves until killed. ``api`` is what the app's ``STRIPE_API_BASE`` points at (the real ``stripe``
client talks to it over HTTP). ``control`` plays Stripe's side for the load driver:

- ``POST /complete`` ``{"session": "cs_…"}``: the donor paid; answers the ``checkout.session.completed``
  event as Stripe would send it (unsigned: the driver signs it with the webhook secret);
- ``POST /payout`` ``{"amount": 123}``: a payout reached the bank; answers the ``payout.paid`` event.

It runs outside the driver because the driver is monkey-patched by gevent (locust) and the fake is
a threading HTTP server.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from demo.stripe_sandbox.fake import FakeStripe


def main() -> None:
    fake = FakeStripe().start()

    class Control(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            try:
                if self.path == "/complete":
                    session = fake.complete_session(body["session"])
                    reply = fake.event("checkout.session.completed", session)
                elif self.path == "/payout":
                    reply = fake.event("payout.paid", fake.create_payout(int(body["amount"])))
                else:
                    self._answer(404, {"error": "unknown"})
                    return
            except KeyError as exc:
                self._answer(404, {"error": f"unknown object {exc}"})
                return
            self._answer(200, reply)

        def _answer(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    control = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    control.daemon_threads = True
    print(json.dumps({"api": fake.url, "control": f"http://127.0.0.1:{control.server_address[1]}"}), flush=True)
    try:
        control.serve_forever()
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
