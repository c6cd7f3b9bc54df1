from __future__ import annotations

import time
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from accounts.receivers import SIGNED_IN_AT
from accounts.roles import user_role
from kernel.navigation import nav_entries_for


def navigation(request: HttpRequest) -> dict:
    """The menu of the signed-in user's role, from the entries each app declares."""
    user = getattr(request, "user", None)
    role = user_role(user) if user is not None else None
    if role is None:
        return {"nav_items": [], "user_role_label": None}
    items = []
    for label, url in _menu(role.value, get_script_prefix(), get_urlconf()):
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items, "user_role_label": role.label}


@lru_cache(maxsize=64)
def _menu(role: str, script_prefix: str, urlconf: str | None) -> tuple[tuple[object, str], ...]:
    """The role's entries as (label, URL), reversed once per process: the menu is on every page.

    The labels stay lazy, so each page still shows them in its reader's language.
    """
    return tuple((entry.label, reverse(entry.url_name)) for entry in nav_entries_for(role))


def session_expiry(request: HttpRequest) -> dict:
    """For a signed-in staff member: the idle limit, and the seconds left before the 12-hour limit.

    ``templates/base.html`` puts them on ``<body>``; ``static/js/session-expiry.js`` clears the
    page when either has passed (the server has ended the session by then).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    started = request.session.get(SIGNED_IN_AT)
    left = settings.SESSION_ABSOLUTE_MAX_AGE
    if started is not None:
        left = max(int(started + settings.SESSION_ABSOLUTE_MAX_AGE - time.time()), 0)
    return {"session_idle_seconds": settings.SESSION_COOKIE_AGE, "session_left_seconds": left}
