"""What writing a read's access event costs a case page (issue 12: under 1 ms).

Times the write path of every case read (``casework.views._common.record_view``: ``logged_read()``
around ``accounts.services.access_event_record``) in a loop against the database of
``DATABASE_URL`` (the bench database: a million access events), one write at a time, and counts
the SQL statements each write sends. The access log refuses DELETE, so by default the writes run
inside one transaction that is rolled back at the end (each write is then a savepoint, as it is
when a view's own transaction is open); nothing stays behind. ``--commit`` commits each write
(BEGIN, INSERT, COMMIT, as on a case page outside a transaction) and so leaves the rows in the
table: use it only on a throw-away database.

    eval "$(cat /tmp/svc-b100k.env)" && .venv/bin/python bench/access_write.py --writes 2000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bigenv

bigenv.apply()

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from accounts.models import AccessEvent, User  # noqa: E402
from accounts.services import access_event_record  # noqa: E402
from casework.models import Case  # noqa: E402
from kernel.readlog import logged_read  # noqa: E402


class Counter:
    """Counts the statements sent (BEGIN and COMMIT are not statements: psycopg sends them itself)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append(sql.split(" ", 1)[0])
        return execute(sql, params, many, context)


def write_once(user: User, number: str) -> None:
    """The body of ``record_view``: one access event of a case read, fail-closed."""
    with logged_read():
        access_event_record(
            user=user, action=AccessEvent.Action.VIEW, object_type="case", object_ref=number, ip_address="127.0.0.1"
        )


def timed(loop, writes: int) -> list[float]:
    took = []
    for _ in range(writes):
        start = time.perf_counter()
        loop()
        took.append((time.perf_counter() - start) * 1000)
    return took


def summary(took: list[float]) -> dict[str, float]:
    ordered = sorted(took)
    return {
        "mean_ms": round(statistics.fmean(ordered), 3),
        "p50_ms": round(ordered[len(ordered) // 2], 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95)], 3),
        "max_ms": round(ordered[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--commit", action="store_true", help="commit each write (the rows stay: scratch DB only)")
    args = parser.parse_args()

    user = User.objects.filter(is_active=True).order_by("pk").first()
    number = Case.objects.order_by("pk").values_list("number", flat=True).first() or "C-0"
    if user is None:
        sys.exit("no staff account in this database")
    rows = AccessEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def round_trip() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    counter = Counter()
    with connection.execute_wrapper(counter):
        write_once(user, number) if args.commit else None
    results: dict[str, object] = {"access_events_in_table": rows, "mode": "commit" if args.commit else "rollback"}
    if args.commit:
        results["statements_per_write"] = counter.statements
        results["select_1_round_trip"] = summary(timed(round_trip, args.writes))
        results["write"] = summary(timed(lambda: write_once(user, number), args.writes))
    else:
        with transaction.atomic():
            with connection.execute_wrapper(counter):
                write_once(user, number)
            results["statements_per_write"] = counter.statements
            results["select_1_round_trip"] = summary(timed(round_trip, args.writes))
            results["write"] = summary(timed(lambda: write_once(user, number), args.writes))
            transaction.set_rollback(True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
