"""Fill a throw-away PostgreSQL database with a realistic network at scale (up to a million cases)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.scale.bulk import SeedError
from demo.scale.run import refusal, seed_scale
from demo.scale.staff import SEEDED_DOMAIN, STAFF_PASSWORD, TOTP_SECRET


class Command(BaseCommand):
    help = (
        "Bulk-load realistic data with PostgreSQL COPY: staff (1,000 attorneys by default), detainees with "
        "their blind-index keys, cases with custody, assignments and their history, guardian rows, hearings, "
        "deadlines, notes, the timeline, the access log, and paid donations with their ledger transactions. "
        "Every count is a total: a run adds what is missing (growing 100,000 to 1,000,000 keeps the first "
        "100,000). Personal fields are encrypted and indexed by the app's own functions under the configured "
        "keys. It refuses: without DEBUG (the accounts share a published password); on any database but "
        "PostgreSQL; before `migrate`; and on a database holding any account it did not create (every "
        f"account it creates is @{SEEDED_DOMAIN}) unless --force, since that one may hold real data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=100_000, help="total cases wanted (adds what is missing)")
        parser.add_argument("--attorneys", type=int, default=1000, help="attorney accounts (other roles follow)")
        parser.add_argument("--access-events", type=int, default=1_000_000, help="total access-log rows wanted")
        parser.add_argument("--donations", type=int, default=None, help="total donations wanted (default: cases / 5)")
        parser.add_argument("--chunk", type=int, default=20_000, help="cases per COPY transaction")
        parser.add_argument("--check", type=int, default=200, help="detainees whose blind indexes are re-verified")
        parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the cases there)")
        parser.add_argument(
            "--force",
            action="store_true",
            help=f"seed even though the database has accounts that are not @{SEEDED_DOMAIN}",
        )
        parser.add_argument(
            "--report", default="", help="also write the run's figures as JSON to this file ({cases}: the total)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_scale only runs with DEBUG on: it creates accounts with a published password.")
        if options["cases"] < 0 or options["attorneys"] < 1 or options["chunk"] < 1:
            raise CommandError("--cases must be 0 or more, --attorneys and --chunk 1 or more.")
        why = refusal(force=options["force"])
        if why:
            raise CommandError(why)
        try:
            report = seed_scale(
                cases=options["cases"],
                attorneys=options["attorneys"],
                access_events=options["access_events"],
                donations=options["donations"],
                chunk=options["chunk"],
                check=options["check"],
                seed=options["seed"],
                log=self.stdout.write,
            )
        except SeedError as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(report, indent=2)
        if options["verbosity"] > 1:
            self.stdout.write(text)
        if options["report"]:
            out = Path(options["report"].format(cases=report["cases_total"]))
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text + "\n")
            self.stdout.write(f"wrote {out}")
        self.stdout.write(
            f"{report['cases_total']:,} cases ({report['cases_added']:,} added) in {report['seconds']['total']} s. "
            f"Staff sign in as e.g. attorney0000@{SEEDED_DOMAIN}, password {STAFF_PASSWORD}, TOTP secret {TOTP_SECRET}."
        )
