"""The sandbox put together: the fake Stripe with its pages, its webhook sender and its file."""

from __future__ import annotations

from pathlib import Path

from demo.stripe_sandbox import pages
from demo.stripe_sandbox.delivery import WebhookSender
from demo.stripe_sandbox.fake import FakeStripe


def sandbox(
    *, webhook_url: str, secret: str, expire_after: int, state_path: Path | None, timeout: float = 10
) -> FakeStripe:
    """A sandbox (not yet listening: ``start``) that sends its webhooks to ``webhook_url`` signed with
    ``secret``, expires unpaid pages after ``expire_after`` seconds and keeps its objects in
    ``state_path``. ``stop`` it, then its ``webhooks``."""
    sender = WebhookSender(url=webhook_url, secret=secret, timeout=timeout).start()
    return FakeStripe(webhooks=sender, pages=pages.answer, expire_after=expire_after, state_path=state_path)
