"""The WSGI application ``bench/pages.py`` runs under gunicorn: Amparo's own, with a bench-only probe.

``amparo.wsgi.application`` unchanged (its start-up key check included), wrapped so that each
answer carries ``X-Bench-Queries`` (SQL statements run by the request) and ``X-Bench-DB-ms``
(their time), and the request's slowest statement (with its parameters bound) is appended to the
JSON-lines file ``BENCH_PROBE_LOG`` for ``EXPLAIN``. A request sent with ``X-Bench-Capture: 1`` logs
every statement it ran (time and bound SQL, in order), from which ``pages.py`` takes the page's
main query for the bare-SQL baseline. Two bench-only pages join the URLs, for the
baselines: ``/__bench/tiny/`` (a tiny template behind the full signed-in middleware stack) and
``/__bench/anonymous/`` (the same template, public). Nothing here is imported by the app.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bigenv

bigenv.apply()

from django.conf import settings  # noqa: E402
from django.contrib.auth.decorators import login_not_required  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.urls import clear_url_caches, path  # noqa: E402

from amparo.wsgi import application as amparo_application  # noqa: E402  (sets Django up, checks the keys)

TINY = engines["django"].from_string(
    '{% load i18n %}<!doctype html><html lang="{{ LANGUAGE_CODE }}"><title>Amparo</title>'
    "<p>{% translate 'Signed in' %}: {{ request.user.get_short_name|default:'-' }}</p></html>"
)


def tiny(request):
    return HttpResponse(TINY.render({}, request))


importlib.import_module(settings.ROOT_URLCONF).urlpatterns += [
    path("__bench/tiny/", tiny),
    path("__bench/anonymous/", login_not_required(tiny)),
]
clear_url_caches()

LOG_PATH = os.environ.get("BENCH_PROBE_LOG", "")


class Probe:
    def __init__(self) -> None:
        self.reset()

    def reset(self, capture: bool = False) -> None:
        self.count = 0
        self.seconds = 0.0
        self.slowest: tuple[float, str] = (0.0, "")
        self.capture = capture
        self.statements: list[tuple[float, str]] = []

    def bind(self, context, sql, params) -> str:
        try:
            return connection.ops.last_executed_query(context["cursor"], sql, params)
        except Exception:  # noqa: BLE001 - the probe must never break a request
            return sql

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - start
            self.count += 1
            self.seconds += took
            bound = self.bind(context, sql, params) if self.capture or took > self.slowest[0] else ""
            if took > self.slowest[0]:
                self.slowest = (took, bound)
            if self.capture:
                self.statements.append((took, bound))


probe = Probe()


def application(environ, start_response):
    probe.reset(capture=environ.get("HTTP_X_BENCH_CAPTURE") == "1")
    page = environ.get("HTTP_X_BENCH_PAGE", "")

    def start(status, headers, exc_info=None):
        headers = [
            *headers,
            ("X-Bench-Queries", str(probe.count)),
            ("X-Bench-DB-ms", f"{probe.seconds * 1000:.2f}"),
        ]
        if LOG_PATH and page:
            with open(LOG_PATH, "a") as log:
                log.write(
                    json.dumps(
                        {
                            "page": page,
                            "queries": probe.count,
                            "db_ms": round(probe.seconds * 1000, 2),
                            "slowest_ms": round(probe.slowest[0] * 1000, 2),
                            "slowest_sql": probe.slowest[1],
                            **(
                                {"statements": [[round(t * 1000, 3), sql] for t, sql in probe.statements]}
                                if probe.capture
                                else {}
                            ),
                        }
                    )
                    + "\n"
                )
        return start_response(status, headers, exc_info)

    with connection.execute_wrapper(probe):
        return amparo_application(environ, start)
