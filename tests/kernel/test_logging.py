"""The text log (ASVS 16.2, 16.3.2, 16.4): UTC times, who and where, no injected lines, refusals logged."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils.functional import SimpleLazyObject

from accounts.roles import Role
from kernel.logs import TRACEBACK_PREFIX, WITHHELD, JsonFormatter, RedactingFormatter
from kernel.request_context import (
    REQUEST_ID_HEADER,
    RefusalsLoggedElsewhere,
    RequestContextFilter,
    RequestContextMiddleware,
)
from tests.factories import UserFactory

IP = "198.51.100.23"
PLAIN_FORMAT = settings.LOGGING["formatters"]["plain"]["format"]
FORGED = "2026-01-01T00:00:00.000Z INFO amparo.security [request=- user=- ip=-] signed in user=1"


def _record(msg: str = "seen %s", args: tuple = ("x",), exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    record = logging.LogRecord("axes.watch", logging.WARNING, __file__, 1, msg, args, exc_info)
    RequestContextFilter().filter(record)
    return record


def _failed() -> BaseException:
    try:
        raise ValueError("row for A-246-813-579 is broken\n2026-01-01T00:00:00.000Z INFO forged")
    except ValueError as exc:
        return exc


class _Lines(logging.Handler):
    """What the console handler would write, through the settings' filter and a chosen formatter."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RequestContextFilter())
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def json_lines():
    handler = _Lines(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler.lines
    root.removeHandler(handler)


def _security_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "amparo.security"]


# --- Format ------------------------------------------------------------------------------------


def test_the_time_is_utc_iso_8601_with_z_in_both_formats():
    record = _record()
    record.created = datetime(2026, 12, 2, 13, 5, 7, 123_456, tzinfo=UTC).timestamp()

    plain = RedactingFormatter(PLAIN_FORMAT).format(record)
    entry = json.loads(JsonFormatter().format(record))

    assert plain.startswith("2026-12-02T13:05:07.123Z WARNING axes.watch [request=- user=- ip=-] seen x")
    assert entry["time"] == "2026-12-02T13:05:07.123Z"


def test_the_console_handler_uses_the_plain_format_with_who_and_where():
    (console,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        logging.getLogger("kernel.test").warning("outside a request")
    finally:
        console.setStream(previous)

    (line,) = stream.getvalue().splitlines()
    assert line.endswith("Z WARNING kernel.test [request=- user=- ip=-] outside a request")


def test_cr_lf_and_control_characters_in_the_message_and_an_argument_are_escaped_in_plain():
    record = _record("axes: lockout for UA %s\r\n" + FORGED, ("UA\r\n" + FORGED + "\x1b[31m\u2028",))

    line = RedactingFormatter(PLAIN_FORMAT).format(record)

    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert f"lockout for UA UA\\r\\n{FORGED}\\x1b[31m\\u2028\\r\\n{FORGED}" in line


def test_cr_lf_in_the_message_and_an_argument_are_escaped_in_json():
    record = _record("user agent %s\r\n" + FORGED, ("UA\r\nX",))

    text = JsonFormatter().format(record)
    entry = json.loads(text)

    assert "\n" not in text
    assert entry["message"] == f"user agent UA\\r\\nX\\r\\n{FORGED}"
    assert entry["logger"] == "axes.watch"
    assert entry["level"] == "WARNING"
    assert (entry["request_id"], entry["user_id"], entry["client_ip"]) == ("-", "-", "-")


def test_a_plain_traceback_keeps_its_lines_but_none_can_pass_for_a_record():
    line, *traceback_lines = RedactingFormatter(PLAIN_FORMAT).format(_record(exc=_failed())).split("\n")

    assert line.endswith("seen x")
    assert traceback_lines[0] == "Traceback (most recent call last):"
    assert traceback_lines[1:] and all(text.startswith(TRACEBACK_PREFIX) for text in traceback_lines[1:])
    assert f"{TRACEBACK_PREFIX}ValueError: {WITHHELD}" in traceback_lines
    assert "_failed" in "\n".join(traceback_lines)
    assert "246" not in "\n".join(traceback_lines) and "forged" not in "\n".join(traceback_lines)


def test_a_json_traceback_is_one_field_with_the_type_and_no_message():
    text = JsonFormatter().format(_record(exc=_failed()))
    entry = json.loads(text)

    assert "\n" not in text
    assert entry["exc_type"] == "ValueError"
    assert entry["traceback"][0] == "Traceback (most recent call last):"
    assert entry["traceback"][-1] == f"ValueError: {WITHHELD}"
    assert any("_failed" in part for part in entry["traceback"])
    assert "246" not in text and "forged" not in text


def test_another_handlers_cached_traceback_is_not_reused():
    record = _record(exc=_failed())
    record.exc_text = "ValueError: row for A-246-813-579 is broken"  # what a stock Formatter would cache

    assert "246" not in RedactingFormatter(PLAIN_FORMAT).format(record)
    assert "246" not in JsonFormatter().format(record)


# --- Who and where -------------------------------------------------------------------------------


def test_a_json_line_written_during_a_request_carries_its_id_user_and_address(db, json_lines):
    user = UserFactory(role=Role.INTAKE)
    client = Client(REMOTE_ADDR=IP)
    client.force_login(user)

    response = client.get("/finance/")

    entries = [json.loads(line) for line in json_lines]
    (refused,) = [e for e in entries if e["logger"] == "amparo.security"]
    assert response.status_code == 404
    assert (refused["request_id"], refused["user_id"], refused["client_ip"]) == (
        response[REQUEST_ID_HEADER],
        user.pk,
        IP,
    )


def test_a_line_carries_the_user_once_something_has_loaded_it(db, json_lines):
    user = UserFactory(role=Role.INTAKE)

    def view(request: HttpRequest) -> HttpResponse:
        logging.getLogger("casework.views").info("before the user is read")
        assert request.user.is_authenticated
        logging.getLogger("casework.views").info("after")
        return HttpResponse("ok")

    request = RequestFactory().get("/cases/", REMOTE_ADDR=IP)
    request.user = SimpleLazyObject(lambda: user)
    response = RequestContextMiddleware(view)(request)

    before, after = [json.loads(line) for line in json_lines if '"casework.views"' in line]
    assert (before["user_id"], after["user_id"]) == ("-", user.pk)
    assert before["request_id"] == after["request_id"] == response[REQUEST_ID_HEADER]
    assert before["client_ip"] == after["client_ip"] == IP


def test_a_celery_tasks_lines_carry_the_task_id(json_lines):
    task_prerun.send(sender=None, task_id="9f1c2b7e-task", task=None)
    try:
        logging.getLogger("reports.tasks").info("rendering")
    finally:
        task_postrun.send(sender=None, task_id="9f1c2b7e-task", task=None)
    logging.getLogger("reports.tasks").info("between tasks")

    during, after = [json.loads(line) for line in json_lines if '"reports.tasks"' in line]
    assert during["request_id"] == "9f1c2b7e-task"
    assert after["request_id"] == "-"


# --- Request ids ---------------------------------------------------------------------------------


def _answer(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def test_a_well_formed_request_id_from_the_proxy_is_kept():
    request = RequestFactory().get("/", headers={REQUEST_ID_HEADER: "lb-7f3a9c01.e4_2"})

    response = RequestContextMiddleware(_answer)(request)

    assert response[REQUEST_ID_HEADER] == "lb-7f3a9c01.e4_2"


@pytest.mark.parametrize("offered", ["x\r\nInjected", "a" * 200, "short", "has space 12345", ""])
def test_a_malformed_request_id_is_replaced_by_a_new_one(offered):
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID=offered)

    first = RequestContextMiddleware(_answer)(request)[REQUEST_ID_HEADER]
    second = RequestContextMiddleware(_answer)(RequestFactory().get("/", HTTP_X_REQUEST_ID=offered))[REQUEST_ID_HEADER]

    assert first != offered and "Injected" not in first
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


# --- Refused requests (ASVS 16.3.2) ------------------------------------------------------------------


def test_a_404_from_a_role_check_is_one_security_line_with_the_user_and_path(db, caplog):
    caplog.set_level(logging.INFO)
    user = UserFactory(role=Role.INTAKE)
    client = Client(REMOTE_ADDR=IP)
    client.force_login(user)

    response = client.get("/finance/?report=annual&token=s3cret")

    (line,) = _security_lines(caplog)
    assert response.status_code == 404
    assert line.levelno == logging.WARNING
    assert line.getMessage() == (
        f"request refused status=404 method=GET path=/finance/ user={user.pk} ip={IP}"
        f" request_id={response[REQUEST_ID_HEADER]}"
    )
    assert "s3cret" not in caplog.text and "report=" not in caplog.text
    # Django's own "Not Found: /finance/" warning is not written twice.
    assert [r for r in caplog.records if r.name == "django.request"] == []


def test_a_429_is_logged_with_an_anonymous_user():
    def too_many(request: HttpRequest) -> HttpResponse:
        return HttpResponse("later", status=429)

    request = RequestFactory().post("/give/?amount=50", REMOTE_ADDR=IP)
    request.user = AnonymousUser()
    records: list[logging.LogRecord] = []
    handler = _Lines(RedactingFormatter(PLAIN_FORMAT))
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("amparo.security").addHandler(handler)
    try:
        response = RequestContextMiddleware(too_many)(request)
    finally:
        logging.getLogger("amparo.security").removeHandler(handler)

    (record,) = records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"request refused status=429 method=POST path=/give/ user=anonymous ip={IP}"
        f" request_id={response[REQUEST_ID_HEADER]}"
    )


def test_an_answered_request_writes_no_security_line(caplog):
    caplog.set_level(logging.INFO)
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    RequestContextMiddleware(_answer)(request)

    assert _security_lines(caplog) == []


@pytest.mark.parametrize(
    ("level", "status", "kept"),
    [
        (logging.WARNING, 404, False),
        (logging.WARNING, 403, False),
        (logging.WARNING, 429, False),
        (logging.WARNING, 400, True),
        (logging.ERROR, 500, True),
    ],
)
def test_django_request_keeps_only_what_the_security_line_does_not_say(level, status, kept):
    record = logging.LogRecord("django.request", level, __file__, 1, "x: %s", ("/",), None)
    record.status_code = status

    assert RefusalsLoggedElsewhere().filter(record) is kept


# --- Where the log goes (ASVS 16.4.3) ---------------------------------------------------------------

_SETTINGS_ENV = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(Path(settings.BASE_DIR))}


def test_log_syslog_address_sends_a_copy_of_each_line_as_json():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(20)
        port = receiver.getsockname()[1]
        env = {**os.environ, **_SETTINGS_ENV, "LOG_FORMAT": "json", "LOG_SYSLOG_ADDRESS": f"127.0.0.1:{port}"}
        code = "import django, logging; django.setup(); logging.getLogger('amparo.security').warning('to syslog')"
        subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=60)

        datagram = receiver.recv(65536).decode()

    priority, _, text = datagram.partition(">")
    assert priority == "<12"  # facility user, severity warning
    entry = json.loads(text.rstrip("\x00"))
    assert (entry["logger"], entry["message"], entry["request_id"]) == ("amparo.security", "to syslog", "-")


@pytest.mark.parametrize("address", ["localhost", "host:port", "host:70000"])
def test_a_bad_log_syslog_address_stops_the_start(address):
    env = {**os.environ, **_SETTINGS_ENV, "LOG_SYSLOG_ADDRESS": address}

    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode != 0
    assert "LOG_SYSLOG_ADDRESS" in done.stderr
