"""The load generator of ``bench/pages.py``: one scenario driven by locust, as a library, headless.

Import this module first (before ``requests``, ``ssl`` or Django): it patches the standard library
for gevent, as locust needs (``bench/drills/mixed_load.py`` does the same). psycopg and Django
work unchanged in the patched process; the bench client only touches the database outside the
load phases.

A scenario is a function that makes one or more HTTP requests and returns their answers (a
search is its POST and the results page it redirects to: one scenario request). ``run`` starts
``users`` locust users, each with its own ``steps`` (its own HTTP session), no wait between
requests, until ``requests`` scenario requests have started or ``seconds`` have passed, then
waits for the ones in flight (never cuts a request short: gunicorn's sync worker would still be
busy with it when the next scenario starts). Every scenario request is reported to locust as one
request event (its whole time, the sum of its answers' ``X-Bench-Queries``); a status >= 400 or
an exception is a locust failure.

1 user measures latency (one request at a time: the worker's time plus a local TCP connection);
N users against the one sync worker measure its requests per second (requests queue in the
listen backlog, so the worker is never idle).
"""

# ruff: noqa: E402 - gevent patches the standard library before anything imports it
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
from locust import User, constant, task
from locust.env import Environment
from locust.exception import StopUser

Steps = Callable[[], list[Any]]  # one scenario request: the answers (``requests.Response``) it got


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of a non-empty list."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


@dataclass
class _Budget:
    requests: int
    deadline: float
    started: int = 0
    in_flight: int = 0
    first_start: float = 0.0
    last_end: float = 0.0
    samples: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)
    failures: dict[str, int] = field(default_factory=dict)

    def take(self) -> bool:
        if self.started >= self.requests or time.perf_counter() > self.deadline:
            return False
        if not self.started:
            self.first_start = time.perf_counter()
        self.started += 1
        self.in_flight += 1
        return True

    @property
    def exhausted(self) -> bool:
        return self.started >= self.requests or time.perf_counter() > self.deadline


def run(
    name: str, make_steps: Callable[[int], Steps], *, users: int = 1, requests: int = 30, seconds: float = 25.0
) -> dict[str, Any]:
    """Run the scenario ``name`` under locust; ``make_steps(i)`` gives user ``i`` its own steps.

    Returns runs, p50/p95/p99/max/mean ms, requests per second (completed requests over the
    time from the first start to the last end), queries per request (max and min), database ms
    (p50), the statuses seen and the failures (status >= 400 or exception, by kind).
    """
    budget = _Budget(requests=max(1, requests), deadline=time.perf_counter() + seconds)

    def on_request(response_time: float, context: dict[str, Any], exception: Exception | None, **_: Any) -> None:
        budget.samples.append(response_time)
        budget.queries.append(context.get("queries", 0))
        budget.db_ms.append(context.get("db_ms", 0.0))
        budget.statuses.update(context.get("statuses", ()))
        if exception is not None:
            kind = str(exception)[:120]
            budget.failures[kind] = budget.failures.get(kind, 0) + 1

    steps_of_user: list[Steps] = [make_steps(i) for i in range(users)]
    seats = iter(range(users))

    class ScenarioUser(User):
        wait_time = constant(0)

        def on_start(self) -> None:
            self.steps = steps_of_user[next(seats)]

        @task
        def one(self) -> None:
            if not budget.take():
                raise StopUser
            started = time.perf_counter()
            answers: list[Any] = []
            error: Exception | None = None
            try:
                answers = self.steps()
            except Exception as exc:  # noqa: BLE001 - a failed request is counted, not fatal
                error = exc
            took = (time.perf_counter() - started) * 1000
            budget.last_end = time.perf_counter()
            budget.in_flight -= 1
            statuses = [a.status_code for a in answers]
            if error is None and any(code >= 400 for code in statuses):
                error = RuntimeError(f"HTTP {max(statuses)}")
            self.environment.events.request.fire(
                request_type="SCENARIO",
                name=name,
                response_time=took,
                response_length=sum(len(a.content) for a in answers),
                exception=error,
                context={
                    "queries": sum(int(a.headers.get("X-Bench-Queries", 0)) for a in answers),
                    "db_ms": sum(float(a.headers.get("X-Bench-DB-ms", 0)) for a in answers),
                    "statuses": statuses,
                },
            )

    environment = Environment(user_classes=[ScenarioUser])
    environment.events.request.add_listener(on_request)
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=users)
    while not (budget.exhausted and budget.in_flight == 0):
        gevent.sleep(0.005)
    runner.quit()

    samples = budget.samples
    if not samples:
        return {"runs": 0, "failures": budget.failures}
    elapsed = max(budget.last_end - budget.first_start, 1e-9)
    stats = environment.stats.get(name, "SCENARIO")
    return {
        "users": users,
        "runs": len(samples),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "p99_ms": round(percentile(samples, 0.99), 1),
        "max_ms": round(max(samples), 1),
        "mean_ms": round(statistics.fmean(samples), 1),
        "rps": round(len(samples) / elapsed, 1),
        "queries": max(budget.queries),
        "queries_min": min(budget.queries),
        "db_ms_p50": round(statistics.median(budget.db_ms), 1),
        "statuses": sorted(budget.statuses),
        "failures": stats.num_failures,
        "failure_kinds": budget.failures,
    }
