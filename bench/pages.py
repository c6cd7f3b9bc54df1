"""Staff pages at scale: one gunicorn sync worker on the database ``bench/bigdata.py`` filled, load from locust.

Run (after ``bench/bigdata.py``, with the same DATABASE_URL and, for the webhook's broker, TEST_REDIS_URL)::

    .venv/bin/python bench/pages.py                          # every scenario (bench/run_all.sh: and the README)
    .venv/bin/python bench/pages.py --only case_list_p1      # one scenario (and the two baselines)
    .venv/bin/python bench/pages.py --only workload,case-list-last --runs 10 --no-explain
    .venv/bin/python bench/pages.py --compare [--write-readme]   # no run: the table of every results file

One ``gunicorn`` sync worker serves ``bench/probe_wsgi.py`` (Amparo's own WSGI application under
``amparo.settings`` with DEBUG off, plus a probe that counts each request's queries) on 127.0.0.1.
Each scenario is driven by locust as a library (``bench/loadgen.py``): first **1 user**, one
request at a time (latency: p50 / p95 / p99, queries per request, database time), then
**``--users`` users** at once against the same one worker (its requests per second). Sessions
are made directly (``force_login``: the sign-in, its ``StaffSession`` row and the MFA check
happen as after a real sign-in).

Baselines, in the same run:

- the anonymous and the signed-in tiny template pages (always run, also with ``--only``);
- for each page, the **bare SQL of its main query**: one request of the page is sent with
  ``X-Bench-Capture`` and the probe logs every statement; the page's main SELECT (the slowest
  one on its main table) is then run alone ``--runs`` times on one psycopg connection;
- for the attorney's permission-filtered lists (case list, search, dashboard): guardian's
  ``get_objects_for_user(attorney, "casework.view_case")`` sliced to the page size, in-process.

After the timings, the slowest statement of each page over 50 ms is run with ``EXPLAIN (ANALYZE)``.

Writes ``bench/results/pages-<cases>.json`` (a run with ``--only`` replaces those pages in the
file and keeps the others) and prints a markdown table; ``--write-readme`` replaces the table
between ``<!-- bench:pages:begin -->`` and ``<!-- bench:pages:end -->`` in ``bench/README.md``.
"""

# ruff: noqa: E402, RUF001 - loadgen patches the standard library for gevent before Django and requests are
# imported; the tables write the multiplication sign on purpose
from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import bigenv
import loadgen  # before requests and Django: gevent patches the standard library

bigenv.apply()

import django

django.setup()

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import lxml.html
import psycopg
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.test import Client

from accounts.models import User
from accounts.roles import Role
from casework.identity import format_a_number
from casework.models import Assignment, Case

BUDGET_SECONDS = 25.0  # per page and phase: fewer runs for a page that is slow
README = BENCH / "README.md"
BEGIN, END = "<!-- bench:pages:begin -->", "<!-- bench:pages:end -->"
PER_PAGE = 25  # the case list's page size (casework.views.cases.CASES_PER_PAGE)
HOPS = 20  # "next" links followed when a keyset cursor cannot be made for the middle page
CASE_HREF = re.compile(r'href="/cases/(\d{4}-\d{5,})/"')

# Targets of issue 12.
P95_TARGET_MS = 50.0
FLAT_TARGET = 1.5
X_TINY_TARGET = 3.0
X_SQL_TARGET = 3.0
TINY_QUERIES_TARGET = 2
TINY_X_ANONYMOUS_TARGET = 2.0

# The attorney's permission-filtered lists, also compared with guardian's ``get_objects_for_user``.
GUARDIAN_SCENARIOS = ("attorney-case-list", "attorney-search", "dashboard")
# The page's main query: the slowest captured SELECT matching this (the slowest SELECT without one).
_CASES = r'FROM "casework_case"'
MAIN_QUERY = {
    "workload": r'FROM "accounts_user"',
    "case-list-first": _CASES,
    "case-list-middle": _CASES,
    "case-list-last": _CASES,
    "search-number": _CASES,
    "search-a-number": _CASES,
    "search-name": _CASES,
    "attorney-case-list": _CASES,
    "attorney-search": _CASES,
    "triage": _CASES,
    "duplicate-check": r'"casework_detainee"',
    "ledger": r'FROM "funds_transaction"',
    "access-log-user": r'FROM "accounts_accessevent"',
}

# Other names accepted by --only (underscores are read as hyphens too).
ALIASES = {
    "tiny-signed-in": "tiny",
    "anonymous-tiny": "anonymous",
    "case-list-p1": "case-list-first",
    "case-list": "case-list-first",
    "case-list-mid": "case-list-middle",
    "attorney-list": "attorney-case-list",
    "webhooks": "webhook",
}
BASELINES = ("anonymous", "tiny")
# What kind of page each scenario is (the "within 3x" targets are for lists); see ``scenarios()``.
KINDS = {
    "anonymous": "baseline",
    "tiny": "baseline",
    "workload": "list",
    "case-list-first": "list",
    "case-list-middle": "list",
    "case-list-last": "list",
    "search-number": "list",
    "search-a-number": "list",
    "search-name": "list",
    "attorney-case-list": "list",
    "attorney-search": "list",
    "triage": "list",
    "duplicate-check": "page",
    "finance-home": "page",
    "ledger": "list",
    "case-page": "page",
    "access-log-user": "list",
    "dashboard": "list",
    "webhook": "page",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


percentile = loadgen.percentile


class Browser:
    """One signed-in staff member: the session cookie, CSRF token, ``requests`` without redirects."""

    def __init__(self, base: str, user: User | None, session_key: str = "", csrf: str = "") -> None:
        self.base = base
        self.http = requests.Session()
        self.user = user
        self.csrf = csrf
        self.capture = False  # the next requests ask the probe to log every statement
        if user is not None and not session_key:
            client = Client()
            client.force_login(user)
            session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.session_key = session_key
        if session_key:
            self.http.cookies.set(settings.SESSION_COOKIE_NAME, session_key)

    def clone(self) -> Browser:
        """The same signed-in person with an HTTP session of its own (one per locust user)."""
        other = Browser(self.base, self.user, self.session_key, self.csrf)
        other.http.cookies.update(self.http.cookies)
        return other

    def request(self, method: str, path: str, page: str, data: Any = None, **kw: Any) -> requests.Response:
        headers = {"X-Bench-Page": page, **kw.pop("headers", {})}
        if self.capture:
            headers["X-Bench-Capture"] = "1"
        if method == "POST" and isinstance(data, dict) and "csrfmiddlewaretoken" not in data and self.csrf:
            data = {**data, "csrfmiddlewaretoken": self.csrf}
        kw.setdefault("timeout", 330)
        return self.http.request(method, self.base + path, data=data, headers=headers, allow_redirects=False, **kw)

    def fetch_csrf(self, path: str) -> None:
        answer = self.request("GET", path, "csrf")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text)
        if not found:
            raise SystemExit(f"no CSRF token on {path} ({answer.status_code})")
        self.csrf = found.group(1)


Steps = Callable[[Browser, str], list[requests.Response]]


@dataclass
class Scenario:
    """A page (or a POST and the page it leads to) asked as ``who``.

    ``expect``: text the last answer must hold (a search finds its person). The page's main
    query is the slowest captured SELECT matching ``MAIN_QUERY[name]`` (the slowest SELECT if none
    matches or there is no pattern).
    """

    name: str
    label: str
    who: str
    steps: Steps
    expect: str = ""

    @property
    def kind(self) -> str:
        return KINDS.get(self.name, "page")


def get(path: str) -> Steps:
    return lambda browser, name: [browser.request("GET", path, name)]


def post_then_get(path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Steps:
    def steps(browser: Browser, name: str) -> list[requests.Response]:
        posted = browser.request("POST", path, name, data, headers=headers or {})
        if posted.status_code != 303:
            return [posted]
        return [posted, browser.request("GET", posted.headers["Location"], name)]

    return steps


def post(path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Steps:
    return lambda browser, name: [browser.request("POST", path, name, data, headers=headers or {})]


def run_scenario(s: Scenario, browser: Browser, args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, one captured request (its statements for the bare-SQL baseline), then the two locust phases."""
    for _ in range(args.warmup):
        s.steps(browser, s.name)
    browser.capture = True
    try:
        answers = s.steps(browser, s.name)
    finally:
        browser.capture = False
    found = (s.expect in answers[-1].text) if s.expect else None

    def users_steps(_i: int) -> loadgen.Steps:
        seat = browser.clone()
        return lambda: s.steps(seat, s.name)

    latency = loadgen.run(s.name, users_steps, users=1, requests=args.runs, seconds=BUDGET_SECONDS)
    if not latency["runs"]:
        raise SystemExit(f"{s.name}: no request completed ({latency.get('failures')})")
    result: dict[str, Any] = {
        "label": s.label,
        "kind": s.kind,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        **{k: v for k, v in latency.items() if k not in ("users", "rps")},
        "errors": sorted(code for code in latency["statuses"] if code >= 400),
    }
    if s.expect:
        result["found_expected"] = found
    # N users against the one sync worker: its requests per second. A page whose requests take
    # over a second is not run again: one worker serves one request at a time, 1000 / mean ms.
    if args.users > 1 and latency["p50_ms"] <= args.rps_max_ms:
        load = loadgen.run(s.name, users_steps, users=args.users, requests=args.rps_requests, seconds=args.rps_seconds)
        result.update(
            rps=load["rps"],
            rps_users=args.users,
            rps_runs=load["runs"],
            rps_p50_ms=load.get("p50_ms"),
            rps_p95_ms=load.get("p95_ms"),
            rps_failures=load.get("failures", 0),
        )
    else:
        result.update(rps=round(1000 / latency["mean_ms"], 2), rps_users=1, rps_runs=latency["runs"])
    return result


def explain(sql: str) -> list[str]:
    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return []
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING ON) " + sql)
        return [row[0] for row in cur.fetchall()]


def is_select(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "WITH"))


def main_statement(statements: list[list[Any]], pattern: str) -> tuple[float, str] | None:
    """The page's main SELECT among its captured ``[ms, sql]``: the slowest matching ``pattern``."""
    selects = [(ms, sql) for ms, sql in statements if is_select(sql)]
    if pattern:
        selects = [row for row in selects if re.search(pattern, row[1])] or selects
    return max(selects, default=None)


def time_sql(dsn: str, sql: str, runs: int, seconds: float = 10.0) -> dict[str, Any]:
    """``sql`` alone on one (warm) psycopg connection, ``runs`` times: execute and fetch every row."""
    samples: list[float] = []
    rows = 0
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        for _ in range(2):
            cur.execute(sql)  # type: ignore[call-overload]  # a logged statement, its values bound
            cur.fetchall()
        deadline = time.perf_counter() + seconds
        while len(samples) < runs and (len(samples) < 3 or time.perf_counter() < deadline):
            t = time.perf_counter()
            cur.execute(sql)  # type: ignore[call-overload]
            rows = len(cur.fetchall())
            samples.append((time.perf_counter() - t) * 1000)
    return {
        "runs": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "rows": rows,
    }


def time_guardian(user: User, runs: int, per_page: int = PER_PAGE) -> dict[str, Any]:
    """guardian's ``get_objects_for_user(user, "casework.view_case")``, newest first, one page of it."""
    from guardian.shortcuts import get_objects_for_user  # only this baseline needs it

    def page() -> int:
        cases = get_objects_for_user(user, "casework.view_case", klass=Case, accept_global_perms=False)
        return len(list(cases.order_by("-registered_at", "-pk")[:per_page]))

    for _ in range(2):
        page()
    samples, rows = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        rows = page()
        samples.append((time.perf_counter() - t) * 1000)
    return {
        "runs": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "rows": rows,
    }


def pick_users() -> dict[str, Any]:
    def first(role: Role) -> User:
        return User.objects.filter(groups__name=role.value, is_active=True).order_by("pk").first()

    loads = (
        Assignment.objects.filter(ended_at__isnull=True, attorney__groups__name=Role.ATTORNEY.value)
        .values("attorney")
        .annotate(n=Count("case", distinct=True))
    )
    # An attorney with a real caseload: 142-602 cases they may open, the middle of it if possible.
    target = 372
    best = min(loads, key=lambda row: abs(row["n"] - target))
    return {
        "supervisor": first(Role.SUPERVISOR),
        "attorney": User.objects.get(pk=best["attorney"]),
        "attorney_cases": best["n"],
        "finance": first(Role.FINANCE),
        "auditor": first(Role.AUDITOR),
        "intake": first(Role.INTAKE),
    }


def signed_webhook(n: int, run: str) -> tuple[bytes, str]:
    event = {
        "id": f"evt_bench_{run}_{n}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": "charge.succeeded",
        "data": {"object": {"id": f"ch_bench_{run}_{n}", "object": "charge", "amount": 5000, "currency": "usd"}},
    }
    body = json.dumps(event).encode()
    stamp = int(time.time())
    mac = hmac.new(bigenv.STRIPE_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={mac}"


def start_gunicorn(port: int, probe_log: str, conn_max_age: int | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BENCH_PROBE_LOG": probe_log}
    if conn_max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = str(conn_max_age)
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "probe_wsgi:application",
        "--pythonpath",
        str(BENCH),
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "64",
        "--timeout",
        "300",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, cwd=bigenv.ROOT)  # noqa: S603 - our own command line
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/__bench/anonymous/", timeout=5).status_code == 200:
                return server
        except requests.ConnectionError:
            time.sleep(0.3)
        if server.poll() is not None:
            raise SystemExit("gunicorn did not start")
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def execution_ms(plan: list[str]) -> float | None:
    """The ``Execution Time`` EXPLAIN ANALYZE reported: the statement alone, on the same database."""
    for line in plan:
        if line.startswith("Execution Time:"):
            return float(line.split()[2])
    return None


# --- where the middle and last pages of the case list are ------------------------------------


def _links(html: str, url: str) -> dict[str, str]:
    """The page's "next" and "last" links (``rel``, or their words in English or Spanish), as paths
    (resolved against the page's ``url``)."""
    words = {
        "next": ("next", "older", "siguiente", "más antiguos", "anteriores"),
        "last": ("last", "oldest", "última", "último", "más antiguo"),
    }
    found: dict[str, str] = {}
    for a in lxml.html.fromstring(html).iter("a"):
        href, rel, text = a.get("href") or "", (a.get("rel") or "").lower().split(), a.text_content().strip().lower()
        for kind, names in words.items():
            if kind not in found and href and (kind in rel or text in names):
                found[kind] = urljoin(url, href)
    return found


def _decode_cursor(value: str) -> list[Any] | None:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return decoded if isinstance(decoded, list) else None


def _encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def case_list_targets(boss: Browser, cases: int) -> dict[str, tuple[str, str]]:
    """``{"middle": (path, label), "last": (path, label)}`` of the supervisor's case list.

    Follows the page's own links: a "last" link if it has one. A keyset list (``?after=<cursor>``,
    ``kernel.pagination``: base64 JSON of the last row's ordering values) is entered in the middle
    and at the end with the cursor of the row just before, made the way the page makes its own
    (which values of page 1's last case the cursor holds is read off the page's "next" link). A
    cursor that cannot be read that way: the page reached by ``HOPS`` "next" links. A numbered
    list (``?page=N``): its middle and last page numbers.
    """
    last_page = max(1, -(-cases // PER_PAGE))
    numbered = {
        "middle": (f"/cases/?page={last_page // 2}", f"supervisor case list, page {last_page // 2:,}"),
        "last": (f"/cases/?page={last_page}", f"supervisor case list, last page ({last_page:,})"),
    }
    first = boss.request("GET", "/cases/", "csrf")
    links = _links(first.text, "/cases/")
    following = links.get("next", "")
    params = dict(parse_qsl(urlsplit(following).query))
    if not following or "page" in params:
        if "last" in links:
            numbered["last"] = (links["last"], "supervisor case list, last page (its link)")
        return numbered
    targets: dict[str, tuple[str, str]] = {}
    if "last" in links:
        targets["last"] = (links["last"], "supervisor case list, last page (its link)")
    name = next((k for k in ("after", "cursor", "before") if k in params), "")
    values = _decode_cursor(params.get(name, "")) if name else None
    numbers = CASE_HREF.findall(first.text)
    fields: list[str] = []
    if values and numbers:
        row = Case.objects.filter(number=numbers[-1]).values().first() or {}
        for value in values:
            match = next((f for f, v in row.items() if _plain(v) == value and f not in fields), "")
            fields.append(match)
    if values and fields and all(fields):
        top = Case.objects.filter(number=numbers[0]).values(fields[0]).first() or {}
        bottom = Case.objects.filter(number=numbers[-1]).values(fields[0]).first() or {}
        descending = top.get(fields[0]) is not None and top[fields[0]] >= bottom[fields[0]]
        ordering = [f"-{f}" if descending else f for f in fields]
        rows = Case.objects.order_by(*ordering).values_list(*fields)

        def at(index: int) -> str:
            cursor = _encode_cursor([_plain(v) for v in rows[max(0, index)]])
            return "/cases/?" + urlencode({**params, name: cursor})

        targets["middle"] = (at(cases // 2 - 1), "supervisor case list, middle page (its cursor)")
        targets.setdefault("last", (at(cases - PER_PAGE - 1), "supervisor case list, last page (its cursor)"))
        return targets
    path, hops = following, 0
    for hops in range(1, HOPS + 1):  # noqa: B007 - the count is reported
        nxt = _links(boss.request("GET", path, "csrf").text, path).get("next")
        if not nxt:
            break
        path = nxt
    label = f"supervisor case list, {hops + 1} 'next' links in"
    targets["middle"] = (path, label)
    targets.setdefault("last", targets["middle"])
    return targets


# --- the tables ---------------------------------------------------------------------------------


# Labels that name a page number or a caseload, which differ from one data size to the next.
SAME_LABEL = {
    "case-list-middle": "supervisor case list, middle page",
    "case-list-last": "supervisor case list, last page",
    "attorney-search": "attorney search by name (POST + results)",
    "attorney-case-list": "attorney case list, page 1",
}


def reports_on_disk(results_dir: Path) -> list[dict[str, Any]]:
    return sorted((json.loads(path.read_text()) for path in results_dir.glob("pages-*.json")), key=lambda r: r["cases"])


def ratios(report: dict[str, Any], name: str) -> dict[str, float | None]:
    """The page's p50 over its baselines in the same results file (None where one is missing)."""
    page = report["pages"].get(name) or {}
    p50 = page.get("p50_ms")
    tiny = (report["pages"].get("tiny") or {}).get("p50_ms")
    bare = (page.get("bare_sql") or {}).get("p50_ms")
    guardian = (page.get("guardian") or {}).get("p50_ms")

    def over(base: float | None) -> float | None:
        return round(p50 / base, 1) if p50 and base else None

    return {"tiny": over(tiny), "sql": over(bare), "guardian": over(guardian)}


def _n(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}" if value < 100 else f"{value:,.0f}"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "**MISS**")


def pages_table(reports: list[dict[str, Any]]) -> list[str]:
    """The README's table: every page at every size, its baselines' ratios and the targets."""
    sizes = " / ".join(f"{r['cases']:,}" for r in reports)
    small, large = reports[0], reports[-1]
    lines = [
        f"| page | p50 ms at {sizes} cases | p95 ms | flat (p50 {large['cases']:,} / {small['cases']:,}) "
        f"| req/s, 1 worker | queries | × tiny | × bare SQL | × guardian "
        f"| p95 ≤ {P95_TARGET_MS:.0f} ms | flat ≤ {FLAT_TARGET}× | ≤ {X_TINY_TARGET:.0f}× tiny "
        f"| ≤ {X_SQL_TARGET:.0f}× SQL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|:-:|:-:|:-:|",
    ]
    names = list(dict.fromkeys(name for r in reports for name in r["pages"]))
    for name in names:
        rows = [r["pages"].get(name) for r in reports]
        label = SAME_LABEL.get(name) or next(row["label"] for row in rows if row)
        kind = next((row.get("kind") for row in rows if row and row.get("kind")), KINDS.get(name, "page"))
        last = large["pages"].get(name)
        first = small["pages"].get(name)

        def cells(key: str, rows: list[dict[str, Any] | None] = rows) -> str:
            return " / ".join(_n(row.get(key)) if row and row.get(key) is not None else "-" for row in rows)

        flat = round(last["p50_ms"] / first["p50_ms"], 2) if last and first and large is not small else None
        r = ratios(large, name) if last else {"tiny": None, "sql": None, "guardian": None}
        rps = last.get("rps") if last else None
        rps_cell = "-" if rps is None else f"{rps:,.1f}" + ("" if last.get("rps_users", 1) > 1 else " (1 user)")
        listed = kind == "list"
        lines.append(
            f"| {label} | {cells('p50_ms')} | {cells('p95_ms')} | {_n(flat, 2)} | {rps_cell} | {cells('queries')} "
            f"| {_n(r['tiny'])} | {_n(r['sql'])} | {_n(r['guardian'])} "
            f"| {_verdict(last['p95_ms'] <= P95_TARGET_MS if last and kind != 'baseline' else None)} "
            f"| {_verdict(flat <= FLAT_TARGET if flat is not None and kind != 'baseline' else None)} "
            f"| {_verdict(r['tiny'] <= X_TINY_TARGET if listed and r['tiny'] is not None else None)} "
            f"| {_verdict(r['sql'] <= X_SQL_TARGET if listed and r['sql'] is not None else None)} |"
        )
    hooks = " / ".join(f"{r['webhook']['per_second']}" if r.get("webhook") else "-" for r in reports)
    lines.append(f"| Stripe webhook acknowledgements per second | {hooks} | | | | | | | | | | | |")
    return lines


def baseline_lines(report: dict[str, Any]) -> list[str]:
    tiny, anonymous = report["pages"].get("tiny"), report["pages"].get("anonymous")
    if not tiny:
        return []
    queries_ok = tiny["queries"] <= TINY_QUERIES_TARGET
    line = (
        f"- Tiny signed-in page at {report['cases']:,} cases: {tiny['queries']} queries "
        f"(target ≤ {TINY_QUERIES_TARGET}: {_verdict(queries_ok)})"
    )
    if anonymous:
        x = round(tiny["p50_ms"] / anonymous["p50_ms"], 1)
        line += f", {x}× the anonymous page (target ≤ {TINY_X_ANONYMOUS_TARGET:.0f}×: {_verdict(x <= 2)})"
    return [line + "."]


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
        cpu = next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "")
    except OSError:
        pass
    ram_gib = 0.0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        postgresql = cur.fetchone()[0]
    return {
        "cpu": cpu or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gib": ram_gib,
        "postgresql": postgresql,
        "python": platform.python_version(),
    }


def data_sizes(cases: int) -> dict[str, int]:
    """The rows that size the pages (estimates from the planner's statistics, but the cases)."""
    sizes = {"cases": cases}
    with connection.cursor() as cur:
        for key, table in (
            ("detainees", "casework_detainee"),
            ("assignments", "casework_assignment"),
            ("access_events", "accounts_accessevent"),
            ("postings", "funds_posting"),
        ):
            cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cur.fetchone()
            sizes[key] = int(row[0]) if row else 0
    sizes["attorneys"] = User.objects.filter(groups__name=Role.ATTORNEY.value).count()
    return sizes


def write_readme(reports: list[dict[str, Any]], readme: Path = README) -> None:
    """Replace what is between the markers in ``bench/README.md`` with the table of ``reports``."""
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme}: no {BEGIN} ... {END} markers")
    large = reports[-1]
    # Files written before this harness have neither: the newest file that has them says them.
    info = next((r["machine_info"] for r in reversed(reports) if r.get("machine_info")), {})
    machine = (
        f"{info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, PostgreSQL {info['postgresql']}, "
        f"Python {info['python']}"
        if info
        else large.get("machine", "")
    )
    sizes = "; ".join(
        f"{r['cases']:,} cases"
        + (
            " (" + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in r["data"].items() if k != "cases") + ")"
            if r.get("data")
            else ""
        )
        + f", run {r['when'][:10]}"
        + (f" on `{r['code']}`" if r.get("code") else "")
        for r in reports
    )
    load = next((r["load"] for r in reversed(reports) if r.get("load")), None)
    block = [
        BEGIN,
        "<!-- written by `bench/pages.py --write-readme` (bench/run_all.sh): edit the script, not this table -->",
        "",
        f"Machine: {machine}. Data: {sizes}. One gunicorn sync worker, `DATABASE_CONN_MAX_AGE` "
        f"{large.get('conn_max_age', 'the default (60 s on PostgreSQL)')}.",
        "",
        (
            f"Load: {load['tool']} as a library (`bench/loadgen.py`), headless: 1 user for the latency ({load['runs']} requests or "
            f"{load['budget_s']:.0f} s per page), then {load['users']} users at once for the requests per second "
            f"(up to {load['rps_requests']} requests or {load['rps_seconds']:.0f} s; a page over "
            f'{load["rps_max_ms"]:.0f} ms: 1000 / its mean, marked "1 user").'
            if load
            else "Load: one sequential client (results files written before the locust harness)."
        ),
        "Ratios and targets are at the largest size measured; × tiny, × bare SQL (the page's main SELECT "
        "alone on one psycopg connection) and × guardian (`get_objects_for_user` sliced to the page) "
        'are p50 over p50 in the same run; the "≤ 3×" targets are for list pages.',
        "",
        *pages_table(reports),
        "",
        *baseline_lines(large),
        END,
    ]
    before, rest = text.split(BEGIN, 1)
    _old, after = rest.split(END, 1)
    readme.write_text(before + "\n".join(block) + after)
    print(f"wrote the table in {readme}")


def re_explain(results_dir: Path) -> None:
    """EXPLAIN ANALYZE again each page's slowest statement in ``pages-<cases>.json`` (plan and time kept)."""
    out = results_dir / f"pages-{Case.objects.count()}.json"
    report = json.loads(out.read_text())
    for name, page in report["pages"].items():
        if page.get("slowest_query") and page["p95_ms"] > 50:
            try:
                plan = explain(page["slowest_query"])
            except Exception as exc:  # noqa: BLE001 - e.g. a statement cut short in an older file
                print(f"{name:18} EXPLAIN failed: {exc}")
                continue
            page["plan"], page["explain_ms"] = plan[:40] + plan[-2:], execution_ms(plan)
            print(f"{name:18} {page['explain_ms']} ms  {plan[0] if plan else ''}")
    out.write_text(json.dumps(report, indent=2) + "\n")


def compare(results_dir: Path) -> list[dict[str, Any]]:
    """Print one markdown table of every ``pages-*.json``, the data sizes side by side."""
    reports = reports_on_disk(results_dir)
    if not reports:
        raise SystemExit(f"no pages-*.json in {results_dir}")
    print("\n".join(pages_table(reports)))
    print("\n".join(baseline_lines(reports[-1])))
    return reports


def wanted(only: str, names: list[str]) -> set[str]:
    """The scenario names ``--only`` asks for (aliases and underscores read), or SystemExit."""
    chosen = set()
    for raw in filter(None, (part.strip() for part in only.split(","))):
        name = raw.replace("_", "-")
        name = ALIASES.get(name, name)
        if name not in names:
            raise SystemExit(f"unknown scenario {raw!r}; known: {', '.join(names)} (aliases: {', '.join(ALIASES)})")
        chosen.add(name)
    return chosen


def scenarios(users: dict[str, Any], cases: int, boss: Browser) -> list[Scenario]:
    """Every page issue 12 names, as whom, with what it must find; the baselines first."""
    attorney = users["attorney"]
    own_case = (
        Case.objects.filter(assignments__attorney=attorney, assignments__ended_at__isnull=True, status="active")
        .order_by("-registered_at")
        .first()
    )
    # Someone to search for: a registered person with an A-number, and one case number.
    target = (
        Case.objects.filter(~Q(detainee__a_number=""), detainee__date_of_birth__isnull=False, status="active")
        .select_related("detainee")
        .order_by("pk")[cases // 20]
    )
    person = target.detainee
    their = (
        Case.objects.filter(assignments__attorney=attorney, assignments__ended_at__isnull=True)
        .select_related("detainee")
        .order_by("pk")
        .first()
    )
    dob = person.date_of_birth.isoformat() if person.date_of_birth else "1990-01-01"
    pages = case_list_targets(boss, cases)
    return [
        Scenario("anonymous", "anonymous tiny template page (baseline)", "anonymous", get("/__bench/anonymous/")),
        Scenario("tiny", "tiny signed-in template page (baseline)", "supervisor", get("/__bench/tiny/")),
        Scenario("workload", "supervisor workload", "supervisor", get("/workload/")),
        Scenario("case-list-first", "supervisor case list, page 1", "supervisor", get("/cases/")),
        Scenario("case-list-middle", pages["middle"][1], "supervisor", get(pages["middle"][0])),
        Scenario("case-list-last", pages["last"][1], "supervisor", get(pages["last"][0])),
        Scenario(
            "search-number",
            "search by case number (POST + results)",
            "supervisor",
            post_then_get("/search/", {"q": target.number}),
            expect=target.number,
        ),
        Scenario(
            "search-a-number",
            "search by A-number (POST + results)",
            "supervisor",
            post_then_get("/search/", {"q": format_a_number(person.a_number)}),
            expect=target.number,
        ),
        Scenario(
            "search-name",
            "search by full name (POST + results)",
            "supervisor",
            post_then_get("/search/", {"q": person.full_name}),
            expect=target.number,
        ),
        Scenario(
            "attorney-case-list",
            f"attorney case list, page 1 ({users['attorney_cases']} cases)",
            "attorney",
            get("/cases/"),
        ),
        Scenario(
            "attorney-search",
            f"attorney search by name ({users['attorney_cases']} cases)",
            "attorney",
            post_then_get("/cases/", {"q": their.detainee.full_name}),
            expect=their.number,
        ),
        Scenario("triage", "triage queue", "supervisor", get("/triage/")),
        Scenario(
            "duplicate-check",
            "intake live duplicate check (name + date of birth)",
            "intake",
            post(
                "/intake/check/",
                {"given_names": person.given_names, "family_names": person.family_names, "date_of_birth": dob},
                headers={"HX-Request": "true"},
            ),
            expect="same date of birth and a similar name",
        ),
        Scenario("finance-home", "finance home", "finance", get("/finance/")),
        Scenario("ledger", "ledger (auditor)", "auditor", get("/audit/ledger/")),
        Scenario("case-page", "case page (attorney)", "attorney", get(f"/cases/{own_case.number}/")),
        Scenario(
            "access-log-user",
            "access log filtered by user (auditor)",
            "auditor",
            get(f"/audit/access-log/?user={attorney.pk}"),
        ),
        Scenario("dashboard", "attorney dashboard", "attorney", get("/dashboard/")),
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="latency: requests per page (1 user)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--users", type=int, default=4, help="locust users for the requests-per-second phase")
    parser.add_argument("--rps-requests", type=int, default=60, help="requests of the requests-per-second phase")
    parser.add_argument("--rps-seconds", type=float, default=10.0, help="... or at most this long")
    parser.add_argument(
        "--rps-max-ms", type=float, default=1000.0, help="no N-user phase for a page slower than this (p50)"
    )
    parser.add_argument("--webhooks", type=int, default=300)
    parser.add_argument("--only", default="", help="comma-separated scenario names (the baselines run too)")
    parser.add_argument("--no-baselines", action="store_true", help="with --only: not the tiny pages")
    parser.add_argument("--conn-max-age", type=int, default=None, help="DATABASE_CONN_MAX_AGE for the worker")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--no-bare-sql", action="store_true", help="no bare-SQL and guardian baselines")
    parser.add_argument("--compare", action="store_true", help="only print the table of all results files")
    parser.add_argument("--write-readme", action="store_true", help="write the table into bench/README.md")
    parser.add_argument("--results-dir", type=Path, default=bigenv.RESULTS)
    parser.add_argument(
        "--re-explain",
        action="store_true",
        help="only EXPLAIN ANALYZE again the slowest statements of this size's file",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    results_dir: Path = args.results_dir
    if args.compare:
        reports = compare(results_dir)
        if args.write_readme:
            write_readme(reports)
        return
    if args.re_explain:
        re_explain(results_dir)
        return
    only = wanted(args.only, [*KINDS])
    if only and not args.no_baselines:
        only |= set(BASELINES)

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():  # the manifest production serves from
        call_command("collectstatic", interactive=False, verbosity=0)
    cases = Case.objects.count()
    users = pick_users()
    with tempfile.NamedTemporaryFile(prefix="bench-probe-", suffix=".jsonl", delete=False) as handle:
        probe_log = handle.name
    port = free_port()
    server = start_gunicorn(port, probe_log, args.conn_max_age)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict[str, Any]] = {}
    webhook = None
    try:
        browsers = {
            "anonymous": Browser(base, None),
            **{who: Browser(base, users[who]) for who in ("supervisor", "attorney", "finance", "auditor", "intake")},
        }
        browsers["supervisor"].fetch_csrf("/search/")
        browsers["attorney"].fetch_csrf("/cases/")
        browsers["intake"].fetch_csrf("/intake/")
        for s in scenarios(users, cases, browsers["supervisor"]):
            if only and s.name not in only:
                continue
            results[s.name] = r = run_scenario(s, browsers[s.who], args)
            print(
                f"{s.name:18} p50 {r['p50_ms']:9.1f} ms  p95 {r['p95_ms']:9.1f} ms  p99 {r['p99_ms']:9.1f} ms  "
                f"{r['queries']:3} queries  {r['rps']:7.1f} req/s ({r['rps_users']} users)  runs {r['runs']}  "
                f"{r['statuses']}  failures {r['failures']}  found={r.get('found_expected', '-')}",
                flush=True,
            )
        if not only or "webhook" in only:
            webhook = run_webhooks(browsers["anonymous"], args.webhooks)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    # Each page's slowest statement, and its main query from the captured request.
    slowest: dict[str, dict[str, Any]] = {}
    captured: dict[str, list[list[Any]]] = {}
    with open(probe_log) as log:
        for line in log:
            row = json.loads(line)
            if row["page"] not in results:
                continue
            if "statements" in row:
                captured.setdefault(row["page"], []).extend(row["statements"])
            if row["slowest_ms"] > slowest.get(row["page"], {}).get("slowest_ms", -1):
                slowest[row["page"]] = row
    os.unlink(probe_log)
    for name, row in slowest.items():
        results[name]["slowest_query_ms"] = row["slowest_ms"]
        results[name]["slowest_query"] = row["slowest_sql"]
    if not args.no_bare_sql:
        bare_sql_baselines(results, captured, [s for s in KINDS if s in results], users["attorney"], args)
    if not args.no_explain:
        for name, row in slowest.items():
            if results[name]["p95_ms"] > 50:
                try:
                    plan = explain(row["slowest_sql"])
                except Exception as exc:  # noqa: BLE001 - a plan we cannot get is reported, not fatal
                    plan = [f"EXPLAIN failed: {exc}"]
                results[name]["plan"] = plan[:40] + plan[-2:]  # the top of the plan, its planning and run times
                results[name]["explain_ms"] = execution_ms(plan)

    report = save(results_dir, cases, users, results, webhook, args)
    print_run_table(report, list(results))
    if args.write_readme:
        write_readme(reports_on_disk(results_dir))


def bare_sql_baselines(
    results: dict[str, dict[str, Any]],
    captured: dict[str, list[list[Any]]],
    names: list[str],
    attorney: User,
    args: argparse.Namespace,
) -> None:
    """Each page's main SELECT alone (``bare_sql``), and guardian's list for the attorney's lists."""
    dsn = os.environ["DATABASE_URL"]
    for name in names:
        if KINDS.get(name) == "baseline" or name not in captured:
            continue
        main = main_statement(captured[name], MAIN_QUERY.get(name, ""))
        if main is None:
            continue
        try:
            timing = time_sql(dsn, main[1], args.runs)
        except psycopg.Error as exc:
            results[name]["bare_sql"] = {"error": str(exc)[:300], "sql": main[1]}
            continue
        results[name]["bare_sql"] = {**timing, "in_request_ms": main[0], "sql": main[1]}
        print(f"{name:18} bare SQL p50 {timing['p50_ms']:8.2f} ms ({timing['rows']} rows)", flush=True)
    if any(name in results for name in GUARDIAN_SCENARIOS):
        guardian = time_guardian(attorney, args.runs)
        print(f"{'guardian':18} get_objects_for_user, one page: p50 {guardian['p50_ms']:.2f} ms", flush=True)
        for name in GUARDIAN_SCENARIOS:
            if name in results:
                results[name]["guardian"] = guardian


def run_webhooks(anonymous: Browser, count: int) -> dict[str, Any]:
    run_id = datetime.now(UTC).strftime("%H%M%S")
    bodies = [signed_webhook(n, run_id) for n in range(count)]
    t = time.perf_counter()
    codes = set()
    for body, signature in bodies:
        answer = anonymous.request(
            "POST",
            "/stripe/webhook/",
            "webhook",
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            data=body,
        )
        codes.add(answer.status_code)
    seconds = time.perf_counter() - t
    webhook = {
        "events": len(bodies),
        "seconds": round(seconds, 2),
        "per_second": round(len(bodies) / seconds, 1),
        "statuses": sorted(codes),
    }
    print(f"webhook            {webhook['per_second']} acknowledgements/s {webhook['statuses']}", flush=True)
    return webhook


def save(
    results_dir: Path,
    cases: int,
    users: dict[str, Any],
    results: dict[str, dict[str, Any]],
    webhook: dict[str, Any] | None,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Write ``pages-<cases>.json``: this run's pages replace theirs, the file's other pages stay."""
    results_dir.mkdir(parents=True, exist_ok=True)
    out = results_dir / f"pages-{cases}.json"
    old = json.loads(out.read_text()) if out.exists() else {}
    info = machine_info()
    report = {
        **old,
        "cases": cases,
        "data": data_sizes(cases),
        "attorney_cases": users["attorney_cases"],
        "conn_max_age": args.conn_max_age if args.conn_max_age is not None else "the default (60 s on PostgreSQL)",
        "machine": f"{info['cpu']}, {info['cores']} cores, Python {info['python']}",
        "machine_info": info,
        "code": code_version(),
        "load": {
            "tool": f"locust {loadgen_version()}",
            "runs": args.runs,
            "budget_s": BUDGET_SECONDS,
            "users": args.users,
            "rps_requests": args.rps_requests,
            "rps_seconds": args.rps_seconds,
            "rps_max_ms": args.rps_max_ms,
        },
        "load_average_at_end": os.getloadavg(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "pages": {**old.get("pages", {}), **results},
        "webhook": webhook if webhook is not None else old.get("webhook"),
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out}")
    return report


def code_version() -> str:
    """The checkout measured: ``git describe --always --dirty`` (sizes measured on different code differ)."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git on PATH
            capture_output=True,
            text=True,
            check=False,
            cwd=bigenv.ROOT,
        )
    except OSError:
        return ""
    return done.stdout.strip()


def loadgen_version() -> str:
    import locust  # already imported by loadgen

    return locust.__version__


def print_run_table(report: dict[str, Any], names: list[str]) -> None:
    print(f"\n{report['cases']:,} cases, one gunicorn sync worker; attorney with {report['attorney_cases']} cases\n")
    print(
        "| page | p50 ms | p95 ms | p99 ms | req/s | queries | DB ms (p50) | bare SQL ms | × tiny | × bare SQL "
        "| × guardian | slowest query ms | its EXPLAIN ANALYZE ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        r = report["pages"][name]
        x = ratios(report, name)
        alone = r.get("explain_ms")
        print(
            f"| {r['label']} | {r['p50_ms']:,} | {r['p95_ms']:,} | {r.get('p99_ms', '')} | {r.get('rps', '')} "
            f"| {r['queries']} | {r['db_ms_p50']:,} | {(r.get('bare_sql') or {}).get('p50_ms', '')} "
            f"| {_n(x['tiny'])} | {_n(x['sql'])} | {_n(x['guardian'])} "
            f"| {r.get('slowest_query_ms', '')} | {alone if alone is not None else ''} |"
        )
    if report.get("webhook") and "webhook" in names:
        print(f"| Stripe webhook acknowledgements | {report['webhook']['per_second']} per second | | | | | |")
    print("\n".join(baseline_lines(report)))


if __name__ == "__main__":
    main()
