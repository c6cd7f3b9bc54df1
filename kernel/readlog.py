"""Fail-closed read logging: a read whose access-log row cannot be written is refused.

Every read of a detainee's record, every document download and every export writes its
``AccessEvent`` before any of the data leaves, inside the transaction of the read. Writing it
goes through ``logged_read()``: a database error there (the log table refusing rows, a full disk,
a lost connection) becomes ``ReadNotLogged``, which ``ReadNotLoggedMiddleware`` answers with a
503 page that carries none of the record. Nothing is shown that the log does not know about.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


class ReadNotLogged(Exception):
    """The access event of a read could not be written, so the read is refused."""


@contextmanager
def logged_read() -> Iterator[None]:
    """Wrap the write of a read's access event: if it fails, raise ``ReadNotLogged`` (no data follows)."""
    try:
        with transaction.atomic():  # a savepoint, so a failed insert leaves the outer transaction usable
            yield
    except DatabaseError as exc:
        logger.error("access event could not be written; the read was refused (%s)", type(exc).__name__)
        raise ReadNotLogged from exc


class ReadNotLoggedMiddleware:
    """Turn ``ReadNotLogged`` into a 503 that says what happened and shows no record."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ReadNotLogged):
            return render(request, "read_not_logged.html", status=503)
        return None
