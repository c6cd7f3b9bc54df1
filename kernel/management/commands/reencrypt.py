"""``manage.py reencrypt [--check]``: rewrite personal data and files under the newest field key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kernel.crypto import keyring
from kernel.rotation import reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value and private file that is under an older key of FIELD_ENCRYPTION_KEYS "
        "(or not encrypted yet) with the first key. --check only counts, and fails if anything is behind."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="count only; exit 1 if anything is behind")

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        tally = reencrypt(dry_run=check)
        primary = keyring().primary_id
        for label, counts in (("values", tally.values), ("files", tally.files)):
            found = ", ".join(
                f"{n} under {'no key' if k == 'plain' else 'key ' + k}" for k, n in sorted(counts.items())
            )
            self.stdout.write(f"{label}: {found or 'none'}")
        if check:
            if tally.behind:
                raise CommandError(f"{tally.behind} values or files are not under the newest key {primary}.")
            self.stdout.write(f"Everything is under the newest key {primary}.")
            return
        self.stdout.write(
            f"Rewrote {tally.rewritten_values} values and {tally.rewritten_files} files under key {primary}."
        )
