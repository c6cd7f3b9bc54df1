"""Casework speed: duplicate checks, search and the busiest pages, with many cases.

Run:  .venv/bin/python bench/casework.py [--cases 1000]   (DATABASE_URL picks the database;
make test's private PostgreSQL, or SQLite by default). Creates a throw-away test database,
fills it through the real services, and prints median and 95th-percentile timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

GIVEN = ["José", "María", "Juan", "Ana", "Luis", "Rosa", "Carlos", "Lucía", "Pedro", "Elena", "Mohamed", "Fatima"]
FAMILY = ["Hernández", "López", "García", "Martínez", "Pérez", "Ramírez", "Cruz", "Flores", "Díaz", "Reyes", "Sow"]


def timed(fn, repeat: int) -> dict:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "runs": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    args = parser.parse_args()

    from accounts.roles import Role
    from casework import selectors, services
    from casework.models import AssignmentRole, ImmigrationCourt
    from tests.factories import UserFactory

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        rng = random.Random(7)
        intake = UserFactory(role=Role.INTAKE)
        boss = UserFactory(role=Role.SUPERVISOR)
        lawyers = [UserFactory(role=Role.ATTORNEY) for _ in range(5)]
        court = ImmigrationCourt.objects.first()
        start = time.perf_counter()
        for i in range(args.cases):
            case = services.case_register(
                data=services.IntakeData(
                    given_names=rng.choice(GIVEN),
                    family_names=f"{rng.choice(FAMILY)} {rng.choice(FAMILY)}",
                    a_number=f"{200000000 + i}",
                    date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randrange(16000)),
                ),
                by=intake,
            )
            if i % 5:
                services.case_assign(case=case, attorney=lawyers[i % 5], role=AssignmentRole.LEAD, by=boss)
                services.hearing_schedule(
                    case=case,
                    kind="master",
                    starts_at=datetime.now(UTC) + timedelta(days=rng.randrange(1, 60)),
                    court=court,
                    by=boss,
                )
        fill_seconds = time.perf_counter() - start

        def dup_check():
            selectors.possible_duplicates(
                boss,
                a_number=None,
                names=[rng.choice(GIVEN), rng.choice(FAMILY)],
                date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randrange(16000)),
            )

        def a_number_check():
            selectors.possible_duplicates(
                boss, a_number=f"{200000000 + rng.randrange(args.cases)}", names=[], date_of_birth=None
            )

        supervisor_client, lawyer_client = Client(), Client()
        supervisor_client.force_login(boss)
        lawyer_client.force_login(lawyers[1])

        def page(client, url, **params):
            def get():
                response = client.get(url, params)
                assert response.status_code == 200, (url, response.status_code)

            return get

        def search(client, words):
            # Search words are POSTed (never in a URL), then the results page is read by its token.
            def post_then_get():
                posted = client.post("/search/", {"q": words})
                assert posted.status_code == 303, posted.status_code
                assert client.get(posted["Location"]).status_code == 200

            return post_then_get

        results = {
            "duplicate check by name + birth date": timed(dup_check, 200),
            "duplicate check by A-number": timed(a_number_check, 200),
            "search by name (supervisor)": timed(search(supervisor_client, "jose hernandez"), 30),
            "case list, first page (supervisor)": timed(page(supervisor_client, "/cases/"), 30),
            "case list filtered + sorted by next hearing": timed(
                page(supervisor_client, "/cases/", custody="detained", sort="next_hearing"), 30
            ),
            "triage queue": timed(page(supervisor_client, "/triage/"), 30),
            "workload": timed(page(supervisor_client, "/workload/"), 30),
            "attorney dashboard": timed(page(lawyer_client, "/dashboard/"), 30),
        }
        report = {
            "cases": args.cases,
            "database": connection.vendor,
            "fill_seconds": round(fill_seconds, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "results": results,
        }
        print(json.dumps(report, indent=2))
        out = Path(__file__).parent / "results" / f"casework-{connection.vendor}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
