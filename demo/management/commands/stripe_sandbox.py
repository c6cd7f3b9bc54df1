"""Run the demo's Stripe sandbox: ``manage.py stripe_sandbox`` (started by ``make demo``)."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from demo.stripe_sandbox import seeded
from demo.stripe_sandbox.fake import FakeStripe
from demo.stripe_sandbox.sandbox import sandbox


class Command(BaseCommand):
    help = (
        "Serve a stand-in for Stripe on 127.0.0.1 (STRIPE_SANDBOX_PORT): its API for Amparo, a hosted "
        "payment page for test cards, and signed webhooks sent to Amparo. For the demo only (DEBUG=1)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--expire-minutes",
            type=int,
            default=30,
            help="Expire a payment page left unpaid after this many minutes (Stripe: 24 hours). Default 30.",
        )
        parser.add_argument("--reset", action="store_true", help="Forget what earlier runs kept (var/stripe-sandbox/).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG and settings.STRIPE_SANDBOX):
            raise CommandError(
                "The Stripe sandbox runs only for the demo: DEBUG=1 and STRIPE_SANDBOX on (the default "
                "with DEBUG when no STRIPE_SECRET_KEY is set)."
            )
        api = urlsplit(settings.STRIPE_API_BASE)
        if api.hostname not in {"127.0.0.1", "localhost"} or api.port is None:
            raise CommandError(f"STRIPE_API_BASE ({settings.STRIPE_API_BASE}) is not this machine's sandbox address.")
        state = seeded.sandbox_dir() / "state.json"
        if options["reset"]:
            state.unlink(missing_ok=True)
        webhook_url = settings.SITE_URL + reverse("funds:stripe-webhook")
        fake = sandbox(
            webhook_url=webhook_url,
            secret=settings.STRIPE_WEBHOOK_SECRETS[0],
            expire_after=options["expire_minutes"] * 60,
            state_path=state,
        )
        fake.add_objects(seeded.read(seeded.sandbox_dir()))
        try:
            fake.start(port=api.port)
        except OSError as exc:
            raise CommandError(f"Port {api.port} is taken ({exc}): is a sandbox running already?") from exc
        threading.Thread(target=_expire_forever, args=(fake,), name="stripe-sandbox-expiry", daemon=True).start()
        self.stdout.write(
            f"Stripe sandbox on {fake.url}/ (its own page); webhooks to {webhook_url}. "
            "Test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined."
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
            if fake.webhooks is not None:
                fake.webhooks.stop()


def _expire_forever(fake: FakeStripe, every: float = 10.0) -> None:
    while True:
        fake.expire_due()
        time.sleep(every)
