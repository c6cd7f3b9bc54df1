"""A bounded mixed-load run against a production-like Amparo on 127.0.0.1, with faults injected.

    .venv/bin/python bench/drills/mixed_load.py --minutes 4

One command, which stops by itself:

1. starts private PostgreSQL and Redis (scripts/services.sh, in a temporary folder; Redis with its
   append-only file on, as a production Redis keeps its queue), migrates, seeds the demo data
   (``DEBUG=1 seed_demo`` with the server's keys, as scripts/scan.sh does), starts the tests' fake
   Stripe as a process (bench/drills/stripe_server.py) and, with ``DEBUG=0`` and the production
   settings: gunicorn (2 sync workers), a Celery worker (default queue, prefork), the report worker
   (thread pool, ``reports`` queue) and beat, all on Redis as broker and cache;
2. drives load with locust, as a library (headless, a fixed number of users of each kind, a fixed
   run time): staff browsing (dashboard, case list, case pages, search) and writing (intake, notes,
   hearings, an edit of the case details with its version stamp), donors giving (``/give/`` →
   Checkout at the fake Stripe → the signed ``checkout.session.completed`` webhook, some delivered
   twice), payouts arriving as signed webhooks (some duplicated, some twice at once), and auditors
   asking for reports and following their progress. Every write is recorded with what identifies
   it (a unique name, note text, judge, donor e-mail and Checkout Session, payout id, report run)
   and whether the app confirmed it. A write answered with the "could not confirm" page (503) or
   not answered at all is sent again, as its page invites (same one-time key), up to 3 times;
3. injects faults in known windows while the load runs (a greenlet; each start and end
   time-stamped): PostgreSQL backends terminated (4 rounds), Redis hung (SIGSTOP for 10 s), Redis
   shut down and started again, the Celery worker SIGKILLed (its whole process group) and
   restarted, PostgreSQL restarted (``pg_ctl restart -m fast``);
4. then waits for the queues to drain (bench/drills/mixed_load_db.py ``drain``) and checks every
   recorded write against the database (``verify``), prints a table and writes
   ``bench/results/mixed-load.json``.

Checks (the exit status is 1 if any fails): no confirmed write lost or doubled; no unconfirmed write
doubled; every Stripe event delivered processed once; every report asked for done; no 5xx (nor a
request without an answer) outside the fault windows and ``--grace`` seconds after each; the
queues drained (by themselves, or after the beat's sweeps were run by hand: reported apart).

Staff are signed in by sessions made directly in the database (``Client.force_login``, see
mixed_load_db.py): the demo accounts have their authenticator, which is what the MFA middleware
requires; sign-in itself is not what this drill measures.

Everything started here is stopped at the end, also on failure and Ctrl-C. ``--keep`` keeps the
work folder (logs of every process) for a look afterwards.
"""

# ruff: noqa: E402, S603, S607 - gevent patches before any import (locust needs it before ssl is
# loaded); the commands run are this drill's own, with fixed arguments, found on PATH as
# scripts/services.sh finds them.
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import gevent
import lxml.html
import requests
from locust import HttpUser, between, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results" / "mixed-load.json"
UNCONFIRMED_MARK = "We could not confirm that this was saved"
RESENDS = 3
TIMEOUT = 30  # seconds per request

# --- what the load did ------------------------------------------------------------------------


@dataclass
class Record:
    """One write the load made: what identifies it in the database, and whether the app confirmed it."""

    kind: str
    ident: str
    confirmed: bool = False
    attempts: list[tuple[float, int]] = field(default_factory=list)
    case: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Answer:
    started: float
    kind: str
    name: str
    status: int
    ms: float
    unconfirmed_page: bool


WRITES: list[Record] = []
ANSWERS: list[Answer] = []
EVENTS_DELIVERED: list[str] = []
SEQ = itertools.count()
CONFIG: dict[str, Any] = {}


def _token() -> str:
    return secrets.token_hex(5)


def _form(html: str, *, action: str | None = None, has: str | None = None) -> tuple[str, list[tuple[str, str]]]:
    """The action and the values a browser would send of the first form matching ``action`` (a
    substring of its action) or having a field named ``has``."""
    doc = lxml.html.fromstring(html)
    for form in doc.forms:
        if action is not None and action not in (form.get("action") or ""):
            continue
        if has is not None and not form.xpath(f".//*[@name='{has}']"):
            continue
        return form.get("action") or "", [(k, v or "") for k, v in form.form_values()]
    raise LookupError(f"no form (action={action!r}, has={has!r})")


def _options(html: str, name: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [v for v in doc.xpath(f"//select[@name='{name}']/option/@value") if v]


def _set(values: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in values if k not in changes]
    return kept + list(changes.items())


def _resent_fields(html: str) -> list[tuple[str, str]]:
    """What the "could not confirm" page carries to send again (its hidden fields)."""
    _action, values = _form(html, has="csrfmiddlewaretoken")
    return values


# --- the simulated people -----------------------------------------------------------------------


class Person(HttpUser):
    abstract = True
    kind = "?"
    email = ""
    start_page = "/healthz"  # a page with a form sets the csrftoken cookie

    def on_start(self) -> None:
        self.client.headers["User-Agent"] = "amparo-mixed-load-drill"
        if self.email:
            sessions = CONFIG["sessions"][self.email]
            key = sessions.pop() if len(sessions) > 1 else sessions[0]
            self.client.cookies.set("sessionid", key)
        self.page(self.start_page, "start page")

    def call(self, method: str, path: str, name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", TIMEOUT)
        if method == "POST":
            headers = kwargs.pop("headers", {})
            headers.setdefault("X-CSRFToken", self.client.cookies.get("csrftoken", ""))
            headers.setdefault("Referer", self.host + path)
            kwargs["headers"] = headers
        started = time.time()
        with self.client.request(method, path, name=f"{self.kind}: {name}", catch_response=True, **kwargs) as response:
            status = int(response.status_code or 0)
            text = response.text if status else ""
            ANSWERS.append(
                Answer(started, self.kind, name, status, (time.time() - started) * 1000, UNCONFIRMED_MARK in text)
            )
            if status == 0 or status >= 500:
                response.failure(f"{status}")
            else:
                response.success()
        return response

    def send(self, record: Record, path: str, name: str, data: list[tuple[str, str]], ok: set[int]) -> Any:
        """POST a write; on a "could not confirm" page or no answer, send it again as the page
        invites (same one-time key), up to ``RESENDS`` times. Records every attempt."""
        WRITES.append(record)
        for attempt in range(1 + RESENDS):
            response = self.call("POST", path, name if attempt == 0 else f"{name} (sent again)", data=data)
            status = int(response.status_code or 0)
            record.attempts.append((time.time(), status))
            if status in ok:
                record.confirmed = True
                return response
            if status == 503 and UNCONFIRMED_MARK in response.text:
                data = _resent_fields(response.text)
            elif status not in (0, 502, 503, 504):
                record.extra["answer"] = response.text[:300] if status != 409 else "409 edit conflict"
                return response
            gevent.sleep(random.uniform(2, 5))
        return response

    def page(self, path: str, name: str) -> Any:
        return self.call("GET", path, name)


class StaffBrowser(Person):
    """An attorney or supervisor reading: dashboard, case list, case pages (supervisors also search)."""

    abstract = True
    kind = "staff-browse"
    start_page = "/cases/"
    wait_time = between(1, 3)

    def on_start(self) -> None:
        super().on_start()
        self.numbers: list[str] = []

    @task(2)
    def dashboard(self) -> None:
        self.page("/dashboard/", "dashboard")

    @task(3)
    def case_list(self) -> None:
        response = self.page(f"/cases/?page={random.randint(1, 2)}", "case list")
        if response.status_code == 200:
            self.numbers = sorted(set(re.findall(r'href="/cases/(\d{4}-\d{5})/"', response.text))) or self.numbers

    @task(5)
    def case_page(self) -> None:
        numbers = self.numbers or CONFIG["open_cases"]
        if self.email.startswith("attorney") and not self.numbers:
            return self.case_list()
        self.page(f"/cases/{random.choice(numbers)}/", "case page")


class AttorneyBrowser(StaffBrowser):
    email = "attorney@demo.amparo.test"
    fixed_count = 1


class SupervisorBrowser(StaffBrowser):
    email = "supervisor@demo.amparo.test"
    fixed_count = 1

    @task(2)
    def search(self) -> None:
        query = random.choice([random.choice(CONFIG["open_cases"]), "Garcia", "Maria", "A-0"])
        response = self.call("POST", "/search/", "search", data={"q": query})
        if response.status_code in (302, 303) and response.headers.get("Location"):
            self.page(response.headers["Location"], "search results")


class CaseWriter(Person):
    """A supervisor writing on cases of their own share: notes, hearings, an edit with its version stamp."""

    kind = "staff-write"
    email = "supervisor@demo.amparo.test"
    start_page = "/cases/"
    wait_time = between(1, 3)
    fixed_count = 3
    index = itertools.count()

    def on_start(self) -> None:
        super().on_start()
        me, writers = next(CaseWriter.index), CaseWriter.fixed_count
        self.cases = [n for i, n in enumerate(CONFIG["open_cases"]) if i % writers == me][:12]

    @task(3)
    def note(self) -> None:
        number = random.choice(self.cases)
        response = self.page(f"/cases/{number}/", "case page")
        if response.status_code != 200:
            return
        action, values = _form(response.text, action="/notes/")
        token = f"drill-note-{_token()}"
        record = Record("note", token, case=number, extra={"key": dict(values).get("once", "")})
        self.send(record, action, "add note", _set(values, body=f"Called the family. {token}"), {302})

    @task(2)
    def hearing(self) -> None:
        number = random.choice(self.cases)
        response = self.page(f"/cases/{number}/hearings/new/", "hearing form")
        if response.status_code != 200:
            return
        _action, values = _form(response.text, has="once")
        courts = _options(response.text, "court")
        court = dict(values).get("court") or (courts[0] if courts else "")
        judge = f"Judge Drill {_token()}"
        day = date.today() + timedelta(days=random.randint(20, 150))
        data = _set(
            values, kind="master", court=court, date=day.isoformat(), time="09:30", judge=judge, medium="in_person"
        )
        record = Record("hearing", judge, case=number, extra={"key": dict(values).get("once", "")})
        self.send(record, f"/cases/{number}/hearings/new/", "add hearing", data, {302})

    @task(2)
    def edit(self) -> None:
        number = random.choice(self.cases)
        response = self.page(f"/cases/{number}/edit/", "edit form")
        if response.status_code != 200:
            return
        _action, values = _form(response.text, has="version")
        before = dict(values).get("languages", "")
        value = f"Spanish, drill {_token()}"
        record = Record("edit", value, case=number, extra={"seq": next(SEQ), "before": before})
        self.send(record, f"/cases/{number}/edit/", "edit case", _set(values, languages=value), {302})


class IntakeWriter(Person):
    """Hotline intake: a new person and case, sent once."""

    kind = "staff-write"
    email = "intake@demo.amparo.test"
    start_page = "/intake/"
    wait_time = between(2, 5)
    fixed_count = 1

    @task
    def intake(self) -> None:
        response = self.page("/intake/", "intake form")
        if response.status_code != 200:
            return
        _action, values = _form(response.text, has="given_names")
        facilities = _options(response.text, "facility")
        name = f"Drill{_token()}"
        born = date(1970, 1, 1) + timedelta(days=random.randint(0, 12000))
        data = _set(
            values,
            given_names=name,
            family_names="Prueba Carga",
            date_of_birth=born.isoformat(),
            country_of_birth="Guatemala",
            languages="Spanish",
            detained_on=(date.today() - timedelta(days=1)).isoformat(),
            custodian="ice",
            facility=facilities[0] if facilities else "",
            notes="Hotline call (load drill).",
        )
        record = Record("intake", name, extra={"key": dict(values).get("once", "")})
        self.send(record, "/intake/", "intake", data, {302})


def _signed(event: dict[str, Any]) -> tuple[str, str]:
    payload = json.dumps(event)
    stamp = int(time.time())
    digest = hmac.new(CONFIG["webhook_secret"].encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return payload, f"t={stamp},v1={digest}"


class StripeSide(Person):
    abstract = True

    def control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return requests.post(CONFIG["stripe_control"] + path, json=body, timeout=10).json()

    def deliver(self, event: dict[str, Any], name: str, *, copies: int = 1, together: bool = False) -> bool:
        """Post the signed event as Stripe does, retrying (with backoff) until it is answered 200."""
        delivered = False

        def one(label: str) -> bool:
            for attempt in range(8):
                payload, signature = _signed(event)
                response = self.call(
                    "POST",
                    "/stripe/webhook/",
                    label if attempt == 0 else f"{label} (Stripe retries)",
                    data=payload,
                    headers={"Content-Type": "application/json", "Stripe-Signature": signature},
                )
                if response.status_code == 200:
                    return True
                gevent.sleep(min(2**attempt, 10))
            return False

        if together:
            jobs = [gevent.spawn(one, f"{name} (duplicate, at once)") for _ in range(2)]
            gevent.joinall(jobs)
            delivered = any(job.value for job in jobs)
        else:
            for copy in range(copies):
                delivered = one(name if copy == 0 else f"{name} (duplicate)") or delivered
        if delivered:
            EVENTS_DELIVERED.append(event["id"])
        return delivered


class Donor(StripeSide):
    """A donor on /give/: the form, Checkout at the fake Stripe, the webhook, the thank-you page."""

    kind = "donor"
    wait_time = between(2, 6)
    fixed_count = 2

    @task
    def give(self) -> None:
        self.client.cookies.clear()
        response = self.page("/give/", "donation form")
        if response.status_code != 200:
            return
        _action, values = _form(response.text, has="nonce")
        email = f"drill-{_token()}@donor.example.org"
        nonce = dict(values).get("nonce", "")
        data = _set(
            values,
            amount_choice=random.choice(["2500", "5000", "10000"]),
            custom_amount="",
            frequency="once",
            fund=(_options(response.text, "fund") or [""])[0] if not dict(values).get("fund") else dict(values)["fund"],
            name="Drill Donor",
            email=email,
        )
        record = Record("give", email, extra={"nonce": nonce})
        answer = self.send(record, "/give/", "give", data, {303})
        if not record.confirmed:
            return
        session = answer.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        record.extra["session"] = session
        event = self.control("/complete", {"session": session})
        roll = random.random()
        delivered = self.deliver(event, "checkout webhook", copies=2 if roll < 0.2 else 1, together=0.2 <= roll < 0.3)
        record.extra["paid_delivered"] = delivered
        self.page(f"/give/thanks/?session_id={session}", "thank-you page")


class WebhookSender(StripeSide):
    """Stripe delivering payouts: signed ``payout.paid`` events, some twice, some twice at once."""

    kind = "webhook"
    wait_time = between(2, 5)
    fixed_count = 1

    @task
    def payout(self) -> None:
        event = self.control("/payout", {"amount": random.randint(100, 900)})
        payout_id = event["data"]["object"]["id"]
        record = Record("payout", payout_id)
        WRITES.append(record)
        roll = random.random()
        record.extra["delivered"] = record.confirmed = self.deliver(
            event, "payout webhook", copies=2 if roll < 0.3 else 1, together=0.3 <= roll < 0.45
        )


class Reporter(Person):
    """An auditor asking for a report and following its progress until it is ready."""

    kind = "report"
    email = "auditor@demo.amparo.test"
    start_page = "/reports/new/"
    wait_time = between(6, 12)
    fixed_count = 1

    @task
    def report(self) -> None:
        response = self.page("/reports/new/", "report form")
        if response.status_code != 200:
            return
        _action, values = _form(response.text, has="kind")
        kinds = [k for k in _options(response.text, "kind") if k in ("fund_statement", "donation_register", "caseload")]
        today = date.today()
        data = _set(
            values,
            kind=random.choice(kinds or _options(response.text, "kind")),
            date_from=(today - timedelta(days=random.randint(30, 300))).isoformat(),
            date_to=today.isoformat(),
        )
        record = Record("report", "", extra={"key": dict(values).get("once", "")})
        answer = self.send(record, "/reports/new/", "ask for report", data, {302})
        if not record.confirmed:
            return
        match = re.search(r"/reports/(\d+)/", answer.headers.get("Location", ""))
        if match is None:
            return
        record.extra["run"] = int(match[1])
        record.ident = f"run {match[1]}"
        for _ in range(20):
            gevent.sleep(3)
            progress = self.page(f"/reports/{match[1]}/progress/", "report progress")
            if progress.status_code == 200 and "/download/" in progress.text:
                break


USERS = [AttorneyBrowser, SupervisorBrowser, CaseWriter, IntakeWriter, Donor, WebhookSender, Reporter]

# --- the stack: services, the app's processes ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Stack:
    """Everything the drill starts, and how to break it; ``stop()`` ends it all (safe to call twice)."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.state = work / "services"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: dict[str, int] = {}
        self.services_started = False
        self.env: dict[str, str] = {}

    # services ---------------------------------------------------------------------------------

    def start_services(self) -> None:
        self.state.mkdir(parents=True)
        self.services_started = True
        exports = subprocess.run(
            [str(ROOT / "scripts" / "services.sh"), "start", str(self.state)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        found = dict(re.findall(r"export (\w+)=(\S+)", exports))
        self.database_url = found["DATABASE_URL"]
        self.redis_port = int((self.state / "redis.port").read_text())
        self.pg_dir = Path((self.state / "pg.dir").read_text().strip())
        self.pg_port = int((self.state / "pg.port").read_text())
        self.pg_bin = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])
        # A production Redis keeps its queue across a restart: the append-only file on.
        self.redis_cli("CONFIG", "SET", "appendonly", "yes")

    def redis_cli(self, *args: str) -> str:
        return subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.redis_port), *args],
            capture_output=True,
            text=True,
            timeout=15,
        ).stdout.strip()

    def redis_pid(self) -> int:
        return int((self.state / "redis.pid").read_text())

    def redis_start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--daemonize",
                "yes",
                "--dir",
                str(self.state),
                "--pidfile",
                str(self.state / "redis.pid"),
                "--logfile",
                str(self.state / "redis.log"),
            ],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(80):
            if self.redis_cli("PING") == "PONG":
                return
            time.sleep(0.25)
        raise RuntimeError("redis did not come back")

    def as_pg(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def psql(self, sql: str) -> str:
        return subprocess.run(
            [
                str(self.pg_bin / "psql"),
                "-X",
                "-A",
                "-t",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "amparo",
                "-d",
                "amparo",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()

    # the app ----------------------------------------------------------------------------------

    def configure(self, *, stripe_api: str, port: int) -> None:
        redis_base = f"redis://127.0.0.1:{self.redis_port}"
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.webhook_secret = f"whsec_drill_{secrets.token_hex(16)}"
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in {"CSRF_TRUSTED_ORIGINS", "PROXY_COUNT", "BEHIND_TLS_PROXY"}
            },
            "DJANGO_SETTINGS_MODULE": "amparo.settings",
            "DEBUG": "0",
            "HTTPS": "0",  # plain http to 127.0.0.1
            "SECRET_KEY": secrets.token_urlsafe(64),
            "BLIND_INDEX_KEY": secrets.token_urlsafe(48),
            "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "DATABASE_URL": self.database_url,
            "SITE_URL": self.base,
            "ALLOWED_HOSTS": "127.0.0.1",
            "CELERY_BROKER_URL": f"{redis_base}/0",
            "CACHE_URL": f"{redis_base}/1",
            "AMPARO_VAR_DIR": str(self.work / "var"),
            "PRIVATE_MEDIA_ROOT": str(self.work / "var" / "private"),
            "STATIC_ROOT": str(self.work / "static"),
            "STRIPE_API_BASE": stripe_api,
            "STRIPE_SECRET_KEY": "sk_test_mixed_load_drill",
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STRIPE_CHECKOUT_HOSTS": "127.0.0.1",
            "STRIPE_TIMEOUT_SECONDS": "5",
            "EMAIL_URL": "consolemail://",
            "UPLOAD_SCANNER_URL": "off",
            "PWNED_PASSWORDS_API_URL": "",
            "LOG_LEVEL": "WARNING",
            # Every simulated person of a kind comes from 127.0.0.1 and shares a few accounts:
            # the per-address and per-account limits are raised so that the load is not refused.
            "DONATION_CHECKOUTS_PER_IP_PER_HOUR": "100000",
            "DONATION_CHECKOUTS_PER_HOUR": "100000",
            "INTAKE_LOOKUPS_PER_WINDOW": "100000",
            "REPORT_RUNS_PER_USER_ACTIVE": "50",
            "REPORT_RUNS_PER_USER_HOUR": "100000",
            "READ_ALERT_SUPERVISOR_CASES": "100000",
            "READ_ALERT_UNASSIGNED_CASES": "100000",
            "PYTHONUNBUFFERED": "1",
        }
        (self.work / "var" / "private").mkdir(parents=True, exist_ok=True)

    def run(self, *command: str, extra: dict[str, str] | None = None, log: str) -> str:
        with (self.work / log).open("ab") as out:
            done = subprocess.run(
                list(command), cwd=ROOT, env={**self.env, **(extra or {})}, stdout=subprocess.PIPE, stderr=out
            )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])} failed (exit {done.returncode}); see {self.work / log}")
        return done.stdout.decode()

    def spawn(self, name: str, command: list[str], *, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``command`` in a process group of its own, its output to ``<name>-<n>.log``."""
        self.starts[name] = self.starts.get(name, 0) + 1
        log = (self.work / f"{name}-{self.starts[name]}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            # Celery's "ready." line is logged at INFO.
            env=env or ({**self.env, "LOG_LEVEL": "INFO"} if name in {"worker", "reports", "beat"} else self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a group of its own: a kill reaches a prefork pool too
        )
        log.close()
        self.processes[name] = process
        return process

    def log_of(self, name: str) -> str:
        path = self.work / f"{name}-{self.starts.get(name, 1)}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, name: str, mark: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while mark not in self.log_of(name):
            if self.processes[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{self.log_of(name)[-3000:]}")
            time.sleep(0.3)

    def start_worker(self) -> None:
        n = self.starts.get("worker", 0) + 1
        self.spawn(
            "worker",
            [
                str(VENV / "celery"),
                "-A",
                "amparo",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--queues=celery",
                f"--hostname=drill-default-{n}@%h",
            ],
        )
        self.wait_for_log("worker", "ready.")

    def start_app(self) -> None:
        self.spawn(
            "gunicorn",
            [
                str(VENV / "gunicorn"),
                "amparo.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--access-logfile",
                str(self.work / "access.log"),
                "--access-logformat",
                '%(t)s "%(r)s" %(s)s %(M)sms',
            ],
        )
        self.start_worker()
        self.spawn(
            "reports",
            [
                str(VENV / "celery"),
                "-A",
                "amparo",
                "worker",
                "--loglevel=INFO",
                "--pool=threads",
                "--concurrency=1",
                "--queues=reports",
                "--hostname=drill-reports@%h",
            ],
        )
        self.wait_for_log("reports", "ready.")
        self.spawn(
            "beat",
            [
                str(VENV / "celery"),
                "-A",
                "amparo",
                "beat",
                "--loglevel=INFO",
                f"--pidfile={self.work / 'beat.pid'}",
                f"--schedule={self.work / 'beat-schedule'}",
            ],
        )
        for _ in range(240):
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.processes["gunicorn"].poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn not healthy:\n{self.log_of('gunicorn')[-3000:]}")

    def kill(self, name: str, signum: int = signal.SIGKILL) -> None:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)
        self.processes.clear()
        if self.services_started:
            with contextlib.suppress(OSError, ValueError):
                os.kill(self.redis_pid(), signal.SIGCONT)  # if it was left hung
            subprocess.run([str(ROOT / "scripts" / "services.sh"), "stop", str(self.state)], check=False)
            self.services_started = False


# --- the faults ---------------------------------------------------------------------------------


@dataclass
class Window:
    fault: str
    start: float
    end: float = 0.0
    detail: str = ""


def run_faults(stack: Stack, windows: list[Window], t0: float, seconds: float) -> None:
    """Inject each fault at its share of the run; record when it started and when it was over."""

    def at(fraction: float) -> None:
        gevent.sleep(max(0.0, t0 + fraction * seconds - time.time()))

    def kill_backends() -> None:
        window = Window("pg_terminate_backend", time.time())
        windows.append(window)
        killed = []
        for _ in range(4):
            out = stack.psql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'amparo'"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            killed.append(out or "?")
            gevent.sleep(3)
        window.end = time.time()
        window.detail = f"4 rounds, backends killed: {', '.join(killed)}"

    def redis_hang() -> None:
        window = Window("redis hung (SIGSTOP 10 s)", time.time())
        windows.append(window)
        os.kill(stack.redis_pid(), signal.SIGSTOP)
        gevent.sleep(10)
        os.kill(stack.redis_pid(), signal.SIGCONT)
        window.end = time.time()

    def redis_restart() -> None:
        window = Window("redis stopped and started", time.time())
        windows.append(window)
        stack.redis_cli("SHUTDOWN")  # the append-only file is synced first
        gevent.sleep(5)
        stack.redis_start()
        window.end = time.time()
        window.detail = "down 5 s; AOF kept the queues"

    def worker_kill() -> None:
        window = Window("celery worker SIGKILL + restart", time.time())
        windows.append(window)
        stack.kill("worker", signal.SIGKILL)
        gevent.sleep(5)
        stack.start_worker()
        window.end = time.time()

    def pg_restart() -> None:
        window = Window("postgresql restart -m fast", time.time())
        windows.append(window)
        # Its output to the server's log, never a pipe: the restarted postmaster inherits it.
        with (stack.state / "postgres.log").open("ab") as log:
            done = subprocess.run(
                [
                    *stack.as_pg(str(stack.pg_bin / "pg_ctl"), "-D", str(stack.pg_dir / "data"), "-m", "fast", "-w"),
                    "restart",
                ],
                cwd=stack.pg_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=90,
            )
        window.end = time.time()
        window.detail = f"pg_ctl exit {done.returncode}"

    plan = [(0.15, kill_backends), (0.30, redis_hang), (0.45, redis_restart), (0.58, worker_kill), (0.70, pg_restart)]
    for fraction, fault in plan:
        at(fraction)
        _say(f"fault: {fault.__name__}")
        try:
            fault()
        except Exception as exc:  # noqa: BLE001  # the drill goes on; the window says what went wrong
            windows[-1].detail += f" FAILED: {exc!r}"
            windows[-1].end = windows[-1].end or time.time()
        _say(f"fault over: {windows[-1].fault} ({windows[-1].end - windows[-1].start:.1f} s) {windows[-1].detail}")


# --- figures ------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(windows: list[Window], grace: float) -> dict[str, Any]:
    def inside(answer: Answer) -> bool:
        """Whether the request was in flight at any time between a fault's start and its end + grace."""
        ended = answer.started + answer.ms / 1000
        return any(answer.started <= (w.end or w.start) + grace and ended >= w.start for w in windows)

    per_kind: dict[str, Any] = {}
    for kind in sorted({a.kind for a in ANSWERS}):
        answers = [a for a in ANSWERS if a.kind == kind]
        per_kind[kind] = {
            "requests": len(answers),
            "p50_ms": round(_percentile([a.ms for a in answers], 0.50)),
            "p95_ms": round(_percentile([a.ms for a in answers], 0.95)),
            "p95_ms_outside_faults": round(_percentile([a.ms for a in answers if not inside(a)], 0.95)),
        }
    per_name: dict[str, Any] = {}
    for name in sorted({f"{a.kind}: {a.name}" for a in ANSWERS}):
        answers = [a for a in ANSWERS if f"{a.kind}: {a.name}" == name]
        per_name[name] = {
            "requests": len(answers),
            "p50_ms": round(_percentile([a.ms for a in answers], 0.50)),
            "p95_ms": round(_percentile([a.ms for a in answers], 0.95)),
            "statuses": dict(sorted(_count(str(a.status) for a in answers).items())),
        }
    errors = [a for a in ANSWERS if a.status >= 500 or a.status == 0]
    outside = [a for a in errors if not inside(a)]
    return {
        "requests": len(ANSWERS),
        "per_kind": per_kind,
        "per_name": per_name,
        "errors_inside_windows": {
            "unconfirmed_503": sum(1 for a in errors if inside(a) and a.unconfirmed_page),
            "other_503": sum(1 for a in errors if inside(a) and a.status == 503 and not a.unconfirmed_page),
            "server_error_500": sum(1 for a in errors if inside(a) and a.status == 500),
            "other_5xx": sum(1 for a in errors if inside(a) and a.status not in (0, 500, 503)),
            "no_answer": sum(1 for a in errors if inside(a) and a.status == 0),
        },
        "server_errors_500": [
            {"at": round(a.started, 3), "kind": a.kind, "name": a.name, "inside": inside(a)}
            for a in errors
            if a.status == 500
        ],
        "errors_outside_windows": [
            {"at": round(a.started, 3), "kind": a.kind, "name": a.name, "status": a.status, "ms": round(a.ms)}
            for a in outside
        ],
        "statuses": dict(sorted(_count(str(a.status) for a in ANSWERS).items())),
    }


def _count(items: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def _machine() -> dict[str, str]:
    def out(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return ""

    model = next((line.split(":", 1)[1].strip() for line in out("lscpu").splitlines() if "Model name" in line), "")
    memory = next((line.split()[1] for line in out("free", "-g").splitlines() if line.startswith("Mem:")), "?")
    return {
        "cpu": model,
        "cores": out("nproc"),
        "memory_gib": memory,
        "python": platform.python_version(),
        "postgresql": out(str(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1] / "postgres"), "--version"),
        "redis": out("redis-server", "--version").split(" v=")[-1].split()[0]
        if out("redis-server", "--version")
        else "",
        "load_average_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _table(result: dict[str, Any]) -> str:
    lines = ["| kind | requests | p50 | p95 | p95 outside fault windows |", "|---|---:|---:|---:|---:|"]
    for kind, row in result["load"]["per_kind"].items():
        lines.append(
            f"| {kind} | {row['requests']} | {row['p50_ms']} ms | {row['p95_ms']} ms | {row['p95_ms_outside_faults']} ms |"
        )
    load = result["load"]
    inside = load["errors_inside_windows"]
    lines += [
        "",
        f"requests: {load['requests']}; statuses: {load['statuses']}",
        f"5xx inside the fault windows (+{result['grace_seconds']} s): {inside['unconfirmed_503']} 'could not confirm' 503,"
        f" {inside['other_503']} other 503 (a GET's 'temporarily unavailable', the payment processor unreachable),"
        f" {inside['server_error_500']} 500, {inside['other_5xx']} other 5xx, {inside['no_answer']} without an answer",
        f"5xx outside the windows: {len(load['errors_outside_windows'])}",
        "",
        "| write | confirmed ok | lost | doubled | unconfirmed, absent | unconfirmed, saved |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, counts in result["verify"]["writes"].items():
        lines.append(
            f"| {kind} | {counts.get('ok', 0)} | {counts.get('lost', 0)} | {counts.get('doubled', 0)} |"
            f" {counts.get('unconfirmed_absent', 0)} | {counts.get('unconfirmed_saved', counts.get('unconfirmed', 0))} |"
        )
    lines += ["", "| fault | start (s into the load) | lasted | detail |", "|---|---:|---:|---|"]
    for window in result["faults"]:
        lines.append(
            f"| {window['fault']} | {window['start'] - result['load_started']:.0f} | "
            f"{window['end'] - window['start']:.1f} s | {window['detail']} |"
        )
    return "\n".join(lines)


# --- the run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=4, help="load time (default 4)")
    parser.add_argument("--grace", type=float, default=5, help="seconds after each fault still counted in its window")
    parser.add_argument("--drain-timeout", type=float, default=180, help="seconds to wait for the queues")
    parser.add_argument("--no-faults", action="store_true", help="the same load with no fault (a baseline)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (every process's log)")
    args = parser.parse_args()
    seconds = args.minutes * 60

    work = Path(tempfile.mkdtemp(prefix="amparo-mixed-load."))
    stack = Stack(work)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    ok = False
    try:
        _say(f"work folder {work}")
        machine = _machine()
        stack.start_services()
        _say("services started; fake Stripe")
        stripe = subprocess.Popen(
            [str(VENV / "python"), str(ROOT / "bench" / "drills" / "stripe_server.py")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=(work / "stripe.log").open("wb"),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        stack.processes["stripe"] = stripe
        assert stripe.stdout is not None
        urls = json.loads(stripe.stdout.readline())
        stack.configure(stripe_api=urls["api"], port=_free_port())
        _say("migrate, seed_demo, collectstatic")
        seed_started = time.monotonic()
        stack.run(str(VENV / "python"), "manage.py", "migrate", "--noinput", "--verbosity", "0", log="setup.log")
        stack.run(str(VENV / "python"), "manage.py", "seed_demo", extra={"DEBUG": "1"}, log="setup.log")
        stack.run(str(VENV / "python"), "manage.py", "collectstatic", "--noinput", "--verbosity", "0", log="setup.log")
        seed_seconds = time.monotonic() - seed_started
        wanted: dict[str, int] = {}
        for user in USERS:
            if user.email:
                wanted[user.email] = wanted.get(user.email, 1) + user.fixed_count
        spec = {"sessions": wanted}
        spec_path = work / "spec.json"
        spec_path.write_text(json.dumps(spec))
        db = str(ROOT / "bench" / "drills" / "mixed_load_db.py")
        setup = json.loads(
            stack.run(str(VENV / "python"), db, "setup", str(spec_path), log="setup.log").splitlines()[-1]
        )
        CONFIG.update(
            sessions=setup["sessions"],
            open_cases=setup["open_cases"],
            webhook_secret=stack.webhook_secret,
            stripe_control=urls["control"],
        )
        _say(f"data: {setup['data']}; starting gunicorn, workers, beat")
        stack.start_app()
        _say(f"app healthy on {stack.base}; load for {seconds:.0f} s with {sum(u.fixed_count for u in USERS)} users")

        environment = Environment(user_classes=USERS, host=stack.base)
        runner = environment.create_local_runner()
        windows: list[Window] = []
        load_started = time.time()
        runner.start(sum(u.fixed_count for u in USERS), spawn_rate=10)
        faults = None if args.no_faults else gevent.spawn(run_faults, stack, windows, load_started, seconds)
        gevent.spawn_later(seconds, runner.quit)
        runner.greenlet.join()
        if faults is not None:
            faults.join(timeout=120)
        load_ended = time.time()
        _say(f"load over: {len(ANSWERS)} requests, {len(WRITES)} writes; draining the queues")

        records = {
            "writes": [asdict(w) for w in WRITES],
            "events_delivered": sorted(set(EVENTS_DELIVERED)),
        }
        records_path = work / "records.json"
        records_path.write_text(json.dumps(records))
        drained = json.loads(
            stack.run(
                str(VENV / "python"), db, "drain", str(records_path), str(args.drain_timeout), log="verify.log"
            ).splitlines()[-1]
        )
        _say(f"drain: {drained}")
        verified = json.loads(
            stack.run(str(VENV / "python"), db, "verify", str(records_path), log="verify.log").splitlines()[-1]
        )

        load = figures(windows, args.grace)
        writes = verified["writes"]
        checks = {
            "no confirmed write lost": all(c.get("lost", 0) == 0 for c in writes.values()),
            "no write doubled": all(c.get("doubled", 0) == 0 for c in writes.values()),
            "every delivered Stripe event processed once": verified["events"]["not_processed"] == 0,
            "every report asked for is done": not any(
                p["problem"].startswith("report run") for p in verified["problems"]
            ),
            "no other problem found in the database": not verified["problems"],
            "no 5xx outside the fault windows": not load["errors_outside_windows"],
            "no 500 page, even inside the fault windows (a lost connection is a 503)": not load["server_errors_500"],
            "queues drained": bool(drained.get("drained_by_itself") or drained.get("drained_after_sweeps")),
            "faults injected as planned": args.no_faults
            or (len(windows) == 5 and not any("FAILED" in w.detail for w in windows)),
        }
        result = {
            "command": "bench/drills/mixed_load.py " + " ".join(sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": machine,
            "load_seconds": round(load_ended - load_started, 1),
            "load_started": load_started,
            "grace_seconds": args.grace,
            "seed_seconds": round(seed_seconds, 1),
            "users": {u.__name__: u.fixed_count for u in USERS},
            "data": setup["data"],
            "faults": [asdict(w) for w in windows],
            "load": load,
            "drain": drained,
            "verify": verified,
            "checks": checks,
            "passed": all(checks.values()),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print()
        print(_table(result))
        print()
        for name, passed in checks.items():
            print(f"  {'PASS' if passed else 'FAIL'}  {name}")
        for problem in verified["problems"][:30]:
            print("  problem:", json.dumps(problem, default=str)[:600])
        for error in load["errors_outside_windows"][:30]:
            print("  5xx outside a window:", error)
        print(f"\nJSON: {RESULTS.relative_to(ROOT)}")
        ok = result["passed"]
        return 0 if ok else 1
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    finally:
        stack.stop()
        if args.keep or not ok:
            _say(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
