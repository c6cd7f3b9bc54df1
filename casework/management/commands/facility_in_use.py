"""``manage.py facility_in_use CODE … --no`` (or ``--yes``): a facility ICE stopped (or resumed) using."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from casework.services.reference import facilities_set_in_use


class Command(BaseCommand):
    help = "Mark detention facilities (by ICE code) as no longer used (--no) or in use again (--yes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("codes", nargs="+", help="ICE facility codes, e.g. YORCOPA")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--no", dest="in_use", action="store_false", help="no longer used")
        group.add_argument("--yes", dest="in_use", action="store_true", help="in use again")

    def handle(self, *args: Any, codes: list[str], in_use: bool, **options: Any) -> None:
        try:
            changed = facilities_set_in_use(codes=codes, in_use=in_use)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{changed} facilit{'y' if changed == 1 else 'ies'} changed.")
