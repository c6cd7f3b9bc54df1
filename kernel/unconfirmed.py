"""An honest answer when the database went away in the middle of a request.

If a view fails because its database connection was lost (``OperationalError`` or
``InterfaceError``: a PostgreSQL restart, a killed backend, a failover), nobody knows from inside the
request whether the work was committed: the connection may have died before the commit or after it.
Django would show the 500 page and the person would lose what they typed. Instead
``UnconfirmedMiddleware`` answers 503 with a page that says so plainly — *we could not confirm this
was saved; check before sending it again* — and carries what they typed in a form that sends the
same POST again.

Sending again is safe where it matters: a form that creates something or moves money carries its
one-time key (``kernel.once``), so if the first POST did commit, the second shows its result and
does nothing twice; an edit form carries its version stamp (``kernel.concurrency``), so a change
already saved is reported, not saved over. A file that was attached cannot be kept by the page: it
says so and links back to the form.

The page is rendered without touching the database (no context processors, no menus), since the
database is what failed. It is ``no-store``: it holds the person's own input, shown only to them, as a
form with errors does. A GET gets a short 503 "try again in a moment". Nothing of the request is
logged beyond the exception's class and the path's view name.

A connection can also die outside the view (loading the session or the user, writing the access
log in a middleware): Django then calls the 500 handler, and ``server_error`` (``handler500``)
gives the same answer for a lost connection and Django's plain 500 page for anything else.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults

from kernel.once import ONCE_FIELD
from kernel.retry import CONNECTION_ERRORS

logger = logging.getLogger(__name__)

CONNECTION_LOST = CONNECTION_ERRORS
RETRY_AFTER_SECONDS = 5
NOT_RESENT = {"csrfmiddlewaretoken"}


def _close_broken_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue  # still unwinding someone's transaction: Django closes it at the request's end
        connection.close()


def _back_link(request: HttpRequest) -> str:
    referer = str(request.META.get("HTTP_REFERER", ""))
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()


def unconfirmed_response(request: HttpRequest) -> HttpResponse:
    """The 503 page for a request whose outcome is unknown (see the module)."""
    if request.method == "POST":
        fields = [(name, value) for name, values in request.POST.lists() if name not in NOT_RESENT for value in values]
        context = {
            "post": True,
            "action": request.get_full_path(),
            "fields": fields,
            "csrf_token": get_token(request),
            "has_key": any(name == ONCE_FIELD or name.endswith(f"-{ONCE_FIELD}") for name, _value in fields),
            "had_files": bool(request.FILES),
            "back": _back_link(request),
        }
    else:
        context = {"post": False, "again": request.get_full_path()}
    response = HttpResponse(render_to_string("unconfirmed.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


class UnconfirmedMiddleware:
    """Answer a view's lost database connection with the page above instead of a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CONNECTION_LOST):
            return None
        match = getattr(request, "resolver_match", None)
        logger.error(
            "database connection lost during %s %s (%s): answered 'could not confirm'",
            request.method,
            match.view_name if match else "?",
            type(exception).__name__,
        )
        _close_broken_connections()
        return unconfirmed_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a lost database connection anywhere in the request gets the page above."""
    if isinstance(sys.exc_info()[1], CONNECTION_LOST):
        _close_broken_connections()
        return unconfirmed_response(request)
    return defaults.server_error(request)
