"""How django-axes names the account an attempt was made against.

allauth passes ``email=...`` to ``authenticate()`` and posts the address as ``login``;
axes then throttles per (address, IP) pair, so an attacker elsewhere cannot lock a
real user out.
"""

from __future__ import annotations

from django.http import HttpRequest


def username_from_request(request: HttpRequest, credentials: dict | None) -> str:
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None and request.method == "POST":
        value = request.POST.get("login", "")
    return str(value or "").strip().lower()[:254]
