"""``manage.py orphaned_files [--delete]``: files in private storage that no row references."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from kernel.storage import ORPHAN_MIN_AGE, orphaned_files, orphaned_files_delete


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


class Command(BaseCommand):
    help = (
        "List the files in private storage that no row of any model references (an upload whose "
        "transaction rolled back, a write interrupted by a crash), with their sizes and ages: their storage "
        "names are random, never a person's or an upload's name, and no content is read. --delete removes "
        "those older than an hour (a younger one may belong to a transaction still open). Always exits 0."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delete", action="store_true", help="remove orphaned files older than an hour")

    def handle(self, *args: Any, delete: bool, **options: Any) -> None:
        now = timezone.now()
        found = orphaned_files()
        for stored in found:
            age = _age(stored.age(now).total_seconds())
            self.stdout.write(f"{stored.name}\t{filesizeformat(stored.size)}\t{age}")
        total = sum(stored.size for stored in found)
        self.stdout.write(f"{len(found)} orphaned files, {filesizeformat(total)} in all.")
        if delete:
            deleted = orphaned_files_delete(older_than=ORPHAN_MIN_AGE, now=now)
            kept = len(found) - len(deleted)
            self.stdout.write(f"Deleted {len(deleted)}; kept {kept} younger than an hour (or referenced meanwhile).")
