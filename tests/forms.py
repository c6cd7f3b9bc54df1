"""What a browser sends that a test's dictionary of fields would lack: a form's one-time key and an
edit form's version stamp (``kernel.once``, ``kernel.concurrency``)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from kernel.concurrency import VERSION_FIELD
from kernel.once import ONCE_FIELD, new_key


def once(data: dict[str, Any] | None = None, *, prefix: str = "") -> dict[str, Any]:
    """``data`` with a fresh one-time key, as a newly rendered form carries."""
    name = f"{prefix}-{ONCE_FIELD}" if prefix else ONCE_FIELD
    return {**(data or {}), name: new_key()}


def version(client: Client, url: str, data: dict[str, Any] | None = None, *, form: str = "form") -> dict[str, Any]:
    """``data`` with the version stamp of the edit form ``form`` on the page at ``url``, as the
    browser would send it after opening that page now."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    page_form = response.context[form]
    return {**(data or {}), page_form.add_prefix(VERSION_FIELD): page_form.initial[VERSION_FIELD]}
