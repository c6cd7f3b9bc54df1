"""Limits on what a signed-in donor may have the web server render: annual statement PDFs.

A statement is rendered (WeasyPrint) in the web worker on each request, so each donor may have
``DONOR_STATEMENTS_PER_HOUR`` of them rendered per hour (setting, default 10): enough to fetch
every year's statement, far too few to keep a worker busy. Past that, the page says why and when
to come back (429 with ``Retry-After``), and nothing is rendered.

The counter lives in the default (shared) cache, so every web process counts the same, and is
keyed by the donor's id and the hour: no e-mail address, no IP address.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kernel.counters import counter_add

DEFAULT_STATEMENTS_PER_HOUR = 10
STATEMENT_WINDOW_SECONDS = 60 * 60
_PREFIX = "amparo:donor-statements"


def statement_clock() -> float:
    """Seconds since the epoch; the one place tests move the clock of this limit."""
    return time.time()


def statement_render_allowed(*, donor_id: int) -> bool:
    """Count one statement render for the donor; False once this hour's are spent.

    Side effect: the donor's counter for the current hour, in the cache (kept for the hour).
    """
    limit = getattr(settings, "DONOR_STATEMENTS_PER_HOUR", DEFAULT_STATEMENTS_PER_HOUR)
    key = f"{_PREFIX}:{donor_id}:{int(statement_clock() // STATEMENT_WINDOW_SECONDS)}"
    return counter_add(key, timeout=STATEMENT_WINDOW_SECONDS) <= limit


def _seconds_left_in_window() -> int:
    return max(1, STATEMENT_WINDOW_SECONDS - int(statement_clock() % STATEMENT_WINDOW_SECONDS))


def statement_renders_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a statement past the donor's hourly limit with a 429 page, before anything is rendered.

    Goes under ``donor_required`` (it reads ``request.donor``).
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        donor_id = request.donor.pk  # type: ignore[attr-defined]  # set by donor_required
        if not statement_render_allowed(donor_id=donor_id):
            seconds = _seconds_left_in_window()
            reason = _("You have downloaded many statements in the last hour. Please try again in %(minutes)s min.") % {
                "minutes": -(-seconds // 60)
            }
            response = render(
                request, "funds/refused.html", {"reasons": [reason], "back": "funds:donor-gifts"}, status=429
            )
            response["Retry-After"] = str(seconds)
            return response
        return view(request, *args, **kwargs)

    return wrapped
