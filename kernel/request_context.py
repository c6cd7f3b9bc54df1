"""Who and where, on every log line (ASVS 16.2.1), and a line for every refused request (16.3.2).

``RequestContextMiddleware`` (right after Django's ``SecurityMiddleware``) gives each request an
id: the proxy's ``X-Request-ID`` when it is well formed (``REQUEST_ID_PATTERN``), else a new random
one. For the duration of the request the id, the client's address (``kernel.client_ip``) and the
request itself are kept in a context variable; the response carries the id back in ``X-Request-ID``.

``RequestContextFilter`` (on the log handlers, settings.LOGGING) adds ``request_id``, ``user_id`` and
``client_ip`` to every record, ``-`` outside a request. The user is read only once something has
loaded it (a log line never costs a session look-up): ``user_id`` is the account's id, ``anonymous``
for nobody signed in, ``-`` before the user is known. A Celery task's lines carry the task's id as
their ``request_id``.

Each 403, 404 and 429 answered is one WARNING line on ``amparo.security``: status, method, path (never
the query string), user id, client address and request id. Django's own ``django.request`` warnings
for those statuses say less (``Not Found: /finance/``) and are dropped by ``RefusalsLoggedElsewhere``;
its other lines (400s, the ERRORs of 500s) stay.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

from kernel.client_ip import client_ip

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's request id must look like to be kept: no spaces, no control characters, bounded.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Statuses that refuse a request: no permission, nothing the user may see, too many requests.
REFUSED_STATUSES = frozenset({403, 404, 429})
ANONYMOUS = "anonymous"
NO_VALUE = "-"
# A path is cut here in the log: a long one says nothing more about who asked.
MAX_LOGGED_PATH = 300

security_log = logging.getLogger("amparo.security")


@dataclass(frozen=True)
class LogContext:
    request_id: str
    client_ip: str | None = None
    request: HttpRequest | None = None


_current: ContextVar[LogContext | None] = ContextVar("amparo_log_context", default=None)


def new_request_id() -> str:
    return secrets.token_hex(16)


def request_id_for(request: HttpRequest) -> str:
    """The proxy's ``X-Request-ID`` if it matches ``REQUEST_ID_PATTERN``, else a new random id."""
    offered = request.headers.get(REQUEST_ID_HEADER)
    if isinstance(offered, str) and REQUEST_ID_PATTERN.fullmatch(offered):
        return offered
    return new_request_id()


def user_id_of(request: HttpRequest | None, *, load: bool) -> int | str | None:
    """The signed-in account's id, ``"anonymous"``, or ``None`` when it is not known.

    With ``load`` false the user is read only if something already loaded it (no session look-up
    from inside a log call); with ``load`` true it is loaded if need be.
    """
    user = getattr(request, "user", None)  # set by AuthenticationMiddleware, after this middleware
    if user is None:
        return None
    if not load and isinstance(user, SimpleLazyObject) and user._wrapped is empty:  # no public way to ask
        return None
    return user.pk if user.is_authenticated else ANONYMOUS


def current_context() -> LogContext | None:
    """What the running request (or Celery task) is, or ``None`` outside one."""
    return _current.get()


class RequestContextMiddleware:
    """The request's id and address for the log; the id in the response; a line per refusal."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]  # for views and templates that show it
        address = client_ip(request)
        token = _current.set(LogContext(request_id=request_id, client_ip=address, request=request))
        try:
            response = self.get_response(request)
            if response.status_code in REFUSED_STATUSES:
                log_refusal(request, response, request_id=request_id, address=address)
        finally:
            _current.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def log_refusal(request: HttpRequest, response: HttpResponseBase, *, request_id: str, address: str | None) -> None:
    """One WARNING line on ``amparo.security`` for a refused request: who asked for what, no query string."""
    user_id = user_id_of(request, load=True)
    security_log.warning(
        "request refused status=%s method=%s path=%s user=%s ip=%s request_id=%s",
        response.status_code,
        (request.method or NO_VALUE)[:16],
        request.path[:MAX_LOGGED_PATH],
        user_id if user_id is not None else ANONYMOUS,
        address or NO_VALUE,
        request_id,
        extra={
            "security_event": "request refused",
            "status_code": response.status_code,
            "user_id": user_id if user_id is not None else ANONYMOUS,
        },
    )


class RequestContextFilter(logging.Filter):
    """Add ``request_id``, ``user_id`` and ``client_ip`` to each record (``-`` outside a request).

    A value the record already has (``extra=`` of ``accounts.mfa.security_event``) is kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        values: dict[str, Any] = {"request_id": NO_VALUE, "user_id": NO_VALUE, "client_ip": NO_VALUE}
        if context is not None:
            user_id = user_id_of(context.request, load=False)
            values = {
                "request_id": context.request_id,
                "user_id": user_id if user_id is not None else NO_VALUE,
                "client_ip": context.client_ip or NO_VALUE,
            }
        for name, value in values.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class RefusalsLoggedElsewhere(logging.Filter):
    """Drop ``django.request``'s warnings for 403, 404 and 429: ``RequestContextMiddleware`` logs those."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and getattr(record, "status_code", None) in REFUSED_STATUSES)


# --- Celery: a task's lines carry its id ---------------------------------------------------------

_task_tokens: dict[str, Token[LogContext | None]] = {}


@task_prerun.connect(weak=False, dispatch_uid="kernel_request_context_task_prerun")
def _task_started(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _task_tokens[task_id] = _current.set(LogContext(request_id=task_id))


@task_postrun.connect(weak=False, dispatch_uid="kernel_request_context_task_postrun")
def _task_finished(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # set in another context (a worker pool that moved the task): leave it
            _current.set(None)
