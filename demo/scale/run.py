"""One seed_scale run: the safety checks, then staff, cases, the access log, donations, checks.

Every count is a total: a run adds what is missing, so growing the data set keeps what is there.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import AccessEvent
from casework.models import Case
from casework.services.keys import keys_verify
from casework.services.workload import caseload_recount
from demo.scale.activity import add_access_events, add_donations
from demo.scale.bulk import Copier, Ids, InlineWriter, Log, SeedError, ThreadWriter
from demo.scale.cases import CASE_TABLES, HISTORY_DAYS, TABLES, CaseGenerator
from demo.scale.checks import check_sample, table_sizes, verify_references
from demo.scale.staff import SEEDED_DOMAIN, ensure_staff, foreign_accounts
from demo.scale.values import Values
from funds.models import Donation


def refusal(*, force: bool) -> str | None:
    """Why this database must not be seeded, or ``None``.

    ``COPY`` is PostgreSQL's; the schema must be migrated; and unless ``force``, every account in the
    database must be one seed_scale created (``@bench.amparo.test``), so that it never mixes
    generated people into a database with real staff, and so real data.
    """
    if connection.vendor != "postgresql":
        return (
            f"seed_scale writes with PostgreSQL's COPY and this database is {connection.vendor}: "
            "set DATABASE_URL to a PostgreSQL database (scripts/services.sh starts one)."
        )
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:3])
        return f"The database has unapplied migrations ({names}): run `manage.py migrate` first."
    others = foreign_accounts()
    if others and not force:
        return (
            f"This database has {others} account(s) that seed_scale did not create (every account it creates "
            f"is @{SEEDED_DOMAIN}): it may hold real data, and seed_scale only fills throw-away databases. "
            "Use --force if this one is throw-away."
        )
    return None


def seed_scale(
    *,
    cases: int,
    attorneys: int,
    access_events: int,
    donations: int | None,
    chunk: int,
    check: int,
    seed: int | None,
    log: Log,
) -> dict[str, Any]:
    """Add what is missing up to the totals asked for; returns the run's figures.

    Side effects: seeded staff accounts (with TOTP and recovery codes), then cases with everything
    ``case_register``, ``case_assign``, ``hearing_schedule`` and ``case_close`` write, access-log rows,
    paid donations with their ledger transactions and account balances; every attorney's
    ``Caseload`` recounted (``caseload_recount``); the blind-index key's
    fingerprint (as the app's start-up records it); ``ANALYZE`` of the tables written.
    Outside a transaction each chunk of cases commits on its own (a stopped run keeps whole
    chunks); inside one (a test) everything joins it.
    """
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        keys_verify()
    except ImproperlyConfigured as exc:
        raise SeedError(str(exc)) from exc
    inline = connection.in_atomic_block
    if not inline:
        with connection.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
    values = Values()
    staff = ensure_staff(attorneys=attorneys, joined=now - timedelta(days=HISTORY_DAYS + 30), log=log)
    existing = Case.objects.count()
    rng = random.Random(seed if seed is not None else existing + 1)
    ids = Ids(TABLES)
    gen = CaseGenerator(rng=rng, staff=staff, values=values, now=now)
    missing = max(0, cases - existing)
    log(f"cases: {existing:,} there, adding {missing:,}")
    t_cases = time.perf_counter()
    done = 0
    writer = InlineWriter(log) if inline else ThreadWriter(log)
    try:
        while done < missing:
            n = min(chunk, missing - done)
            c = Copier()
            t = time.perf_counter()
            gen.chunk(c, ids, n)
            values.stats["generate_s"] += time.perf_counter() - t
            done += n

            def progress(rows: int, total: int = existing + done) -> str:
                elapsed = time.perf_counter() - t_cases
                return f"  {total:,} cases ({rows / elapsed:,.0f} rows/s, {(total - existing) / elapsed:,.0f} cases/s)"

            writer.put(c, CASE_TABLES, gen.sequence_statements() + ids.statements(), progress)
    finally:
        writer.close()
    cases_seconds = time.perf_counter() - t_cases

    t = time.perf_counter()
    access_missing = max(0, access_events - AccessEvent.objects.count())
    log(f"access events: adding {access_missing:,}")
    add_access_events(ids=ids, staff=staff, missing=access_missing, rng=rng, chunk=chunk, now=now, log=log)
    access_seconds = time.perf_counter() - t

    t = time.perf_counter()
    wanted_donations = donations if donations is not None else cases // 5
    donations_missing = max(0, wanted_donations - Donation.objects.count())
    log(f"donations: adding {donations_missing:,}")
    if donations_missing:
        add_donations(ids=ids, missing=donations_missing, rng=rng, values=values, now=now, log=log)
    funds_seconds = time.perf_counter() - t

    t = time.perf_counter()
    log("caseloads: recounting every attorney's")
    caseload_recount()  # what the assignment services keep; the beat task would otherwise lag minutes
    caseload_seconds = time.perf_counter() - t

    log("ANALYZE")
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {', '.join(TABLES)}")
    analyze_seconds = time.perf_counter() - t
    t = time.perf_counter()
    verify_references(log)
    verify_seconds = time.perf_counter() - t
    if check:
        check_sample(check, log)
    stats = values.stats
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cur.fetchone()[0]
    return {
        "cases_total": Case.objects.count(),
        "cases_added": missing,
        "access_events_added": access_missing,
        "donations_added": donations_missing,
        "seconds": {
            "total": round(time.perf_counter() - started, 1),
            "cases": round(cases_seconds, 1),
            "generate_rows_in_python": round(stats["generate_s"], 1),
            "of_which_encrypt": round(stats["encrypt_s"], 1),
            "of_which_blind_indexes": round(stats["index_s"], 1),
            "copy_and_commit_in_writer": round(writer.copy_seconds, 1),
            "access_events": round(access_seconds, 1),
            "donations": round(funds_seconds, 1),
            "caseloads": round(caseload_seconds, 1),
            "analyze": round(analyze_seconds, 1),
            "verify_foreign_keys": round(verify_seconds, 1),
        },
        "rows_per_second_cases_phase": round(writer.rows / cases_seconds) if cases_seconds and writer.rows else None,
        "encrypted_values": int(stats["encrypted_values"]),
        "encryptions_per_second": round(stats["encrypted_values"] / stats["encrypt_s"]) if stats["encrypt_s"] else None,
        "name_token_cache_entries": values.name_cache_entries,
        "bulk_load_mode": getattr(writer, "replica", False),
        "table_rows": table_sizes(TABLES),
        "database_size": db_size,
        "machine": f"{os.cpu_count()} cores",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
