"""``manage.py retention [--dry-run]``: erase (or list) closed cases past the retention period."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from casework.services.retention import retention_due, retention_erase_due


class Command(BaseCommand):
    help = (
        "Erase the personal data of cases closed more than RETENTION_CLOSED_CASE_DAYS ago (not on legal hold). "
        "--dry-run lists them by case number and closing date instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list what would be erased; change nothing")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        if dry_run:
            due = retention_due()
            self.stdout.write(
                f"{len(due)} case(s) closed more than {settings.RETENTION_CLOSED_CASE_DAYS} days ago would be erased:"
            )
            for item in due:
                self.stdout.write(f"  {item.number}  closed {item.closed_on.isoformat()}")
            return
        self.stdout.write(f"Erased the personal data of {retention_erase_due()} case(s).")
