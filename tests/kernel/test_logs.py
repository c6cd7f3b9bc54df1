"""Logs keep tracebacks (files, lines, types) but never an exception's message."""

from __future__ import annotations

import logging

from kernel.logs import WITHHELD, RedactCeleryTaskErrors, RedactingFormatter


def _record(exc: BaseException, msg: str = "report run %s failed", args: object = (7,)) -> logging.LogRecord:
    return logging.LogRecord(
        "reports.services", logging.ERROR, __file__, 1, msg, args, (type(exc), exc, exc.__traceback__)
    )


def _raise_chained() -> BaseException:
    try:
        try:
            raise KeyError("Zacarías Quetzal 098765432")
        except KeyError as inner:
            raise ValueError("row for Zacarías Quetzal-Ixmucané A-098-765-432 is broken") from inner
    except ValueError as outer:
        return outer


def test_a_traceback_is_kept_without_any_message_of_its_chain():
    exc = _raise_chained()

    text = RedactingFormatter("%(message)s").format(_record(exc))

    assert text.startswith("report run 7 failed\nTraceback (most recent call last):")
    assert "_raise_chained" in text and __file__ in text  # where it happened is kept
    assert f"ValueError: {WITHHELD}" in text and f"KeyError: {WITHHELD}" in text
    assert "Zacarías" not in text and "098" not in text


def test_celerys_task_failure_line_keeps_only_the_exception_type():
    exc = _raise_chained()
    record = _record(
        exc,
        msg="Task %(name)s[%(id)s] %(description)s: %(exc)s",
        args={
            "name": "reports.tasks.generate_report",
            "id": "abc",
            "description": "raised unexpected",
            "exc": repr(exc),
        },
    )

    assert RedactCeleryTaskErrors().filter(record)

    assert record.getMessage() == f"Task reports.tasks.generate_report[abc] raised unexpected: ValueError({WITHHELD})"
