"""What the demo's seed tells the sandbox: the Stripe side of the gifts it made in the database.

``seed_demo`` writes the charges and the monthly subscription of its seeded gifts to
``var/stripe-sandbox/seeded.json`` (``write``); the sandbox reads them at start (``read``), so that a
seeded gift can be refunded and the seeded monthly gift cancelled or charged again in the demo.
What the sandbox itself keeps (``state.json``) wins over the seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings

from demo.stripe_sandbox.fake import FakeStripe

FILE_NAME = "seeded.json"


@dataclass(frozen=True)
class SeededCharge:
    charge_id: str
    amount_cents: int
    paid_at: datetime


@dataclass(frozen=True)
class SeededSubscription:
    subscription_id: str
    amount_cents: int
    email: str
    started_at: datetime


def sandbox_dir() -> Path:
    """Where the sandbox keeps its files: ``stripe-sandbox/`` in ``VAR_DIR`` (``var/`` in the checkout)."""
    return Path(settings.VAR_DIR) / "stripe-sandbox"


def write(directory: Path, *, charges: list[SeededCharge], subscriptions: list[SeededSubscription]) -> Path:
    """Write the Stripe objects of the seeded gifts for the sandbox; the file's path."""
    fake = FakeStripe()
    for charge in charges:
        fake.seed_payment(charge.charge_id, charge.amount_cents, created=int(charge.paid_at.timestamp()))
    for sub in subscriptions:
        fake.seed_subscription(
            sub.subscription_id, sub.amount_cents, email=sub.email, created=int(sub.started_at.timestamp())
        )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILE_NAME
    path.write_text(json.dumps(list(fake.objects.values())))
    return path


def read(directory: Path) -> list[dict]:
    path = directory / FILE_NAME
    return json.loads(path.read_text()) if path.exists() else []
