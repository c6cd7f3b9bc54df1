"""Staff pages at scale: one gunicorn sync worker on the database ``bench/bigdata.py`` filled.

Run (after ``bench/bigdata.py``, with the same DATABASE_URL and, for the webhook's broker, TEST_REDIS_URL)::

    .venv/bin/python bench/pages.py                 # every scenario, 30 requests each
    .venv/bin/python bench/pages.py --only workload,case-list-last --runs 10

One ``gunicorn`` sync worker serves ``bench/probe_wsgi.py`` (Amparo's own WSGI application under
``amparo.settings`` with DEBUG off, plus a probe that counts each request's queries) on 127.0.0.1;
this script is the only client and asks one request at a time, so each timing is one request's
whole server time plus a local TCP connection. Sessions are made directly (``force_login``: the
sign-in, its ``StaffSession`` row and the MFA check happen as after a real sign-in). Per page:
p50 / p95 / max, queries per request, database time, and for the slowest statement of the page
its ``EXPLAIN (ANALYZE)`` plan (top node and the first lines), run after the timings.

Writes ``bench/results/pages-<cases>.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
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
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bigenv

bigenv.apply()

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from casework.identity import format_a_number  # noqa: E402
from casework.models import Assignment, Case  # noqa: E402

BUDGET_SECONDS = 25.0  # per page: fewer runs for a page that is slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


class Browser:
    """One signed-in staff member: the session cookie, CSRF token, ``requests`` without redirects."""

    def __init__(self, base: str, user: User | None) -> None:
        self.base = base
        self.http = requests.Session()
        self.user = user
        self.csrf = ""
        if user is not None:
            client = Client()
            client.force_login(user)
            self.http.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)

    def request(self, method: str, path: str, page: str, data: dict | None = None, **kw) -> requests.Response:
        headers = {"X-Bench-Page": page, **kw.pop("headers", {})}
        if method == "POST" and isinstance(data, dict) and "csrfmiddlewaretoken" not in data and self.csrf:
            data = {**data, "csrfmiddlewaretoken": self.csrf}
        return self.http.request(method, self.base + path, data=data, headers=headers, allow_redirects=False, **kw)

    def fetch_csrf(self, path: str) -> None:
        answer = self.request("GET", path, "csrf")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text)
        if not found:
            raise SystemExit(f"no CSRF token on {path} ({answer.status_code})")
        self.csrf = found.group(1)


class Scenario:
    """A page (or a POST and the page it leads to); ``expect``: text the last answer must hold (a search finds)."""

    def __init__(self, name: str, label: str, steps, expect: str = "") -> None:
        self.name, self.label, self.steps, self.expect = name, label, steps, expect


def run_scenario(s: Scenario, runs: int, warmup: int) -> dict:
    """Time ``s.steps()`` (one or more requests: a POST and the page it redirects to count as one)."""
    samples, queries, db_ms = [], [], []
    found = None
    statuses: set[int] = set()
    started = time.perf_counter()
    for n in range(warmup + runs):
        t = time.perf_counter()
        answers = s.steps()
        took = (time.perf_counter() - t) * 1000
        statuses.update(a.status_code for a in answers)
        if n == 0 and s.expect:
            found = s.expect in answers[-1].text
        if n >= warmup:
            samples.append(took)
            queries.append(sum(int(a.headers.get("X-Bench-Queries", 0)) for a in answers))
            db_ms.append(sum(float(a.headers.get("X-Bench-DB-ms", 0)) for a in answers))
        if n >= warmup + 2 and time.perf_counter() - started > BUDGET_SECONDS:
            break
    bad = sorted(code for code in statuses if code >= 400)
    return {
        "label": s.label,
        "runs": len(samples),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "max_ms": round(max(samples), 1),
        "queries": max(queries),
        "queries_min": min(queries),
        "db_ms_p50": round(statistics.median(db_ms), 1),
        "statuses": sorted(statuses),
        "errors": bad,
        **({"found_expected": found} if s.expect else {}),
    }


def explain(sql: str) -> list[str]:
    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return []
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING ON) " + sql)
        return [row[0] for row in cur.fetchall()]


def pick_users() -> dict[str, User]:
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


def start_gunicorn(port: int, probe_log: str, conn_max_age: int | None) -> subprocess.Popen:
    env = {**os.environ, "BENCH_PROBE_LOG": probe_log}
    if conn_max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = str(conn_max_age)
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "probe_wsgi:application",
        "--pythonpath",
        str(Path(__file__).resolve().parent),
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
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


# Labels that name a page number or a caseload, which differ from one data size to the next.
SAME_LABEL = {
    "case-list-middle": "supervisor case list, middle page",
    "case-list-last": "supervisor case list, last page",
    "attorney-search": "attorney search by name (POST + results)",
}


def re_explain() -> None:
    """EXPLAIN ANALYZE again each page's slowest statement in ``pages-<cases>.json`` (plan and time kept)."""
    out = bigenv.RESULTS / f"pages-{Case.objects.count()}.json"
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


def compare() -> None:
    """One markdown table of every ``bench/results/pages-*.json``, the data sizes side by side."""
    reports = sorted(
        (json.loads(path.read_text()) for path in bigenv.RESULTS.glob("pages-*.json")), key=lambda r: r["cases"]
    )
    sizes = " / ".join(f"{r['cases']:,}" for r in reports)
    print(f"| page | p50 ms at {sizes} cases | p95 ms | queries |")
    print("|---|---:|---:|---:|")
    names = list(dict.fromkeys(name for r in reports for name in r["pages"]))
    for name in names:
        rows = [r["pages"].get(name) for r in reports]
        label = SAME_LABEL.get(name) or next(row["label"] for row in rows if row)

        def cells(key: str, rows=rows) -> str:
            return " / ".join(f"{row[key]:,}" if row else "-" for row in rows)

        print(f"| {label} | {cells('p50_ms')} | {cells('p95_ms')} | {cells('queries')} |")
    hooks = " / ".join(f"{r['webhook']['per_second']}" if r.get("webhook") else "-" for r in reports)
    print(f"| Stripe webhook acknowledgements per second | {hooks} | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--webhooks", type=int, default=300)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--conn-max-age", type=int, default=None, help="DATABASE_CONN_MAX_AGE for the worker")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--compare", action="store_true", help="only print the table of all results files")
    parser.add_argument(
        "--re-explain",
        action="store_true",
        help="only EXPLAIN ANALYZE again the slowest statements of this size's file",
    )
    args = parser.parse_args()
    if args.compare:
        compare()
        return
    if args.re_explain:
        re_explain()
        return

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():  # the manifest production serves from
        call_command("collectstatic", interactive=False, verbosity=0)
    cases = Case.objects.count()
    users = pick_users()
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
    per_page = 25
    last_page = max(1, -(-cases // per_page))
    accessed_user = attorney.pk

    with tempfile.NamedTemporaryFile(prefix="bench-probe-", suffix=".jsonl", delete=False) as handle:
        probe_log = handle.name
    port = free_port()
    server = start_gunicorn(port, probe_log, args.conn_max_age)
    base = f"http://127.0.0.1:{port}"
    try:
        anonymous = Browser(base, None)
        boss = Browser(base, users["supervisor"])
        lawyer = Browser(base, attorney)
        finance = Browser(base, users["finance"])
        auditor = Browser(base, users["auditor"])
        intake = Browser(base, users["intake"])
        boss.fetch_csrf("/search/")
        lawyer.fetch_csrf("/cases/")
        intake.fetch_csrf("/intake/")

        def get(browser: Browser, path: str, name: str, **kw):
            return lambda: [browser.request("GET", path, name, **kw)]

        def post_then_get(browser: Browser, path: str, name: str, data: dict):
            def steps():
                posted = browser.request("POST", path, name, data)
                if posted.status_code != 303:
                    return [posted]
                return [posted, browser.request("GET", posted.headers["Location"], name)]

            return steps

        dob = person.date_of_birth.isoformat() if person.date_of_birth else "1990-01-01"
        scenarios = [
            Scenario(
                "anonymous",
                "anonymous tiny template page (baseline)",
                get(anonymous, "/__bench/anonymous/", "anonymous"),
            ),
            Scenario("tiny", "tiny signed-in template page (baseline)", get(boss, "/__bench/tiny/", "tiny")),
            Scenario("workload", "supervisor workload", get(boss, "/workload/", "workload")),
            Scenario("case-list-first", "supervisor case list, page 1", get(boss, "/cases/", "case-list-first")),
            Scenario(
                "case-list-middle",
                f"supervisor case list, page {last_page // 2:,}",
                get(boss, f"/cases/?page={last_page // 2}", "case-list-middle"),
            ),
            Scenario(
                "case-list-last",
                f"supervisor case list, last page ({last_page:,})",
                get(boss, f"/cases/?page={last_page}", "case-list-last"),
            ),
            Scenario(
                "search-number",
                "search by case number (POST + results)",
                post_then_get(boss, "/search/", "search-number", {"q": target.number}),
                expect=target.number,
            ),
            Scenario(
                "search-a-number",
                "search by A-number (POST + results)",
                post_then_get(boss, "/search/", "search-a-number", {"q": format_a_number(person.a_number)}),
                expect=target.number,
            ),
            Scenario(
                "search-name",
                "search by full name (POST + results)",
                post_then_get(boss, "/search/", "search-name", {"q": person.full_name}),
                expect=target.number,
            ),
            Scenario(
                "attorney-search",
                f"attorney search by name ({users['attorney_cases']} cases)",
                post_then_get(lawyer, "/cases/", "attorney-search", {"q": their.detainee.full_name}),
                expect=their.number,
            ),
            Scenario("triage", "triage queue", get(boss, "/triage/", "triage")),
            Scenario(
                "duplicate-check",
                "intake live duplicate check (name + date of birth)",
                lambda: [
                    intake.request(
                        "POST",
                        "/intake/check/",
                        "duplicate-check",
                        {"given_names": person.given_names, "family_names": person.family_names, "date_of_birth": dob},
                        headers={"HX-Request": "true"},
                    )
                ],
                expect="same date of birth and a similar name",
            ),
            Scenario("finance-home", "finance home", get(finance, "/finance/", "finance-home")),
            Scenario("ledger", "ledger (auditor)", get(auditor, "/audit/ledger/", "ledger")),
            Scenario("case-page", "case page (attorney)", get(lawyer, f"/cases/{own_case.number}/", "case-page")),
            Scenario(
                "access-log-user",
                "access log filtered by user (auditor)",
                get(auditor, f"/audit/access-log/?user={accessed_user}", "access-log-user"),
            ),
            Scenario("dashboard", "attorney dashboard", get(lawyer, "/dashboard/", "dashboard")),
        ]
        only = {name for name in args.only.split(",") if name}
        results: dict[str, dict] = {}
        for s in scenarios:
            if only and s.name not in only:
                continue
            results[s.name] = run_scenario(s, args.runs, args.warmup)
            r = results[s.name]
            print(
                f"{s.name:18} p50 {r['p50_ms']:9.1f} ms  p95 {r['p95_ms']:9.1f} ms  {r['queries']:3} queries  "
                f"runs {r['runs']}  {r['statuses']}  found={r.get('found_expected', '-')}",
                flush=True,
            )

        webhook = None
        if not only or "webhook" in only:
            run_id = datetime.now(UTC).strftime("%H%M%S")
            bodies = [signed_webhook(n, run_id) for n in range(args.webhooks)]
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
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    # The slowest statement of each page, explained on the same database after the timings.
    slowest: dict[str, dict] = {}
    with open(probe_log) as log:
        for line in log:
            row = json.loads(line)
            if row["page"] in results and row["slowest_ms"] > slowest.get(row["page"], {}).get("slowest_ms", -1):
                slowest[row["page"]] = row
    for name, row in slowest.items():
        results[name]["slowest_query_ms"] = row["slowest_ms"]
        results[name]["slowest_query"] = row["slowest_sql"]
        if not args.no_explain and results[name]["p95_ms"] > 50:
            try:
                plan = explain(row["slowest_sql"])
            except Exception as exc:  # noqa: BLE001 - a plan we cannot get is reported, not fatal
                plan = [f"EXPLAIN failed: {exc}"]
            results[name]["plan"] = plan[:40] + plan[-2:]  # the top of the plan, and its planning and run times
            results[name]["explain_ms"] = execution_ms(plan)
    os.unlink(probe_log)

    report = {
        "cases": cases,
        "attorney_cases": users["attorney_cases"],
        "conn_max_age": args.conn_max_age if args.conn_max_age is not None else "default (0)",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_at_end": os.getloadavg(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "pages": results,
        "webhook": webhook,
    }
    bigenv.RESULTS.mkdir(exist_ok=True)
    out = bigenv.RESULTS / f"pages-{cases}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    tiny = results.get("tiny", {}).get("p50_ms")
    print(f"\n{cases:,} cases, one gunicorn sync worker; attorney with {users['attorney_cases']} cases\n")
    print(
        "| page | p50 ms | p95 ms | queries | DB ms (p50) | x tiny (p50) | slowest query ms | its EXPLAIN ANALYZE ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results.values():
        ratio = f"{r['p50_ms'] / tiny:.1f}" if tiny else ""
        alone = r.get("explain_ms")
        print(
            f"| {r['label']} | {r['p50_ms']:,} | {r['p95_ms']:,} | {r['queries']} | {r['db_ms_p50']:,} | {ratio} | "
            f"{r.get('slowest_query_ms', '')} | {alone if alone is not None else ''} |"
        )
    if webhook:
        print(f"| Stripe webhook acknowledgements | {webhook['per_second']} per second | | | | | |")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
