"""Logging that keeps tracebacks but never an exception's message, which can hold personal data.

Each frame is shown as its file, line and function (no source line).

An error raised while handling a case can carry a name or an A-number in its message
(``ValueError("row for … is broken")``, a database error quoting a row). The traceback (files,
lines, exception types) is what an operator needs, so it is kept; each exception's message is
replaced by a mark. Celery's task-failure lines, which put the exception's repr into the log
message itself, get the same treatment through ``RedactCeleryTaskErrors``.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

WITHHELD = "[message withheld: it may hold personal data]"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def redacted_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` (and of the exceptions it was raised from), each message withheld."""
    found = traceback.TracebackException.from_exception(exc)
    # format() ends each exception of the chain with its "Type: message" line: collect those.
    messages: set[str] = set()
    current: traceback.TracebackException | None = found
    while current is not None:
        messages.add("".join(current.format_exception_only()).strip())
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    out = []
    for part in found.format():
        if part.startswith("  File "):
            # Where it happened, not the source line (which could quote data in a literal or an f-string).
            out.append(part.splitlines()[0] + "\n")
        elif part.strip() in messages:
            out.append(f"{part.strip().split(':', 1)[0]}: {WITHHELD}\n")
        else:
            out.append(part)
    return "".join(out).rstrip("\n")


class RedactingFormatter(logging.Formatter):
    """A plain formatter whose tracebacks withhold exception messages."""

    def formatException(self, ei: ExcInfo) -> str:
        exc = ei[1]
        if exc is None:
            return ""
        return redacted_traceback(exc)


class RedactCeleryTaskErrors(logging.Filter):
    """Celery's "Task … raised unexpected: ValueError('…')" keeps only the exception's type."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and isinstance(record.args.get("exc"), str):
            exc = record.exc_info[1] if record.exc_info else None
            name = type(exc).__name__ if exc is not None else record.args["exc"].split("(", 1)[0]
            record.args = {**record.args, "exc": f"{name}({WITHHELD})"}
        return True
