"""Logging that keeps tracebacks but never an exception's message, which can hold personal data.

Each frame is shown as its file, line and function (no source line).

An error raised while handling a case can carry a name or an A-number in its message
(``ValueError("row for … is broken")``, a database error quoting a row). The traceback (files,
lines, exception types) is what an operator needs, so it is kept; each exception's message is
replaced by a mark. Celery's task-failure lines, which put the exception's repr into the log
message itself, get the same treatment through ``RedactCeleryTaskErrors``.

Both formatters (ASVS 16.2.2, 16.2.4, 16.4.1):

* write the time in UTC, ISO 8601 with milliseconds and ``Z`` (``2026-12-02T13:05:07.123Z``);
* escape CR, LF and every other control character (C0, DEL, C1, the Unicode line and paragraph
  separators) wherever it comes from (the message, its arguments, the other fields), so that no
  value can start a line of its own: ``"UA\\r\\nX"`` is written ``UA\\r\\nX``;
* add who and where (``request_id``, ``user_id``, ``client_ip``: ``kernel.request_context``), ``-``
  when a record has none.

``RedactingFormatter`` writes one line per record; a traceback follows on lines of its own, each
after the first (the fixed ``Traceback (most recent call last):``) starting with ``TRACEBACK_PREFIX``,
so none can pass for a record, which starts with a timestamp. ``JsonFormatter`` writes one JSON object
per line, the traceback as a list of lines.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

WITHHELD = "[message withheld: it may hold personal data]"
# Each line of a traceback after its first, in the plain format.
TRACEBACK_PREFIX = "  | "
# Who and where, added to every record by kernel.request_context.RequestContextFilter.
CONTEXT_FIELDS = ("request_id", "user_id", "client_ip")
NO_VALUE = "-"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _control_escapes() -> dict[int, str]:
    table = {code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}
    table.update({ord("\r"): "\\r", ord("\n"): "\\n", ord("\t"): "\\t"})
    table.update({0x2028: "\\u2028", 0x2029: "\\u2029"})
    return table


_ESCAPES = _control_escapes()


def escape_control(text: str) -> str:
    """``text`` with every control character written as an escape (``\\r``, ``\\n``, ``\\x1b``…)."""
    return text.translate(_ESCAPES)


def log_time(record: logging.LogRecord) -> str:
    """When ``record`` was made: UTC, ISO 8601, milliseconds, ``Z``."""
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


def _stack_lines(stack_info: str) -> list[str]:
    # As in a traceback, the frames' places only: their source lines could quote data.
    return [line for line in stack_info.splitlines() if line.startswith(("Stack", "  File "))]


def context_value(record: logging.LogRecord, name: str) -> Any:
    """The record's ``name`` field (an int or a short text), ``-`` when it has none."""
    value = getattr(record, name, None)
    if value is None or value == "":
        return NO_VALUE
    return value if isinstance(value, int) else escape_control(str(value))


class RedactingFormatter(logging.Formatter):
    """A plain formatter: one escaped line per record, UTC times, tracebacks without messages."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return log_time(record)

    def formatException(self, ei: ExcInfo) -> str:
        exc = ei[1]
        if exc is None:
            return ""
        return redacted_traceback(exc)

    def format(self, record: logging.LogRecord) -> str:
        # A copy, so that the fields filled in here do not change what other handlers see.
        view = logging.makeLogRecord(record.__dict__)
        view.message = view.getMessage()
        for name in CONTEXT_FIELDS:
            setattr(view, name, context_value(record, name))
        if self.usesTime():
            view.asctime = self.formatTime(view, self.datefmt)
        line = escape_control(self.formatMessage(view))
        # record.exc_text is never read: another handler's formatter may have put a message in it.
        extra: list[str] = []
        if record.exc_info and record.exc_info[1] is not None:
            extra.extend(self.formatException(record.exc_info).splitlines())
        if record.stack_info:
            extra.extend(_stack_lines(record.stack_info))
        if not extra:
            return line
        first, *rest = (escape_control(text) for text in extra)
        return "\n".join([line, first, *(TRACEBACK_PREFIX + text for text in rest)])


class JsonFormatter(RedactingFormatter):
    """One JSON object per line for a log processor (ASVS 16.2.4).

    Keys: ``time``, ``level``, ``logger``, ``message``, ``request_id``, ``user_id``, ``client_ip``,
    and for an exception ``exc_type`` and ``traceback`` (a list of lines, messages withheld).
    Every text is escaped as in the plain format before it is encoded, so a parsed value never
    holds a control character either.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": log_time(record),
            "level": record.levelname,
            "logger": escape_control(record.name),
            "message": escape_control(record.getMessage()),
        }
        for name in CONTEXT_FIELDS:
            entry[name] = context_value(record, name)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            module = type(exc).__module__
            qualname = type(exc).__qualname__
            entry["exc_type"] = escape_control(qualname if module == "builtins" else f"{module}.{qualname}")
            entry["traceback"] = [escape_control(line) for line in self.formatException(record.exc_info).splitlines()]
        if record.stack_info:
            entry["stack"] = [escape_control(line) for line in _stack_lines(record.stack_info)]
        return json.dumps(entry, ensure_ascii=False, default=str)


class RedactCeleryTaskErrors(logging.Filter):
    """Celery's "Task … raised unexpected: ValueError('…')" keeps only the exception's type."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and isinstance(record.args.get("exc"), str):
            exc = record.exc_info[1] if record.exc_info else None
            name = type(exc).__name__ if exc is not None else record.args["exc"].split("(", 1)[0]
            record.args = {**record.args, "exc": f"{name}({WITHHELD})"}
        return True
