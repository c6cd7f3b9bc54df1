"""Rows gathered per table and written with ``COPY``: primary keys, the copier, the writers."""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import psycopg
from django.db import connection

Statement = tuple[str, list[Any]]
Log = Callable[[str], None]


class SeedError(Exception):
    """A run that cannot go on (the command shows the message)."""


class Ids:
    """Primary keys handed out here (``COPY`` writes them); the sequences are moved past them."""

    def __init__(self, tables: list[str]) -> None:
        self.next: dict[str, int] = {}
        with connection.cursor() as cur:
            for table in tables:
                cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 - our table names
                self.next[table] = cur.fetchone()[0] + 1

    def take(self, table: str) -> int:
        n = self.next[table]
        self.next[table] = n + 1
        return n

    def statements(self) -> list[Statement]:
        return [
            ("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, n - 1])
            for table, n in self.next.items()
            if n > 1
        ]

    def sync_sequences(self) -> None:
        with connection.cursor() as cur:
            for sql, params in self.statements():
                cur.execute(sql, params)


class Copier:
    """Rows gathered per table, written with ``COPY`` in the order given."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self.columns: dict[str, str] = {}
        self.written: dict[str, int] = defaultdict(int)

    def add(self, table: str, columns: str, row: tuple[Any, ...]) -> None:
        self.columns.setdefault(table, columns)
        self.rows[table].append(row)

    def flush(self, order: list[str], raw: Any = None) -> None:
        if raw is None:  # psycopg's own cursor of the caller's connection: COPY
            connection.ensure_connection()
            raw = connection.connection.cursor()
        for table in order:
            rows = self.rows.pop(table, [])
            if not rows:
                continue
            with raw.copy(f"COPY {table} ({self.columns[table]}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            self.written[table] += len(rows)


Job = tuple[Copier, list[str], list[Statement], Callable[[int], str]]


class InlineWriter:
    """``COPY`` on the caller's connection, in the caller's transaction (a test, a wrapping atomic block).

    Nothing is switched off: the foreign keys are checked when the caller commits.
    """

    def __init__(self, log: Log) -> None:
        self.log = log
        self.copy_seconds = 0.0
        self.rows = 0

    def put(self, copier: Copier, order: list[str], statements: list[Statement], done: Callable[[int], str]) -> None:
        t = time.perf_counter()
        copier.flush(order)
        with connection.cursor() as cur:
            for sql, params in statements:
                cur.execute(sql, params)
        self.copy_seconds += time.perf_counter() - t
        self.rows += sum(copier.written.values())
        self.log(done(self.rows))

    def close(self) -> None:
        pass


class ThreadWriter:
    """``COPY`` in a thread of its own, on its own connection, while the next chunk is generated.

    PostgreSQL does the inserting and index upkeep in its own process, so with two cores the
    Python generation and the database work overlap. One chunk waits at most (``maxsize=1``);
    each chunk is one transaction, so a run stopped half-way keeps whole chunks.
    """

    def __init__(self, log: Log) -> None:
        self.log = log
        self.conn = connection.get_new_connection(connection.get_connection_params())
        self.conn.execute("SET synchronous_commit = off")
        self.conn.commit()
        # Bulk-load mode: no per-row foreign-key trigger checks at commit (Django's foreign keys are
        # deferred constraint triggers, one queued check per row and key). The rows point only at
        # ids handed out here or read from the database; ``checks.verify_references`` checks them
        # after. Only a superuser may switch it: anyone else gets the (slower) checks.
        self.replica = True
        try:
            self.conn.execute("SET session_replication_role = replica")
            self.conn.commit()
        except psycopg.errors.InsufficientPrivilege:
            self.conn.rollback()
            self.replica = False
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.copy_seconds = 0.0
        self.rows = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            copier, order, statements, done = job
            try:
                if self.error is None:
                    t = time.perf_counter()
                    with self.conn.transaction():
                        cur = self.conn.cursor()
                        copier.flush(order, raw=cur)
                        for sql, params in statements:
                            cur.execute(sql, params)
                    self.copy_seconds += time.perf_counter() - t
                    self.rows += sum(copier.written.values())
                    self.log(done(self.rows))
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                self.error = exc
            finally:
                self.jobs.task_done()

    def put(self, copier: Copier, order: list[str], statements: list[Statement], done: Callable[[int], str]) -> None:
        if self.error is not None:
            raise self.error
        self.jobs.put((copier, order, statements, done))

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join()
        self.conn.close()
        if self.error is not None:
            raise self.error
