"""Stripe webhook acknowledgements per second with one gunicorn sync worker (issue 12: ≥ 500 per core).

One gunicorn sync worker serves ``amparo.wsgi`` under the bench environment (``bench/bigenv.py``),
on the database of ``DATABASE_URL`` (the bench database), with the Redis of ``TEST_REDIS_URL`` as
the Celery broker (no worker consumes: the acknowledgement is what is measured, and the messages
wait in the queue). Two client processes POST signed ``charge.succeeded`` events at once, each
over fresh connections (the sync worker closes each one), a tenth of them sent twice (Stripe's
retries). Afterwards the database is checked: each event id stored exactly once, each with one
outbox message, every message handed to the broker (``sent_at``).

    eval "$(cat /tmp/svc-b100k.env)" && .venv/bin/python bench/webhooks.py --events 4000
    .venv/bin/python bench/webhooks.py --profile 500     # one process, cProfile of the request path

``--profile`` runs the requests in this process through the WSGI application (no gunicorn) and
prints where the time goes.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import io
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bigenv

bigenv.apply()

PATH = "/stripe/webhook/"


def signed_event(n: int, run: str) -> tuple[bytes, str]:
    """A ``charge.succeeded`` event's body and its ``Stripe-Signature`` header, as Stripe signs them."""
    event = {
        "id": f"evt_benchhook_{run}_{n}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": "charge.succeeded",
        "data": {"object": {"id": f"ch_benchhook_{run}_{n}", "object": "charge", "amount": 5000, "currency": "usd"}},
    }
    body = json.dumps(event).encode()
    stamp = int(time.time())
    mac = hmac.new(bigenv.STRIPE_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={mac}"


def deliveries(events: int, run: str) -> list[tuple[bytes, str]]:
    """Every event once, and every tenth a second time (a retry), interleaved."""
    bodies = [signed_event(n, run) for n in range(events)]
    return [*bodies, *bodies[::10]]


def post_all(port: int, work: list[tuple[bytes, str]], results: multiprocessing.Queue, floor: bool = False) -> None:
    """POST each delivery (with ``floor``: GET ``/`` instead, the sign-in redirect an anonymous
    visitor gets, which runs every middleware and no query: the worker's floor on this machine)."""
    statuses: dict[int, int] = {}
    took: list[float] = []
    for body, signature in work:
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if floor:
            connection.request("GET", "/", headers={"Host": "127.0.0.1"})
        else:
            connection.request(
                "POST",
                PATH,
                body=body,
                headers={"Stripe-Signature": signature, "Content-Type": "application/json", "Host": "127.0.0.1"},
            )
        answer = connection.getresponse()
        answer.read()
        connection.close()
        took.append((time.perf_counter() - start) * 1000)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    results.put((statuses, took))


def worker_cpu_seconds(master: int) -> float:
    """User + system CPU seconds used so far by the gunicorn worker(s) under ``master``."""
    total = 0.0
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(port: int) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "amparo.wsgi:application",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=dict(os.environ), cwd=bigenv.ROOT)  # noqa: S603 - our own command line
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.3)
        if server.poll() is not None:
            raise SystemExit("gunicorn did not start")
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def check_database(run: str, events: int, since: int) -> dict[str, object]:
    """Each event stored once, with one outbox message, handed to the broker."""
    import django

    django.setup()
    from funds.models import StripeEvent
    from kernel.models import OutboxMessage

    stored = set(StripeEvent.objects.filter(event_id__startswith=f"evt_benchhook_{run}_").values_list("pk", flat=True))
    # The arguments are sealed (an encrypted field): read back and matched here, not in SQL.
    mine = [
        message
        for message in OutboxMessage.objects.filter(task_name="funds.tasks.process_stripe_event", pk__gt=since)
        if json.loads(message.arguments).get("stripe_event_id") in stored
    ]
    return {
        "events_stored": len(stored),
        "events_expected": events,
        "outbox_messages": len(mine),
        "events_without_outbox_message": len(stored - {json.loads(m.arguments)["stripe_event_id"] for m in mine}),
        "outbox_unsent": sum(1 for message in mine if message.sent_at is None),
    }


def last_outbox_id() -> int:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as db:
        row = db.execute("SELECT coalesce(max(id), 0) FROM kernel_outboxmessage").fetchone()
    return int(row[0]) if row else 0


def load(events: int, clients: int, floor: bool = False) -> dict[str, object]:
    run = datetime.now(UTC).strftime("%H%M%S%f")
    work = deliveries(events, run)
    since = last_outbox_id()
    port = free_port()
    server = start_gunicorn(port)
    try:
        warm = deliveries(20, run + "w")
        queue: multiprocessing.Queue = multiprocessing.Queue()
        post_all(port, warm, queue)  # the worker's first requests (imports, connections) are not timed
        queue.get()
        shares = [work[i::clients] for i in range(clients)]
        processes = [multiprocessing.Process(target=post_all, args=(port, share, queue, floor)) for share in shares]
        cpu_before = worker_cpu_seconds(server.pid)
        start = time.perf_counter()
        for process in processes:
            process.start()
        gathered = [queue.get() for _ in processes]
        seconds = time.perf_counter() - start
        cpu = worker_cpu_seconds(server.pid) - cpu_before
        for process in processes:
            process.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    statuses: dict[int, int] = {}
    took: list[float] = []
    for part, times in gathered:
        took += times
        for status, count in part.items():
            statuses[status] = statuses.get(status, 0) + count
    took.sort()
    if floor:
        return {
            "floor_anonymous_redirects_per_second": round(len(work) / seconds, 1),
            "per_worker_cpu_second": round(len(work) / cpu, 1),
            "p50_ms": round(took[len(took) // 2], 2),
            "statuses": statuses,
        }
    return {
        "deliveries": len(work),
        "clients": clients,
        "gunicorn_sync_workers": 1,
        "seconds": round(seconds, 2),
        "acknowledgements_per_second": round(len(work) / seconds, 1),
        # What one core fully given to the worker would do (the 2-core machine is shared with the
        # clients, PostgreSQL, Redis and others' work, so the wall-clock rate is lower).
        "acknowledgements_per_worker_cpu_second": round(len(work) / cpu, 1),
        "p50_ms": round(took[len(took) // 2], 2),
        "p95_ms": round(took[int(len(took) * 0.95)], 2),
        "statuses": statuses,
        "broker": os.environ.get("CELERY_BROKER_URL", ""),
        **check_database(run, events, since),
    }


def profile(requests: int) -> None:
    """The request path in this process (the WSGI application, no HTTP server), under cProfile."""
    import cProfile
    import pstats

    from django.db import connection

    from amparo.wsgi import application

    run = datetime.now(UTC).strftime("%H%M%S%f")
    work = deliveries(requests, run)[:requests]
    statements: list[str] = []

    def count(execute, sql, params, many, context):
        statements.append(sql.split(" ", 1)[0])
        return execute(sql, params, many, context)

    def call(body: bytes, signature: str) -> str:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": PATH,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_STRIPE_SIGNATURE": signature,
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        status: list[str] = []
        answer = application(environ, lambda s, h, e=None: status.append(s))
        b"".join(answer)
        answer.close()
        return status[0]

    call(*signed_event(0, run + "w"))
    with connection.execute_wrapper(count):
        first = call(*work[0])
    print(f"one request: {first}; statements: {statements}")
    plain = work[1 : len(work) // 2]
    start = time.perf_counter()
    for body, signature in plain:
        call(body, signature)
    seconds = time.perf_counter() - start
    print(f"{len(plain)} requests in {seconds:.2f} s in this process, no profiler: {len(plain) / seconds:.0f}/s")
    work = work[len(work) // 2 - 1 :]
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for body, signature in work[1:]:
        call(body, signature)
    profiler.disable()
    seconds = time.perf_counter() - start
    print(f"{len(work) - 1} requests in {seconds:.2f} s under cProfile: {(len(work) - 1) / seconds:.0f}/s")
    pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
        int(os.environ.get("BENCH_LINES", "45"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--profile", type=int, default=0, metavar="REQUESTS")
    parser.add_argument("--floor", action="store_true", help="also measure GET / (no query) in the same run")
    args = parser.parse_args()
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        sys.exit("TEST_REDIS_URL (or CELERY_BROKER_URL) must name a Redis: the broker is part of the measure.")
    if args.profile:
        profile(args.profile)
        return
    results = {"webhook": load(args.events, args.clients)}
    if args.floor:
        results["floor"] = load(args.events, args.clients, floor=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
